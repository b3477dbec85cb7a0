"""GoogLeNet / Inception v1 (Szegedy et al. 2015, "Going Deeper with Convolutions", Table 1).

Stem: 7x7/2 conv 64 → 3x3/2 max pool → LRN → 1x1 conv 64 → 3x3 conv 192 → LRN → 3x3/2 max pool;
nine inception modules (3a, 3b | pool | 4a–4e | pool | 5a, 5b); global average pooling →
dropout 0.4 → classifier. Stride-2 layers are 'same'-padded (224 → 112 → 56 → 28 → 14 → 7,
as in Table 1). The paper's 7x7 average pooling is a global average pooling here (the same at
224x224; other sizes also work).

Parameters at 224x224x3, 1000 classes (biases included): 6,998,552 for the main branch
(the paper's Table 1 sums to ≈ 6.8 M, without biases and with some rounding);
``aux_logits=True`` adds two auxiliary classifiers (after 4a and 4d: 5x5/3 average pool →
1x1 conv 128 → fc 1024 → dropout 0.7 → classifier, 3,188,840 + 3,190,888 parameters), used
only for training with loss weight 0.3 each.
"""

from __future__ import annotations

import keras

from cnnkit._checks import check_choice
from cnnkit.blocks.conv import conv_bn_act
from cnnkit.blocks.inception import INITIALIZER, inception_module
from cnnkit.layers.factories import NORMS, get_norm
from cnnkit.models._classic import (check_dropout, check_input_size, check_width, classifier,
                                    dense_act, image_input, scaled)
from cnnkit.models._registry import register_model

__all__ = ["GOOGLENET_MODULES", "googlenet"]

# name: (f1, f3r, f3, f5r, f5, pool_proj), Table 1. "pool" marks a 3x3/2 max pooling.
GOOGLENET_MODULES: tuple = (
    ("3a", (64, 96, 128, 16, 32, 32)),
    ("3b", (128, 128, 192, 32, 96, 64)),
    "pool",
    ("4a", (192, 96, 208, 16, 48, 64)),
    ("4b", (160, 112, 224, 24, 64, 64)),
    ("4c", (128, 128, 256, 24, 64, 64)),
    ("4d", (112, 144, 288, 32, 64, 64)),
    ("4e", (256, 160, 320, 32, 128, 128)),
    "pool",
    ("5a", (256, 160, 320, 32, 128, 128)),
    ("5b", (384, 192, 384, 48, 128, 128)),
)
_AUX_AFTER = ("4a", "4d")
# Stem and poolings up to 4a (stride 16), then the auxiliary 5x5/3 average pooling.
_AUX_OPS = [(7, 2, "same"), (3, 2, "same"), (3, 2, "same"), (3, 2, "same"), (5, 3, "valid")]


def _conv(x, filters: int, kernel: int, *, strides: int = 1, norm: str | None, activation: str, name: str):
    """conv → [BN] → activation (conv bias unless BN), 'same' padding."""
    return conv_bn_act(x, filters, kernel, strides=strides, norm=norm, activation=activation,
                       kernel_initializer=INITIALIZER, name=name)


def _stem(x, *, norm: str | None, activation: str, width: float):
    """7x7/2 conv → pool → [LRN] → 1x1 conv → 3x3 conv → [LRN] → pool (conv biases unless BN)."""
    conv_norm = "batch" if norm == "batch" else None
    x = _conv(x, scaled(64, width), 7, strides=2, norm=conv_norm, activation=activation, name="conv1")
    x = keras.layers.MaxPooling2D(3, 2, padding="same", name="pool1")(x)
    if norm == "lrn":
        x = get_norm("lrn", layer_name="pool1_lrn")(x)
    x = _conv(x, scaled(64, width), 1, norm=conv_norm, activation=activation, name="conv2_reduce")
    x = _conv(x, scaled(192, width), 3, norm=conv_norm, activation=activation, name="conv2")
    if norm == "lrn":
        x = get_norm("lrn", layer_name="conv2_lrn")(x)
    return keras.layers.MaxPooling2D(3, 2, padding="same", name="pool2")(x)


def _aux_head(x, num_classes: int, *, activation: str, width: float, classifier_activation, name: str):
    """Auxiliary classifier: 5x5/3 avg pool → 1x1 conv 128 → fc 1024 → dropout 0.7 → classifier."""
    x = keras.layers.AveragePooling2D(5, 3, name=f"{name}_pool")(x)
    x = _conv(x, scaled(128, width), 1, norm=None, activation=activation, name=f"{name}_conv")
    x = keras.layers.Flatten(name=f"{name}_flatten")(x)
    x = dense_act(x, scaled(1024, width), activation=activation, dropout=0.7, name=f"{name}_fc")
    return classifier(x, num_classes, classifier_activation, name=name)


@register_model
def googlenet(*, input_shape: tuple[int, int, int] = (224, 224, 3), num_classes: int = 1000,
              activation: str = "relu", norm: str | None = "lrn", dropout: float = 0.4, width: float = 1.0,
              aux_logits: bool = False, resolution: int | None = None,
              classifier_activation: str | None = "softmax") -> keras.Model:
    """GoogLeNet (Inception v1) with its nine inception modules.

    Minimum input: any size (every stride is 'same'-padded; 32x32 ends at 1x1); 65x65 with
    ``aux_logits=True`` (the auxiliary 5x5/3 pooling needs a 5x5 map after 4a).

    Args:
        input_shape: ``(height, width, channels)``; default 224x224x3.
        num_classes: classifier outputs (default 1000).
        activation: ``"relu"`` (default) or any name in ``factories.ACTIVATIONS``.
        norm: ``"lrn"`` (default: the paper's two LRN layers in the stem), ``"batch"`` (BN after
            every convolution and no LRN, as torchvision's GoogLeNet) or ``None``.
        dropout: rate before the classifier (default 0.4).
        width: multiplier of every channel count (default 1.0).
        aux_logits: ``True`` adds the two auxiliary classifiers; the model then has three
            outputs ``[predictions, aux1, aux2]``.
        resolution: if set, inputs are resized to ``resolution x resolution`` first.
        classifier_activation: ``"softmax"`` (default) or ``None`` for logits.
    """
    check_choice("norm", norm, NORMS, where="googlenet")
    check_dropout("googlenet", dropout)
    check_width("googlenet", width)
    inputs, x, size = image_input("googlenet", input_shape, resolution)
    if aux_logits:
        check_input_size("googlenet", size, lambda n: _AUX_OPS,
                         "use aux_logits=False (any size) or resize with resolution=224")
    x = _stem(x, norm=norm, activation=activation, width=width)
    aux, pools = [], iter(("pool3", "pool4"))
    for item in GOOGLENET_MODULES:
        if item == "pool":
            x = keras.layers.MaxPooling2D(3, 2, padding="same", name=next(pools))(x)
            continue
        label, filters = item
        x = inception_module(x, *(scaled(f, width) for f in filters), name=f"inception{label}",
                             norm="batch" if norm == "batch" else None, activation=activation)
        if aux_logits and label in _AUX_AFTER:
            aux.append(_aux_head(x, num_classes, activation=activation, width=width,
                                 classifier_activation=classifier_activation, name=f"aux{len(aux) + 1}"))
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout, name="avg_pool_drop")(x)
    outputs = classifier(x, num_classes, classifier_activation)
    return keras.Model(inputs, [outputs, *aux] if aux_logits else outputs, name="googlenet")
