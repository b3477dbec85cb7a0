"""The verdict logic on constructed data whose answer is known (cnnkit.ablation.verdicts)."""

import math

import numpy as np
import pytest
from scipy import stats

from cnnkit.ablation.verdicts import Claim, decide, decide_differences

BASE = np.array([0.20, 0.25, 0.22, 0.30, 0.27])


@pytest.mark.parametrize("shift, kind, verdict", [
    (0.05, "positive", "agrees"), (-0.05, "positive", "disagrees"),
    (-0.05, "negative", "agrees"), (0.05, "negative", "disagrees"),
])
def test_superiority_is_decided_by_a_clear_paired_shift(shift, kind, verdict):
    noise = np.array([0.004, -0.003, 0.002, -0.001, 0.0])
    d = decide(BASE, BASE + shift + noise, Claim(kind), paired=True)
    assert d.verdict == verdict and d.diff == pytest.approx(shift + noise.mean())
    assert d.low < d.diff < d.high and d.confidence == pytest.approx(0.9)


def test_a_null_effect_is_inconclusive_for_superiority_and_says_what_would_decide():
    b = BASE + np.array([0.01, -0.012, 0.005, -0.004, 0.002])
    d = decide(BASE, b, Claim("positive"), paired=True)
    assert d.verdict == "inconclusive" and d.seeds_needed is not None and d.seeds_needed >= 6  # more than measured
    assert d.p == pytest.approx(stats.ttest_1samp(b - BASE, 0.0, alternative="greater").pvalue)


def test_pairing_removes_the_spread_the_arms_share():
    b = BASE + 0.01 + np.array([0.001, -0.001, 0.0, 0.0005, -0.0005])
    assert decide(BASE, b, Claim("positive"), paired=True).verdict == "agrees"
    assert decide(BASE, b, Claim("positive"), paired=False).verdict == "inconclusive"  # seed spread swamps 1 pp


def test_welch_matches_scipy():
    a, b = np.array([0.10, 0.12, 0.11, 0.13]), np.array([0.15, 0.18, 0.16])
    d = decide(a, b, Claim("positive"))
    assert d.p == pytest.approx(stats.ttest_ind(b, a, equal_var=False, alternative="greater").pvalue)
    ci = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.9)
    assert (d.low, d.high) == pytest.approx((ci.low, ci.high)) and d.n == 7


def test_equivalence_tost():
    tiny = np.array([0.001, -0.002, 0.0015, -0.0005, 0.0])
    assert decide(BASE, BASE + tiny, Claim("equivalent", margin=0.01), paired=True).verdict == "agrees"
    big = BASE + 0.05 + tiny
    assert decide(BASE, big, Claim("equivalent", margin=0.01), paired=True).verdict == "disagrees"
    wide = BASE + np.array([0.02, -0.03, 0.01, -0.015, 0.012])
    d = decide(BASE, wide, Claim("equivalent", margin=0.01), paired=True)
    assert d.verdict == "inconclusive" and d.seeds_needed > 5


def test_non_inferiority():
    small = BASE + 0.002 + np.array([0.001, -0.001, 0.0, 0.0005, -0.0005])
    assert decide(BASE, small, Claim("not_greater", margin=0.01), paired=True).verdict == "agrees"
    assert decide(BASE, BASE + 0.05 + small - BASE, Claim("not_greater", margin=0.01),
                  paired=True).verdict == "disagrees"
    assert decide(BASE, BASE - 0.002, Claim("not_less", margin=0.01), paired=True).verdict == "agrees"


def test_constant_differences_are_exact():
    d = decide([0.1, 0.2, 0.3], [0.11, 0.21, 0.31], Claim("positive"), paired=True)
    assert d.verdict == "agrees" and d.p == 0.0 and d.low == pytest.approx(d.high)
    assert decide([0.1, 0.2], [0.1, 0.2], Claim("positive"), paired=True).verdict == "inconclusive"


def test_one_seed_decides_nothing():
    d = decide([0.1], [0.5], Claim("positive"), paired=True)
    assert d.verdict == "inconclusive" and math.isnan(d.low) and math.isinf(d.seeds_needed)


def test_interaction_from_differences():
    assert decide_differences([0.28, 0.30, 0.25], Claim("positive")).verdict == "agrees"
    assert decide_differences([0.28, -0.30, 0.05], Claim("positive")).verdict == "inconclusive"


@pytest.mark.parametrize("kwargs, match", [({"kind": "bigger"}, "'bigger' is unknown"),
                                           ({"kind": "equivalent"}, "needs a margin > 0"),
                                           ({"kind": "positive", "alpha": 0.7}, "alpha=0.7")])
def test_bad_claims_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Claim(**kwargs)


def test_bad_values_are_refused():
    with pytest.raises(ValueError, match="one value per seed"):
        decide([0.1, 0.2], [0.1], Claim("positive"), paired=True)
    with pytest.raises(ValueError, match="finite values"):
        decide([0.1, math.nan], [0.1, 0.2], Claim("positive"))


def test_a_threshold_moves_the_superiority_null():
    ratios = np.log([1.1, 0.9, 1.0, 1.05, 0.95])  # no speed-up at all
    assert decide_differences(ratios, Claim("positive", threshold=math.log(2))).verdict == "disagrees"
    fast = np.log([5.5, 6.2, 6.0, 5.8, 6.4])
    assert decide_differences(fast, Claim("positive", threshold=math.log(2))).verdict == "agrees"
    with pytest.raises(ValueError, match="takes a margin, not a threshold"):
        Claim("equivalent", margin=0.01, threshold=0.5)


def test_seeds_needed_uses_t_quantiles():
    a = np.zeros(4)
    b = np.array([0.010, 0.030, 0.005, 0.035])  # mean 0.02, sd 0.0147: t = 2.72 > t(0.95, 3) = 2.35, decided
    assert decide(a, b, Claim("positive"), paired=True).verdict == "agrees"
    noisy = np.array([0.010, 0.050, -0.015, 0.035])  # mean 0.02, sd 0.029: undecided with 4
    d = decide(a, noisy, Claim("positive"), paired=True)
    n = d.seeds_needed
    assert d.verdict == "inconclusive" and n >= 5
    sd = np.std(noisy, ddof=1)
    assert (stats.t.ppf(0.95, n - 1) + stats.t.ppf(0.8, n - 1)) * sd / math.sqrt(n) <= 0.02
    assert (stats.t.ppf(0.95, n - 2) + stats.t.ppf(0.8, n - 2)) * sd / math.sqrt(n - 1) > 0.02
