import keras
import numpy as np
import pytest
from layer_testing import call, check_layer

from cnnkit.layers import WeightedSum

pytestmark = pytest.mark.backend


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_sum_of_sigmoid_weighted_inputs():
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(2, 3, 3, 4)).astype("float32") for _ in range(3)]
    layer = WeightedSum()
    layer.build([x.shape for x in xs])
    logits = np.array([-1.0, 0.5, 2.0], "float32")
    layer.logits.assign(logits)
    expected = sum(sigmoid(w) * x for w, x in zip(logits, xs))
    np.testing.assert_allclose(call(layer, xs), expected, rtol=1e-6, atol=1e-6)


def test_weights_start_at_one_half_and_stay_positive():
    xs = [np.ones((1, 2), "float32")] * 4
    layer = WeightedSum(n_inputs=4)
    np.testing.assert_allclose(call(layer, xs), np.full((1, 2), 2.0))  # 4 × 0.5 × 1
    np.testing.assert_allclose(np.asarray(layer.effective_weights), np.full(4, 0.5))
    layer.logits.assign(np.array([-30.0, -5.0, 0.0, 30.0], "float32"))
    weights = np.asarray(layer.effective_weights)
    assert np.all(weights > 0) and np.all(weights <= 1)


def test_training_keeps_weights_positive():
    inputs = [keras.Input((3,)), keras.Input((3,))]
    model = keras.Model(inputs, WeightedSum(name="agg")(inputs))
    model.compile(optimizer=keras.optimizers.SGD(5.0), loss="mse")
    rng = np.random.default_rng(1)
    x = [rng.normal(size=(8, 3)).astype("float32") for _ in range(2)]
    model.fit(x, -10 * x[0] - 10 * x[1], epochs=3, verbose=0)  # targets that want negative weights
    logits = np.asarray(model.get_layer("agg").logits)
    assert np.all(logits < 0) and np.all(np.asarray(model.get_layer("agg").effective_weights) > 0)


def test_single_input():
    x = np.random.default_rng(2).normal(size=(2, 5)).astype("float32")
    np.testing.assert_allclose(call(WeightedSum(), x), 0.5 * x, rtol=1e-6)
    np.testing.assert_allclose(call(WeightedSum(), [x]), 0.5 * x, rtol=1e-6)


def test_wrong_number_of_inputs_raises():
    with pytest.raises(ValueError, match="n_inputs=3"):
        WeightedSum(n_inputs=3)([keras.Input((4,)), keras.Input((4,))])


def test_different_shapes_raise():
    with pytest.raises(ValueError, match="one shape"):
        WeightedSum()([keras.Input((4,)), keras.Input((5,))])


def test_bad_n_inputs_raises():
    with pytest.raises(ValueError, match="n_inputs"):
        WeightedSum(n_inputs=0)


def test_layer_round_trip(tmp_path):
    model = check_layer(lambda: WeightedSum(), [(4, 4, 2)] * 3, (4, 4, 2), tmp_path=tmp_path,
                        trainable_weights=1, params=3)
    assert model.layers[-1].get_config()["n_inputs"] == 3
