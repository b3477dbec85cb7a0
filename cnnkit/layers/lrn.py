"""Local response normalisation across channels (Krizhevsky et al. 2012, AlexNet).

Keras 3 has no LRN layer (``tf.keras.layers.LocalResponseNormalization`` never existed and
the Keras 1 layer was removed); ``tf.nn.local_response_normalization`` remains in TensorFlow.
:class:`LocalResponseNormalization` computes the same numbers with ``keras.ops`` only, so it
runs on every backend.
"""

from __future__ import annotations

import numbers

import keras
from keras import ops

__all__ = ["LocalResponseNormalization"]


@keras.saving.register_keras_serializable(package="cnnkit")
class LocalResponseNormalization(keras.layers.Layer):
    """AlexNet's local response normalisation across neighbouring channels (channels-last).

    Each activation is divided by a power of the summed squares of the activations at the
    same position in the ``2 * depth_radius + 1`` neighbouring channels::

        b[..., c] = a[..., c] / (bias + alpha * sum_{j=c-r}^{c+r} a[..., j] ** 2) ** beta

    (channels outside ``[0, C)`` count as zero). This is "brightness normalisation" /
    lateral inhibition: a strong response suppresses its neighbours in channel space.

    Conventions (they differ between papers and libraries):

    * AlexNet's window ``n = 5`` is ``size = 2 * depth_radius + 1``, i.e. ``depth_radius=2``.
    * ``alpha`` multiplies the *sum* of squares, as in AlexNet's formula
      (k=2, n=5, α=1e-4, β=0.75, the defaults here) and in
      ``tf.nn.local_response_normalization``, which this layer matches numerically.
    * PyTorch's ``nn.LocalResponseNorm`` (and Caffe) divide alpha by the window size
      (``alpha / n * sum``): to port PyTorch ``alpha=a_pt, size=n`` use ``alpha=a_pt / n``.

    The windowed sum of squares is one 1-D sum pooling over the channel axis (exact float32
    sums, no loop over channels).

    Reference: Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep
    Convolutional Neural Networks", NeurIPS 2012, section 3.3.

    Args:
        depth_radius: half-width ``r`` of the channel window (default 2, AlexNet's n=5).
        bias: the additive constant ``k`` (default 2.0).
        alpha: the scale of the sum of squares (default 1e-4).
        beta: the exponent (default 0.75).
        size: alternative to ``depth_radius``: the odd window size ``n = 2r + 1``.
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).
    """

    def __init__(self, depth_radius: int | None = None, bias: float = 2.0, alpha: float = 1e-4,
                 beta: float = 0.75, *, size: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.depth_radius = _resolve_radius(depth_radius, size)
        self.bias = float(bias)
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.supports_masking = True

    @property
    def size(self) -> int:
        """The window size ``2 * depth_radius + 1`` (AlexNet's ``n``)."""
        return 2 * self.depth_radius + 1

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"LocalResponseNormalization needs inputs with a known last (channel) "
                             f"axis, got input shape {input_shape}")
        self.channels = int(input_shape[-1])

    def call(self, inputs, training=None):
        sums = self._window_sum_of_squares(inputs)
        return inputs * ops.power(self.bias + self.alpha * sums, -self.beta)

    def _window_sum_of_squares(self, inputs):
        """Σ a² over the ``size`` channels centred on each channel, zeros beyond the edges."""
        r = self.depth_radius
        squares = ops.reshape(ops.square(inputs), (-1, self.channels, 1))
        padded = ops.pad(squares, ((0, 0), (r, r), (0, 0)))
        window_mean = ops.average_pool(padded, pool_size=self.size, strides=1, padding="valid",
                                       data_format="channels_last")
        return ops.reshape(window_mean * float(self.size), ops.shape(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        base = super().get_config()
        return {**base, "depth_radius": self.depth_radius, "bias": self.bias,
                "alpha": self.alpha, "beta": self.beta}


def _resolve_radius(depth_radius: int | None, size: int | None) -> int:
    """``depth_radius`` from either argument (default 2); reject bad or conflicting values."""
    if size is not None:
        if not isinstance(size, numbers.Integral) or size < 1 or size % 2 == 0:
            raise ValueError(f"size must be an odd int >= 1 (the window n = 2 * depth_radius + 1), "
                             f"got size={size!r}; AlexNet uses size=5")
        from_size = (size - 1) // 2
        if depth_radius is not None and depth_radius != from_size:
            raise ValueError(f"depth_radius={depth_radius!r} and size={size!r} disagree "
                             f"(size = 2 * depth_radius + 1); pass only one of them")
        return int(from_size)
    if depth_radius is None:
        return 2
    if not isinstance(depth_radius, numbers.Integral) or depth_radius < 0:
        raise ValueError(f"depth_radius must be an int >= 0, got {depth_radius!r}; "
                         "AlexNet's n=5 window is depth_radius=2")
    return int(depth_radius)
