"""The aggregation of a RandWire node (Xie et al. 2019): a weighted sum with positive learnable weights."""

from __future__ import annotations

import keras
from keras import ops

from cnnkit.layers._utils import positive_int

__all__ = ["WeightedSum"]


@keras.saving.register_keras_serializable(package="cnnkit")
class WeightedSum(keras.layers.Layer):
    """``Σ_i sigmoid(w_i) · x_i`` over a list of same-shaped tensors.

    A node of a randomly wired network combines the outputs of its predecessors by a
    weighted sum whose weights are learnable and positive; the sigmoid of one free scalar
    ``w_i`` per input keeps them in (0, 1). The parameters start at 0, so every input starts
    with weight 0.5. A single tensor (or a list of one) is accepted: its output is
    ``sigmoid(w) · x``, which keeps nodes with one predecessor uniform with the others.

    Reference: Xie, Kirillov, Girshick & He, "Exploring Randomly Wired Neural Networks for
    Image Recognition", ICCV 2019, section 3.2 ("Aggregation").

    Args:
        n_inputs: the expected number of inputs (default ``None``: taken from the first call).
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).
    """

    def __init__(self, n_inputs: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.n_inputs = None if n_inputs is None else positive_int(n_inputs, "n_inputs")

    def build(self, input_shape):
        shapes = _as_shape_list(input_shape)
        if self.n_inputs is not None and len(shapes) != self.n_inputs:
            raise ValueError(f"WeightedSum(n_inputs={self.n_inputs}) got {len(shapes)} inputs; "
                             f"pass {self.n_inputs} tensors or set n_inputs={len(shapes)}")
        if any(tuple(s) != tuple(shapes[0]) for s in shapes[1:]):
            raise ValueError(f"WeightedSum needs inputs of one shape, got {[tuple(s) for s in shapes]}")
        self.n_inputs = len(shapes)
        self.logits = self.add_weight(name="logits", shape=(self.n_inputs,), initializer="zeros")

    @property
    def effective_weights(self):
        """The effective weights ``sigmoid(w)``, one per input, all in (0, 1)."""
        return ops.sigmoid(self.logits)

    def call(self, inputs, training=None):
        tensors = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        weights = ops.cast(self.effective_weights, tensors[0].dtype)
        return sum(weights[i] * x for i, x in enumerate(tensors))

    def compute_output_shape(self, input_shape):
        return tuple(_as_shape_list(input_shape)[0])

    def get_config(self):
        base = super().get_config()
        return {**base, "n_inputs": self.n_inputs}


def _as_shape_list(input_shape) -> list:
    """A list of shapes from one shape or a list of shapes."""
    if len(input_shape) and isinstance(input_shape[0], (list, tuple)):
        return list(input_shape)
    return [input_shape]
