import keras
import numpy as np
import pytest
from layer_testing import call, check_layer, input_gradient

from cnnkit.layers import StochasticPooling2D

pytestmark = pytest.mark.backend


def numpy_windows(x, pool, stride):
    """(batch, out_h, out_w, pool*pool, channels) windows of a 'valid' pooling, by loops."""
    out_h, out_w = (x.shape[1] - pool) // stride + 1, (x.shape[2] - pool) // stride + 1
    windows = np.empty((x.shape[0], out_h, out_w, pool * pool, x.shape[3]), x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, i * stride:i * stride + pool, j * stride:j * stride + pool, :]
            windows[:, i, j] = patch.reshape(x.shape[0], pool * pool, x.shape[3])
    return windows


@pytest.mark.parametrize("kwargs, out_hw", [(dict(), (3, 3)), (dict(pool_size=3, strides=2), (3, 3)),
                                            (dict(pool_size=3, strides=2, padding="same"), (4, 4)),
                                            (dict(pool_size=(2, 3), strides=1), (6, 5))])
def test_output_shape(kwargs, out_hw):
    x = np.abs(np.random.default_rng(0).normal(size=(2, 7, 7, 3))).astype("float32")
    layer = StochasticPooling2D(seed=1, **kwargs)
    for training in (False, True):
        assert call(layer, x, training=training).shape == (2, *out_hw, 3)
    assert layer.compute_output_shape((None, 7, 7, 3)) == (None, *out_hw, 3)


def test_inference_is_probability_weighted_average():
    x = np.array([[1, 2], [3, 0]], "float32").reshape(1, 2, 2, 1)
    assert float(call(StochasticPooling2D(), x)[0, 0, 0, 0]) == pytest.approx((1 + 4 + 9) / 6)
    negative = np.array([[-5, 2], [2, 0]], "float32").reshape(1, 2, 2, 1)  # -5 clamped to 0
    assert float(call(StochasticPooling2D(), negative)[0, 0, 0, 0]) == pytest.approx(2.0)


@pytest.mark.parametrize("pool, stride", [(2, 2), (3, 2)])
def test_inference_matches_numpy(pool, stride):
    x = np.random.default_rng(3).normal(size=(2, 7, 7, 2)).astype("float32")
    windows = np.maximum(numpy_windows(x, pool, stride), 0).astype("float64")
    total = windows.sum(axis=3)
    expected = np.where(total > 0, (windows ** 2).sum(axis=3) / np.where(total > 0, total, 1), 0)
    out = StochasticPooling2D(pool, stride)(x)
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-5, atol=1e-7)


def test_all_zero_windows_give_zero():
    x = np.zeros((1, 4, 4, 2), "float32")
    x[0, 0, 0, 0] = 3.0  # one non-zero window among zero (and negative) ones
    x[0, 2:, 2:, 1] = -1.0
    layer = StochasticPooling2D(seed=0)
    for training in (False, True):
        out = call(layer, x, training=training)
        assert np.all(np.isfinite(out))
        expected = np.zeros((1, 2, 2, 2), "float32")
        expected[0, 0, 0, 0] = 3.0
        np.testing.assert_array_equal(out, expected)
    for training in (False, True):
        grad = input_gradient(layer, x, training=training)
        assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("pool, stride", [(2, 2), (3, 2), (3, 1)])
def test_training_samples_are_positive_window_values(pool, stride):
    x = np.random.default_rng(4).normal(size=(4, 7, 7, 3)).astype("float32")
    x[0, :3, :3, 0] = 0.0  # include an all-zero window
    windows = np.maximum(numpy_windows(x, pool, stride), 0)
    out = call(StochasticPooling2D(pool, stride, seed=2), x, training=True)
    matches = (windows == out[:, :, :, None, :]) & ((windows > 0) | (windows.max(axis=3, keepdims=True) == 0))
    assert matches.any(axis=3).all()


