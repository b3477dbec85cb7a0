"""Residual blocks: basic and bottleneck, v1 (post-activation) and v2 (pre-activation).

He, Zhang, Ren & Sun 2016, "Deep Residual Learning for Image Recognition" (arXiv:1512.03385):
a block learns a residual F(x) and outputs F(x) + x, so a deep stack can fall back to the
identity; this removes the *degradation problem* of deep plain nets. Shortcut options when the
shape changes (paper §3.3): (A) stride-s subsampling + zero-padding of the new channels,
parameter-free; (B) a 1x1 projection only where the shape changes; (C) projections everywhere.

He, Zhang, Ren & Sun 2016, "Identity Mappings in Deep Residual Networks" (arXiv:1603.05027):
version 2 moves BN-ReLU in front of each convolution (pre-activation) and leaves the sum
un-activated, so the shortcut path is a pure identity from block to block.

Zagoruyko & Komodakis 2016, "Wide Residual Networks" (arXiv:1605.07146): the wide block is the
pre-activation basic block with dropout between its two convolutions (:func:`wide_block`).

Layer names follow keras.applications: ``{name}_{i}_conv``, ``{name}_{i}_bn``, ``{name}_{i}_act``
for the i-th convolution, ``{name}_0_conv``/``{name}_0_bn`` for a projection shortcut,
``{name}_preact_bn`` (v2), ``{name}_add`` and ``{name}_out`` (v1).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from cnnkit._checks import check_choice
from cnnkit.blocks.conv import conv_layer, norm_act
from cnnkit.layers.factories import get_activation

__all__ = ["ATTENTIONS", "SHORTCUTS", "ZeroPadShortcut", "attention_module", "basic_block", "bottleneck_block", "conv_bias",
           "wide_block"]

SHORTCUTS = ("identity", "zero_pad", "projection", "projection_all")
ATTENTIONS = (None, "se", "cbam", "bam")
_ATTENTION_LAYERS = {"se": "SqueezeExcite", "cbam": "CBAM", "bam": "BAM"}


@keras.saving.register_keras_serializable(package="cnnkit")
class ZeroPadShortcut(keras.layers.Layer):
    """Parameter-free shortcut "option A" of He et al. 2016 (§3.3, §4.2 on CIFAR-10).

    Subsamples the input with stride ``strides`` (``x[:, ::s, ::s, :]``, the same output size
    as a "same"-padded stride-s convolution) and appends zero channels up to ``filters``.
    The added channels carry no signal, so the block's residual branch alone fills them.

    Args:
        filters: number of output channels (>= the input channels).
        strides: spatial subsampling factor. Default 1.
    """

    def __init__(self, filters: int, strides: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.strides = int(strides)

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] > self.filters:
            raise ValueError(f"ZeroPadShortcut cannot reduce channels: input has {input_shape[-1]}, "
                             f"filters={self.filters}; use a projection shortcut instead")

    def compute_output_shape(self, input_shape):
        def sub(d):
            return None if d is None else -(-d // self.strides)

        return (input_shape[0], sub(input_shape[1]), sub(input_shape[2]), self.filters)

    def call(self, inputs, training=None):
        x = inputs[:, :: self.strides, :: self.strides, :] if self.strides > 1 else inputs
        extra = self.filters - x.shape[-1]
        return ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]]) if extra else x

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "strides": self.strides}


def _check(version: int, shortcut: str, attention: str | None, dropout: float) -> None:
    if version not in (1, 2):
        raise ValueError(f"version must be 1 (post-activation) or 2 (pre-activation), got {version!r}")
    check_choice("shortcut", shortcut, SHORTCUTS)
    check_choice("attention", attention, ATTENTIONS)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")


def conv_bias(use_bias: bool | None, bn_follows: bool, norm: str | None) -> bool:
    """A convolution's ``use_bias``: as given, or for ``None`` a bias only where no batch norm follows
    (BN's beta would cancel it)."""
    return (not (bn_follows and norm == "batch")) if use_bias is None else bool(use_bias)


def attention_module(x, kind: str, *, name: str):
    """One attention module (``kind`` in :data:`ATTENTIONS`: SE, CBAM or BAM) named ``name``, applied to ``x``."""
    from cnnkit.layers import attention  # lazy: the attention layers are optional here

    return getattr(attention, _ATTENTION_LAYERS[kind])(name=name)(x)


def _attention(x, kind: str | None, name: str):
    return x if kind is None else attention_module(x, kind, name=f"{name}_{kind}")


def _shortcut(x, pre, filters: int, stride: int, *, kind: str, version: int, norm: str | None,
              use_bias: bool | None, kernel_regularizer: Any, name: str):
    """Identity where the shape is kept (unless option C); else option A or a 1x1 projection."""
    same_shape = stride == 1 and x.shape[-1] == filters
    if kind == "projection_all" or (kind == "projection" and not same_shape):
        # v2 projects the shared pre-activation and adds no BN (keras.applications ResNetV2).
        s = conv_layer(filters, 1, strides=stride, use_bias=conv_bias(use_bias, version == 1, norm),
                       kernel_regularizer=kernel_regularizer, name=f"{name}_0_conv")(pre)
        return norm_act(s, norm=norm, activation=None, name=f"{name}_0") if version == 1 else s
    if same_shape:
        return x
    return ZeroPadShortcut(filters, stride, name=f"{name}_0_pad")(x)


def _conv_stack(x, convs, *, version: int, norm: str | None, activation: str | None, dropout: float,
                use_bias: bool | None, kernel_regularizer: Any, name: str):
    """The residual branch: conv-BN-act (v1) or [BN-act already applied]-conv-BN-act-...-conv (v2).

    ``convs`` lists ``(filters, kernel_size, stride, groups)``; dropout goes before the last conv.
    """
    for i, (filters, kernel, stride, groups) in enumerate(convs, start=1):
        last = i == len(convs)
        if last and dropout > 0:
            x = keras.layers.Dropout(dropout, name=f"{name}_{i - 1}_drop")(x)
        bn_follows = version == 1 or not last
        x = conv_layer(filters, kernel, strides=stride, groups=groups, use_bias=conv_bias(use_bias, bn_follows, norm),
                       kernel_regularizer=kernel_regularizer, name=f"{name}_{i}_conv")(x)
        if bn_follows:
            x = norm_act(x, norm=norm, activation=None if last else activation, name=f"{name}_{i}")
    return x


def _residual_unit(x, convs, filters: int, *, stride: int, version: int, shortcut: str, plain: bool,
                   activation: str | None, norm: str | None, attention: str | None, dropout: float,
                   use_bias: bool | None, kernel_regularizer: Any, name: str):
    """Shared skeleton: [pre-activation] → branch → [attention] → (+ shortcut) → [activation]."""
    _check(version, shortcut, attention, dropout)
    pre = norm_act(x, norm=norm, activation=activation, name=f"{name}_preact") if version == 2 else x
    y = _conv_stack(pre, convs, version=version, norm=norm, activation=activation, dropout=dropout,
                    use_bias=use_bias, kernel_regularizer=kernel_regularizer, name=name)
    y = _attention(y, attention, name)
    if not plain:
        s = _shortcut(x, pre, filters, stride, kind=shortcut, version=version, norm=norm, use_bias=use_bias,
                      kernel_regularizer=kernel_regularizer, name=name)
        y = keras.layers.Add(name=f"{name}_add")([s, y])
    return get_activation(activation, layer_name=f"{name}_out")(y) if version == 1 else y


def basic_block(x, filters: int, *, stride: int = 1, version: int = 1, shortcut: str = "identity",
                plain: bool = False, activation: str | None = "relu", norm: str | None = "batch",
                attention: str | None = None, dropout: float = 0.0, use_bias: bool | None = None,
                kernel_regularizer: Any = None, name: str):
    """Basic residual block: two 3x3 convolutions (He et al. 2016, Fig. 2 left).

    v1: ``conv-BN-act → conv-BN → add → act``; v2: ``BN-act → conv → BN-act → conv → add``.

    Args:
        x: input tensor (channels-last).
        filters: output channels of both convolutions.
        stride: stride of the first 3x3 convolution (and of the shortcut). Default 1.
        version: 1 (post-activation, default) or 2 (pre-activation, "Identity Mappings").
        shortcut: used where the shape changes: ``"identity"`` (default) and ``"zero_pad"`` both
            give option A (identity where the shape is kept, else :class:`ZeroPadShortcut`);
            ``"projection"`` is option B (1x1 conv, + BN in v1); ``"projection_all"`` option C.
        plain: drop the shortcut (the paper's plain nets). Default False.
        activation, norm: see :mod:`cnnkit.layers.factories`. Defaults ``"relu"``, ``"batch"``.
        attention: ``None`` (default), ``"se"``, ``"cbam"`` or ``"bam"``, applied to the residual
            branch before the addition (layers from :mod:`cnnkit.layers.attention`).
        dropout: dropout rate between the two convolutions (the wide block). Default 0.
        use_bias: ``None`` (default): a bias only on convolutions no batch norm follows.
        kernel_regularizer: e.g. ``keras.regularizers.L2(5e-5)``. Default None.
        name: prefix of every layer name (required, so that names are deterministic).

    Returns:
        A tensor with ``filters`` channels, spatially subsampled by ``stride``.
    """
    convs = [(filters, 3, stride, 1), (filters, 3, 1, 1)]
    return _residual_unit(x, convs, filters, stride=stride, version=version, shortcut=shortcut, plain=plain,
                          activation=activation, norm=norm, attention=attention, dropout=dropout,
                          use_bias=use_bias, kernel_regularizer=kernel_regularizer, name=name)


def bottleneck_block(x, filters: int, *, stride: int = 1, out_filters: int | None = None, groups: int = 1,
                     version: int = 1, shortcut: str = "identity", plain: bool = False,
                     activation: str | None = "relu", norm: str | None = "batch", attention: str | None = None,
                     dropout: float = 0.0, use_bias: bool | None = None, kernel_regularizer: Any = None,
                     name: str):
    """Bottleneck residual block: 1x1 reduce → 3x3 → 1x1 expand (He et al. 2016, Fig. 5 right).

    The stride sits on the 3x3 convolution ("ResNet v1.5", as in torchvision); keras.applications
    ResNet (v1) strides the first 1x1 and ResNetV2 the 3x3 of the *last* block of a stage. The
    placement changes neither the output shapes nor the parameter count.

    Args:
        x: input tensor (channels-last).
        filters: width of the 1x1 reduction and of the 3x3 convolution (64 in ResNet-50's first stage).
        stride: stride of the 3x3 convolution (and of the shortcut). Default 1.
        out_filters: output channels. Default ``4 * filters`` (expansion 4).
        groups: groups of the 3x3 convolution (ResNeXt's cardinality). Default 1.
        version, shortcut, plain, activation, norm, attention, use_bias, kernel_regularizer, name:
            as in :func:`basic_block`.
        dropout: dropout rate before the last 1x1 convolution. Default 0.

    Returns:
        A tensor with ``out_filters`` channels, spatially subsampled by ``stride``.
    """
    out_filters = out_filters or 4 * filters
    if filters % groups:
        raise ValueError(f"filters ({filters}) must be divisible by groups ({groups})")
    convs = [(filters, 1, 1, 1), (filters, 3, stride, groups), (out_filters, 1, 1, 1)]
    return _residual_unit(x, convs, out_filters, stride=stride, version=version, shortcut=shortcut, plain=plain,
                          activation=activation, norm=norm, attention=attention, dropout=dropout,
                          use_bias=use_bias, kernel_regularizer=kernel_regularizer, name=name)


def wide_block(x, filters: int, *, stride: int = 1, dropout: float = 0.3, version: int = 2,
               shortcut: str = "projection", use_bias: bool | None = False, name: str, **options: Any):
    """Wide residual block (Zagoruyko & Komodakis 2016): pre-activation basic block with dropout.

    ``BN-ReLU → conv3x3 → BN-ReLU → dropout → conv3x3``, a 1x1 projection where the shape
    changes, no conv biases. Defaults: ``dropout=0.3`` (the paper's CIFAR value), ``version=2``,
    ``shortcut="projection"``, ``use_bias=False``; other ``options`` go to :func:`basic_block`.
    """
    return basic_block(x, filters, stride=stride, version=version, dropout=dropout, shortcut=shortcut,
                       use_bias=use_bias, name=name, **options)
