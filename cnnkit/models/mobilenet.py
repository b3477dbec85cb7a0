"""MobileNet v1 (Howard et al. 2017, "MobileNets: Efficient Convolutional Neural Networks for
Mobile Vision Applications", arXiv:1704.04861, Table 1).

3x3/2 conv (32) → 13 depthwise-separable blocks (64, 128/2, 128, 256/2, 256, 512/2, 5 × 512,
1024/2, 1024) → global average pooling → dropout → 1x1 conv classifier, as in
``keras.applications.MobileNet``, whose parameter count it matches (4,253,864 at 224/1000,
α = 1). The width multiplier α scales every layer's channels (``int(c * α)``).

Small inputs: the CIFAR stem (default below 64x64, see ``cifar_stem``) makes the first
convolution stride 1, the usual CIFAR adaptation; the net then downsamples 16-fold instead
of 32-fold. Strided layers use 'same' padding (keras pads (0, 1) and uses 'valid', which
gives the same sizes for even inputs).
"""

from __future__ import annotations

import keras

from cnnkit.blocks.conv import conv_bn_act
from cnnkit.blocks.separable import mobilenet_block
from cnnkit.models._input_size import choose_stem
from cnnkit.models._registry import register_model

# ``mobilenet`` is left out of ``__all__``: ``cnnkit.models`` re-exports ``__all__`` and a function
# of that name would hide this module. Use ``build("mobilenet", ...)``.
__all__ = ["MOBILENET_BLOCKS"]

# (pointwise filters at α = 1, stride) of the 13 separable blocks (paper Table 1).
MOBILENET_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))

_IMAGENET_MIN = 32  # keras.applications' minimum (5 stride-2 layers → 1x1)
_CIFAR_MIN = 16  # stride-1 stem: 4 stride-2 layers → 1x1


@register_model
def mobilenet(*, input_shape=(224, 224, 3), num_classes: int = 1000, alpha: float = 1.0,
              depth_multiplier: int = 1, dropout: float = 1e-3, cifar_stem: bool | None = None,
              classifier_activation: str | None = "softmax") -> keras.Model:
    """MobileNet v1 with width multiplier ``alpha`` (default 1.0) and ``depth_multiplier`` (default 1).

    Minimum input 32x32 with the ImageNet stem, 16x16 with ``cifar_stem=True``; ``cifar_stem=None``
    (default) uses the CIFAR stem below 64x64. ``dropout`` (default 1e-3, as keras) precedes the
    1x1 conv classifier. 4,253,864 parameters at 224x224x3/1000 classes.
    """
    if not (isinstance(dropout, (int, float)) and 0.0 <= dropout < 1.0):
        raise ValueError(f"mobilenet: dropout must be a rate in [0, 1), got {dropout!r}")
    if not (isinstance(alpha, (int, float)) and alpha > 0):
        raise ValueError(f"mobilenet: alpha (width multiplier) must be > 0, got {alpha!r}; keras uses "
                         "0.25, 0.5, 0.75 or 1.0")
    cifar = choose_stem(input_shape, cifar_stem, model="mobilenet", imagenet_min=_IMAGENET_MIN,
                        cifar_min=_CIFAR_MIN)
    inputs = keras.Input(shape=input_shape, name="input")
    x = conv_bn_act(inputs, int(32 * alpha), 3, strides=1 if cifar else 2, activation="relu6", name="conv1")
    for i, (filters, stride) in enumerate(MOBILENET_BLOCKS, start=1):
        x = mobilenet_block(x, filters, stride=stride, alpha=alpha, depth_multiplier=depth_multiplier,
                            name=f"block{i}")
    x = keras.layers.GlobalAveragePooling2D(keepdims=True, name="avg_pool")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    x = keras.layers.Conv2D(num_classes, 1, name="conv_preds")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Activation(classifier_activation or "linear", name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"mobilenet_{alpha:g}")
