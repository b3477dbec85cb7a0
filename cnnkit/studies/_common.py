"""Shared pieces of the studies: base configs, verdicts from confidence intervals, formatting."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from cnnkit.ablation import compare
from cnnkit.notebook.report import Row


def base_config(*, model: str, dataset: str, subset: int | None, epochs: int, batch_size: int,
                augment: str, bn_momentum: float, recipe: str, resolution: int | None = None,
                **extra: Any) -> dict:
    """The RunConfig fields every study sets from its notebook parameters."""
    return {"model": model, "dataset": dataset, "subset": subset, "epochs": epochs, "batch_size": batch_size,
            "augment": augment, "bn_momentum": bn_momentum, "recipe": recipe, "resolution": resolution, **extra}


def checked_variants(names: Sequence[str], rule: str, *, choices: Sequence[str] | None = None,
                     required: Sequence[str] = (), at_least: int = 1) -> list[str]:
    """``names`` as a list if they are distinct, at least ``at_least``, include ``required`` and lie in ``choices``.

    Raises:
        ValueError: ``f"{rule}; got {names!r}"`` — ``rule`` states what is allowed.
    """
    names = list(names)
    if (len(names) < at_least or len(set(names)) != len(names) or any(r not in names for r in required)
            or (choices is not None and any(n not in choices for n in names))):
        raise ValueError(f"{rule}; got {names!r}")
    return names


def pp(x: float) -> str:
    """A fraction as signed percentage points: ``0.021 → '+2.10 pp'``."""
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:+.2f} pp"


def interval_verdict(low: float, high: float, expect: str) -> str:
    """'agrees' when the 95 % interval lies entirely on the side the paper reports.

    Args:
        low, high: the 95 % interval of a difference (NaN with a single seed).
        expect: ``"positive"`` or ``"negative"`` (the sign the paper reports).

    Returns:
        ``"agrees"`` (interval excludes 0 on the expected side), ``"disagrees"`` (excludes 0 on
        the other side) or ``"inconclusive"`` (contains 0, or cannot be computed).
    """
    if expect not in ("positive", "negative"):
        raise ValueError(f"expect must be 'positive' or 'negative', got {expect!r}")
    if math.isnan(low) or math.isnan(high):
        return "inconclusive"
    sign = 1 if expect == "positive" else -1
    if sign * low > 0 and sign * high > 0:
        return "agrees"
    if sign * low < 0 and sign * high < 0:
        return "disagrees"
    return "inconclusive"


FINISHED = ("done", "diverged")  # statuses whose numbers count (as in cnnkit.ablation.summarize)


def finished(runs: pd.DataFrame, variant: str, metric: str) -> pd.Series:
    """The numeric ``metric`` values of ``variant``'s finished runs (missing values dropped)."""
    if metric not in runs.columns:
        return pd.Series(dtype=float)
    sel = runs[(runs["variant"] == variant) & runs["status"].isin(FINISHED)]
    return pd.to_numeric(sel[metric], errors="coerce").dropna()


def diff_row(runs: pd.DataFrame, a: str, b: str, metric: str, *, quantity: str, reference: str,
             expect: str, note: str = "") -> Row:
    """A table row for ``mean_b − mean_a`` of ``metric`` with its Welch 95 % interval and verdict.

    A variant without a finished run gives an ``inconclusive`` row that says so, instead of an error,
    so a notebook whose runs partly failed still writes its table.
    """
    missing = [v for v in (a, b) if finished(runs, v, metric).empty]
    if missing:
        return Row(quantity, f"no finished run of {', '.join(missing)}", reference, "inconclusive", note)
    c = compare(runs, a, b, metric)
    low, high = c["ci95"]
    ci = "" if math.isnan(low) else f" [95 % CI {pp(low)}, {pp(high)}]"
    measured = f"{pp(c['diff'])}{ci} (n={c['n_a']}+{c['n_b']})"
    return Row(quantity, measured, reference, interval_verdict(low, high, expect), note)


def mean_text(runs: pd.DataFrame, variant: str, metric: str) -> str:
    """``'8.75 ± 0.40 % (n=3)'``: mean ± 95 % CI half-width of an error/accuracy, in percent."""
    from cnnkit.ablation import format_mean_ci, summarize

    s = summarize(runs, metric)
    row = s[s["variant"] == variant]
    if row.empty:
        return "no finished run"
    return format_mean_ci(row.iloc[0], scale=100).replace(" (n", " % (n")


def conclusion(rows: list[Row]) -> str:
    """One sentence counting the verdicts of a measured-vs-paper table."""
    counts = {v: sum(r.verdict == v for r in rows) for v in ("agrees", "disagrees", "inconclusive")}
    return (f"Of {len(rows)} rows, {counts['agrees']} agree with the paper, {counts['disagrees']} disagree and "
            f"{counts['inconclusive']} are inconclusive (intervals that contain zero, or absolute numbers "
            "on another data set or budget).")


def data_shape(dataset: str = "fashion_mnist", resolution: int | None = None, **options: Any) -> tuple[tuple, int]:
    """``(image_shape, num_classes)`` of a data set as the runs will see it (for counting MACs/params)."""
    from cnnkit.data import load_arrays

    _, _, info = load_arrays(dataset, "test", resolution=resolution, **options)
    return tuple(info.image_shape), int(info.num_classes)
