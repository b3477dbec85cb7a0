"""Summaries: mean/std/sem/t-interval, Welch comparison, formatting."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cnnkit.ablation import compare, format_mean_ci, summarize, t_quantile_975

SAMPLE_A = [0.0875, 0.0901, 0.0858]
SAMPLE_B = [0.0697, 0.0712, 0.0689, 0.0730]


def frame():
    rows = [{"variant": "a", "seed": i, "status": "done", "test_error": v} for i, v in enumerate(SAMPLE_A)]
    rows += [{"variant": "b", "seed": i, "status": "done", "test_error": v} for i, v in enumerate(SAMPLE_B)]
    rows += [{"variant": "b", "seed": 9, "status": "failed", "test_error": None},
             {"variant": "c", "seed": 0, "status": "done", "test_error": 0.5}]
    return pd.DataFrame(rows)


def test_summarize_matches_hand_computation():
    s = summarize(frame(), "test_error").set_index("variant")
    mean = sum(SAMPLE_A) / 3
    std = math.sqrt(sum((x - mean) ** 2 for x in SAMPLE_A) / 2)
    assert s.loc["a", "n"] == 3 and s.loc["a", "mean"] == pytest.approx(mean)
    assert s.loc["a", "std"] == pytest.approx(std) and s.loc["a", "sem"] == pytest.approx(std / math.sqrt(3))
    assert s.loc["a", "ci95_high"] - mean == pytest.approx(4.302653 * std / math.sqrt(3), rel=1e-6)
    assert s.loc["b", "n"] == 4 and s.loc["b", "excluded"] == 1  # the failed run does not count, but shows
    assert math.isnan(s.loc["c", "std"]) and math.isnan(s.loc["c", "ci95_low"])
    assert list(s.index) == ["a", "b", "c"]


def test_summarize_agrees_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    s = summarize(frame(), "test_error").set_index("variant").loc["b"]
    low, high = stats.t.interval(0.95, 3, loc=np.mean(SAMPLE_B), scale=stats.sem(SAMPLE_B))
    assert (s["ci95_low"], s["ci95_high"]) == pytest.approx((low, high))


def test_t_quantile_is_students():
    assert t_quantile_975(4) == pytest.approx(2.776445, rel=1e-6)  # tables
    assert t_quantile_975(2.5) == pytest.approx(3.5747, abs=1e-4)  # real degrees of freedom (Welch)
    assert math.isnan(t_quantile_975(0))


def test_compare_welch_and_cohen_d():
    result = compare(frame(), "a", "b", "test_error")
    a, b = np.array(SAMPLE_A), np.array(SAMPLE_B)
    va, vb = a.var(ddof=1) / 3, b.var(ddof=1) / 4
    df = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 3)
    pooled = math.sqrt((2 * a.var(ddof=1) + 3 * b.var(ddof=1)) / 5)
    assert result["diff"] == pytest.approx(b.mean() - a.mean())
    assert result["df"] == pytest.approx(df)
    assert result["cohen_d"] == pytest.approx((b.mean() - a.mean()) / pooled)
    assert (result["n_a"], result["n_b"]) == (3, 4)
    half = t_quantile_975(df) * math.sqrt(va + vb)
    assert result["ci95"] == pytest.approx((result["diff"] - half, result["diff"] + half))
    assert result["ci95"][1] < 0  # b is clearly better
    with pytest.raises(ValueError, match="'zzz'"):
        compare(frame(), "a", "zzz")


def test_format_mean_ci():
    s = summarize(frame(), "test_error")
    text = format_mean_ci(s, scale=100)
    half = (s.loc[0, "ci95_high"] - s.loc[0, "ci95_low"]) / 2 * 100
    assert text["a"] == f"{np.mean(SAMPLE_A) * 100:.2f} ± {half:.2f} (n=3)"
    assert text["c"] == "50.00 (n=1)"
    assert format_mean_ci(s.iloc[1], scale=100) == text["b"] and text["b"].endswith("(n=4, 1 left out)")
    assert format_mean_ci({"mean": 0.0875, "n": 3, "ci95_low": 0.0854, "ci95_high": 0.0896},
                          scale=100) == "8.75 ± 0.21 (n=3)"


def test_group_whose_runs_all_failed_keeps_its_row():
    runs = pd.concat([frame(), pd.DataFrame([{"variant": "d", "seed": 0, "status": "failed", "test_error": None}])])
    s = summarize(runs, "test_error").set_index("variant")
    assert list(s.index) == ["a", "b", "c", "d"]
    assert s.loc["d", "n"] == 0 and s.loc["d", "excluded"] == 1 and math.isnan(s.loc["d", "mean"])


def test_summarize_bad_column():
    with pytest.raises(ValueError, match="'nope'"):
        summarize(frame(), "nope")
