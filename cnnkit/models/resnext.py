"""ResNeXt (Xie, Girshick, Dollár, Tu & He 2017, "Aggregated Residual Transformations for Deep
Neural Networks", arXiv:1611.05431): ResNet bottlenecks whose 3x3 convolution has
``cardinality`` groups (:func:`cnnkit.blocks.resnext.resnext_block`).

* CIFAR (``resnext``, paper §5.2): 3x3 conv (64) → three stages of n = (depth − 2) / 9 blocks
  with outputs 256, 512, 1024 and inner width C·d, 2·C·d, 4·C·d (stride 2 at stages 2, 3) →
  global average pooling → dense. ResNeXt-29 8x64d: 34.4 M parameters (34,426,698 trainable
  measured), 3.65 % error on C10+; 16x64d (``cardinality=16``): 68.1 M, 3.58 %.
* ImageNet (``resnext50``, Table 1): the ResNet-50 layout with 32x4d blocks, 25.0 M parameters
  (25,028,904 trainable at 224/1000, as torchvision's resnext50_32x4d), no conv biases, BN
  epsilon 1.001e-5. keras.applications has no ResNeXt builder to compare with.
"""

from __future__ import annotations

import keras

from cnnkit.blocks.resnext import resnext_block
from cnnkit.layers.normalization import bn_defaults
from cnnkit.models._input_size import choose_stem
from cnnkit.models._registry import register_model, variant_of
from cnnkit.models.resnet import KERAS_BN_EPSILON, blocks_per_stage, residual_network, stem_cifar, stem_imagenet

__all__ = ["resnext", "resnext29_8x64d", "resnext50"]


def _stages(repeats, cardinality: int, bottleneck_width: int, strides):
    return [dict(filters=256 * 2**i, blocks=r, stride=s, cardinality=cardinality,
                 bottleneck_width=bottleneck_width * 2**i) for i, (r, s) in enumerate(zip(repeats, strides))]


@register_model
def resnext(*, input_shape=(32, 32, 3), num_classes: int = 10, depth: int = 29, cardinality: int = 8,
            bottleneck_width: int = 64, version: int = 1, shortcut: str = "projection",
            activation: str | None = "relu", norm: str | None = "batch", attention: str | None = None,
            dropout: float = 0.0, classifier_activation: str | None = "softmax") -> keras.Model:
    """CIFAR ResNeXt-depth (depth = 9n+2) with ``cardinality`` x ``bottleneck_width``d blocks.

    Inputs from 8x8. The name is ``resnext{depth}_{cardinality}x{bottleneck_width}d``.
    """
    n = blocks_per_stage(depth, 9, 2, "11, 20, 29, 38")
    if min(input_shape[:2]) < 8:
        raise ValueError(f"resnext needs inputs of at least 8x8, got input_shape={tuple(input_shape)}")
    stem = stem_cifar(64, version=version, norm=norm, activation=activation)
    return residual_network(_stages((n, n, n), cardinality, bottleneck_width, (1, 2, 2)), stem=stem,
                            block_fn=resnext_block, version=version, input_shape=input_shape,
                            num_classes=num_classes, classifier_activation=classifier_activation, norm=norm,
                            activation=activation, shortcut=shortcut, attention=attention, dropout=dropout,
                            name=f"resnext{depth}_{cardinality}x{bottleneck_width}d")


@register_model
@variant_of(resnext, depth=29, cardinality=8, bottleneck_width=64)
def resnext29_8x64d():
    """ResNeXt-29 8x64d: 34.4 M parameters, 3.65 % CIFAR-10 error (C10+)."""


@register_model
def resnext50(*, input_shape=(224, 224, 3), num_classes: int = 1000, cardinality: int = 32,
              bottleneck_width: int = 4, version: int = 1, cifar_stem: bool | None = None,
              activation: str | None = "relu", norm: str | None = "batch", attention: str | None = None,
              classifier_activation: str | None = "softmax") -> keras.Model:
    """ResNeXt-50 (32x4d): stages (3, 4, 6, 3), 25.0 M parameters at 224/1000; 22.2 % top-1 error.

    ``cifar_stem``: see :mod:`cnnkit.models._input_size` (None: CIFAR stem below 64x64).
    """
    small = choose_stem(input_shape, cifar_stem, model="resnext50", imagenet_min=32, cifar_min=8)
    kw = dict(version=version, norm=norm, activation=activation, use_bias=False)
    with bn_defaults(epsilon=KERAS_BN_EPSILON):
        return residual_network(_stages((3, 4, 6, 3), cardinality, bottleneck_width, (1, 2, 2, 2)),
                                stem=stem_cifar(64, **kw) if small else stem_imagenet(**kw), block_fn=resnext_block,
                                input_shape=input_shape, num_classes=num_classes,
                                classifier_activation=classifier_activation, attention=attention,
                                name="resnext50", **kw)
