"""Stochastic pooling (Zeiler & Fergus 2013): pick an activation at random, in proportion to its size."""

from __future__ import annotations

import math

import keras
from keras import ops

from cnnkit.layers._utils import flat_uniform, to_pair

__all__ = ["StochasticPooling2D"]


@keras.saving.register_keras_serializable(package="cnnkit")
class StochasticPooling2D(keras.layers.Layer):
    """2-D stochastic pooling over channels-last inputs.

    In every pooling window the activations ``a_i`` define a multinomial distribution
    ``p_i = a_i / Σ_j a_j``.

    * Training: the output is one activation ``a_k`` sampled with probability ``p_k``
      (a regulariser like dropout, but the sample still follows the data: large
      activations are picked more often, unlike average pooling which dilutes them).
    * Inference: the probability-weighted average ``Σ_i p_i a_i = Σ a_i² / Σ a_i``,
      the expectation of the training output.

    The activations are assumed non-negative (pool after a ReLU); negative inputs are
    clamped to 0, so they are never sampled and add nothing. A window of zeros gives 0
    (no NaN). ``padding="same"`` pads with zeros, which have probability 0.
    Sampling uses the Gumbel-max trick: ``argmax_i(log a_i + g_i)`` with Gumbel noise
    ``g_i`` is a draw from ``p``. The gradient flows to the sampled activation (training)
    or through ``Σ a² / Σ a`` (inference).

    Reference: Zeiler & Fergus, "Stochastic Pooling for Regularization of Deep
    Convolutional Neural Networks", ICLR 2013.

    Args:
        pool_size: window size, an int or ``(height, width)`` (default 2).
        strides: step between windows, an int or pair (default ``pool_size``); a stride
            smaller than the window gives overlapping pooling.
        padding: ``"valid"`` (default) or ``"same"``.
        seed: seed of the layer's ``keras.random.SeedGenerator`` (default ``None``).
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).
    """

    def __init__(self, pool_size: int | tuple[int, int] = 2, strides: int | tuple[int, int] | None = None,
                 padding: str = "valid", seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = to_pair(pool_size, "pool_size")
        self.strides = to_pair(strides if strides is not None else pool_size, "strides")
        padding = str(padding).lower()
        if padding not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
        self.padding = padding
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[1] is None or input_shape[2] is None:
            raise ValueError(f"StochasticPooling2D needs inputs (batch, height, width, channels) with a "
                             f"known height and width, got input shape {input_shape}")
        out_h, out_w = self._output_hw(input_shape[1], input_shape[2])
        if out_h < 1 or out_w < 1:
            raise ValueError(f"pool_size {self.pool_size} with padding='valid' does not fit input "
                             f"{input_shape[1:3]}; use a smaller window or padding='same'")

    def call(self, inputs, training=None):
        windows = ops.relu(self._windows(inputs))  # (batch, out_h, out_w, window, channels)
        if training:
            return self._sample(windows)
        total = ops.sum(windows, axis=3)
        safe_total = ops.where(total > 0, total, ops.ones_like(total))
        return ops.sum(ops.square(windows), axis=3) / safe_total

    def _sample(self, windows):
        """One activation per window, drawn with probability proportional to its value."""
        noise = flat_uniform(windows, 1e-20, 1.0, self.seed_generator, dtype="float32")
        gumbel = -ops.log(-ops.log(noise))
        scores = ops.log(ops.cast(ops.stop_gradient(windows), "float32")) + gumbel  # log 0 = -inf: never picked
        choice = ops.one_hot(ops.argmax(scores, axis=3), self.pool_size[0] * self.pool_size[1],
                             axis=3, dtype=windows.dtype)
        return ops.sum(choice * windows, axis=3)

    def _windows(self, inputs):
        """All pooling windows stacked on a new axis 3 (one strided slice per window offset)."""
        height, width = inputs.shape[1], inputs.shape[2]
        out_h, out_w = self._output_hw(height, width)
        (kh, kw), (sh, sw) = self.pool_size, self.strides
        if self.padding == "same":
            pad_h = max((out_h - 1) * sh + kh - height, 0)
            pad_w = max((out_w - 1) * sw + kw - width, 0)
            inputs = ops.pad(inputs, ((0, 0), (pad_h // 2, pad_h - pad_h // 2),
                                      (pad_w // 2, pad_w - pad_w // 2), (0, 0)))
        slices = [inputs[:, i:i + (out_h - 1) * sh + 1:sh, j:j + (out_w - 1) * sw + 1:sw, :]
                  for i in range(kh) for j in range(kw)]
        return ops.stack(slices, axis=3)

    def _output_hw(self, height: int, width: int) -> tuple[int, int]:
        (kh, kw), (sh, sw) = self.pool_size, self.strides
        if self.padding == "same":
            return math.ceil(height / sh), math.ceil(width / sw)
        return (height - kh) // sh + 1, (width - kw) // sw + 1

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self._output_hw(input_shape[1], input_shape[2]), input_shape[3])

    def get_config(self):
        base = super().get_config()
        return {**base, "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "seed": self.seed}

