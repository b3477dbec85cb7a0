"""06 · activations: autodiff derivatives vs closed forms, RReLU modes, gradient flow at init, rows."""

import math

import numpy as np
import pandas as pd
import pytest

from cnnkit.teach import activations as act

pytestmark = pytest.mark.backend

X = np.array([-3.0, -1.0, -0.25, 0.25, 1.0, 3.0], dtype="float32")


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# Closed forms written out here, independently of act.derivative_formula: (value, derivative).
CLOSED = {
    "relu": (lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float)),
    "leaky_relu": (lambda x: np.where(x > 0, x, 0.01 * x), lambda x: np.where(x > 0, 1, 0.01)),
    "elu": (lambda x: np.where(x > 0, x, np.exp(x) - 1), lambda x: np.where(x > 0, 1, np.exp(x))),
    "prelu": (lambda x: np.where(x > 0, x, 0.25 * x), lambda x: np.where(x > 0, 1, 0.25)),
    "rrelu": (lambda x: np.where(x > 0, x, 11 / 48 * x), lambda x: np.where(x > 0, 1, 11 / 48)),
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
    "tanh": (np.tanh, lambda x: 1 / np.cosh(x) ** 2),
}


@pytest.fixture(scope="module")
def curve_frame():
    return act.curves(act.ACTIVATIONS, X)


@pytest.fixture(scope="module")
def gradients():
    return act.gradient_norms(("relu", "sigmoid"), depth=8, width=4, size=4, batch_size=4, seeds=(0, 1))


@pytest.mark.parametrize("name", act.ACTIVATIONS)
def test_autodiff_matches_the_closed_form(curve_frame, name):
    part = curve_frame[curve_frame["activation"] == name]
    value, derivative = CLOSED[name]
    np.testing.assert_allclose(part["value"], value(X.astype(float)), atol=1e-6)
    np.testing.assert_allclose(part["derivative"], derivative(X.astype(float)), atol=1e-6)
    np.testing.assert_allclose(act.derivative_formula(name, X), derivative(X.astype(float)), atol=1e-12)


def test_formula_gap_is_tiny_and_detects_a_wrong_derivative(curve_frame):
    assert (act.formula_gap(curve_frame)["max_abs_diff"] < 1e-6).all()
    wrong = curve_frame.assign(derivative=curve_frame["derivative"] * 1.1)
    gap = act.formula_gap(wrong).set_index("activation")["max_abs_diff"]
    assert gap["relu"] == pytest.approx(0.1) and gap["sigmoid"] > 1e-3


def test_saturation_numbers(curve_frame):
    """sigmoid' ≤ 1/4 and tanh' ≤ 1, both tiny at |x| = 3; the ReLU family keeps slope 1 for x > 0."""
    sig = curve_frame[curve_frame["activation"] == "sigmoid"].set_index("x")["derivative"]
    assert sig.max() < 0.25 and sig[3.0] == pytest.approx(math.exp(-3) / (1 + math.exp(-3)) ** 2, rel=1e-5)
    assert curve_frame.groupby("activation")["derivative"].max()["tanh"] < 1


def test_rrelu_slopes_random_in_training_and_the_mean_at_inference():
    frame = act.rrelu_samples(np.linspace(-4, -0.1, 400), seed=1)
    train = frame[frame["mode"] == "training"]["slope"]
    infer = frame[frame["mode"] == "inference"]["slope"]
    assert train.min() >= 1 / 8 - 1e-6 and train.max() <= 1 / 3 + 1e-6 and train.std() > 0.03
    assert train.mean() == pytest.approx(11 / 48, abs=0.01)  # U(1/8, 1/3) has mean 11/48, sd 0.06
    np.testing.assert_allclose(infer, 11 / 48, rtol=1e-5)
    positive = act.rrelu_samples([0.5, 2.0])
    assert positive["slope"].isna().all() and (positive["value"].to_numpy() == [0.5, 2.0, 0.5, 2.0]).all()


def test_gradient_norms_shape_and_vanishing_with_sigmoid(gradients):
    assert list(gradients.columns) == ["activation", "seed", "layer", "grad_norm"]
    assert len(gradients) == 2 * 2 * 8 and (gradients["grad_norm"] > 0).all()
    ratios = act.gradient_ratio(gradients).set_index(["activation", "seed"])["first_over_last"]
    assert ratios["sigmoid"].max() < 1e-2 < ratios["relu"].min()


def test_gradient_norms_are_seeded(gradients):
    again = act.gradient_norms(("sigmoid",), depth=8, width=4, size=4, batch_size=4, seeds=(1,))
    np.testing.assert_allclose(again["grad_norm"],
                               gradients.query("activation == 'sigmoid' and seed == 1")["grad_norm"], rtol=1e-5)


def test_gradient_ratio_by_hand():
    frame = pd.DataFrame({"activation": "a", "seed": 0, "layer": [2, 1, 3], "grad_norm": [5.0, 1.0, 4.0]})
    assert act.gradient_ratio(frame)["first_over_last"].tolist() == [0.25]


def test_summary_rows(curve_frame, gradients):
    rows = act.summary_rows(curve_frame, gradients)
    assert [r.verdict for r in rows] == ["agrees"] * 3
    assert rows[2].quantity == "gradient norm, layer 1 / layer 8 at init (plain CNN), sigmoid vs relu"
    flipped = gradients.assign(activation=gradients["activation"].map({"relu": "sigmoid", "sigmoid": "relu"}))
    assert act.summary_rows(curve_frame, flipped)[2].verdict == "disagrees"
    wrong = curve_frame.assign(derivative=curve_frame["derivative"] + 0.01)
    assert act.summary_rows(wrong, gradients)[0].verdict == "disagrees"
    relu_only = act.summary_rows(curve_frame[curve_frame["activation"] == "relu"],
                                 gradients[gradients["activation"] == "relu"])
    assert [r.quantity for r in relu_only] == ["derivatives: autodiff − closed form, max |diff|"]


@pytest.mark.parametrize("call", [lambda: act.curves(["swishy"]), lambda: act.derivative_formula("swishy", X),
                                  lambda: act.gradient_norms(["swishy"])])
def test_unknown_names_are_rejected(call):
    with pytest.raises(ValueError, match="swishy.*relu"):
        call()


def test_gradient_norms_rejects_a_shallow_net():
    with pytest.raises(ValueError, match="depth=1"):
        act.gradient_norms(("relu",), depth=1)
