"""Gradients with the backend's own automatic differentiation (TensorFlow or JAX), as NumPy arrays.

Keras 3 has no backend-neutral ``grad``; the teaching modules need two kinds: the gradient of a
function with respect to its input (derivatives of activations, receptive fields) and the
gradient of a loss with respect to a model's weights (gradient flow at initialisation).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
from keras import ops

_SUPPORTED = ("tensorflow", "jax")


def _backend() -> str:
    backend = keras.backend.backend()
    if backend not in _SUPPORTED:
        raise ValueError(f"automatic differentiation here supports the backends {list(_SUPPORTED)}, "
                         f"got KERAS_BACKEND={backend!r}; set KERAS_BACKEND to one of them")
    return backend


def input_gradient(fn: Callable, x: np.ndarray) -> np.ndarray:
    """The gradient of ``sum(fn(x))`` with respect to ``x``.

    For an elementwise ``fn`` this is the derivative ``fn'(x)`` at every element.

    Args:
        fn: a function of one tensor built from ``keras.ops`` or Keras layers.
        x: a float array.

    Returns:
        A float array shaped like ``x``.
    """
    x = np.asarray(x, dtype="float32")
    if _backend() == "jax":
        import jax

        return np.asarray(jax.grad(lambda v: ops.sum(fn(v)))(x))
    import tensorflow as tf

    v = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(v)
        total = ops.sum(fn(v))
    return np.asarray(tape.gradient(total, v))


def weight_gradients(model: keras.Model, x: np.ndarray, y: np.ndarray, loss: Callable) -> list[np.ndarray]:
    """Gradients of ``loss(y, model(x))`` with respect to ``model.trainable_variables`` (inference mode).

    Args:
        model: a built Keras model.
        x, y: one batch of inputs and targets.
        loss: ``loss(y_true, y_pred) -> scalar``, e.g. a ``keras.losses`` instance.

    Returns:
        One array per trainable variable, in ``model.trainable_variables`` order.
    """
    x = np.asarray(x, dtype="float32")
    if _backend() == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        frozen = [v.value for v in model.non_trainable_variables]

        def value(weights):
            out, _ = model.stateless_call(weights, frozen, x, training=False)
            return loss(y, out)

        return [np.asarray(g) for g in jax.grad(value)(trainable)]
    import tensorflow as tf

    with tf.GradientTape() as tape:
        total = loss(y, model(x, training=False))
    return [np.asarray(g) for g in tape.gradient(total, model.trainable_variables)]
