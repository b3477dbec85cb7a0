"""Shared machinery of the classic plain ConvNets (LeNet-5, AlexNet, ZFNet, VGG, GoogLeNet).

* option checks that fail before any layer is built;
* input-size arithmetic: every builder lists its spatial operations (kernel, stride,
  padding) and :func:`check_input_size` computes the smallest input that survives them,
  so a too-small image fails with that number instead of a negative-dimension error deep
  inside Keras;
* :func:`convnet`, the generic "conv stack → fully connected" builder behind LeNet-5,
  AlexNet (ImageNet and CIFAR forms) and ZFNet.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple, Sequence

import keras

from cnnkit._checks import check_choice
from cnnkit.layers.factories import NORMS, POOLINGS, get_activation, get_norm, get_pooling

# A spatial operation: (kernel, stride, padding) with padding 'valid', 'same' or an int
# (zero padding on each side followed by a 'valid' window).
SpatialOp = tuple[int, int, "str | int"]


# --- option checks ----------------------------------------------------------------------------

def check_dropout(model: str, dropout: float) -> None:
    """``dropout`` must be a rate in [0, 1)."""
    if not (isinstance(dropout, (int, float)) and 0.0 <= dropout < 1.0):
        raise ValueError(f"{model}: dropout must be a rate in [0, 1), got {dropout!r}; "
                         "use 0.0 for no dropout")


def check_width(model: str, width: float) -> None:
    """``width`` must be a positive channel multiplier."""
    if not (isinstance(width, (int, float)) and width > 0):
        raise ValueError(f"{model}: width must be a positive channel multiplier (1.0 = the paper), "
                         f"got {width!r}")


def scaled(channels: int, width: float, divisor: int = 1) -> int:
    """``channels * width`` rounded to a positive multiple of ``divisor``."""
    return max(divisor, int(round(channels * width / divisor)) * divisor)


# --- input-size arithmetic --------------------------------------------------------------------

def output_size(size: int, kernel: int, stride: int, padding: str | int) -> int:
    """Spatial output size of a convolution/pooling window (0 if the window does not fit)."""
    if padding == "same":
        return math.ceil(size / stride) if size > 0 else 0
    pad = 0 if padding == "valid" else int(padding)
    span = size + 2 * pad - kernel
    return span // stride + 1 if span >= 0 and size > 0 else 0


def final_size(size: int, ops: Sequence[SpatialOp]) -> int:
    """Spatial size after applying ``ops`` in order (0 as soon as one window does not fit)."""
    for kernel, stride, padding in ops:
        size = output_size(size, kernel, stride, padding)
        if size < 1:
            return 0
    return size


def min_input_size(ops_for: Callable[[int], Sequence[SpatialOp]], limit: int = 4096) -> int:
    """Smallest side length ``n`` for which ``ops_for(n)`` leaves at least one pixel."""
    for n in range(1, limit + 1):
        if final_size(n, ops_for(n)) >= 1:
            return n
    raise ValueError(f"no input up to {limit}x{limit} survives these operations")


def check_input_size(model: str, size: tuple[int, int], ops_for: Callable[[int], Sequence[SpatialOp]],
                     hint: str) -> None:
    """Raise ``ValueError`` if an input of ``size`` (height, width) is too small for ``ops_for``."""
    if all(final_size(s, ops_for(s)) >= 1 for s in size):
        return
    need = min_input_size(ops_for)
    raise ValueError(f"{model} needs inputs of at least {need}x{need}; got {size[0]}x{size[1]} — {hint}")


def image_input(model: str, input_shape: tuple[int, ...], resolution: int | None):
    """The model input and the tensor the network starts from (resized if ``resolution`` is set).

    Returns:
        ``(inputs, x, (height, width))`` where height/width are what the first layer sees.
    """
    inputs = keras.Input(shape=tuple(input_shape), name="input")
    if resolution is None:
        return inputs, inputs, (input_shape[0], input_shape[1])
    if not (isinstance(resolution, int) and resolution > 0):
        raise ValueError(f"{model}: resolution must be a positive int (the side the input is resized to) "
                         f"or None, got {resolution!r}")
    x = keras.layers.Resizing(resolution, resolution, interpolation="bilinear", name="resize")(inputs)
    return inputs, x, (resolution, resolution)


def classifier(x, num_classes: int, classifier_activation: str | None, name: str = "predictions"):
    """The final dense layer (``classifier_activation=None`` returns logits)."""
    return keras.layers.Dense(num_classes, activation=classifier_activation, name=name)(x)


def dense_act(x, units: int, *, activation: str, dropout: float, name: str):
    """Dense → activation → dropout (the hidden fully connected layers of the classic nets)."""
    x = keras.layers.Dense(units, name=name)(x)
    x = get_activation(activation, layer_name=f"{name}_act")(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout, name=f"{name}_drop")(x)
    return x


# --- the generic conv stack → FC builder --------------------------------------------------------

class ConvSpec(NamedTuple):
    """One convolution layer of a plain ConvNet and what follows it.

    ``after`` lists, in order, the layers that follow the activation: ``"n"`` normalisation,
    ``"p"`` pooling. ``pool`` fixes the pooling as ``(kind, size)`` (stride 2); ``None`` takes
    the model's ``pooling`` option (``'overlap'`` → 3x3/2, anything else 2x2/2). ``conv=False``
    leaves the convolution and its activation out but keeps ``after`` (depth ablations).
    """

    name: str
    filters: int
    kernel: int
    stride: int = 1
    padding: str | int = "same"
    grouped: bool = False
    after: str = ""
    pool_padding: str = "valid"
    pool: tuple[str, int] | None = None
    conv: bool = True


def _pool_window(spec: ConvSpec, pooling: str | None) -> tuple[str, int]:
    if pooling is None:
        return spec.pool
    return pooling, 3 if pooling == "overlap" else 2


def spatial_ops(specs: Sequence[ConvSpec], pooling: str | None) -> list[SpatialOp]:
    """The (kernel, stride, padding) sequence of a conv stack, for :func:`check_input_size`."""
    ops: list[SpatialOp] = []
    for spec in specs:
        if spec.conv:
            ops.append((spec.kernel, spec.stride, spec.padding))
        if "p" in spec.after:
            ops.append((_pool_window(spec, pooling)[1], 2, spec.pool_padding))
    return ops


def _conv_act(x, spec: ConvSpec, *, activation: str, width: float, groups: int,
              kernel_initializer: str = "glorot_uniform"):
    """[zero padding →] the convolution of ``spec`` (with bias) → activation."""
    if isinstance(spec.padding, int) and spec.padding > 0:
        x = keras.layers.ZeroPadding2D(spec.padding, name=f"{spec.name}_pad")(x)
    padding = spec.padding if isinstance(spec.padding, str) else "valid"
    # Every width is a multiple of ``groups`` so that each grouped layer's input splits evenly.
    x = keras.layers.Conv2D(scaled(spec.filters, width, groups), spec.kernel, strides=spec.stride,
                            padding=padding, groups=groups if spec.grouped else 1,
                            kernel_initializer=kernel_initializer, name=spec.name)(x)
    return get_activation(activation, layer_name=f"{spec.name}_act")(x)


def conv_stack(x, specs: Sequence[ConvSpec], *, activation: str, norm: str | None, pooling: str | None,
               width: float = 1.0, groups: int = 1, kernel_initializer: str = "glorot_uniform"):
    """Apply a list of :class:`ConvSpec` (conv with bias → activation → norm/pool as listed)."""
    for spec in specs:
        if spec.conv:
            x = _conv_act(x, spec, activation=activation, width=width, groups=groups,
                          kernel_initializer=kernel_initializer)
        for op in spec.after:
            if op == "n":
                layer = get_norm(norm, layer_name=f"{spec.name}_norm")
                x = layer(x) if layer is not None else x
            else:
                kind, size = _pool_window(spec, pooling)
                x = get_pooling(kind, pool_size=size, strides=2, padding=spec.pool_padding,
                                layer_name=f"{spec.name}_pool")(x)
    return x


def convnet(model: str, specs: Sequence[ConvSpec], fc_units: Sequence[int], *, input_shape: tuple[int, ...],
            num_classes: int, activation: str, norm: str | None, pooling: str | None, dropout: float,
            classifier_activation: str | None, hint: str, width: float = 1.0, groups: int = 1,
            resolution: int | None = None, kernel_initializer: str = "glorot_uniform",
            ops_for: Callable[[int], Sequence[SpatialOp]] | None = None) -> keras.Model:
    """Build a plain ConvNet: conv stack → flatten → hidden dense layers (with dropout) → classifier.

    Args:
        model: the model's name (used for the ``keras.Model`` and in error messages).
        specs: the convolution layers.
        fc_units: units of the hidden fully connected layers (scaled by ``width``).
        hint: how to fix a too-small input (appended to the error message).
        ops_for: side length → spatial ops, when the ops depend on the input size; default
            :func:`spatial_ops` of ``specs``.
        kernel_initializer: of the convolutions (a Keras initializer name); default Keras' Glorot uniform.
        Others: as in the public builders.
    """
    check_dropout(model, dropout)
    check_width(model, width)
    check_choice("norm", norm, NORMS, where=model)
    if pooling is not None:
        check_choice("pooling", pooling, POOLINGS, where=model)
    inputs, x, size = image_input(model, input_shape, resolution)
    check_input_size(model, size, ops_for or (lambda n: spatial_ops(specs, pooling)), hint)
    x = conv_stack(x, specs, activation=activation, norm=norm, pooling=pooling, width=width, groups=groups,
                   kernel_initializer=kernel_initializer)
    x = keras.layers.Flatten(name="flatten")(x)
    for i, units in enumerate(fc_units, start=len(specs) + 1):
        x = dense_act(x, scaled(units, width), activation=activation, dropout=dropout, name=f"fc{i}")
    if not fc_units and dropout > 0:
        x = keras.layers.Dropout(dropout, name="flatten_drop")(x)
    outputs = classifier(x, num_classes, classifier_activation)
    return keras.Model(inputs, outputs, name=model)
