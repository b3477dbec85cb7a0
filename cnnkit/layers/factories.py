"""Layers by name, so that ablations can swap activation, normalisation and pooling.

Each factory returns a fresh ``keras.layers.Layer`` (or ``None`` for "no layer") and
raises ``ValueError`` naming the bad value and the choices.
"""

from __future__ import annotations

import keras

from cnnkit._checks import choice_error

ACTIVATIONS = ("relu", "relu6", "leaky_relu", "elu", "prelu", "rrelu", "sigmoid", "tanh",
               "swish", "linear")
NORMS = ("batch", "lrn", None)
POOLINGS = ("max", "avg", "overlap", "stochastic")


def get_activation(name: str | None, *, layer_name: str | None = None) -> keras.layers.Layer:
    """An activation layer by name.

    Args:
        name: one of :data:`ACTIVATIONS` (``None`` and ``"linear"`` give an identity).
            LeakyReLU uses slope 0.01 (PyTorch's default; Keras' own default is 0.3),
            PReLU learns one slope per channel initialised at 0.25 (He et al. 2015),
            RReLU samples a slope in [1/8, 1/3] while training (Xu et al. 2015).
        layer_name: the Keras name of the created layer.
    """
    if name is None or name == "linear":
        return keras.layers.Identity(name=layer_name)
    if name == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=0.01, name=layer_name)
    if name == "prelu":
        from cnnkit.layers.activations import ChannelPReLU

        return ChannelPReLU(alpha_initializer=keras.initializers.Constant(0.25), name=layer_name)
    if name == "elu":
        return keras.layers.ELU(name=layer_name)
    if name == "rrelu":
        from cnnkit.layers.activations import RReLU

        return RReLU(name=layer_name)
    if name in ("relu", "relu6", "sigmoid", "tanh", "swish"):
        return keras.layers.Activation(name, name=layer_name)
    raise choice_error("activation", name, ACTIVATIONS)


def get_norm(kind: str | None, *, layer_name: str | None = None, axis: int = -1):
    """A normalisation layer: ``'batch'`` (BatchNormalization), ``'lrn'`` (AlexNet's LRN) or ``None``.

    BatchNormalization takes its momentum/epsilon from
    :func:`cnnkit.layers.normalization.bn_defaults` (see ``build(..., bn_momentum=)``).
    """
    if kind is None or kind == "none":
        return None
    if kind == "batch":  # keras' layer; on TensorFlow it trains with the fused kernel (cnnkit.layers.normalization)
        from cnnkit.layers.normalization import BatchNormalization, bn_setting

        return BatchNormalization(axis=axis, momentum=bn_setting("momentum"), epsilon=bn_setting("epsilon"),
                                  name=layer_name)
    if kind == "lrn":
        from cnnkit.layers.lrn import LocalResponseNormalization

        if axis not in (-1, 3):
            raise ValueError(f"norm='lrn' normalises the last (channels) axis; got axis={axis}. "
                             "cnnkit models are channels-last")

        return LocalResponseNormalization(name=layer_name)
    raise choice_error("norm", kind, NORMS)


def get_pooling(kind: str, *, pool_size: int = 2, strides: int | None = None,
                padding: str = "valid", layer_name: str | None = None) -> keras.layers.Layer:
    """A 2-D pooling layer.

    ``'max'`` and ``'avg'`` use ``pool_size``/``strides`` as given; ``'overlap'`` is AlexNet's
    overlapping max pooling (3x3, stride 2, whatever ``pool_size`` says); ``'stochastic'`` is
    Zeiler & Fergus' stochastic pooling with ``pool_size``/``strides``.
    """
    strides = strides or pool_size
    if kind == "max":
        return keras.layers.MaxPooling2D(pool_size, strides, padding=padding, name=layer_name)
    if kind == "avg":
        return keras.layers.AveragePooling2D(pool_size, strides, padding=padding, name=layer_name)
    if kind == "overlap":
        return keras.layers.MaxPooling2D(3, 2, padding=padding, name=layer_name)
    if kind == "stochastic":
        from cnnkit.layers.pooling import StochasticPooling2D

        return StochasticPooling2D(pool_size=pool_size, strides=strides, padding=padding, name=layer_name)
    raise choice_error("pooling", kind, POOLINGS)
