"""DenseNet building blocks: the dense layer, the dense block and the transition layer.

Huang, Liu, van der Maaten & Weinberger 2017, "Densely Connected Convolutional Networks"
(arXiv:1608.06993). Inside a dense block every layer receives the concatenation of all
earlier feature maps and adds ``growth_rate`` (k) new ones, so a block of L layers turns
C input channels into C + L·k. DenseNet-B puts a 1x1 "bottleneck" convolution with 4k
filters before each 3x3; DenseNet-C compresses the channels by θ in every transition;
DenseNet-BC does both. All convolutions use the pre-activation order BN → ReLU → conv.
"""

from __future__ import annotations

import keras

from cnnkit.blocks.conv import conv_bn_act

__all__ = ["dense_block", "dense_layer", "transition"]


def _dropout(x, rate: float, name: str):
    return keras.layers.Dropout(rate, name=name)(x) if rate > 0 else x


def dense_layer(x, growth_rate: int, *, bottleneck: bool = True, dropout: float = 0.0, name: str):
    """One layer of a dense block: ``[BN-ReLU-Conv1x1(4k)] → BN-ReLU-Conv3x3(k)``, concatenated to ``x``.

    Args:
        x: input tensor (channels-last) with C channels.
        growth_rate: k, the number of feature maps the layer adds.
        bottleneck: add the 1x1 convolution with ``4 * growth_rate`` filters (DenseNet-B). Default True.
        dropout: dropout rate after each convolution (the paper uses 0.2 without augmentation). Default 0.
        name: prefix of the layer names (``name_1_conv``, ``name_2_conv``, ``name_concat``).

    Returns:
        A tensor with C + k channels.
    """
    y = x
    if bottleneck:
        y = conv_bn_act(y, 4 * growth_rate, 1, preact=True, name=f"{name}_1")
        y = _dropout(y, dropout, f"{name}_1_drop")
    y = conv_bn_act(y, growth_rate, 3, preact=True, name=f"{name}_2")
    y = _dropout(y, dropout, f"{name}_2_drop")
    return keras.layers.Concatenate(axis=-1, name=f"{name}_concat")([x, y])


def dense_block(x, num_layers: int, growth_rate: int, *, bottleneck: bool = True, dropout: float = 0.0,
                name: str):
    """A dense block of ``num_layers`` densely connected layers (Huang et al. 2017, Fig. 1).

    Args:
        x: input tensor (channels-last) with C channels.
        num_layers: L, the number of :func:`dense_layer` calls (>= 1).
        growth_rate: k, the feature maps each layer adds (>= 1).
        bottleneck: use the 1x1 bottleneck in every layer (DenseNet-B). Default True.
        dropout: dropout rate after each convolution. Default 0.
        name: prefix of the layer names; layer i is ``f"{name}_block{i}"`` (from 1, as in keras).

    Returns:
        A tensor with C + L·k channels and the spatial size of ``x``.
    """
    if not (isinstance(num_layers, int) and num_layers >= 1):
        raise ValueError(f"num_layers must be an int >= 1, got {num_layers!r}")
    if not (isinstance(growth_rate, int) and growth_rate >= 1):
        raise ValueError(f"growth_rate must be an int >= 1, got {growth_rate!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    for i in range(num_layers):
        x = dense_layer(x, growth_rate, bottleneck=bottleneck, dropout=dropout, name=f"{name}_block{i + 1}")
    return x


def transition(x, compression: float = 0.5, *, dropout: float = 0.0, name: str):
    """Transition layer between dense blocks: ``BN-ReLU-Conv1x1(⌊θ·C⌋) → AvgPool 2x2/2``.

    Args:
        x: input tensor (channels-last) with C channels.
        compression: θ in (0, 1]; the output has ``int(θ·C)`` channels (DenseNet-C/BC use 0.5,
            θ = 1 keeps the width). Default 0.5.
        dropout: dropout rate after the convolution. Default 0.
        name: prefix of the layer names (``name_bn``, ``name_act``, ``name_conv``, ``name_pool``).

    Returns:
        A tensor with ``int(θ·C)`` channels and half the spatial size (floor).
    """
    if not 0.0 < compression <= 1.0:
        raise ValueError(f"compression (theta) must be in (0, 1], got {compression!r}; "
                         "DenseNet-BC uses 0.5, 1.0 means no compression")
    filters = int(x.shape[-1] * compression)
    if filters < 1:
        raise ValueError(f"compression {compression} of {x.shape[-1]} channels leaves no channel; "
                         "use a larger compression")
    x = conv_bn_act(x, filters, 1, preact=True, name=name)
    x = _dropout(x, dropout, f"{name}_drop")
    return keras.layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)
