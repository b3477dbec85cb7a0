import keras
import numpy as np
import pytest
from layer_testing import call, check_layer

from cnnkit.layers import RReLU

pytestmark = pytest.mark.backend


def test_inference_uses_the_mean_slope():
    x = np.linspace(-3, 3, 24, dtype="float32").reshape(2, 3, 4)
    out = call(RReLU(), x)
    np.testing.assert_allclose(out, np.where(x >= 0, x, x * (1 / 8 + 1 / 3) / 2), rtol=1e-6)
    out = call(RReLU(0.2, 0.4), x, training=False)
    np.testing.assert_allclose(out, np.where(x >= 0, x, 0.3 * x), rtol=1e-6)


def test_training_slopes_are_random_within_bounds():
    n = 4000
    x = -np.random.default_rng(0).uniform(0.5, 2.0, size=(n,)).astype("float32")
    positive = np.abs(x)
    layer = RReLU(seed=1)
    slopes = call(layer, x, training=True) / x
    assert np.all(slopes >= 1 / 8 - 1e-6) and np.all(slopes <= 1 / 3 + 1e-6)
    assert len(np.unique(np.round(slopes, 5))) > n // 2  # one slope per element
    spread = (1 / 3 - 1 / 8) / np.sqrt(12)  # std of U(lower, upper)
    assert abs(slopes.mean() - (1 / 8 + 1 / 3) / 2) <= 4.5 * spread / np.sqrt(n)
    np.testing.assert_array_equal(call(layer, positive, training=True), positive)


def test_equal_bounds_give_a_fixed_leaky_relu():
    x = np.array([-2.0, -0.5, 0.0, 1.5], "float32")
    np.testing.assert_allclose(call(RReLU(0.25, 0.25), x, training=True), [-0.5, -0.125, 0.0, 1.5])


def test_seed_makes_training_reproducible():
    x = -np.ones((3, 5), "float32")
    np.testing.assert_array_equal(call(RReLU(seed=4), x, training=True),
                                  call(RReLU(seed=4), x, training=True))


@pytest.mark.parametrize("lower, upper", [(0.5, 0.1), (-0.1, 0.2), (0.1, float("nan"))])
def test_bad_bounds_raise(lower, upper):
    with pytest.raises(ValueError, match="lower <= upper"):
        RReLU(lower, upper)


def test_layer_round_trip(tmp_path):
    check_layer(lambda: RReLU(0.1, 0.3, seed=2), (4, 3), (4, 3), tmp_path=tmp_path, trainable_weights=0, params=0)


def test_trains_inside_a_model():
    inputs = keras.Input((5,))
    outputs = keras.layers.Dense(1)(RReLU(seed=0)(keras.layers.Dense(4)(inputs)))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(5).normal(size=(8, 5)).astype("float32")
    history = model.fit(x, np.ones((8, 1)), epochs=2, batch_size=4, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
