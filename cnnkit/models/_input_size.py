"""Choosing between an ImageNet stem and a CIFAR stem, and rejecting inputs that are too small.

ImageNet-style networks shrink the input 32-fold; at 32x32 (CIFAR) or 28x28 (Fashion-MNIST)
the last feature maps would be 1x1 or the net would not build at all. cnnkit's builders for
such networks take ``cifar_stem``: ``True`` replaces the downsampling stem by a stride-1 one
(the usual CIFAR adaptation), ``False`` keeps the ImageNet stem (parameter parity with
keras.applications), ``None`` (default) picks the CIFAR stem when the smaller input side is
below ``auto_below`` pixels.
"""

from __future__ import annotations


def choose_stem(input_shape: tuple[int, ...], cifar_stem: bool | None, *, model: str, imagenet_min: int,
                cifar_min: int, auto_below: int = 64) -> bool:
    """Resolve ``cifar_stem`` and check the input size; returns True for the CIFAR stem.

    Raises:
        ValueError: when the input's smaller side is below the minimum of the chosen stem.
    """
    if cifar_stem not in (None, True, False):
        raise ValueError(f"cifar_stem must be True, False or None (automatic), got {cifar_stem!r}")
    side = min(input_shape[0], input_shape[1])
    use_cifar = side < auto_below if cifar_stem is None else cifar_stem
    minimum = cifar_min if use_cifar else imagenet_min
    if side < minimum:
        stem = "CIFAR" if use_cifar else "ImageNet"
        hint = (f"; cifar_stem=True accepts inputs from {cifar_min}x{cifar_min}"
                if not use_cifar and cifar_min < imagenet_min else "")
        raise ValueError(f"{model} with the {stem} stem needs inputs of at least {minimum}x{minimum}, got "
                         f"input_shape={tuple(input_shape)}{hint}; resize the images to at least {minimum}")
    return use_cifar
