"""The verdict over training, and the fifth verdict: a trained claim on runs that did not converge."""

import pandas as pd
import pytest

from cnnkit.ablation.over_training import Track, held, held_text, over_training
from cnnkit.ablation.verdicts import NOT_CONVERGED, Claim
from cnnkit.studies import diff_row


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's per-test ``clear_session``: nothing here builds a model."""
    yield


def history(curve_a, curve_b, seeds=(0, 1, 2)):
    """Training-error curves of variants a and b; seed s adds 0.01·s to both (paired noise)."""
    rows = []
    for variant, curve in (("a", curve_a), ("b", curve_b)):
        for s in seeds:
            for i, value in enumerate(curve):
                rows.append({"run_id": f"{variant}__s{s}", "variant": variant, "seed": s, "step": 10 * (i + 1),
                             "split": "train", "metric": "error", "value": value + 0.01 * s + 0.002 * (s == 1) * i})
    return pd.DataFrame(rows)


def test_a_gap_that_opens_and_stays_held_over_the_last_quarter():
    frame = over_training(history([0.5, 0.4, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3], [0.5, 0.5, 0.45, 0.45, 0.45, 0.45, 0.45,
                                                                             0.45]),
                          [Track("b − a", "a", "b", Claim("positive"))])
    assert list(frame["step"]) == [10 * i for i in range(1, 9)] and frame["fraction"].iloc[-1] == 1.0
    ok, verdicts = held(frame, "b − a")
    assert ok and verdicts == ["agrees", "agrees"]
    assert "held over the last quarter" in held_text(frame)


def test_a_gap_that_closes_at_the_end_did_not_hold():
    frame = over_training(history([0.5, 0.4, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3], [0.5, 0.5, 0.45, 0.45, 0.45, 0.45, 0.35,
                                                                             0.3]),
                          [Track("b − a", "a", "b", Claim("positive"))])
    ok, verdicts = held(frame, "b − a")
    assert not ok and verdicts[-1] != "agrees"
    assert "changed over the last quarter" in held_text(frame)


def runs_frame(converged):
    rows = [{"run_id": f"{v}__s{s}", "variant": v, "seed": s, "status": "done", "test_error": e + 0.01 * s,
             "converged": c} for v, e, c in (("a", 0.2, True), ("b", 0.3, converged)) for s in range(3)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("converged, verdict", [(True, "agrees"), (False, NOT_CONVERGED)])
def test_a_trained_claim_is_judged_only_on_converged_runs(converged, verdict):
    row = diff_row(runs_frame(converged), "a", "b", "test_error", quantity="b − a", reference="> 0",
                   expect=Claim("positive"), headline=True)
    assert row.verdict == verdict and row.judged_at == "trained" and row.converged is converged
    assert row.diff == pytest.approx(0.1)  # the measured difference is still shown


def test_an_early_claim_is_judged_on_runs_that_are_still_learning():
    row = diff_row(runs_frame(False), "a", "b", "test_error", quantity="b − a", reference="> 0",
                   expect=Claim("positive", judged_at="early"))
    assert row.verdict == "agrees" and row.judged_at == "early" and row.converged is False


def test_judged_at_is_checked():
    with pytest.raises(ValueError, match="judged_at 'late' is unknown"):
        Claim("positive", judged_at="late")
