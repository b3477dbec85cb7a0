"""cnnkit's BatchNormalization: Keras' layer, trained with TensorFlow's fused kernel; same results."""

import keras
import numpy as np
import pytest

from cnnkit.layers import BatchNormalization, get_norm
from layer_testing import check_layer
from testutil import BACKEND, requires_tensorflow

pytestmark = pytest.mark.backend

X = np.random.default_rng(0).normal(2.0, 3.0, size=(6, 5, 5, 4)).astype("float32")


def _pair(**kwargs):
    """(cnnkit's layer, Keras' layer), built, with the same distinct gamma and beta."""
    layers = BatchNormalization(momentum=0.9, **kwargs), keras.layers.BatchNormalization(momentum=0.9, **kwargs)
    for layer in layers:
        layer.build(X.shape)
        for weight, (low, high) in ((layer.gamma, (0.5, 2.0)), (layer.beta, (-1.0, 1.0))):
            if weight is not None:
                weight.assign(np.linspace(low, high, weight.shape[0]))
    return layers


def _train_step(layer, x):
    """Output, input gradient and moving statistics of one training call (on any backend)."""
    weights = np.arange(1, 5, dtype="float32") ** 2
    if BACKEND == "tensorflow":
        import tensorflow as tf

        x = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * weights)
        grad = tape.gradient(loss, x)
    elif BACKEND == "jax":
        import jax

        def loss_fn(x):
            trainable = [v.value for v in layer.trainable_variables]
            y, _ = layer.stateless_call(trainable, [v.value for v in layer.non_trainable_variables], x, training=True)
            return (y * weights).sum()

        grad = jax.grad(loss_fn)(x)
        y = layer(x, training=True)
    else:
        pytest.skip(f"no gradient helper for {BACKEND}")
    return [keras.ops.convert_to_numpy(v) for v in (y, grad, layer.moving_mean, layer.moving_variance)]


def test_training_matches_keras_batch_normalization():
    ours, theirs = _pair()
    for got, want in zip(_train_step(ours, X), _train_step(theirs, X)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(X, training=False)),
                               keras.ops.convert_to_numpy(theirs(X, training=False)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("options", [{"center": False}, {"axis": 1}, {"epsilon": 1e-6}])
def test_unfusable_settings_fall_back_to_keras(options):
    ours, theirs = _pair(**options)
    np.testing.assert_allclose(_train_step(ours, X)[0], _train_step(theirs, X)[0], rtol=1e-5, atol=1e-5)


def test_layer_contract(tmp_path):
    check_layer(lambda: BatchNormalization(momentum=0.9, epsilon=1e-3), (5, 5, 4), (5, 5, 4), tmp_path=tmp_path,
                trainable_weights=2, non_trainable_weights=2, params=16)


def test_get_norm_batch_is_the_fused_subclass():
    layer = get_norm("batch", layer_name="bn")
    assert isinstance(layer, BatchNormalization) and isinstance(layer, keras.layers.BatchNormalization)
    assert type(layer).__name__ == "BatchNormalization" and layer.name == "bn"


@requires_tensorflow()
def test_tensorflow_training_runs_the_fused_kernel():
    import tensorflow as tf

    ours, theirs = _pair()

    def op_types(layer):
        graph = tf.function(lambda x: layer(x, training=True)).get_concrete_function(tf.constant(X)).graph
        return {op.type for op in graph.get_operations()}

    assert "FusedBatchNormV3" in op_types(ours) and "FusedBatchNormV3" not in op_types(theirs)
