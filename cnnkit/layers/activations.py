"""Randomized leaky ReLU (Xu et al. 2015) and a channel-wise PReLU for any input rank (He et al. 2015)."""

from __future__ import annotations

import math

import keras
from keras import ops

from cnnkit.layers._utils import flat_uniform

__all__ = ["ChannelPReLU", "RReLU"]


@keras.saving.register_keras_serializable(package="cnnkit")
class RReLU(keras.layers.Layer):
    """Randomized leaky ReLU: a leaky ReLU whose negative slope is random while training.

    ``f(x) = x`` for ``x >= 0`` and ``f(x) = a * x`` for ``x < 0``, where

    * training: ``a ~ U(lower, upper)`` drawn independently for every element and step
      (a noise regulariser on the negative part);
    * inference: the fixed mean slope ``a = (lower + upper) / 2`` (11/48 ≈ 0.229 for the
      defaults).

    The defaults ``[1/8, 1/3]`` are PyTorch's ``nn.RReLU``. The paper writes the negative part
    as ``x / a'`` with ``a' ~ U(3, 8)`` (slopes in the same range ``[1/8, 1/3]``, but not
    uniform) and uses ``x / ((3 + 8) / 2)``, slope 2/11 ≈ 0.182, at test time; this layer,
    like PyTorch, samples the slope itself uniformly.

    Reference: Xu, Wang, Chen & Li, "Empirical Evaluation of Rectified Activations in
    Convolutional Network", ICML Deep Learning Workshop 2015 (arXiv:1505.00853).

    Args:
        lower: smallest negative slope (default 1/8).
        upper: largest negative slope (default 1/3); ``0 <= lower <= upper``.
        seed: seed of the layer's ``keras.random.SeedGenerator`` (default ``None``).
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).
    """

    def __init__(self, lower: float = 1 / 8, upper: float = 1 / 3, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        lower, upper = float(lower), float(upper)
        if not (math.isfinite(lower) and math.isfinite(upper) and 0.0 <= lower <= upper):
            raise ValueError(f"RReLU needs finite slopes with 0 <= lower <= upper, got lower={lower!r}, "
                             f"upper={upper!r}; the paper's range is lower=1/8, upper=1/3")
        self.lower = lower
        self.upper = upper
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def build(self, input_shape):
        self.built = True

    def call(self, inputs, training=None):
        if training:
            slope = flat_uniform(inputs, self.lower, self.upper, self.seed_generator)
        else:
            slope = (self.lower + self.upper) / 2
        return ops.where(inputs >= 0, inputs, slope * inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        base = super().get_config()
        return {**base, "lower": self.lower, "upper": self.upper, "seed": self.seed}


@keras.saving.register_keras_serializable(package="cnnkit")
class ChannelPReLU(keras.layers.PReLU):
    """PReLU with one learned slope per channel, whatever the input rank (He et al. 2015, §2.1).

    ``keras.layers.PReLU`` learns one slope per *element* unless ``shared_axes`` is given, and a
    fixed ``shared_axes=[1, 2]`` fails on a dense (rank-2) input. Here, when ``shared_axes`` is
    ``None``, every axis but the batch and the last (channel) axis is shared, decided in ``build``:
    ``(C,)`` slopes after a dense layer, ``(1, 1, C)`` after a convolution.
    """

    def build(self, input_shape):
        if self.shared_axes is None:
            self.shared_axes = list(range(1, len(input_shape) - 1))
        super().build(input_shape)
