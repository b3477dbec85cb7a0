import numpy as np
import pytest
from layer_testing import call, check_layer, input_gradient

from cnnkit.layers import LocalResponseNormalization

pytestmark = pytest.mark.backend


def numpy_lrn(x, depth_radius, bias, alpha, beta):
    """The AlexNet formula, one channel at a time (alpha multiplies the sum)."""
    out = np.empty_like(x, dtype="float64")
    channels = x.shape[-1]
    for c in range(channels):
        lo, hi = max(0, c - depth_radius), min(channels, c + depth_radius + 1)
        total = np.sum(x[..., lo:hi].astype("float64") ** 2, axis=-1)
        out[..., c] = x[..., c] / (bias + alpha * total) ** beta
    return out


@pytest.mark.parametrize("depth_radius, channels", [(0, 4), (1, 6), (2, 8), (2, 3), (4, 5)])
def test_matches_numpy_formula(depth_radius, channels):
    x = np.random.default_rng(depth_radius).normal(size=(2, 3, 4, channels)).astype("float32") * 4
    layer = LocalResponseNormalization(depth_radius, bias=1.5, alpha=0.05, beta=0.6)
    expected = numpy_lrn(x, depth_radius, 1.5, 0.05, 0.6)
    np.testing.assert_allclose(call(layer, x), expected, rtol=1e-5, atol=1e-6)


def test_defaults_are_alexnet():
    layer = LocalResponseNormalization()
    assert (layer.depth_radius, layer.size, layer.bias, layer.alpha, layer.beta) == (2, 5, 2.0, 1e-4, 0.75)


def test_size_is_an_alternative_to_depth_radius():
    assert LocalResponseNormalization(size=7).depth_radius == 3
    assert LocalResponseNormalization(3, size=7).depth_radius == 3
    assert LocalResponseNormalization(size=1).depth_radius == 0


@pytest.mark.parametrize("kwargs", [dict(size=4), dict(size=0), dict(depth_radius=-1),
                                    dict(depth_radius=1, size=7), dict(depth_radius=1.5)])
def test_bad_window_raises(kwargs):
    with pytest.raises(ValueError, match="size|depth_radius"):
        LocalResponseNormalization(**kwargs)


def test_works_on_flat_features():
    x = np.random.default_rng(1).normal(size=(3, 10)).astype("float32")
    out = call(LocalResponseNormalization(alpha=0.1), x)
    np.testing.assert_allclose(out, numpy_lrn(x, 2, 2.0, 0.1, 0.75), rtol=1e-5, atol=1e-6)


def test_gradient_is_finite():
    x = np.random.default_rng(2).normal(size=(1, 2, 2, 6)).astype("float32")
    grad = input_gradient(LocalResponseNormalization(alpha=0.5), x)
    assert grad.shape == x.shape and np.all(np.isfinite(grad)) and np.any(grad != 0)


def test_layer_round_trip(tmp_path):
    model = check_layer(lambda: LocalResponseNormalization(size=3, alpha=0.01), (4, 4, 6), (4, 4, 6),
                        tmp_path=tmp_path, trainable_weights=0, params=0)
    assert model.layers[-1].get_config()["depth_radius"] == 1
