"""02 · ReLU vs tanh (Krizhevsky et al. 2012, Fig. 1).

AlexNet's four-layer CIFAR-10 CNN reaches 25 % training error six times faster with
ReLUs than with tanh units. We count the iterations each activation needs to reach a
target training error (``RunConfig.target_train_error``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cnnkit.ablation import Experiment
from cnnkit.notebook.report import Row
from cnnkit.reference import ALEXNET
from cnnkit.studies._common import FINISHED, base_config, checked_variants, mean_text

METRIC = "iterations_to_target"


def experiment(*, activations: Sequence[str] = ("relu", "tanh"), seeds: Sequence[int] = (0, 1),
               target_error: float = 0.25, dataset: str = "fashion_mnist", subset: int | None = 5000,
               epochs: int = 3, batch_size: int = 128, augment: str = "none", bn_momentum: float = 0.9,
               model: str = "alexnet_cifar", recipe: str = "alexnet", resolution: int | None = None,
               name: str = "relu_vs_tanh") -> Experiment:
    """The same net with each activation × seeds, recording iterations to ``target_error``.

    Args:
        activations: two or more distinct activation names for the model's ``activation``
            option, the fast one (the paper: ReLU) first.
        target_error: the training error to reach, in (0, 1); the paper's is 0.25.
        seeds, dataset, subset, epochs, batch_size, augment, bn_momentum, model, recipe, resolution:
            see :class:`cnnkit.config.RunConfig`.
        name: the experiment's name (its folder in the results store).
    """
    activations = checked_variants(activations, "activations must be two or more distinct names, fast first, "
                                                "e.g. ['relu', 'tanh']", at_least=2)
    if not 0 < target_error < 1:
        raise ValueError(f"target_error is a training error in (0, 1), e.g. 0.25; got {target_error!r}")
    base = base_config(model=model, dataset=dataset, subset=subset, epochs=epochs, batch_size=batch_size,
                       augment=augment, bn_momentum=bn_momentum, recipe=recipe, resolution=resolution,
                       target_train_error=target_error)
    variants = {a: {"model_options": {"activation": a}} for a in activations}
    return Experiment(name, base, variants=variants, seeds=tuple(seeds))


def total_iterations(history: pd.DataFrame) -> pd.Series:
    """Iterations each run trained, by ``run_id``: the largest ``step`` of its learning curve.

    Args:
        history: the tidy frame of :meth:`cnnkit.ablation.Results.history` (``run_id``, ``step``).
    """
    if history.empty or not {"run_id", "step"} <= set(history.columns):
        return pd.Series(dtype=float)
    return pd.to_numeric(history["step"], errors="coerce").groupby(history["run_id"]).max()


def iterations(runs: pd.DataFrame, history: pd.DataFrame, variant: str) -> tuple[np.ndarray, np.ndarray]:
    """Per finished run of ``variant``: iterations to the target and iterations trained.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` (``run_id``, ``variant``, ``status``,
            ``iterations_to_target``).
        history: :meth:`cnnkit.ablation.Results.history`, for the iterations each run trained.
        variant: the activation.

    Returns:
        ``(to_target, total)``, two float arrays in run order: ``to_target`` is NaN where the run
        never reached the target, ``total`` is NaN where the history has no ``step``.
    """
    sel = runs[(runs["variant"] == variant) & runs["status"].isin(FINISHED)]
    to_target = pd.to_numeric(sel[METRIC], errors="coerce") if METRIC in sel else pd.Series(np.nan, sel.index)
    total = sel["run_id"].map(total_iterations(history))
    return to_target.to_numpy(dtype=float), pd.to_numeric(total, errors="coerce").to_numpy(dtype=float)


def speedup(runs: pd.DataFrame, history: pd.DataFrame, fast: str = "relu",
            slow: str = "tanh") -> tuple[float, bool]:
    """Ratio of mean iterations-to-target, ``slow / fast``; ``censored`` when ``slow`` did not always get there.

    A ``slow`` run that never reached the target counts with the iterations it trained, so the
    ratio is then a lower bound (``censored=True``). NaN when a ``fast`` run never reached the
    target, when a variant has no finished run, or when a censored run's length is unknown.
    """
    f, _ = iterations(runs, history, fast)
    s, s_total = iterations(runs, history, slow)
    if len(f) == 0 or len(s) == 0 or np.isnan(f).any():
        return math.nan, False
    censored = bool(np.isnan(s).any())
    s = np.where(np.isnan(s), s_total, s)
    if np.isnan(s).any():
        return math.nan, censored
    return float(s.mean() / f.mean()), censored


def no_overlap_verdict(fast: np.ndarray, slow: np.ndarray, slow_bound: np.ndarray) -> str:
    """Whether the ``fast`` runs got to the target sooner, judged run by run rather than on the mean.

    Args:
        fast: the ``fast`` runs' times to the target (NaN: never reached).
        slow: the ``slow`` runs' times (NaN: never reached).
        slow_bound: per ``slow`` run, the time to count when it never reached the target (its
            length, a lower bound).

    Returns:
        ``"agrees"`` when every ``slow`` run (a censored one with its bound) took longer than every
        ``fast`` run; ``"disagrees"`` when every ``slow`` run got there before every ``fast`` run;
        otherwise ``"inconclusive"`` (the runs overlap, or a ``fast`` run never got there). With
        few seeds this no-overlap rule is the honest test: a ratio of means says nothing about spread.
    """
    if len(fast) == 0 or len(slow) == 0 or np.isnan(fast).any():
        return "inconclusive"
    lower = np.where(np.isnan(slow), slow_bound, slow)
    if not np.isnan(lower).any() and lower.min() > fast.max():
        return "agrees"
    if not np.isnan(slow).any() and slow.max() < fast.min():
        return "disagrees"
    return "inconclusive"


def speedup_verdict(runs: pd.DataFrame, history: pd.DataFrame, fast: str = "relu", slow: str = "tanh") -> str:
    """:func:`no_overlap_verdict` on the iterations to the target (censored runs count their length)."""
    f, _ = iterations(runs, history, fast)
    s, s_total = iterations(runs, history, slow)
    return no_overlap_verdict(f, s, s_total)


def epochs_to_target(history: pd.DataFrame, target_error: float) -> pd.Series:
    """Per ``run_id``: the first epoch whose mean training error is ``<= target_error`` (NaN: never).

    Coarser than ``iterations_to_target`` but immune to the noise of a single batch; it is the
    x-axis of the paper's Fig. 1 (epochs).
    """
    curve = history[(history["split"] == "train") & (history["metric"] == "error")]
    first = curve[curve["value"] <= target_error].groupby("run_id")["epoch"].min()
    return first.reindex(curve["run_id"].unique()).astype(float)


def _epochs_text(variant: str, values: np.ndarray) -> str:
    got = values[~np.isnan(values)]
    if len(got) == 0:
        return f"{variant} not reached"
    part = "" if len(got) == len(values) else f" ({len(got)} of {len(values)} runs)"
    return f"{variant} {got.mean():.1f}{part}"


def _epochs_row(runs: pd.DataFrame, history: pd.DataFrame, fast: str, slow: str, target: float) -> Row:
    """Epochs to the target per activation, judged by :func:`no_overlap_verdict`."""
    reached = epochs_to_target(history, target)
    trained = history[history["split"] == "train"].groupby("run_id")["epoch"].max()
    done = runs[runs["status"].isin(FINISHED)]
    ids = {v: done.loc[done["variant"] == v, "run_id"] for v in (fast, slow)}
    f, s = (ids[v].map(reached).to_numpy(dtype=float) for v in (fast, slow))
    verdict = no_overlap_verdict(f, s, ids[slow].map(trained).to_numpy(dtype=float))
    return Row(f"epochs to {100 * target:.0f} % training error (epoch mean), {fast} vs {slow}",
               f"{_epochs_text(fast, f)}; {_epochs_text(slow, s)}", "ReLU 6x fewer (Fig. 1's x-axis is epochs)",
               verdict, "coarse (whole epochs) but not swayed by one lucky batch")


def _reached_text(runs: pd.DataFrame, history: pd.DataFrame, variant: str) -> str:
    to_target, total = iterations(runs, history, variant)
    reached = to_target[~np.isnan(to_target)]
    if len(to_target) == 0:
        return "no finished run"
    if len(reached) == 0:
        longest = np.nanmax(total) if not np.isnan(total).all() else math.nan
        return "not reached" + ("" if math.isnan(longest) else f" in {longest:.0f} iterations")
    return f"{reached.mean():.0f} (reached in {len(reached)} of {len(to_target)} runs)"


def summary_rows(runs: pd.DataFrame, history: pd.DataFrame, fast: str = "relu", slow: str = "tanh",
                 target_error: float | None = None) -> list[Row]:
    """Iterations to the target per activation and the speed-up against the paper's 6x.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs`.
        history: :meth:`cnnkit.ablation.Results.history` (gives the length of censored runs).
        fast, slow: the two activations; the ratio is ``slow / fast``.
        target_error: the target the runs used (default: the paper's 25 %); it labels the rows and
            sets the threshold of the epoch-based row.

    Returns:
        The speed-up ``slow / fast`` in iterations (:func:`speedup`, :func:`speedup_verdict`), the
        epochs to the target (:func:`epochs_to_target`), then per activation its iterations to the
        target and final training error.
    """
    paper_target = ALEXNET["relu_tanh_target_error"].value
    target = paper_target if target_error is None else target_error
    ratio, censored = speedup(runs, history, fast, slow)
    if math.isnan(ratio):
        f, _ = iterations(runs, history, fast)
        measured = f"{fast} did not reach the target in every run" if np.isnan(f).any() else "n/a"
    else:
        measured = f"{'≥ ' if censored else ''}{ratio:.2f}x"
    rows = [Row(f"iterations to {100 * target:.0f} % training error, {slow} / {fast}", measured,
                f"6x ({ALEXNET['relu_tanh_speedup'].source})", speedup_verdict(runs, history, fast, slow),
                f"paper target {100 * paper_target:.0f} % on CIFAR-10; a run that never reached the target "
                "counts its total iterations (≥: a lower bound); verdict: every run of one beats every run "
                "of the other")]
    rows.append(_epochs_row(runs, history, fast, slow, target))
    for v in (fast, slow):
        rows.append(Row(f"iterations to target, {v}", _reached_text(runs, history, v), "—", "inconclusive"))
        rows.append(Row(f"final training error, {v}", mean_text(runs, v, "train_error"), "—", "inconclusive"))
    return rows
