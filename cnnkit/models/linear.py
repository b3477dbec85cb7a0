"""A linear classifier (softmax regression on the pixels): the baseline every CNN must beat.

Notebook 02 sets its target training error with it: the error a linear model reaches in the
whole budget is the point from which a network has learnt something no linear model can.
"""

from __future__ import annotations

import keras

from cnnkit.models._classic import classifier, image_input
from cnnkit.models._registry import register_model

__all__ = ["linear"]


@register_model
def linear(*, input_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 10,
           classifier_activation: str | None = "softmax") -> keras.Model:
    """Flatten → dense(num_classes): multinomial logistic regression on the pixels.

    28x28x1, 10 classes → 7,850 parameters.

    Args:
        input_shape: ``(height, width, channels)``; default 28x28x1 (Fashion-MNIST).
        num_classes: classifier outputs.
        classifier_activation: ``"softmax"`` (default) or ``None`` for logits.
    """
    inputs, x, _ = image_input("linear", input_shape, None)
    x = keras.layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, classifier(x, num_classes, classifier_activation), name="linear")
