"""Mean ± confidence interval over seeds, and the difference between two variants.

Confidence intervals use Student's t distribution (a few seeds are far from the normal
limit: with n = 3 the 95 % factor is 4.30, not 1.96), its quantile from ``scipy.stats.t``
(any real degrees of freedom, as Welch's test needs).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from cnnkit._status import FINISHED

__all__ = ["compare", "format_mean_ci", "summarize", "t_quantile_975"]

SUMMARY_COLUMNS = ["n", "mean", "std", "sem", "ci95_low", "ci95_high", "excluded"]


def t_quantile_975(df: float) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (NaN if ``df`` is NaN or < 1)."""
    if not df >= 1:  # also catches NaN
        return math.nan
    from scipy.stats import t

    return float(t.ppf(0.975, df))


def _check_columns(runs: pd.DataFrame, metric: str, by: Sequence[str]) -> None:
    missing = [c for c in (metric, *by) if c not in runs.columns]
    if missing:
        raise ValueError(f"columns {missing} not in the runs frame; available: {list(runs.columns)}")


def _usable(runs: pd.DataFrame, metric: str, statuses: Sequence[str] | None) -> pd.DataFrame:
    if statuses is not None and "status" in runs.columns:
        runs = runs[runs["status"].isin(list(statuses))]
    return runs[pd.to_numeric(runs[metric], errors="coerce").notna()]


def summarize(runs: pd.DataFrame, metric: str = "test_error", by: str | Sequence[str] = "variant", *,
              statuses: Sequence[str] | None = FINISHED) -> pd.DataFrame:
    """Mean, sample std, standard error and 95 % t confidence interval of ``metric`` per group.

    Args:
        runs: a runs frame (:meth:`Results.runs`), one row per seed.
        metric: column to summarise. Default ``"test_error"``.
        by: grouping column(s). Default ``"variant"``; groups keep their first-seen order.
        statuses: only rows with these statuses count (failed and unfinished runs have no
            result). ``None`` keeps all rows. Rows where ``metric`` is missing are left out.

    Returns:
        One row per group with columns ``by..., n, mean, std, sem, ci95_low, ci95_high,
        excluded``; ``std``/``sem``/CI are NaN when ``n == 1``, all statistics when ``n == 0``
        (a group whose runs all failed still gets its row). ``excluded`` counts the group's
        rows left out (failed, unfinished or without ``metric``), so a missing seed shows.

    Raises:
        ValueError: ``metric`` or ``by`` is not a column.
    """
    by = [by] if isinstance(by, str) else list(by)
    _check_columns(runs, metric, by)
    runs = runs.reset_index(drop=True)  # unique labels: usable rows are matched to groups by label
    usable = _usable(runs, metric, statuses)
    rows = []
    for key, group in runs.groupby(by, sort=False):
        values = usable.loc[usable.index.intersection(group.index), metric].astype(float).to_numpy()
        n = len(values)
        mean = float(values.mean()) if n else math.nan
        std = float(values.std(ddof=1)) if n > 1 else math.nan
        sem = std / math.sqrt(n) if n else math.nan
        half = t_quantile_975(n - 1) * sem
        rows.append([*key, n, mean, std, sem, mean - half, mean + half, len(group) - n])
    return pd.DataFrame(rows, columns=[*by, *SUMMARY_COLUMNS])


def compare(runs: pd.DataFrame, a: Any, b: Any, metric: str = "test_error", by: str = "variant", *,
            statuses: Sequence[str] | None = FINISHED) -> dict:
    """Difference ``mean_b - mean_a`` of ``metric`` between groups ``a`` and ``b`` of column ``by``.

    The 95 % interval of the difference is Welch's (unequal variances, Welch–Satterthwaite
    degrees of freedom); Cohen's d divides the difference by the pooled standard deviation.

    Returns:
        ``dict(a, b, metric, mean_a, mean_b, diff, ci95=(low, high), df, cohen_d, n_a, n_b)``;
        interval, ``df`` and ``cohen_d`` are NaN when a group has fewer than 2 values.

    Raises:
        ValueError: a column is missing, or ``a``/``b`` has no usable rows.
    """
    _check_columns(runs, metric, [by])
    runs = _usable(runs, metric, statuses)
    samples = []
    for label in (a, b):
        values = runs.loc[runs[by] == label, metric].astype(float).to_numpy()
        if len(values) == 0:
            raise ValueError(f"{by}={label!r} has no usable {metric!r} values; present: {list(runs[by].unique())}")
        samples.append(values)
    xa, xb = samples
    na, nb = len(xa), len(xb)
    diff = float(xb.mean() - xa.mean())
    low = high = df = d = math.nan
    if na > 1 and nb > 1:
        va, vb = xa.var(ddof=1), xb.var(ddof=1)
        se2 = va / na + vb / nb
        if se2 > 0:
            df = float(se2**2 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1)))
            half = t_quantile_975(df) * math.sqrt(se2)
            low, high = diff - half, diff + half
        pooled = math.sqrt(((na - 1) * va + (nb - 1) * vb) / (na + nb - 2))
        d = diff / pooled if pooled > 0 else math.nan
    return {"a": a, "b": b, "metric": metric, "mean_a": float(xa.mean()), "mean_b": float(xb.mean()),
            "diff": diff, "ci95": (low, high), "df": df, "cohen_d": d, "n_a": na, "n_b": nb}


def _one(row: Mapping[str, Any], scale: float, digits: int) -> str:
    mean, n = float(row["mean"]) * scale, int(row["n"])
    half = (float(row["ci95_high"]) - float(row["ci95_low"])) / 2 * scale
    excluded = int(row.get("excluded", 0) or 0)
    count = f"n={n}, {excluded} left out" if excluded else f"n={n}"  # failed/unfinished seeds stay visible
    if np.isnan(half):
        return f"{mean:.{digits}f} ({count})"
    return f"{mean:.{digits}f} ± {half:.{digits}f} ({count})"


def format_mean_ci(summary: pd.DataFrame | Mapping[str, Any], *, scale: float = 1.0,
                   digits: int = 2) -> pd.Series | str:
    """Table strings ``"8.75 ± 0.21 (n=3)"``: mean ± half-width of the 95 % CI.

    Args:
        summary: the frame from :func:`summarize` (→ a Series indexed by its group column(s))
            or one of its rows (→ a string).
        scale: multiply numbers first, e.g. ``100`` to show errors in percent. Default ``1.0``.
        digits: decimals. Default ``2``.
    """
    if isinstance(summary, pd.DataFrame):
        keys = [c for c in summary.columns if c not in SUMMARY_COLUMNS]
        texts = [_one(row, scale, digits) for _, row in summary.iterrows()]
        index = pd.MultiIndex.from_frame(summary[keys]) if len(keys) > 1 else pd.Index(summary[keys[0]])
        return pd.Series(texts, index=index, name="mean ± ci95")
    return _one(summary, scale, digits)
