"""ShuffleNet v1 (Zhang, Zhou, Lin & Sun 2018, "ShuffleNet: An Extremely Efficient Convolutional
Neural Network for Mobile Devices", arXiv:1707.01083, Table 1).

3x3/2 conv (24) → 3x3/2 max pooling → stages 2, 3, 4 of 4, 8, 4 ShuffleNet units (the first of
each with stride 2) → global average pooling → dense. The stage widths depend on the number of
groups g so that the complexity stays about 140 MFLOPs:

    g = 1: 144/288/576   g = 2: 200/400/800   g = 3: 240/480/960
    g = 4: 272/544/1088  g = 8: 384/768/1536

"ShuffleNet s×" multiplies those widths by ``scale`` (rounded to a multiple of 4g so that the
bottleneck, width / 4, splits into g groups); the 24-channel stem is kept for every scale, as in
Table 1. The first unit of stage 2 has an ungrouped first 1x1 (its input has only 24 channels).

Small inputs: the CIFAR stem (default below 64x64, see ``cifar_stem``) is one 3x3/1 convolution
without max pooling, so the net downsamples 8-fold instead of 32-fold (32x32 → 4x4).
"""

from __future__ import annotations

import keras

from cnnkit._checks import check_choice
from cnnkit.blocks.conv import conv_bn_act
from cnnkit.blocks.shuffle import shufflenet_unit
from cnnkit.models._input_size import choose_stem
from cnnkit.models._registry import register_model

# ``shufflenet`` is left out of ``__all__``: ``cnnkit.models`` re-exports ``__all__`` and a function
# of that name would hide this module. Use ``build("shufflenet", ...)``.
__all__ = ["SHUFFLENET_WIDTHS", "shufflenet_widths"]

# Output channels of stages 2-4 for each number of groups (paper Table 1, ShuffleNet 1×).
SHUFFLENET_WIDTHS = {1: (144, 288, 576), 2: (200, 400, 800), 3: (240, 480, 960),
                     4: (272, 544, 1088), 8: (384, 768, 1536)}
_REPEATS = (4, 8, 4)  # units per stage; the first one has stride 2
_STEM = 24
_IMAGENET_MIN = 32  # 5 stride-2 layers → 1x1
_CIFAR_MIN = 8  # stride-1 stem, no pooling: 3 stride-2 units → 1x1


def shufflenet_widths(groups: int, scale: float = 1.0) -> tuple[int, int, int]:
    """Stage 2-4 widths of ShuffleNet ``scale``× with ``groups`` groups (multiples of 4·groups).

    Raises:
        ValueError: for groups outside {1, 2, 3, 4, 8}, a non-positive scale, or a scale so small
            that stage 2 would not be wider than the 24-channel stem.
    """
    check_choice("groups", groups, sorted(SHUFFLENET_WIDTHS), where="shufflenet",
                 lead=f"groups must be one of the paper's (Table 1), got groups={groups!r}")
    if not (isinstance(scale, (int, float)) and scale > 0):
        raise ValueError(f"shufflenet: scale must be > 0 (the paper uses 0.25, 0.5, 1, 1.5, 2), got {scale!r}")
    unit = 4 * groups
    widths = tuple(max(unit, round(w * scale / unit) * unit) for w in SHUFFLENET_WIDTHS[groups])
    if widths[0] <= _STEM:
        raise ValueError(f"shufflenet: scale={scale} makes stage 2 {widths[0]} channels wide, not wider than "
                         f"the {_STEM}-channel stem; use scale >= 0.25")
    return widths


@register_model
def shufflenet(*, input_shape=(224, 224, 3), num_classes: int = 1000, groups: int = 3, scale: float = 1.0,
               cifar_stem: bool | None = None, classifier_activation: str | None = "softmax") -> keras.Model:
    """ShuffleNet v1 ``scale``× (default 1.0) with ``groups`` ∈ {1, 2, 3, 4, 8} (default 3).

    Minimum input 32x32 with the ImageNet stem, 8x8 with ``cifar_stem=True``; ``cifar_stem=None``
    (default) uses the CIFAR stem below 64x64. g = 3, 1×: 1,865,728 trainable parameters at
    224/1000 classes (1,890,208 with BN statistics; megvii reports 1.9 M).
    """
    widths = shufflenet_widths(groups, scale)
    cifar = choose_stem(input_shape, cifar_stem, model="shufflenet", imagenet_min=_IMAGENET_MIN,
                        cifar_min=_CIFAR_MIN)
    inputs = keras.Input(shape=input_shape, name="input")
    x = conv_bn_act(inputs, _STEM, 3, strides=1 if cifar else 2, name="conv1")
    if not cifar:
        x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    for stage, (width, repeats) in enumerate(zip(widths, _REPEATS), start=2):
        for i in range(repeats):
            x = shufflenet_unit(x, width, groups=groups, stride=2 if i == 0 else 1,
                                first_grouped=not (stage == 2 and i == 0), name=f"stage{stage}_unit{i + 1}")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"shufflenet_g{groups}_{scale:g}x")
