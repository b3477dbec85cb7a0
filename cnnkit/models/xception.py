"""Xception (Chollet 2017, "Xception: Deep Learning with Depthwise Separable Convolutions",
arXiv:1610.02357, Fig. 5).

Entry flow: 3x3/2 conv (32) → 3x3 conv (64) → three downsampling modules (128, 256, 728);
middle flow: eight residual modules of three 728-wide separable convolutions; exit flow:
one downsampling module (728, 1024) → separable 1536 → separable 2048 (each BN-ReLU) →
global average pooling → dense. Same layers as ``keras.applications.Xception``, hence the
same parameter count (22,910,480 at 299x299x3/1000 classes).

Small inputs: the CIFAR stem (default below 71x71, keras' minimum, see ``cifar_stem``) gives
both stem convolutions stride 1 and 'same' padding, so the net downsamples 16-fold (32x32 → 2x2).
"""

from __future__ import annotations

import keras

from cnnkit.blocks.conv import conv_bn_act
from cnnkit.blocks.separable import xception_block
from cnnkit.models._input_size import choose_stem
from cnnkit.models._registry import register_model

# ``xception`` is left out of ``__all__``: ``cnnkit.models`` re-exports ``__all__`` and a function
# of that name would hide this module. Use ``build("xception", ...)``.
__all__ = []

_IMAGENET_MIN = 71  # keras.applications' minimum (last maps 3x3)
_CIFAR_MIN = 16  # stride-1 'same' stem: 4 downsampling modules → 1x1


def _entry_flow(x, cifar: bool):
    """Stem convolutions and the three downsampling modules of the entry flow."""
    padding, stride = ("same", 1) if cifar else ("valid", 2)
    x = conv_bn_act(x, 32, 3, strides=stride, padding=padding, name="block1_conv1")
    x = conv_bn_act(x, 64, 3, padding=padding, name="block1_conv2")
    x = xception_block(x, (128, 128), stride=2, first_activation=False, name="block2")
    x = xception_block(x, (256, 256), stride=2, name="block3")
    return xception_block(x, (728, 728), stride=2, name="block4")


@register_model
def xception(*, input_shape=(299, 299, 3), num_classes: int = 1000, middle_blocks: int = 8,
             cifar_stem: bool | None = None, classifier_activation: str | None = "softmax") -> keras.Model:
    """Xception: entry flow → ``middle_blocks`` (default 8) middle modules → exit flow → dense.

    Minimum input 71x71 with the ImageNet stem (as keras), 16x16 with ``cifar_stem=True``;
    ``cifar_stem=None`` (default) uses the CIFAR stem below 71x71. 22,910,480 parameters at
    299x299x3/1000 classes; each middle module adds 1,618,344.
    """
    if not (isinstance(middle_blocks, int) and middle_blocks >= 0):
        raise ValueError(f"xception: middle_blocks must be an int >= 0 (the paper uses 8), got {middle_blocks!r}")
    cifar = choose_stem(input_shape, cifar_stem, model="xception", imagenet_min=_IMAGENET_MIN,
                        cifar_min=_CIFAR_MIN, auto_below=_IMAGENET_MIN)
    inputs = keras.Input(shape=input_shape, name="input")
    x = _entry_flow(inputs, cifar)
    for i in range(middle_blocks):
        x = xception_block(x, (728, 728, 728), name=f"block{i + 5}")
    x = xception_block(x, (728, 1024), stride=2, name=f"block{middle_blocks + 5}")
    x = conv_bn_act(x, 1536, 3, kind="separable", name=f"block{middle_blocks + 6}_sepconv1")
    x = conv_bn_act(x, 2048, 3, kind="separable", name=f"block{middle_blocks + 6}_sepconv2")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name="xception")
