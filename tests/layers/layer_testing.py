"""A small layer-test helper (after keras' ``testing.TestCase.run_layer_test``).

``check_layer`` builds a layer inside a functional model and checks, in order: the output
shape, the number of trainable / non-trainable weights (and optionally the parameter
count), the ``get_config`` / ``from_config`` round trip, and that a model saved to
``.keras`` and loaded again gives identical inference outputs. Before saving, every weight
is set to random values in [0.1, 1) (positive, so BN variances stay valid), so that a
weight that is not saved or not restored changes the outputs.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import pytest


def _inputs(input_shape):
    """One ``keras.Input`` per shape (a list of shapes gives a list of inputs); shapes exclude the batch."""
    if input_shape and isinstance(input_shape[0], (list, tuple)):
        return [keras.Input(shape) for shape in input_shape]
    return keras.Input(input_shape)


def _random_batch(inputs, batch: int, rng: np.random.Generator):
    if isinstance(inputs, list):
        return [_random_batch(x, batch, rng) for x in inputs]
    return rng.normal(size=(batch, *inputs.shape[1:])).astype("float32")


def check_layer(make_layer: Callable[[], keras.layers.Layer], input_shape, expected_output_shape, *,
                tmp_path: Path, trainable_weights: int, non_trainable_weights: int = 0,
                params: int | None = None, batch: int = 2, seed: int = 0) -> keras.Model:
    """Run the standard checks on the layer that ``make_layer()`` returns.

    Args:
        make_layer: returns the layer under test (unbuilt).
        input_shape: shape of one input without the batch axis, or a list of such shapes.
        expected_output_shape: output shape without the batch axis.
        tmp_path: directory for the saved ``.keras`` file.
        trainable_weights, non_trainable_weights: expected numbers of weight tensors.
        params: expected ``count_params()`` (all weights), if given.
        batch: batch size of the random test input.
        seed: seed of the random test input.

    Returns:
        The functional model wrapping the layer (for further checks).
    """
    layer = make_layer()
    inputs = _inputs(input_shape)
    outputs = layer(inputs)
    assert tuple(outputs.shape[1:]) == tuple(expected_output_shape)
    assert len(layer.trainable_weights) == trainable_weights
    assert len(layer.non_trainable_weights) == non_trainable_weights
    if params is not None:
        assert layer.count_params() == params

    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config

    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        weight.assign(rng.uniform(0.1, 1.0, size=weight.shape).astype(weight.dtype))
    x = _random_batch(inputs, batch, rng)
    expected = model.predict(x, verbose=0)
    assert expected.shape == (batch, *expected_output_shape)
    assert np.all(np.isfinite(expected))
    path = tmp_path / f"{layer.name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    return model


def _build(layer: keras.layers.Layer, x) -> None:
    if not layer.built:
        if isinstance(x, (list, tuple)):
            layer([keras.Input(batch_shape=np.shape(t)) for t in x])
        else:
            layer(keras.Input(batch_shape=np.shape(x)))


def _jax_stateless(layer: keras.layers.Layer, training: bool, reduce: bool = False):
    """``(trainable, non_trainable, x) -> (output, new non_trainable)`` for ``jax`` transforms."""

    kwargs = {"training": training} if "training" in inspect.signature(layer.call).parameters else {}

    def fn(trainable, non_trainable, x):
        out, non_trainable = layer.stateless_call(trainable, non_trainable, x, **kwargs)
        return (keras.ops.sum(out) if reduce else out), non_trainable

    return fn


def _jax_state(layer: keras.layers.Layer):
    return [v.value for v in layer.trainable_variables], [v.value for v in layer.non_trainable_variables]


def _jax_update(layer: keras.layers.Layer, non_trainable) -> None:
    for variable, value in zip(layer.non_trainable_variables, non_trainable):
        variable.assign(value)


def call(layer: keras.layers.Layer, x, training: bool = False) -> np.ndarray:
    """``layer(x, training=training)`` as NumPy.

    On JAX the call is jit-compiled through ``stateless_call`` (one XLA compilation instead of
    one per eager op, which is several times faster on CPU); the layer's random-seed state is
    written back, so repeated calls draw new samples as an eager call would.
    """
    if keras.backend.backend() != "jax":
        return keras.ops.convert_to_numpy(layer(x, training=training))
    import jax

    _build(layer, x)
    out, non_trainable = jax.jit(_jax_stateless(layer, training))(*_jax_state(layer), x)
    _jax_update(layer, non_trainable)
    return np.asarray(out)


def input_gradient(layer: keras.layers.Layer, x: np.ndarray, training: bool = False) -> np.ndarray:
    """``d sum(layer(x)) / dx`` as NumPy, on the TensorFlow or the JAX backend."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        _build(layer, x)
        grad_fn = jax.grad(_jax_stateless(layer, training, reduce=True), argnums=2, has_aux=True)
        grad, non_trainable = jax.jit(grad_fn)(*_jax_state(layer), x)
        _jax_update(layer, non_trainable)
        return np.asarray(grad)
    if backend == "tensorflow":
        import tensorflow as tf

        t = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(t)
            total = keras.ops.sum(layer(t, training=training))
        return tape.gradient(total, t).numpy()
    pytest.skip(f"input_gradient supports the tensorflow and jax backends, not {backend}")
