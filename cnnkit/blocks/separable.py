"""Depthwise-separable blocks: MobileNet's block and Xception's residual modules.

A depthwise-separable k×k convolution C → C' is a depthwise k×k convolution (one filter
per input channel, k²C weights) followed by a 1x1 pointwise convolution (CC' weights):
k²C + CC' weights instead of k²CC', a ratio of 1/C' + 1/k².

- Howard et al. 2017, "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
  Applications" (arXiv:1704.04861): depthwise 3x3 → BN → ReLU6 → 1x1 → BN → ReLU6, with a
  width multiplier α and a depth multiplier.
- Chollet 2017, "Xception: Deep Learning with Depthwise Separable Convolutions"
  (arXiv:1610.02357): stacks of ReLU → SeparableConv → BN with a residual connection,
  a strided 1x1 projection where the module downsamples (entry and exit flow).
"""

from __future__ import annotations

from typing import Sequence

import keras

from cnnkit.blocks.conv import conv_bn_act, norm_act
from cnnkit.layers.factories import get_activation

__all__ = ["mobilenet_block", "separable_block", "xception_block"]


def separable_block(x, filters: int, *, stride: int = 1, depth_multiplier: int = 1,
                    activation: str = "relu6", name: str):
    """Depthwise 3x3 (stride) → BN → act → pointwise 1x1 → BN → act (Howard et al. 2017, Fig. 3).

    Args:
        x: input tensor (channels-last) with C channels.
        filters: output channels of the pointwise convolution.
        stride: stride of the depthwise convolution (1 or 2). Default 1.
        depth_multiplier: depthwise filters per input channel (the 1x1 sees C·multiplier). Default 1.
        activation: activation after both BNs. Default ``"relu6"`` (MobileNet).
        name: prefix of the layer names (``name_dw``, ``name_dw_bn``, ``name_pw_conv``, ...).

    Returns:
        A tensor with ``filters`` channels; 'same' padding, so the spatial size is ``ceil(size / stride)``.
    """
    if stride not in (1, 2):
        raise ValueError(f"stride must be 1 or 2, got {stride!r}")
    if not (isinstance(depth_multiplier, int) and depth_multiplier >= 1):
        raise ValueError(f"depth_multiplier must be an int >= 1, got {depth_multiplier!r}")
    x = keras.layers.DepthwiseConv2D(3, strides=stride, padding="same", depth_multiplier=depth_multiplier,
                                     use_bias=False, depthwise_initializer="he_normal", name=f"{name}_dw")(x)
    x = norm_act(x, activation=activation, name=f"{name}_dw")
    return conv_bn_act(x, filters, 1, activation=activation, name=f"{name}_pw")


def mobilenet_block(x, filters: int, *, stride: int = 1, alpha: float = 1.0, depth_multiplier: int = 1,
                    name: str):
    """MobileNet's depthwise-separable block with the width multiplier α (Howard et al. 2017, §3.3).

    Args:
        x: input tensor (channels-last).
        filters: pointwise filters at α = 1; the block uses ``int(filters * alpha)`` (as keras does).
        stride: stride of the depthwise convolution (1 or 2). Default 1.
        alpha: width multiplier α > 0. Default 1.0.
        depth_multiplier: depthwise filters per input channel (the paper's resolution
            multiplier is the input size, not this). Default 1.
        name: prefix of the layer names.

    Returns:
        A tensor with ``int(filters * alpha)`` channels.
    """
    if not alpha > 0:
        raise ValueError(f"alpha (width multiplier) must be > 0, got {alpha!r}")
    width = int(filters * alpha)
    if width < 1:
        raise ValueError(f"alpha={alpha} leaves {width} filters of {filters}; use a larger alpha")
    return separable_block(x, width, stride=stride, depth_multiplier=depth_multiplier, name=name)


def xception_block(x, filters: Sequence[int], *, stride: int = 1, first_activation: bool = True, name: str):
    """Xception module: ``len(filters)`` × (ReLU → SeparableConv 3x3 → BN) + shortcut (Chollet 2017, Fig. 5).

    Entry/exit flow modules use ``stride=2``: a 3x3/2 max pooling closes the separable stack and
    the shortcut is a 1x1/2 convolution + BN. Middle flow modules use ``stride=1`` with equal
    widths and an identity shortcut (a 1x1 projection is used whenever the widths differ).

    Args:
        x: input tensor (channels-last).
        filters: output channels of each separable convolution, e.g. ``(728, 728, 728)``.
        stride: 1 (no pooling) or 2 (max pooling 3x3/2 'same'). Default 1.
        first_activation: start with a ReLU; False for the first entry-flow module, whose input
            already passed a ReLU. Default True.
        name: prefix of the layer names (``name_sepconv1_conv``, ``name_proj_conv``, ``name_add``, ...).

    Returns:
        A tensor with ``filters[-1]`` channels and spatial size ``ceil(size / stride)``.
    """
    if stride not in (1, 2):
        raise ValueError(f"stride must be 1 or 2, got {stride!r}")
    if len(filters) < 1:
        raise ValueError(f"filters must list at least one width, got {filters!r}")
    shortcut = x
    if stride != 1 or x.shape[-1] != filters[-1]:
        shortcut = conv_bn_act(x, filters[-1], 1, strides=stride, activation=None, name=f"{name}_proj")
    for i, width in enumerate(filters, start=1):
        if i > 1 or first_activation:
            x = get_activation("relu", layer_name=f"{name}_sepconv{i}_act")(x)
        x = conv_bn_act(x, width, 3, kind="separable", activation=None, name=f"{name}_sepconv{i}")
    if stride == 2:
        x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name=f"{name}_pool")(x)
    return keras.layers.Add(name=f"{name}_add")([x, shortcut])
