"""DenseNet (Huang, Liu, van der Maaten & Weinberger 2017, "Densely Connected Convolutional
Networks", arXiv:1608.06993).

Two forms:

* ImageNet (``densenet121/169/201``, paper Table 1): 7x7/2 conv (64) → 3x3/2 max pooling →
  four dense blocks of (6, 12, 24|32|48, 16|32|32) bottleneck layers with growth rate 32 and
  transitions with compression 0.5 → BN-ReLU → global average pooling → dense. With the
  ImageNet stem the parameter count equals ``keras.applications.DenseNet121/169/201``
  (DenseNet121: 8,062,504 at 1000 classes). Inputs below 64x64 get a CIFAR stem by default
  (``cifar_stem``): one 3x3/1 convolution with 64 filters and no pooling, so a 32x32 image
  still has 4x4 maps in the last block.
* CIFAR (``densenet_bc``, paper section 3 "Implementation Details"): 3x3 conv with 2k filters →
  three dense blocks of (depth − 4) / 6 bottleneck layers → BN-ReLU → global average pooling →
  dense. DenseNet-BC L=100, k=12 has 769,162 trainable parameters at 10 classes (paper: 0.8 M;
  the same count as PyTorch ports) and 793,150 with the BN moving statistics that
  ``count_params`` includes; the paper reports 4.51 % error on C10+.
"""

from __future__ import annotations

from typing import Sequence

import keras

from cnnkit.blocks.conv import conv_bn_act, norm_act
from cnnkit.blocks.dense import dense_block, transition
from cnnkit.models._input_size import choose_stem
from cnnkit.models._registry import register_model, variant_of

__all__ = ["densenet121", "densenet169", "densenet201", "densenet_bc"]

_IMAGENET_MIN = 32  # keras.applications' minimum: 32 → 8 after the stem → 1 after three transitions
_CIFAR_MIN = 8  # 3x3/1 stem, three transitions


def _stem(x, filters: int, cifar: bool):
    """ImageNet: pad 3 → 7x7/2 conv → BN-ReLU → pad 1 → 3x3/2 max pool (as keras); CIFAR: one 3x3/1 conv."""
    if cifar:
        return keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal",
                                   name="conv1_conv")(x)
    x = keras.layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = conv_bn_act(x, filters, 7, strides=2, padding="valid", name="conv1")
    x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(x)
    return keras.layers.MaxPooling2D(3, strides=2, name="pool1")(x)


def _densenet(blocks: Sequence[int], *, growth_rate: int, stem_filters: int, cifar: bool, compression: float,
              dropout: float, input_shape, num_classes: int, classifier_activation, name: str) -> keras.Model:
    """Stem → dense blocks joined by transitions → BN-ReLU → global average pooling → dense."""
    inputs = keras.Input(shape=input_shape, name="input")
    x = _stem(inputs, stem_filters, cifar)
    for i, num_layers in enumerate(blocks):
        x = dense_block(x, num_layers, growth_rate, dropout=dropout, name=f"conv{i + 2}")
        if i < len(blocks) - 1:
            x = transition(x, compression, dropout=dropout, name=f"pool{i + 2}")
    x = norm_act(x, name="final")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def densenet_imagenet(*, blocks: Sequence[int], name: str, input_shape=(224, 224, 3), num_classes: int = 1000,
                      cifar_stem: bool | None = None, dropout: float = 0.0,
                      classifier_activation: str | None = "softmax") -> keras.Model:
    """ImageNet DenseNet (Huang et al. 2017): 4 dense blocks of ``blocks`` layers, k = 32, θ = 0.5.

    Minimum input 32x32 with the ImageNet stem, 8x8 with ``cifar_stem=True``; ``cifar_stem=None``
    (default) uses the CIFAR stem below 64x64. ``dropout`` follows every convolution (default 0).
    """
    cifar = choose_stem(input_shape, cifar_stem, model=name, imagenet_min=_IMAGENET_MIN, cifar_min=_CIFAR_MIN)
    return _densenet(blocks, growth_rate=32, stem_filters=64, cifar=cifar, compression=0.5, dropout=dropout,
                     input_shape=input_shape, num_classes=num_classes,
                     classifier_activation=classifier_activation, name=name)


@register_model
@variant_of(densenet_imagenet, blocks=(6, 12, 24, 16), name="densenet121")
def densenet121():
    """DenseNet-121: blocks (6, 12, 24, 16); 8,062,504 parameters at 224/1000 like keras.applications."""


@register_model
@variant_of(densenet_imagenet, blocks=(6, 12, 32, 32), name="densenet169")
def densenet169():
    """DenseNet-169: blocks (6, 12, 32, 32); 14,307,880 parameters at 224/1000 like keras.applications."""


@register_model
@variant_of(densenet_imagenet, blocks=(6, 12, 48, 32), name="densenet201")
def densenet201():
    """DenseNet-201: blocks (6, 12, 48, 32); 20,242,984 parameters at 224/1000 like keras.applications."""


def _bc_layers(depth: int) -> int:
    """Bottleneck layers per dense block of a 3-block DenseNet-BC of the given depth."""
    if not (isinstance(depth, int) and depth > 4 and (depth - 4) % 6 == 0):
        raise ValueError(f"densenet_bc depth must satisfy (depth - 4) % 6 == 0 with depth > 4 (3 blocks of "
                         f"bottleneck layers with 2 convs each + stem, 2 transitions, classifier), got "
                         f"depth={depth!r}; e.g. 40, 100, 190, 250")
    return (depth - 4) // 6


@register_model
def densenet_bc(*, input_shape=(32, 32, 3), num_classes: int = 10, depth: int = 100, growth_rate: int = 12,
                compression: float = 0.5, dropout: float = 0.0,
                classifier_activation: str | None = "softmax") -> keras.Model:
    """DenseNet-BC for CIFAR: 3 blocks of (depth − 4) / 6 bottleneck layers, stem of 2k filters.

    L=100, k=12 → 769,162 trainable parameters (793,150 with BN statistics) at 10 classes
    (paper: 0.8 M); L=40 → 176,122 (181,210). Minimum input 4x4
    (two transitions). ``dropout``: the paper uses 0.2 without data augmentation (default 0).
    """
    layers = _bc_layers(depth)
    choose_stem(input_shape, True, model="densenet_bc", imagenet_min=4, cifar_min=4)
    return _densenet((layers,) * 3, growth_rate=growth_rate, stem_filters=2 * growth_rate, cifar=True,
                     compression=compression, dropout=dropout, input_shape=input_shape, num_classes=num_classes,
                     classifier_activation=classifier_activation, name=f"densenet_bc_{depth}_k{growth_rate}")
