"""Figures from the tidy frames of :class:`~cnnkit.ablation.results.Results`, in the papers' own form.

Each function takes a frame, draws on a new :class:`matplotlib.figure.Figure` (or on the
``ax`` given) and returns the figure; none calls ``plt.show``. Figures are made without
pyplot, so loops do not pile up open figures; :func:`~cnnkit.notebook.save_figure`
writes a figure and shows it in the notebook.

* :func:`plot_curves`: training curves against iterations (``x="step"``), error in %, training
  dashed and test solid (He et al. 2016, Fig. 6), one panel per ``col`` value side by side, the
  seed spread as a band, an optional horizontal ``target`` line (Krizhevsky et al. 2012, Fig. 1).
* :func:`plot_differences`: each measured difference with its interval and the paper's value.
* :func:`plot_final` / :func:`plot_train_vs_test`: one point per seed, mean ± 95 % t interval.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from cnnkit.ablation.summary import summarize
from cnnkit.ablation.verdicts import VERDICT_COLOURS
from cnnkit._figures import save_figure

__all__ = ["DIFFERENCE_COLUMNS", "VERDICT_COLOURS", "plot_curves", "plot_differences", "plot_final",
           "plot_over_training", "plot_train_vs_test", "save_figure"]

SPLIT_DASHES = {"train": (4, 2), "val": (1, 1.5), "test": ""}    # He et al. Fig. 6: training dashed, test solid
SPLIT_WIDTHS = {"train": 1.3, "val": 1.6, "test": 2.2}
SPLIT_NAMES = {"train": "training", "val": "validation", "test": "test"}
DIFFERENCE_COLUMNS = ("quantity", "diff", "low", "high", "paper")
X_LABELS = {"step": "iterations", "epoch": "epoch"}
MARKER_MAX_POINTS = 12  # lines with more points than this are drawn without markers

def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _is_percent(metric: str, percent: bool | None) -> bool:
    return percent if percent is not None else metric.split("_")[-1] in ("error", "accuracy")


def _label(metric: str, scale: float) -> str:
    return f"{metric.replace('_', ' ')} (%)" if scale == 100 else metric.replace("_", " ")


def _curve_rows(history: pd.DataFrame, metric: str, splits: Sequence[str], hue: str, x: str) -> pd.DataFrame:
    """The rows of ``history`` to draw, or a ValueError that names the bad argument and what is available."""
    if x not in X_LABELS:
        raise ValueError(f"x={x!r}; use 'step' (iterations) or 'epoch'")
    if hue not in history.columns:
        raise ValueError(f"hue={hue!r} is not a column; available: {list(history.columns)}")
    data = history[(history["metric"] == metric) & history["split"].isin(list(splits))]
    if data.empty:
        pairs = sorted(set(zip(history["split"], history["metric"])))
        raise ValueError(f"no history rows for metric={metric!r} in splits {list(splits)}; "
                         f"available (split, metric): {pairs}")
    if data[x].isna().all():
        raise ValueError(f"the history has no {x!r} values for metric={metric!r}; use x='epoch'")
    return data


def _panels(data: pd.DataFrame, col: str | Mapping | None, hue: str) -> tuple[pd.DataFrame, list]:
    """Add a ``_panel`` column from ``col`` (a column name, or a mapping hue value -> panel title)."""
    if col is None:
        return data.assign(_panel=""), [""]
    if isinstance(col, Mapping):
        unmapped = sorted(set(data[hue]) - set(col), key=str)
        if unmapped:
            raise ValueError(f"col mapping has no panel for {hue} {unmapped}; it maps {sorted(col, key=str)}")
        data = data.assign(_panel=data[hue].map(col))
        return data, [p for p in dict.fromkeys(col.values()) if p in set(data["_panel"])]
    if col not in data.columns:
        raise ValueError(f"col={col!r} is not a column; available: {list(data.columns)} "
                         f"(or pass a mapping {hue} -> panel title)")
    return data.assign(_panel=data[col]), list(dict.fromkeys(data[col]))


def _default_title(metric: str, data: pd.DataFrame, hue_order: list, splits: list, errorbar) -> str:
    styles = {"train": "dashed", "val": "dotted", "test": "solid"}
    lines = " and ".join(SPLIT_NAMES.get(s, s) + (f" ({styles.get(s, 'solid')})" if len(splits) > 1 else "")
                         for s in splits)
    seeds = data["seed"].nunique() if "seed" in data.columns else 1
    spread = f"mean ± sd over {seeds} seeds" if errorbar == "sd" and seeds > 1 else f"mean over {seeds} seed(s)"
    compared = " vs ".join(str(h) for h in hue_order)
    return f"{metric.replace('_', ' ').capitalize()}: {compared}; {lines}; {spread}"


def plot_curves(history: pd.DataFrame, metric: str = "error", splits: Sequence[str] = ("train", "test"),
                hue: str = "variant", x: str = "step", *, col: str | Mapping | None = None,
                hue_order: Sequence | None = None, percent: bool | None = None, target: float | None = None,
                errorbar: str | tuple | None = "sd", logy: bool = False, title: str | None = None,
                ax: Axes | None = None, panel_size: tuple[float, float] = (5.6, 4.0)) -> Figure:
    """Training curves as the papers draw them: mean over seeds with a ±1 sd band against iterations.

    One colour per ``hue`` value (the same colour in every panel), training dashed and thin, test
    solid and bold (He et al. 2016, Fig. 6), error and accuracy in %, one panel per ``col`` value
    with a shared y axis (plain | residual as Fig. 6).

    Args:
        history: the tidy frame of :meth:`Results.history` (columns step, epoch, split, metric, value, ...).
        metric: ``"error"``, ``"loss"``, ``"accuracy"``, ``"lr"``, ... Default ``"error"``.
        splits: splits to draw (``"train"``, ``"val"``, ``"test"``). Default training and test.
        hue: column that picks the colour. Default ``"variant"``.
        x: ``"step"`` (iterations, default) or ``"epoch"``.
        col: facets side by side: a column of ``history``, or a mapping ``{hue value: panel title}``
            (e.g. ``{"plain20": "plain", "plain56": "plain", "resnet20": "residual", ...}``). Default one panel.
        hue_order: order (and subset) of the ``hue`` values. Default their order in ``history``.
        percent: draw values × 100 with a "%" axis. Default ``None``: for error and accuracy metrics.
        target: a horizontal dotted line at this value (in the metric's units, e.g. 0.25), labelled.
        errorbar: seaborn's band over seeds: ``"sd"`` (default), ``("ci", 95)`` or ``None``.
        logy: logarithmic y axis. Default ``False``.
        title: figure title. Default: what is compared, which line is which split, how many seeds.
        ax: axes to draw one panel on (not with ``col``); default a new figure.
        panel_size: (width, height) in inches of one panel. Default (5.6, 4.0).

    Raises:
        ValueError: no rows for that metric and those splits, or a bad ``x``, ``hue``, ``col`` or ``hue_order``.
    """
    data = _curve_rows(history, metric, splits, hue, x)
    if hue_order is not None:
        unknown = [h for h in hue_order if h not in set(data[hue])]
        if unknown:
            raise ValueError(f"hue_order has {unknown} without rows; {hue} values: {list(dict.fromkeys(data[hue]))}")
        data = data[data[hue].isin(list(hue_order))]
    hue_order = list(hue_order) if hue_order is not None else list(dict.fromkeys(data[hue]))
    data, panels = _panels(data, col, hue)
    scale = 100.0 if _is_percent(metric, percent) else 1.0
    data = data.assign(value=data["value"] * scale)
    if ax is not None and len(panels) > 1:
        raise ValueError(f"ax= draws one panel, col={col!r} gives {len(panels)}; leave ax out")
    if ax is None:
        fig = Figure(figsize=(panel_size[0] * len(panels), panel_size[1] + 0.4), layout="constrained")
        axes = list(fig.subplots(1, len(panels), sharey=True, squeeze=False)[0])
    else:
        fig, axes = ax.figure, [ax]
    present = [s for s in splits if s in set(data["split"])]
    palette = dict(zip(hue_order, sns.color_palette(n_colors=len(hue_order))))
    for ax_, panel in zip(axes, panels):
        _curve_panel(ax_, data[data["_panel"] == panel], x, hue, [h for h in hue_order if h in set(
            data.loc[data["_panel"] == panel, hue])], palette, present, errorbar)
        ax_.set(xlabel=X_LABELS[x], ylabel=_label(metric, scale), title=str(panel))
        if target is not None:
            ax_.axhline(target * scale, ls=":", color="k", lw=1.2)
            ax_.annotate(f"target {target * scale:.3g}{' %' if scale == 100 else ''}", xy=(1.0, target * scale),
                         xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=9)
        if logy:
            ax_.set_yscale("log")
    fig.suptitle(title or _default_title(metric, data, hue_order, present, errorbar), fontsize=11)
    return fig


def _curve_panel(ax: Axes, data: pd.DataFrame, x: str, hue: str, hue_order: list, palette: dict,
                 splits: list, errorbar) -> None:
    """One panel; with several splits, each is told apart by dash and width (legend: "training", "test")."""
    points = data.groupby([hue, "split"])[x].nunique().max()
    marker = "o" if points <= MARKER_MAX_POINTS else None
    if len(splits) == 1:
        sns.lineplot(data=data, x=x, y="value", hue=hue, hue_order=hue_order, palette=palette, errorbar=errorbar,
                     estimator="mean", ax=ax, marker=marker, markersize=4, lw=1.8)
    else:
        names = [SPLIT_NAMES.get(s, s) for s in splits]
        data = data.assign(split=data["split"].map(lambda s: SPLIT_NAMES.get(s, s)))
        sns.lineplot(data=data, x=x, y="value", hue=hue, hue_order=hue_order, palette=palette, style="split",
                     style_order=names, dashes={n: SPLIT_DASHES.get(s, "") for s, n in zip(splits, names)},
                     size="split", size_order=names, sizes={n: SPLIT_WIDTHS.get(s, 1.6) for s, n in zip(splits, names)},
                     errorbar=errorbar, estimator="mean", ax=ax, marker=marker, markersize=4)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)


def plot_differences(frame: pd.DataFrame, *, scale: float = 1.0, unit: str = "", title: str | None = None,
                     xlabel: str | None = None, confidence: float = 0.90, ax: Axes | None = None) -> Figure:
    """Each measured difference as a point with its interval, the paper's value marked beside it.

    ``pd.DataFrame(rows)`` of a notebook's :class:`~cnnkit.notebook.report.Row` list is such a frame:
    rows without a ``diff`` (absolute numbers, exact checks) are left out.

    Args:
        frame: one row per difference, columns ``quantity`` (label), ``diff`` (measured; rows where it
            is missing are skipped), ``low`` and ``high`` (its interval; NaN draws no bar),
            ``paper`` (the paper's value, NaN if it gives none; the column may be left out), and
            optionally ``verdict`` (one of :data:`~cnnkit.notebook.report.VERDICTS`), which colours
            the point as on the index page.
        scale: multiply every value (e.g. 100 to draw error differences in percentage points). Default 1.
        unit: unit shown on the axis (e.g. ``"pp"``). Default none.
        title: default "Measured differences (90 % CI) and the papers' values".
        xlabel: default "difference" plus the unit.
        confidence: the intervals' level, for the labels. Default 0.90: the level of the verdict rows'
            intervals (:mod:`cnnkit.ablation.verdicts`: the interval that decides a one-sided test at α = 0.05).
        ax: axes to draw on; default a new figure.

    Raises:
        ValueError: a missing column, no row with a ``diff``, a non-numeric value or an interval that does not
            contain its difference.
    """
    missing = [c for c in DIFFERENCE_COLUMNS if c not in frame.columns and c != "paper"]
    if missing:
        raise ValueError(f"plot_differences needs columns {list(DIFFERENCE_COLUMNS)}; missing {missing}, "
                         f"got {list(frame.columns)}")
    frame = frame[pd.to_numeric(frame["diff"], errors="coerce").notna() | frame["diff"].map(
        lambda v: isinstance(v, str))]  # a string diff is an error below, not a row to skip
    if frame.empty:
        raise ValueError("plot_differences got no row with a 'diff' value: no differences to draw")
    values = {c: pd.to_numeric(frame[c] if c in frame else np.nan, errors="raise") * scale
              for c in ("diff", "low", "high", "paper")}
    values = pd.DataFrame(values, index=frame.index)
    bad = values[(values["low"] > values["diff"]) | (values["diff"] > values["high"])]
    if not bad.empty:
        row = frame.loc[bad.index[0]]
        raise ValueError(f"{row['quantity']!r}: interval [{row['low']}, {row['high']}] does not contain "
                         f"diff {row['diff']}")
    fig, ax = _axes(ax, (7.5, 0.6 * len(frame) + 1.5))
    y = np.arange(len(frame))[::-1]
    verdicts = frame["verdict"] if "verdict" in frame else pd.Series("", index=frame.index)
    for yi, (_, v), verdict in zip(y, values.iterrows(), verdicts):
        err = [[v["diff"] - v["low"]], [v["high"] - v["diff"]]] if np.isfinite([v["low"], v["high"]]).all() else None
        ax.errorbar(v["diff"], yi, xerr=err, fmt="o", color=VERDICT_COLOURS.get(verdict, "C0"), capsize=5,
                    markersize=7, lw=2)
    has_paper = values["paper"].notna()
    ax.scatter(values["paper"][has_paper], y[has_paper.to_numpy()], marker="D", s=55, facecolor="none",
               edgecolor="k", lw=1.5, zorder=3)
    ax.axvline(0, color="0.55", lw=1, zorder=0)
    ax.set_yticks(y, labels=[str(q) for q in frame["quantity"]])
    ax.set_ylim(-0.7, len(frame) - 0.3)
    ax.set_xlabel(xlabel or ("difference" + (f" ({unit})" if unit else "")))
    ax.grid(True, axis="x", alpha=0.3)
    handles = [Line2D([], [], marker="o", color="C0" if "verdict" not in frame else "0.3", lw=2,
                      label=f"measured: mean, {100 * confidence:.0f} % CI")]
    if has_paper.any():
        handles.append(Line2D([], [], marker="D", markersize=7, markerfacecolor="none", color="k", lw=0,
                              label="paper"))
    ax.legend(handles=handles, loc="best", fontsize=9)
    ax.set_title(title or f"Measured differences ({100 * confidence:.0f} % CI) and the papers' values")
    return fig

def _final_on(ax: Axes, runs: pd.DataFrame, metric: str, by: str, percent: bool | None = None) -> None:
    scale = 100.0 if _is_percent(metric, percent) else 1.0
    summary = summarize(runs, metric, by)
    if summary.empty:
        raise ValueError(f"no finished runs with a {metric!r} value to plot")
    order = list(summary[by])
    usable = runs[runs[by].isin(order) & pd.to_numeric(runs[metric], errors="coerce").notna()]
    if "status" in usable.columns:
        usable = usable[usable["status"].isin(["done", "diverged"])]
    usable = usable.assign(**{metric: pd.to_numeric(usable[metric]) * scale})
    sns.stripplot(data=usable, x=by, y=metric, order=order, color="0.55", size=5, jitter=0.12, ax=ax)
    half = (summary["ci95_high"] - summary["ci95_low"]).fillna(0) / 2 * scale
    ax.errorbar(range(len(order)), summary["mean"] * scale, yerr=half, fmt="D", color="C3", capsize=6,
                markersize=6, label="mean ± 95% CI")
    ax.set(xlabel=by, ylabel=_label(metric, scale))
    ax.grid(True, axis="y", alpha=0.3)
    if max(len(str(v)) for v in order) > 10:
        ax.tick_params(axis="x", labelrotation=20)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    ax.legend(loc="best")


def plot_final(runs: pd.DataFrame, metric: str = "test_error", by: str = "variant", *,
               percent: bool | None = None, title: str | None = None, ax: Axes | None = None) -> Figure:
    """One grey point per seed and the mean ± 95 % t interval per ``by`` group.

    Args:
        runs: the frame of :meth:`Results.runs` (failed/unfinished runs are left out).
        metric: a ``final`` metric column. Default ``"test_error"``.
        by: grouping column. Default ``"variant"``.
        percent: values × 100 on a "%" axis. Default ``None``: for error and accuracy metrics.
        title: default the metric, "each seed (grey) and mean ± 95 % CI".
        ax: axes to draw on; default a new figure.
    """
    fig, ax = _axes(ax, (max(4.0, 1.2 * runs[by].nunique() + 2), 4.0))
    _final_on(ax, runs, metric, by, percent)
    ax.set_title(title or f"{metric.replace('_', ' ').capitalize()}: each seed (grey) and mean ± 95 % CI")
    return fig


def plot_train_vs_test(runs: pd.DataFrame, by: str = "variant",
                       metrics: Sequence[str] = ("train_error", "test_error"), *,
                       percent: bool | None = None) -> Figure:
    """Side-by-side panels of final training and test error per variant (shared y axis, in % by default).

    The degradation test: a deeper plain net with *higher training* error is not overfitting.
    """
    width = max(4.0, 1.2 * runs[by].nunique() + 2)
    fig = Figure(figsize=(width * len(metrics), 4.0), layout="constrained")
    axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
    for ax, metric in zip(axes, metrics):
        _final_on(ax, runs, metric, by, percent)
        ax.set_title(metric.replace("_", " "))
    return fig


def plot_over_training(frame: pd.DataFrame, *, scale: float = 100.0, unit: str = "pp",
                       title: str | None = None) -> Figure:
    """The verdict over training: each followed difference with its 90 % interval at every logged point.

    One panel per ``quantity`` of ``frame`` (:func:`cnnkit.ablation.over_training.over_training`): the
    paired difference ``b − a`` (line) and its interval (band), each point coloured by the verdict the
    declared test gives *there*; the last quarter of the run is shaded, the zero line drawn. The
    papers' curves answer "when"; this answers "would more training change the answer?".

    An empty frame (fewer than two seeds per arm, e.g. the smoke preset) gives a figure that says so.
    """
    if frame.empty:
        fig = Figure(figsize=(6, 1.6), layout="constrained")
        ax = fig.add_subplot()
        ax.axis("off")
        ax.text(0.5, 0.5, "The verdict over training needs two seeds per arm: none to draw here.",
                ha="center", va="center", fontsize=10)
        return fig
    quantities = list(dict.fromkeys(frame["quantity"]))
    fig = Figure(figsize=(4.2 * min(len(quantities), 3), 3.4 * -(-len(quantities) // 3)), layout="constrained")
    axes = fig.subplots(-(-len(quantities) // 3), min(len(quantities), 3), squeeze=False).ravel()
    for ax, quantity in zip(axes, quantities):
        part = frame[frame["quantity"] == quantity].sort_values("step")
        x, d = part["step"].to_numpy(), scale * part["diff"].to_numpy(float)
        ax.fill_between(x, scale * part["low"].to_numpy(float), scale * part["high"].to_numpy(float),
                        color="0.8", alpha=0.7, lw=0)
        ax.plot(x, d, color="0.3", lw=1.2)
        ax.scatter(x, d, c=[VERDICT_COLOURS.get(v, "C0") for v in part["verdict"]], s=28, zorder=3)
        ax.axvspan(0.75 * x.max(), x.max(), color="#6f42c1", alpha=0.06, lw=0)
        ax.axhline(0, color="0.55", lw=1, zorder=0)
        ax.set_title(str(quantity), fontsize=9)
        ax.set_xlabel("iterations")
        ax.set_ylabel(f"difference ({unit})" if unit else "difference")
        ax.grid(True, alpha=0.3)
    for ax in axes[len(quantities):]:
        ax.set_visible(False)
    seen = list(dict.fromkeys(frame["verdict"]))
    handles = [Line2D([], [], marker="o", lw=0, color=VERDICT_COLOURS.get(v, "C0"), label=v) for v in seen]
    handles.append(Patch(color="0.8", label="90 % CI"))
    handles.append(Patch(color="#6f42c1", alpha=0.15, label="last quarter"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False, fontsize=8)
    fig.suptitle(title or "The verdict over training (paired by seed, judged at every logged point)", fontsize=10)
    return fig
