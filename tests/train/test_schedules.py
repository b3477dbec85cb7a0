import math

import keras
import numpy as np
import pytest

from cnnkit.train.schedules import (SCHEDULES, CyclicLR, StepDecay, WarmUp, get_schedule, lr_at,
                                    plateau_callback, step_boundaries)


def test_resnet_step_schedule_divides_by_10_at_32k_and_48k():
    s = get_schedule("step", 0.1, 64_000)
    assert s.boundaries == [32_000, 48_000]
    got = [lr_at(s, t) for t in (0, 31_999, 32_000, 47_999, 48_000, 63_999)]
    np.testing.assert_allclose(got, [0.1, 0.1, 0.01, 0.01, 0.001, 0.001], rtol=1e-6)


def test_step_schedule_absolute_boundaries_and_factor():
    s = get_schedule("piecewise", 1.0, 100, boundaries=(10, 20, 30), factor=0.5)
    np.testing.assert_allclose([lr_at(s, t) for t in (9, 10, 25, 99)], [1.0, 0.5, 0.25, 0.125], rtol=1e-6)


def test_exponential_and_cosine_values():
    e = get_schedule("exponential", 0.1, 1000)  # 100x decay over the run
    np.testing.assert_allclose([lr_at(e, 0), lr_at(e, 500), lr_at(e, 1000)], [0.1, 0.01, 0.001], rtol=1e-5)
    c = get_schedule("cosine", 0.2, 1000)
    np.testing.assert_allclose([lr_at(c, 0), lr_at(c, 500), lr_at(c, 1000)], [0.2, 0.1, 0.0], atol=1e-6)


def test_cyclic_triangular_matches_smith_formula():
    s = get_schedule("cyclic", 0.006, 800, min_lr=0.001, step_size=100)
    for t in (0, 50, 100, 150, 200, 250, 399):
        cycle = math.floor(1 + t / 200)
        x = abs(t / 100 - 2 * cycle + 1)
        assert lr_at(s, t) == pytest.approx(0.001 + 0.005 * max(0.0, 1 - x), rel=1e-5)
    assert lr_at(s, 100) == pytest.approx(0.006) and lr_at(s, 200) == pytest.approx(0.001)


def test_cyclic_triangular2_halves_amplitude():
    s = CyclicLR(0.0, 1.0, 10, mode="triangular2")
    assert lr_at(s, 10) == pytest.approx(1.0) and lr_at(s, 30) == pytest.approx(0.5)


def test_warmup_ramps_linearly_then_follows_schedule():
    s = get_schedule("step", 0.1, 1000, warmup_steps=100)
    assert isinstance(s, WarmUp)
    np.testing.assert_allclose([lr_at(s, 0), lr_at(s, 50), lr_at(s, 100), lr_at(s, 600)],
                               [0.0, 0.05, 0.1, 0.01], rtol=1e-6, atol=1e-9)
    const = get_schedule("constant", 0.4, 10, warmup_steps=4)
    assert lr_at(const, 1) == pytest.approx(0.1)


def test_constant_and_plateau_are_floats():
    assert get_schedule("constant", 0.3, 10) == 0.3
    assert get_schedule("plateau", 0.01, 10, patience=5) == 0.01


@pytest.mark.parametrize("schedule", [StepDecay(0.1, [5, 9], 0.1), CyclicLR(0.1, 1.0, 4, "exp_range", 0.99),
                                      WarmUp(StepDecay(0.1, [5]), 3, 0.1)])
def test_schedules_serialize_round_trip(schedule):
    restored = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert type(restored) is type(schedule)
    for t in (0, 2, 4, 7, 11):
        assert lr_at(restored, t) == pytest.approx(lr_at(schedule, t))


def test_every_schedule_name_builds():
    """Every name gives a schedule whose rate stays in (0, base_lr], peaks at base_lr and never rises
    except by design (the cyclic one)."""
    for name in SCHEDULES:
        rates = [lr_at(get_schedule(name, 0.1, 100), t) for t in range(100)]
        assert all(0 < r <= 0.1 * (1 + 1e-6) for r in rates), (name, rates)
        assert max(rates) == pytest.approx(0.1), (name, rates)
        if name != "cyclic":
            assert rates[0] == pytest.approx(0.1) and rates == sorted(rates, reverse=True), (name, rates)


@pytest.mark.parametrize("call, match", [
    (lambda: get_schedule("triangle", 0.1, 10), "unknown schedule 'triangle'"),
    (lambda: get_schedule("step", 0.1, 10, milestone=0.5), r"unknown option\(s\) \['milestone'\]"),
    (lambda: get_schedule("step", 0.1, 10, milestones=(0.5, 1.5)), "fractions"),
    (lambda: get_schedule("plateau", 0.1, 10, warmup_steps=5), "warmup"),
    (lambda: get_schedule("cosine", -1.0, 10), "base_lr"),
    (lambda: CyclicLR(0.1, 0.01, 5), "min_lr <= max_lr"),
    (lambda: StepDecay(0.1, [5, 3]), "increasing"),
    (lambda: step_boundaries(100, (2.0,)), "fractions"),
    (lambda: plateau_callback(factor=2.0), "factor"),
])
def test_bad_schedule_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_step_boundaries_stay_increasing_on_tiny_runs():
    assert step_boundaries(64000) == [32000, 48000]
    assert step_boundaries(3) == [2, 3]
    assert step_boundaries(1) == [1, 2]
    with pytest.raises(ValueError, match="increasing"):
        step_boundaries(100, (0.75, 0.5))
