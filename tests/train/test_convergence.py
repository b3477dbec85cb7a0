"""The convergence measure on constructed curves: one that flattens after its rate decays, one still falling."""

import math

import pytest

from cnnkit.train.convergence import FLAT_PP, convergence


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's per-test ``clear_session``: nothing here builds a model."""
    yield


def history(errors, lrs, every=100):
    return [{"step": every * (i + 1), "error": e, "lr": lr} for i, (e, lr) in enumerate(zip(errors, lrs))]


DECAYED = [0.1] * 8 + [0.05] * 4 + [0.01] * 4 + [0.001] * 4  # linear-ish decay to a hundredth


def test_a_curve_that_flattens_after_the_rate_decayed_has_converged():
    errors = [0.9, 0.6, 0.45, 0.35, 0.28, 0.24, 0.21, 0.19, 0.17, 0.16, 0.15, 0.145, 0.14, 0.138, 0.137, 0.136,
              0.135, 0.135, 0.134, 0.134]
    out = convergence(history(errors, DECAYED))
    assert out["converged"] is True
    assert out["last_quarter_drop"] == pytest.approx((0.137 + 0.136 - 0.134 - 0.134) / 2 - 0.0005, abs=0.002)
    assert out["lr_ratio"] == pytest.approx(0.01)


def test_a_curve_still_falling_has_not_converged():
    errors = [0.9 - 0.03 * i for i in range(20)]  # 3 pp per point: 6 pp between the halves of the last quarter
    out = convergence(history(errors, DECAYED))
    assert out["converged"] is False and out["last_quarter_drop"] > FLAT_PP


def test_a_flat_curve_at_a_constant_rate_has_not_converged():
    """A plateau at the peak rate is not the end of training: the schedule never annealed."""
    out = convergence(history([0.3] * 20, [0.1] * 20))
    assert out["converged"] is False and out["lr_ratio"] == 1.0 and out["last_quarter_drop"] == 0


def test_without_an_error_metric_the_loss_decides_relatively():
    rows = [{"step": 10 * (i + 1), "loss": 1.0 / (i + 1), "lr": 0.1 * (1 - i / 20)} for i in range(20)]
    assert convergence(rows)["converged"] is False  # 1/x still falls ~20 % over the last quarter
    rows = [{"step": 10 * (i + 1), "loss": 0.5, "lr": 0.1 * (1 - i / 20)} for i in range(20)]
    assert convergence(rows)["converged"] is True


def test_too_short_a_history_is_not_converged():
    assert convergence([{"step": 10, "error": 0.5, "lr": 0.0}])["converged"] is False
    assert math.isnan(convergence([])["lr_ratio"])


def test_a_change_within_the_sampling_noise_of_a_short_interval_is_flat():
    """A 1.8 pp change between the halves over 25 iterations of 8 images (200 examples a point) is noise."""
    errors = [0.5] * 15 + [0.32, 0.31, 0.30, 0.30, 0.29]
    rows = [{"step": 25 * (i + 1), "error": e, "lr": lr} for i, (e, lr) in enumerate(zip(errors, DECAYED))]
    assert convergence(rows)["converged"] is False  # without the batch size: 1 pp is the bar
    out = convergence(rows, batch_size=8)
    assert out["converged"] is True and out["last_quarter_drop"] == pytest.approx(0.0183, abs=1e-3)
    assert out["last_quarter_noise"] == pytest.approx((0.3 * 0.7 / 200) ** 0.5 * (1 / 2 + 1 / 3) ** 0.5, rel=0.05)
    rising = convergence([{**r, "error": r["error"] + 0.05 * i} for i, r in enumerate(rows)], batch_size=8)
    assert rising["converged"] is False  # rising well beyond the noise is not a plateau either
