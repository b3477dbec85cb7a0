import keras
import numpy as np
import pytest
from layer_testing import call

from cnnkit.layers import (ACTIVATIONS, NORMS, POOLINGS, LocalResponseNormalization, RReLU, StochasticPooling2D,
                           get_activation, get_norm, get_pooling)
from cnnkit.models import bn_defaults

pytestmark = pytest.mark.backend

X = np.random.default_rng(0).normal(size=(2, 6, 6, 4)).astype("float32")
_SIGMOID = 1 / (1 + np.exp(-X))
EXPECTED = {  # the inference-time output of each activation on X
    "relu": np.maximum(X, 0), "relu6": np.clip(X, 0, 6), "leaky_relu": np.where(X > 0, X, 0.01 * X),
    "elu": np.where(X > 0, X, np.expm1(X)), "prelu": np.where(X > 0, X, 0.25 * X),
    "rrelu": np.where(X > 0, X, (1 / 8 + 1 / 3) / 2 * X), "sigmoid": _SIGMOID, "tanh": np.tanh(X),
    "swish": X * _SIGMOID, "linear": X,
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_every_activation_builds_and_runs(name):
    layer = get_activation(name, layer_name=f"act_{name}")
    assert isinstance(layer, keras.layers.Layer) and layer.name == f"act_{name}"
    np.testing.assert_allclose(call(layer, X), EXPECTED[name], rtol=1e-5, atol=1e-6)


def test_activation_details():
    assert set(EXPECTED) == set(ACTIVATIONS)
    assert isinstance(get_activation("rrelu"), RReLU)
    np.testing.assert_array_equal(call(get_activation(None), X), X)


@pytest.mark.parametrize("kind", NORMS)
def test_every_norm_builds_and_runs(kind):
    layer = get_norm(kind, layer_name="n")
    if kind is None:
        assert layer is None
        return
    out = call(layer, X)
    assert out.shape == X.shape and np.all(np.isfinite(out))


def test_norm_details():
    assert get_norm("none") is None
    assert isinstance(get_norm("lrn"), LocalResponseNormalization)
    with bn_defaults(momentum=0.9, epsilon=1e-5):
        bn = get_norm("batch")
    assert (bn.momentum, bn.epsilon) == (0.9, 1e-5)
    assert get_norm("batch").momentum == 0.99


@pytest.mark.parametrize("kind", POOLINGS)
def test_every_pooling_builds_and_runs(kind):
    layer = get_pooling(kind, layer_name=f"pool_{kind}")
    out = call(layer, np.abs(X))
    assert out.shape == ((2, 2, 2, 4) if kind == "overlap" else (2, 3, 3, 4))
    assert np.all(np.isfinite(out))


def test_pooling_details():
    overlap = get_pooling("overlap", pool_size=2)
    assert (tuple(overlap.pool_size), tuple(overlap.strides)) == ((3, 3), (2, 2))
    stochastic = get_pooling("stochastic", pool_size=3, strides=2, padding="same")
    assert isinstance(stochastic, StochasticPooling2D)
    assert (stochastic.pool_size, stochastic.strides, stochastic.padding) == ((3, 3), (2, 2), "same")
    assert tuple(get_pooling("avg", pool_size=3).strides) == (3, 3)


@pytest.mark.parametrize("factory, choices", [(get_activation, ACTIVATIONS), (get_norm, NORMS),
                                              (get_pooling, POOLINGS)])
def test_unknown_name_lists_the_choices(factory, choices):
    with pytest.raises(ValueError) as info:
        factory("no_such_thing")
    message = str(info.value)
    assert "no_such_thing" in message
    assert all(repr(choice) in message for choice in choices)
