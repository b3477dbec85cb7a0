"""Convolution helpers shared by every block: conv → norm → activation, in either order.

``preact=False`` is the original (v1, post-activation) order conv → BN → act;
``preact=True`` is the pre-activation (v2) order BN → act → conv of He et al. 2016,
"Identity Mappings in Deep Residual Networks".
"""

from __future__ import annotations

from typing import Any

import keras

from cnnkit._checks import choice_error
from cnnkit.layers.factories import get_activation, get_norm

__all__ = ["CONV_KINDS", "conv_bn_act", "conv_layer", "norm_act"]

CONV_KINDS = ("standard", "grouped", "dilated", "separable", "depthwise", "transposed")


def _name(name: str | None, suffix: str) -> str | None:
    return f"{name}_{suffix}" if name else None


def norm_act(x, *, norm: str | None = "batch", activation: str | None = "relu", name: str | None = None):
    """Apply a normalisation layer then an activation (either may be ``None``)."""
    layer = get_norm(norm, layer_name=_name(name, "bn" if norm == "batch" else str(norm)))
    if layer is not None:
        x = layer(x)
    if activation is not None:
        x = get_activation(activation, layer_name=_name(name, "act"))(x)
    return x


def conv_layer(filters: int, kernel_size: int | tuple[int, int] = 3, *, kind: str = "standard",
               strides: int = 1, padding: str = "same", groups: int = 1, dilation_rate: int = 1,
               use_bias: bool = False, kernel_regularizer: Any = None,
               kernel_initializer: Any = "he_normal", name: str | None = None) -> keras.layers.Layer:
    """One convolution layer of the given ``kind`` (see :data:`CONV_KINDS`).

    ``grouped`` needs ``groups > 1``; ``dilated`` needs ``dilation_rate > 1``; ``depthwise``
    ignores ``filters`` (one filter per input channel); ``transposed`` upsamples by ``strides``
    with output size (i−1)·s − 2p + k.
    """
    common = dict(padding=padding, use_bias=use_bias, name=name)
    if kind in ("standard", "grouped", "dilated"):
        if kind == "grouped" and groups < 2:
            raise ValueError(f"kind='grouped' needs groups >= 2, got groups={groups}")
        if kind == "dilated" and dilation_rate < 2:
            raise ValueError(f"kind='dilated' needs dilation_rate >= 2, got {dilation_rate}")
        return keras.layers.Conv2D(filters, kernel_size, strides=strides, groups=groups,
                                   dilation_rate=dilation_rate, kernel_initializer=kernel_initializer,
                                   kernel_regularizer=kernel_regularizer, **common)
    if kind == "separable":
        return keras.layers.SeparableConv2D(filters, kernel_size, strides=strides, dilation_rate=dilation_rate,
                                            depthwise_initializer=kernel_initializer,
                                            pointwise_initializer=kernel_initializer,
                                            depthwise_regularizer=kernel_regularizer,
                                            pointwise_regularizer=kernel_regularizer, **common)
    if kind == "depthwise":
        return keras.layers.DepthwiseConv2D(kernel_size, strides=strides, dilation_rate=dilation_rate,
                                            depthwise_initializer=kernel_initializer,
                                            depthwise_regularizer=kernel_regularizer, **common)
    if kind == "transposed":
        return keras.layers.Conv2DTranspose(filters, kernel_size, strides=strides,
                                            kernel_initializer=kernel_initializer,
                                            kernel_regularizer=kernel_regularizer, **common)
    raise choice_error("conv kind", kind, CONV_KINDS)


def conv_bn_act(x, filters: int, kernel_size: int | tuple[int, int] = 3, *, strides: int = 1,
                kind: str = "standard", groups: int = 1, dilation_rate: int = 1, padding: str = "same",
                norm: str | None = "batch", activation: str | None = "relu", preact: bool = False,
                use_bias: bool | None = None, kernel_regularizer: Any = None,
                kernel_initializer: Any = "he_normal", name: str | None = None):
    """Convolution with normalisation and activation.

    Args:
        x: input tensor (channels-last).
        filters, kernel_size, strides, kind, groups, dilation_rate, padding: see :func:`conv_layer`.
        norm: ``'batch'`` (default), ``'lrn'`` or ``None``.
        activation: a name from :data:`cnnkit.layers.factories.ACTIVATIONS` or ``None``.
        preact: ``False`` → conv, norm, act (v1); ``True`` → norm, act, conv (v2).
        use_bias: default ``True`` only when ``norm`` is not batch norm (BN's beta replaces the bias).
        kernel_regularizer: e.g. ``keras.regularizers.L2(5e-5)``.
        name: prefix of the layer names (``name_conv``, ``name_bn``, ``name_act``).
    """
    if use_bias is None:
        use_bias = norm != "batch"
    conv = conv_layer(filters, kernel_size, kind=kind, strides=strides, padding=padding, groups=groups,
                      dilation_rate=dilation_rate, use_bias=use_bias, kernel_regularizer=kernel_regularizer,
                      kernel_initializer=kernel_initializer, name=_name(name, "conv"))
    if preact:
        return conv(norm_act(x, norm=norm, activation=activation, name=name))
    return norm_act(conv(x), norm=norm, activation=activation, name=name)
