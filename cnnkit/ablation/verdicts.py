"""Verdicts that a test declared before the runs decides: superiority, equivalence, non-inferiority.

A study states, for each row of its measured-vs-paper table, what the paper claims about a
difference ``b − a`` (over seeds) as a :class:`Claim`, before anything trains. :func:`decide`
then runs that claim's test on the measured values with :mod:`scipy.stats`:

* ``"positive"`` / ``"negative"`` (superiority): one-sided t test of ``H0: diff ≤ 0`` (``≥ 0``).
  *agrees* when it rejects at ``alpha``; *disagrees* when the opposite one-sided test rejects.
* ``"equivalent"`` (no effect): two one-sided tests (TOST) against ``±margin``. *agrees* when
  both reject (the ``1 − 2·alpha`` interval lies inside ``±margin``); *disagrees* when the
  difference lies beyond the margin (one-sided test of ``|diff| > margin`` rejects).
* ``"not_greater"`` / ``"not_less"`` (non-inferiority, "no worse"): one-sided test of
  ``H0: diff ≥ +margin`` (``≤ −margin``); *disagrees* when the difference is beyond the margin.

Anything else is *inconclusive*, and :attr:`Decision.seeds_needed` says how many seeds would decide
at the measured spread (normal approximation, 80 % power). Runs that share a seed are paired
(``paired=True``: same initialisation stream and data order in every arm), which removes the
seed-to-seed spread the arms share; otherwise Welch's unequal-variance test is used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from cnnkit._checks import check_choice

__all__ = ["CLAIM_KINDS", "Claim", "Decision", "JUDGED_AT", "NOT_CONVERGED", "VERDICTS", "VERDICT_COLOURS", "decide",
           "decide_differences"]

CLAIM_KINDS = ("positive", "negative", "equivalent", "not_greater", "not_less")
# When a claim is judged: "trained" (final error of nets that finished learning: its runs must have converged),
# "early" (a speed claim, e.g. iterations to a target: judged during training), None (nothing is trained).
JUDGED_AT = ("trained", "early", None)
NOT_CONVERGED = "not converged"  # a "trained" claim whose runs did not converge: never agrees/disagrees
# Every verdict a row can carry, and its colour in figures, tables and the scoreboard.
VERDICTS = ("agrees", "disagrees", "inconclusive", NOT_CONVERGED, "not comparable")
VERDICT_COLOURS = {"agrees": "#1a7f37", "disagrees": "#b42318", "inconclusive": "#8a6d00", NOT_CONVERGED: "#6f42c1",
                   "not comparable": "#777777"}
POWER = 0.8  # for seeds_needed


@dataclass(frozen=True)
class Claim:
    """What the paper says about ``b − a``, fixed before the runs.

    Attributes:
        kind: one of :data:`CLAIM_KINDS`.
        margin: for ``equivalent``/``not_greater``/``not_less``: the largest difference (in the
            metric's units, e.g. 0.01 = 1 pp of error) that still counts as "no effect"/"no worse".
        alpha: the test's level. Default 0.05.
        threshold: for ``positive``/``negative``: the value the difference must clear (default 0),
            e.g. ``log(2)`` for "a speed-up of more than 2x" on log ratios.
        judged_at: one of :data:`JUDGED_AT`: ``"trained"`` (default; the paper's claims about final
            error: judged only on runs that converged, else the verdict is :data:`NOT_CONVERGED`),
            ``"early"`` (a claim about speed, judged during training) or ``None`` (no training).
    """

    kind: str
    margin: float = 0.0
    alpha: float = 0.05
    threshold: float = 0.0
    judged_at: str | None = "trained"

    def __post_init__(self):
        check_choice("kind", self.kind, CLAIM_KINDS, lead=f"Claim kind {self.kind!r} is unknown")
        check_choice("judged_at", self.judged_at, JUDGED_AT, lead=f"Claim judged_at {self.judged_at!r} is unknown")
        needs_margin = self.kind not in ("positive", "negative")
        if needs_margin and not (isinstance(self.margin, (int, float)) and self.margin > 0):
            raise ValueError(f"Claim {self.kind!r} needs a margin > 0 (e.g. 0.01 for 1 pp); got {self.margin!r}")
        if self.threshold and needs_margin:
            raise ValueError(f"Claim {self.kind!r} takes a margin, not a threshold; got threshold={self.threshold!r}")
        if not 0 < self.alpha < 0.5:
            raise ValueError(f"alpha={self.alpha!r}; use a level in (0, 0.5), e.g. 0.05")

    def describe(self, paired: bool, unit: float = 100.0, suffix: str = " pp") -> str:
        """The declared test in words, e.g. ``"one-sided paired t, H1: diff > 0, α = 0.05"``."""
        t = "paired t" if paired else "Welch t"
        m, c = f"{unit * self.margin:g}{suffix}", f"{unit * self.threshold:g}{suffix if self.threshold else ''}"
        return {"positive": f"one-sided {t}, H1: diff > {c}",
                "negative": f"one-sided {t}, H1: diff < {c}",
                "equivalent": f"TOST ({t}), H1: |diff| < {m}",
                "not_greater": f"non-inferiority ({t}), H1: diff < +{m}",
                "not_less": f"non-inferiority ({t}), H1: diff > −{m}"}[self.kind] + f", α = {self.alpha:g}"


@dataclass(frozen=True)
class Decision:
    """The outcome of :func:`decide`.

    Attributes:
        verdict: ``"agrees"``, ``"disagrees"`` or ``"inconclusive"``.
        diff: mean difference ``b − a`` (mean of the per-seed differences when paired).
        low, high: its ``1 − 2·alpha`` confidence interval (90 % at alpha 0.05): the interval that
            lies wholly on one side of 0 (or inside ±margin) exactly when the one-sided test rejects.
        p: the p value of the claim's test (for TOST the larger of the two).
        n: seeds (pairs) or ``(n_a, n_b)`` summed.
        seeds_needed: when inconclusive, about how many seeds per arm would decide at the measured
            spread (``None`` when decided; ``math.inf`` when no number would, e.g. a difference
            beyond an equivalence margin, or zero difference in a superiority test).
        confidence: the interval's level.
    """

    verdict: str
    diff: float
    low: float
    high: float
    p: float
    n: int
    seeds_needed: float | None
    confidence: float


def _no_spread(a, b, paired: bool) -> bool:
    """Whether the values leave no spread to test (constant differences up to rounding)."""
    spread = np.std(b - a) if paired else np.std(a) + np.std(b)
    return bool(spread <= 1e-12 * max(1.0, float(np.max(np.abs(np.concatenate([a, b]))))))


def _test(a, b, paired: bool, shift: float, alternative: str) -> float:
    """p of ``H1: diff − shift <alternative> 0`` (diff = b − a); exact 0/1 when there is no spread."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a if paired else None
    if _no_spread(a, b, paired):  # identical values in each arm: the difference is exact
        diff = float(np.mean(b) - np.mean(a)) - shift
        hit = diff > 0 if alternative == "greater" else diff < 0
        return 0.0 if hit else 1.0
    if paired:
        return float(stats.ttest_1samp(d, shift, alternative=alternative).pvalue)
    return float(stats.ttest_ind(b - shift, a, equal_var=False, alternative=alternative).pvalue)


def _interval(a, b, paired: bool, confidence: float) -> tuple[float, float]:
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = float(np.mean(b) - np.mean(a))
    if _no_spread(a, b, paired):
        return diff, diff
    result = stats.ttest_1samp(b - a, 0.0) if paired else stats.ttest_ind(b, a, equal_var=False)
    ci = result.confidence_interval(confidence)
    return float(ci.low), float(ci.high)


def _seeds_needed(a, b, paired: bool, distance: float, alpha: float) -> float:
    """Seeds per arm for a one-sided t test to clear ``distance`` at the measured spread with 80 % power.

    The smallest n with ``(t_{1−α} + t_{power}) · sd / sqrt(n) ≤ distance`` (t quantiles at the n's own
    degrees of freedom; two arms of n each for Welch), and at least one more seed than measured: the
    measured seeds did not decide.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    var = np.var(b - a, ddof=1) if paired else np.var(a, ddof=1) + np.var(b, ddof=1)
    if not distance > 0 or not np.isfinite(var):
        return math.inf
    have = len(a) if paired else max(len(a), len(b))
    for n in range(2, 10_001):
        df = n - 1 if paired else 2 * n - 2
        if (stats.t.ppf(1 - alpha, df) + stats.t.ppf(POWER, df)) * math.sqrt(var / n) <= distance:
            return float(max(n, have + 1))
    return math.inf


def decide(a, b, claim: Claim, *, paired: bool = False) -> Decision:
    """Run ``claim``'s test on the values ``a`` and ``b`` (one per seed) of a difference ``b − a``.

    Args:
        a, b: the two arms' values (e.g. final training errors), one per seed; when ``paired``,
            in the same seed order and of equal length.
        claim: the declared :class:`Claim`.
        paired: pair the arms by position (same seed). Default ``False`` (Welch).

    Returns:
        A :class:`Decision`; with fewer than 2 values in an arm it is ``inconclusive`` with NaN
        interval and p.

    Raises:
        ValueError: paired arms of different lengths, or non-finite values.
    """
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError(f"decide() needs finite values; got a={a.tolist()}, b={b.tolist()} (drop failed runs first)")
    if paired and len(a) != len(b):
        raise ValueError(f"paired arms must have one value per seed each; got {len(a)} and {len(b)} values")
    confidence = 1 - 2 * claim.alpha  # the interval whose position decides a one-sided test at alpha
    n = len(a) if paired else len(a) + len(b)
    diff = float(b.mean() - a.mean()) if len(a) and len(b) else math.nan
    if min(len(a), len(b)) < 2:
        return Decision("inconclusive", diff, math.nan, math.nan, math.nan, n, math.inf, confidence)
    low, high = _interval(a, b, paired, confidence)
    alpha, m = claim.alpha, claim.margin
    if claim.kind in ("positive", "negative"):
        toward, away = ("greater", "less") if claim.kind == "positive" else ("less", "greater")
        c = claim.threshold
        p, p_away = _test(a, b, paired, c, toward), _test(a, b, paired, c, away)
        verdict = "agrees" if p < alpha else "disagrees" if p_away < alpha else "inconclusive"
        distance = abs(diff - c)
    elif claim.kind == "equivalent":
        p = max(_test(a, b, paired, -m, "greater"), _test(a, b, paired, m, "less"))
        beyond = min(_test(a, b, paired, m, "greater"), _test(a, b, paired, -m, "less"))
        verdict = "agrees" if p < alpha else "disagrees" if beyond < alpha else "inconclusive"
        distance = m - abs(diff)
    else:
        sign = 1.0 if claim.kind == "not_greater" else -1.0
        p = _test(a, b, paired, sign * m, "less" if sign > 0 else "greater")
        beyond = _test(a, b, paired, sign * m, "greater" if sign > 0 else "less")
        verdict = "agrees" if p < alpha else "disagrees" if beyond < alpha else "inconclusive"
        distance = m - sign * diff
    needed = None if verdict != "inconclusive" else _seeds_needed(a, b, paired, distance, alpha)
    return Decision(verdict, diff, low, high, p, n, needed, confidence)


def decide_differences(d, claim: Claim) -> Decision:
    """:func:`decide` on per-seed differences ``d`` already formed (e.g. an interaction of four arms)."""
    d = np.asarray(d, dtype=float).ravel()
    return decide(np.zeros_like(d), d, claim, paired=True)
