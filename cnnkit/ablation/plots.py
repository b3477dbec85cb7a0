"""Figures from the tidy frames of :class:`~cnnkit.ablation.results.Results`.

Each function takes a frame, draws on a new :class:`matplotlib.figure.Figure` (or on the
``ax`` given) and returns the figure; none calls ``plt.show``. Figures are made without
pyplot, so a notebook shows a returned figure once and loops do not pile up open figures.
Seed spread is always drawn: bands of mean ± sd for curves, one point per seed plus mean
and 95 % t interval for final metrics.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Sequence

import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cnnkit.ablation.store import atomic_write_bytes
from cnnkit.ablation.summary import summarize

__all__ = ["plot_curves", "plot_final", "plot_train_vs_test", "save_figure"]


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def plot_curves(history: pd.DataFrame, metric: str = "error", splits: Sequence[str] = ("train", "test"),
                hue: str = "variant", x: str = "epoch", *, ax: Axes | None = None,
                logy: bool = False) -> Figure:
    """Learning curves: mean over seeds with a ±1 sd band, one colour per ``hue``, one dash per split.

    Args:
        history: the tidy frame of :meth:`Results.history`.
        metric: ``"error"``, ``"loss"``, ``"accuracy"``, ``"lr"``, ... Default ``"error"``.
        splits: splits to draw (``"train"``, ``"val"``, ``"test"``). Default train and test.
        hue: column that picks the colour. Default ``"variant"``.
        x: ``"epoch"`` (default) or ``"step"``.
        ax: axes to draw on; default a new figure.
        logy: logarithmic y axis. Default ``False``.

    Raises:
        ValueError: no rows for that metric and those splits, or a bad ``x``/``hue``.
    """
    if x not in ("epoch", "step"):
        raise ValueError(f"x={x!r}; use 'epoch' or 'step'")
    if hue not in history.columns:
        raise ValueError(f"hue={hue!r} is not a column; available: {list(history.columns)}")
    data = history[(history["metric"] == metric) & history["split"].isin(list(splits))]
    if data.empty:
        pairs = sorted(set(zip(history["split"], history["metric"])))
        raise ValueError(f"no history rows for metric={metric!r} in splits {list(splits)}; "
                         f"available (split, metric): {pairs}")
    fig, ax = _axes(ax, (6.4, 4.0))
    present = [s for s in splits if s in set(data["split"])]
    sns.lineplot(data=data, x=x, y="value", hue=hue, style="split", style_order=present,
                 errorbar="sd", estimator="mean", ax=ax, marker="o", markersize=4)
    ax.set(xlabel=x, ylabel=metric, title=f"{metric} ({', '.join(present)}): mean ± sd over seeds")
    if logy:
        ax.set_yscale("log")
    return fig


def _final_on(ax: Axes, runs: pd.DataFrame, metric: str, by: str) -> None:
    summary = summarize(runs, metric, by)
    if summary.empty:
        raise ValueError(f"no finished runs with a {metric!r} value to plot")
    order = list(summary[by])
    usable = runs[runs[by].isin(order) & pd.to_numeric(runs[metric], errors="coerce").notna()]
    if "status" in usable.columns:
        usable = usable[usable["status"].isin(["done", "diverged"])]
    sns.stripplot(data=usable, x=by, y=metric, order=order, color="0.55", size=5, jitter=0.12, ax=ax)
    half = (summary["ci95_high"] - summary["ci95_low"]).fillna(0) / 2
    ax.errorbar(range(len(order)), summary["mean"], yerr=half, fmt="D", color="C3", capsize=6,
                markersize=6, label="mean ± 95% CI")
    ax.set(xlabel=by, ylabel=metric)
    if max(len(str(v)) for v in order) > 10:
        ax.tick_params(axis="x", labelrotation=20)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    ax.legend(loc="best")


def plot_final(runs: pd.DataFrame, metric: str = "test_error", by: str = "variant", *,
               ax: Axes | None = None) -> Figure:
    """One grey point per seed and the mean ± 95 % t interval per ``by`` group.

    Args:
        runs: the frame of :meth:`Results.runs` (failed/unfinished runs are left out).
        metric: a ``final`` metric column. Default ``"test_error"``.
        by: grouping column. Default ``"variant"``.
        ax: axes to draw on; default a new figure.
    """
    fig, ax = _axes(ax, (max(4.0, 1.2 * runs[by].nunique() + 2), 4.0))
    _final_on(ax, runs, metric, by)
    ax.set_title(f"{metric}: seeds and mean ± 95% CI")
    return fig


def plot_train_vs_test(runs: pd.DataFrame, by: str = "variant",
                       metrics: Sequence[str] = ("train_error", "test_error")) -> Figure:
    """Side-by-side panels of final training and test error per variant (shared y axis).

    The degradation test: a deeper plain net with *higher training* error is not overfitting.
    """
    width = max(4.0, 1.2 * runs[by].nunique() + 2)
    fig = Figure(figsize=(width * len(metrics), 4.0), layout="constrained")
    axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
    for ax, metric in zip(axes, metrics):
        _final_on(ax, runs, metric, by)
        ax.set_title(metric)
    return fig


def save_figure(fig: Figure, path_stem: str | os.PathLike, formats: Sequence[str] = ("png", "svg"),
                dpi: int = 150) -> list[Path]:
    """Write ``fig`` as ``<path_stem>.png`` and ``<path_stem>.svg`` (atomically); returns the paths."""
    paths = []
    for fmt in formats:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=dpi, bbox_inches="tight")
        paths.append(atomic_write_bytes(Path(f"{os.fspath(path_stem)}.{fmt}"), buffer.getvalue()))
    return paths
