"""LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to document
recognition").

32x32 input → C1 conv 5x5, 6 maps → S2 2x2 subsampling → C3 conv 5x5, 16 maps → S4 2x2
subsampling → C5 120 units → F6 84 units → output. Two convolutions and three dense layers:
the 5-layer ancestor of every model in this package.

Simplifications (the usual modern reading): C3 is fully connected to S2 (the paper connects
each C3 map to a hand-picked subset of S2 maps, Table 1); S2/S4 are plain average pooling
(the paper's have a trainable coefficient and bias per map); C5 is a dense layer (on a 32x32
input the paper's 5x5 convolution over a 5x5 map is exactly that); the output is a softmax
dense layer instead of Euclidean RBF units; ``tanh`` instead of 1.7159·tanh(2a/3).

MNIST and Fashion-MNIST are 28x28: LeCun padded them to 32x32. ``padding="auto"`` does the
same with a 'same'-padded C1 (2 pixels of zeros on each side for a 5x5 kernel), so 28x28
inputs give the paper's 28x28x6 → 14x14x6 → 10x10x16 → 5x5x16 maps.
"""

from __future__ import annotations

import keras

from cnnkit._checks import check_choice
from cnnkit.models._classic import ConvSpec, convnet, spatial_ops
from cnnkit.models._registry import register_model

__all__ = ["lenet5"]

_PADDINGS = ("auto", "valid", "same")


def _specs(padding: str) -> list[ConvSpec]:
    return [ConvSpec("c1", 6, 5, padding=padding, after="np"),
            ConvSpec("c3", 16, 5, padding="valid", after="np")]


def _c1_padding(padding: str, size: int) -> str:
    return ("same" if size < 32 else "valid") if padding == "auto" else padding


@register_model
def lenet5(*, input_shape: tuple[int, int, int] = (32, 32, 1), num_classes: int = 10,
           activation: str = "tanh", pooling: str = "avg", norm: str | None = None, dropout: float = 0.0,
           width: float = 1.0, padding: str = "auto",
           classifier_activation: str | None = "softmax") -> keras.Model:
    """LeNet-5: conv5 6 → pool → conv5 16 → pool → fc120 → fc84 → classifier.

    Minimum input: 12x12 with ``padding="auto"``/``"same"`` (16x16 with ``"valid"``; larger
    with ``pooling="overlap"``). 32x32x1 → 61,706 parameters (10 classes).

    Args:
        input_shape: ``(height, width, channels)``; default 32x32x1 as in the paper.
        num_classes: classifier outputs.
        activation: default ``"tanh"`` (the paper); any name in ``factories.ACTIVATIONS``.
        pooling: ``"avg"`` (default, the paper's subsampling), ``"max"``, ``"stochastic"``
            (2x2/2) or ``"overlap"`` (3x3/2).
        norm: ``None`` (default, the paper), ``"batch"`` or ``"lrn"`` after each conv's activation.
        dropout: rate after the two hidden dense layers (default 0, the paper had none).
        width: multiplier of every conv channel count and dense width.
        padding: C1 padding — ``"auto"`` (default: ``"same"`` below 32x32, as LeCun's padding
            of 28x28 digits to 32x32; ``"valid"`` otherwise), ``"valid"`` or ``"same"``.
        classifier_activation: ``"softmax"`` (default) or ``None`` for logits.
    """
    check_choice("padding", padding, _PADDINGS, where="lenet5")
    return convnet("lenet5", _specs(_c1_padding(padding, min(input_shape[:2]))), (120, 84),
                   input_shape=input_shape, num_classes=num_classes, activation=activation, norm=norm,
                   pooling=pooling, dropout=dropout, classifier_activation=classifier_activation,
                   width=width, hint="use larger images or padding='same'",
                   ops_for=lambda n: spatial_ops(_specs(_c1_padding(padding, n)), pooling))
