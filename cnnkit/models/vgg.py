"""VGG (Simonyan & Zisserman 2015, "Very Deep Convolutional Networks for Large-Scale Image
Recognition"): stacks of 3x3 convolutions (two 3x3 see as far as one 5x5 with 18C² instead of
25C² weights), 2x2/2 max pooling after each of five blocks, fc 4096 → fc 4096 → classifier.

Configurations (Table 1): A = vgg11, B = vgg13, D = vgg16, E = vgg19. ``norm="batch"`` gives
the VGG-BN variants (conv → BN → ReLU, no conv bias); ``norm="lrn"`` is the paper's A-LRN
(one LRN after the first convolution, which the paper found useless).

Two heads:

* ``cifar=False`` (default), the paper's ImageNet form: flatten → fc 4096 → dropout 0.5 →
  fc 4096 → dropout 0.5 → classifier. ``vgg16()`` with 224x224x3 and 1000 classes has
  exactly the 138,357,544 parameters of ``keras.applications.VGG16(weights=None)``.
  Minimum input 32x32 (five valid 2x2 poolings).
* ``cifar=True``, the compact form for 28x28/32x32 images: same convolutions, 'same'-padded
  poolings (32 → 16 → 8 → 4 → 2 → 1, 28 → 14 → 7 → 4 → 2 → 1), global average pooling →
  dropout → classifier — no 4096-wide dense layers (vgg16: 14,719,818 parameters for 10
  classes instead of 33.6 M with the ImageNet head on 32x32). Any input size works.
"""

from __future__ import annotations

import keras

from cnnkit._checks import check_choice
from cnnkit.blocks.conv import conv_bn_act
from cnnkit.blocks.inception import INITIALIZER
from cnnkit.layers.factories import NORMS, POOLINGS, get_norm, get_pooling
from cnnkit.models._classic import (check_dropout, check_input_size, check_width, classifier,
                                    dense_act, image_input, scaled)
from cnnkit.models._registry import register_model

__all__ = ["VGG_CONFIGS", "vgg11", "vgg13", "vgg16", "vgg19"]

# Convolutions per block (filters 64, 128, 256, 512, 512), Table 1 of the paper.
VGG_CONFIGS: dict[str, tuple[int, ...]] = {
    "A": (1, 1, 2, 2, 2),   # vgg11
    "B": (2, 2, 2, 2, 2),   # vgg13
    "D": (2, 2, 3, 3, 3),   # vgg16
    "E": (2, 2, 4, 4, 4),   # vgg19
}
_FILTERS = (64, 128, 256, 512, 512)


def _vgg_block(x, filters: int, convs: int, *, activation: str, norm: str | None, pooling: str,
               pool_padding: str, lrn_first: bool, name: str):
    """``convs`` 3x3 convolutions (conv → [BN] → act) then a 2x2/2 pooling (3x3/2 for 'overlap')."""
    for i in range(1, convs + 1):
        x = conv_bn_act(x, filters, 3, norm="batch" if norm == "batch" else None, activation=activation,
                        kernel_initializer=INITIALIZER, name=f"{name}_conv{i}")
        if lrn_first and i == 1:
            x = get_norm("lrn", layer_name=f"{name}_lrn")(x)
    return get_pooling(pooling, pool_size=2, padding=pool_padding, layer_name=f"{name}_pool")(x)


def _vgg(model: str, config: str, *, input_shape, num_classes, activation, norm, pooling, dropout, width,
         cifar, resolution, classifier_activation) -> keras.Model:
    """Generic VGG: five blocks of config ``config``, then the ImageNet or the CIFAR head."""
    check_choice("norm", norm, NORMS, where=model)
    check_choice("pooling", pooling, POOLINGS, where=model)
    check_dropout(model, dropout)
    check_width(model, width)
    pool_padding = "same" if cifar else "valid"
    inputs, x, size = image_input(model, input_shape, resolution)
    window = 3 if pooling == "overlap" else 2
    check_input_size(model, size, lambda n: [(window, 2, pool_padding)] * 5,
                     "use cifar=True (any size) or resize with resolution=32 or more")
    for b, (filters, convs) in enumerate(zip(_FILTERS, VGG_CONFIGS[config]), start=1):
        x = _vgg_block(x, scaled(filters, width), convs, activation=activation, norm=norm, pooling=pooling,
                       pool_padding=pool_padding, lrn_first=(norm == "lrn" and b == 1), name=f"block{b}")
    if cifar:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout, name="avg_pool_drop")(x)
    else:
        x = keras.layers.Flatten(name="flatten")(x)
        x = dense_act(x, scaled(4096, width), activation=activation, dropout=dropout, name="fc1")
        x = dense_act(x, scaled(4096, width), activation=activation, dropout=dropout, name="fc2")
    return keras.Model(inputs, classifier(x, num_classes, classifier_activation), name=model)


_DOC_ARGS = """
    Args:
        input_shape: ``(height, width, channels)``; default 224x224x3.
        num_classes: classifier outputs (default 1000).
        activation: ``"relu"`` (default) or any name in ``factories.ACTIVATIONS``.
        norm: ``None`` (default, the paper), ``"batch"`` (VGG-BN) or ``"lrn"`` (A-LRN).
        pooling: ``"max"`` (default, 2x2/2), ``"avg"``, ``"stochastic"`` or ``"overlap"`` (3x3/2).
        dropout: rate after each 4096 layer (default 0.5); before the classifier if ``cifar``.
        width: multiplier of every channel count and dense width (default 1.0).
        cifar: ``True`` → 'same' pooling + global average pooling head for small images.
        resolution: if set, inputs are resized to ``resolution x resolution`` first.
        classifier_activation: ``"softmax"`` (default) or ``None`` for logits.

    Minimum input: 32x32 (ImageNet head, 63x63 with ``pooling="overlap"``); any with ``cifar=True``.
"""


def _variant(config: str, depth: int):
    def builder(*, input_shape: tuple[int, int, int] = (224, 224, 3), num_classes: int = 1000,
                activation: str = "relu", norm: str | None = None, pooling: str = "max", dropout: float = 0.5,
                width: float = 1.0, cifar: bool = False, resolution: int | None = None,
                classifier_activation: str | None = "softmax") -> keras.Model:
        return _vgg(f"vgg{depth}", config, input_shape=input_shape, num_classes=num_classes,
                    activation=activation, norm=norm, pooling=pooling, dropout=dropout, width=width, cifar=cifar,
                    resolution=resolution, classifier_activation=classifier_activation)

    builder.__name__ = builder.__qualname__ = f"vgg{depth}"
    builder.__doc__ = f"VGG-{depth} (configuration {config} of Simonyan & Zisserman 2015).\n" + _DOC_ARGS
    return register_model(builder)


vgg11 = _variant("A", 11)
vgg13 = _variant("B", 13)
vgg16 = _variant("D", 16)
vgg19 = _variant("E", 19)
