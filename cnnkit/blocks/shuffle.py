"""The ShuffleNet (v1) unit.

Zhang, Zhou, Lin & Sun 2018, "ShuffleNet: An Extremely Efficient Convolutional Neural Network
for Mobile Devices" (arXiv:1707.01083), Fig. 2 (b, c). Grouped 1x1 convolutions make the
pointwise layers cheap, but stacked groups would only ever see their own channels; a channel
shuffle between them lets information flow across groups.
"""

from __future__ import annotations

import keras

from cnnkit.blocks.conv import conv_bn_act, norm_act
from cnnkit.layers.factories import get_activation
from cnnkit.layers.shuffle import ChannelShuffle

__all__ = ["shufflenet_unit"]


def _check_divisible(channels: int, groups: int, what: str) -> None:
    if channels % groups:
        raise ValueError(f"{what} ({channels}) must be divisible by groups={groups}; "
                         "choose channels that are multiples of groups")


def shufflenet_unit(x, out_channels: int, *, groups: int, stride: int = 1, first_grouped: bool = True,
                    name: str):
    """ShuffleNet v1 unit: GConv1x1 → BN → ReLU → shuffle → DWConv3x3(stride) → BN → GConv1x1 → BN.

    The bottleneck has ``out_channels // 4`` channels (the paper's 1/4 ratio). With ``stride=1``
    the result is added to ``x`` (``out_channels`` must equal the input channels); with
    ``stride=2`` the branch produces ``out_channels - C`` channels that are concatenated with a
    3x3/2 average pooling of ``x``. A ReLU follows the addition / concatenation.

    Args:
        x: input tensor (channels-last) with C channels.
        out_channels: channels of the unit's output.
        groups: g, groups of the 1x1 convolutions (g = 1 means no grouping and no shuffle).
        stride: 1 (residual add) or 2 (concat with the pooled shortcut, halves the size). Default 1.
        first_grouped: group the first 1x1 (and shuffle after it); the paper uses False for the
            first unit of stage 2, whose input has only 24 channels. Default True.
        name: prefix of the layer names (``name_gconv1_conv``, ``name_shuffle``, ``name_dw``, ...).

    Returns:
        A tensor with ``out_channels`` channels and spatial size ``ceil(size / stride)``.
    """
    if not (isinstance(groups, int) and groups >= 1):
        raise ValueError(f"groups must be an int >= 1, got {groups!r}")
    if stride not in (1, 2):
        raise ValueError(f"stride must be 1 or 2, got {stride!r}")
    in_channels = x.shape[-1]
    branch = out_channels - in_channels if stride == 2 else out_channels
    if stride == 1 and out_channels != in_channels:
        raise ValueError(f"a stride-1 unit adds its input, so out_channels ({out_channels}) must equal the "
                         f"input channels ({in_channels}); use stride=2 to change the width")
    if branch < 1:
        raise ValueError(f"a stride-2 unit concatenates the input, so out_channels ({out_channels}) must "
                         f"exceed the input channels ({in_channels})")
    mid = out_channels // 4
    first_groups = groups if first_grouped else 1
    _check_divisible(mid, groups, "bottleneck channels out_channels // 4")
    _check_divisible(branch, groups, "branch output channels")
    if first_grouped:
        _check_divisible(in_channels, groups, "input channels")

    y = conv_bn_act(x, mid, 1, groups=first_groups, name=f"{name}_gconv1")
    if first_groups > 1:  # after an ungrouped 1x1 the channels have no group structure to mix
        y = ChannelShuffle(groups, name=f"{name}_shuffle")(y)
    y = keras.layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False,
                                     depthwise_initializer="he_normal", name=f"{name}_dw")(y)
    y = norm_act(y, activation=None, name=f"{name}_dw")
    y = conv_bn_act(y, branch, 1, groups=groups, activation=None, name=f"{name}_gconv2")
    if stride == 2:
        shortcut = keras.layers.AveragePooling2D(3, strides=2, padding="same", name=f"{name}_pool")(x)
        y = keras.layers.Concatenate(axis=-1, name=f"{name}_concat")([shortcut, y])
    else:
        y = keras.layers.Add(name=f"{name}_add")([x, y])
    return get_activation("relu", layer_name=f"{name}_out")(y)
