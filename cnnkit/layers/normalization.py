"""Batch normalization with TensorFlow's fused kernel while training.

Ioffe & Szegedy 2015, "Batch Normalization: Accelerating Deep Network Training by Reducing
Internal Covariate Shift" (arXiv:1502.03167): normalise each channel by the mean and variance
of the batch, then scale by γ and shift by β; keep moving averages for inference.

Keras 3 computes this on every backend as ``ops.moments`` followed by
``ops.batch_normalization``: about ten element-wise passes over the activation forward and as
many backward. JAX's XLA fuses them; TensorFlow without XLA runs them one by one. TensorFlow's
``FusedBatchNormV3`` does the forward in one kernel and the backward in another (oneDNN on a
CPU, cuDNN on a GPU). Measured on a 2-core CPU, one thread, training images per CPU-second:
ResNet-20 221 → 277 (1.25x), ResNet-56 75 → 96 (1.27x); about as fast as the net without BN.
"""

from __future__ import annotations

import contextlib

import keras

__all__ = ["BatchNormalization", "bn_defaults", "bn_setting"]

_CUDNN_MIN_EPSILON = 1.001e-5  # cuDNN rejects a smaller epsilon in its fused kernel


@keras.saving.register_keras_serializable(package="cnnkit")
class BatchNormalization(keras.layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` that trains with the fused kernel on TensorFlow.

    Same arguments, weights, config and results (up to float rounding) as the Keras layer, of
    which it is a subclass. A training-mode call on TensorFlow with a 4-D channels-last input,
    ``center`` and ``scale`` on, and no mask, renorm or synchronized statistics runs
    ``tf.raw_ops.FusedBatchNormV3``; the moving mean and variance (biased variance, as Keras
    keeps it) are updated with ``momentum`` exactly like the Keras layer. Every other call
    (inference, other backends, other options) is the Keras layer's own.
    """

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        # bf16/fp16 activations go in as they are: the kernel keeps its statistics, scale and offset
        # in float32 (as Keras does) and returns the activation's dtype. Casting to float32 around it
        # cost 4 full passes per BN (ResNet-20 bf16 at 32x32: 149 casts, 76 of them around BN, took 42 ms
        # of a 255 ms profiled step).
        x = inputs if inputs.dtype in (tf.bfloat16, tf.float16, tf.float32) else tf.cast(inputs, "float32")
        empty = tf.constant([], "float32")
        y, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
            x=x, scale=tf.cast(self.gamma, "float32"), offset=tf.cast(self.beta, "float32"), mean=empty,
            variance=empty, epsilon=self.epsilon, exponential_avg_factor=1.0, data_format="NHWC",
            is_training=True)
        count = tf.cast(tf.size(x) // tf.shape(x)[-1], "float32")
        variance = tf.where(count > 1.0, variance * (count - 1.0) / count, 0.0)  # the kernel's is unbiased
        m = self.momentum
        self.moving_mean.assign(tf.cast(self.moving_mean, "float32") * m + mean * (1.0 - m))
        self.moving_variance.assign(tf.cast(self.moving_variance, "float32") * m + variance * (1.0 - m))
        return tf.cast(y, self.compute_dtype)

    def _fusable(self, inputs, training, mask) -> bool:
        return (keras.backend.backend() == "tensorflow" and training is True and self.trainable
                and mask is None and not self.renorm and not self.synchronized and self.center and self.scale
                and len(inputs.shape) == 4 and self.axis in (-1, 3) and self.epsilon >= _CUDNN_MIN_EPSILON)


# --- BatchNormalization defaults -------------------------------------------------------------
# The BN layers cnnkit creates (``get_norm("batch")``, BAM) read these defaults when they are made;
# ``cnnkit.models.build(..., bn_momentum=0.9)`` sets them for the duration of one build.
_BN_DEFAULTS: dict[str, float] = {"momentum": 0.99, "epsilon": 1e-3}


@contextlib.contextmanager
def bn_defaults(*, momentum: float | None = None, epsilon: float | None = None):
    """Temporarily change the momentum/epsilon of the BN layers cnnkit builders create."""
    if momentum is not None and not 0.0 <= momentum < 1.0:
        raise ValueError(f"bn_momentum must be in [0, 1), got {momentum!r}")
    saved = dict(_BN_DEFAULTS)
    if momentum is not None:
        _BN_DEFAULTS["momentum"] = float(momentum)
    if epsilon is not None:
        _BN_DEFAULTS["epsilon"] = float(epsilon)
    try:
        yield
    finally:
        _BN_DEFAULTS.clear()
        _BN_DEFAULTS.update(saved)


def bn_setting(key: str) -> float:
    """Current default for a BN argument (``'momentum'`` or ``'epsilon'``)."""
    return _BN_DEFAULTS[key]