def test_mean_of_training_samples_is_inference_output():
    n = 2000
    x = np.abs(np.random.default_rng(5).normal(size=(1, 4, 4, 2))).astype("float32")
    layer = StochasticPooling2D(seed=7)
    samples = call(layer, np.repeat(x, n, axis=0), training=True).astype("float64")
    windows = numpy_windows(x, 2, 2).astype("float64")[0]
    p = windows / windows.sum(axis=2, keepdims=True)
    mean = (p * windows).sum(axis=2)
    std = np.sqrt((p * windows ** 2).sum(axis=2) - mean ** 2)
    np.testing.assert_allclose(call(layer, x)[0], mean, rtol=1e-5)
    # each of the 8 means is within 4.5 standard errors (a false alarm has probability < 1e-4)
    assert np.all(np.abs(samples.mean(axis=0) - mean) <= 4.5 * std / np.sqrt(n) + 1e-6)


def test_sampling_frequencies_follow_the_activations():
    n = 4000
    x = np.repeat(np.array([1, 2, 3, 4], "float32").reshape(1, 2, 2, 1), n, axis=0)
    samples = call(StochasticPooling2D(seed=11), x, training=True).ravel()
    freq = np.array([(samples == v).mean() for v in (1, 2, 3, 4)])
    p = np.array([1, 2, 3, 4]) / 10
    assert freq.sum() == 1.0
    assert np.all(np.abs(freq - p) <= 4.5 * np.sqrt(p * (1 - p) / n))


def test_seed_makes_samples_reproducible():
    x = np.abs(np.random.default_rng(6).normal(size=(2, 6, 6, 4))).astype("float32")
    first = call(StochasticPooling2D(seed=3), x, training=True)
    second = call(StochasticPooling2D(seed=3), x, training=True)
    np.testing.assert_array_equal(first, second)


def test_gradient_flows():
    x = np.abs(np.random.default_rng(8).normal(size=(1, 4, 4, 1))).astype("float32") + 0.1
    layer = StochasticPooling2D(seed=4)
    out = call(layer, x, training=True)
    grad = input_gradient(layer, x, training=True)
    grad_windows = numpy_windows(grad, 2, 2)
    np.testing.assert_array_equal(grad_windows.sum(axis=3), np.ones_like(out))  # one pick per window
    # inference: d(Σa²/Σa)/da_i = (2 a_i Σa - Σa²) / (Σa)²
    windows = numpy_windows(x, 2, 2).astype("float64")
    total, squares = windows.sum(axis=3, keepdims=True), (windows ** 2).sum(axis=3, keepdims=True)
    expected = (2 * windows * total - squares) / total ** 2
    grad = numpy_windows(input_gradient(layer, x), 2, 2)
    np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-6)


def test_trains_inside_a_model():
    inputs = keras.Input((6, 6, 1))
    hidden = keras.layers.Conv2D(2, 3, padding="same", activation="relu")(inputs)
    outputs = keras.layers.Dense(1)(keras.layers.Flatten()(StochasticPooling2D(seed=0)(hidden)))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    before = np.array(model.layers[1].kernel)
    x = np.random.default_rng(9).normal(size=(8, 6, 6, 1)).astype("float32")
    model.fit(x, np.ones((8, 1)), epochs=1, verbose=0)
    assert not np.allclose(np.array(model.layers[1].kernel), before)


@pytest.mark.parametrize("kwargs", [dict(pool_size=0), dict(pool_size=(2, 2, 2)), dict(strides=-1),
                                    dict(padding="full")])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError, match="pool_size|strides|padding"):
        StochasticPooling2D(**kwargs)


def test_window_larger_than_input_raises():
    with pytest.raises(ValueError, match="does not fit"):
        StochasticPooling2D(5)(keras.Input((3, 3, 1)))


def test_layer_round_trip(tmp_path):
    check_layer(lambda: StochasticPooling2D(3, 2, padding="same", seed=5), (5, 5, 3), (3, 3, 3),
                tmp_path=tmp_path, trainable_weights=0, params=0)
