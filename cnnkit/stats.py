"""How big and how costly is a network? Parameter counts, multiply–accumulates, and the formulas behind them.

* :func:`count_params` splits a model's parameters into trainable and non-trainable (Keras
  counts BatchNormalization's moving mean and variance as non-trainable parameters; PyTorch
  and most papers do not, so compare papers with ``trainable``).
* :func:`macs` counts multiply–accumulate operations per input image, analytically from layer
  shapes: convolutions (any ``groups``; dilation changes nothing), depthwise, separable and
  transposed convolutions, deformable convolutions (the offset convolution plus the main kernel
  at every output position; the bilinear sampling, 4 multiply–adds per sampled value, is not
  counted), and dense layers. Like fvcore and ptflops we count only these:
  batch norm, activations, additions and pooling count 0 (they are elementwise, a few
  operations per output value, and small next to the convolutions). One MAC is one multiply
  plus one add, so FLOPs ≈ 2·MACs. Biases are not counted.
* :func:`layer_table` lists every layer with its type, output shape, parameters and MACs.
* :func:`shapes_only` builds models without initialising their weights, for counting only.
* The teaching formulas (:func:`conv_params`, :func:`separable_params`,
  :func:`basic_vs_bottleneck`, :func:`two_3x3_vs_5x5`, :func:`separable_vs_standard`) give the
  parameter arithmetic the papers argue with, e.g. a bottleneck block on 256 channels has
  69,632 weights against 1,179,648 for two 3x3 convolutions (He et al. 2016, Fig. 5).

Nested models are recursed into through their own graph (a model called twice counts twice).
Layers inside a custom layer (SE, CBAM, …) are counted once each, at the input shape they were
built with, which undercounts a sub-layer that the custom layer calls several times.
"""

from __future__ import annotations

import contextlib
import math

import keras
import pandas as pd

__all__ = ["basic_vs_bottleneck", "conv_macs", "conv_params", "count_params", "layer_macs", "layer_table",
           "macs", "separable_params", "separable_vs_standard", "shapes_only", "two_3x3_vs_5x5"]


# --- counting on models ------------------------------------------------------------------------

@contextlib.contextmanager
def shapes_only():
    """Build models whose weights have shapes but no values: enough to count parameters and MACs.

    Building ResNet-152 this way takes a second or two instead of initialising 60 M weights
    (much longer on JAX). A model built inside cannot be run::

        with shapes_only():
            model = cnnkit.build("resnet152", input_shape=(224, 224, 3), num_classes=1000)
        count_params(model)["total"]  # 60,419,944

    Keras keeps the variables such a scope made in a global list and initialises every one of them at
    the next model build anywhere in the process: after a catalogue of the zoo (27k variables) the next
    training run spent 60-100 s there. The list is restored on exit, so those shapes are never filled.
    """
    pending = _deferred()
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        if pending is not None:
            _global_state.set_global_attribute("uninitialized_variables", pending)


try:  # no public API drops the variables of a non-initialising StatelessScope (Keras 3.x keeps them here)
    from keras.src.backend.common import global_state as _global_state
except ImportError:  # pragma: no cover - another Keras layout: the variables stay (slower, still correct)
    _global_state = None


def _deferred() -> list | None:
    """A copy of Keras' list of variables waiting for their initial values (``None``: not reachable)."""
    if _global_state is None:
        return None
    return list(_global_state.get_global_attribute("uninitialized_variables", None) or [])


def _size(weights) -> int:
    return sum(math.prod(w.shape) for w in weights)


def count_params(model: keras.Model | keras.layers.Layer) -> dict[str, int]:
    """``{"trainable": …, "non_trainable": …, "total": …}`` parameter counts of a built model or layer.

    ``total`` equals ``model.count_params()``; ``non_trainable`` holds e.g. BN moving statistics.
    """
    trainable, frozen = _size(model.trainable_weights), _size(model.non_trainable_weights)
    return {"trainable": trainable, "non_trainable": frozen, "total": trainable + frozen}


def _spatial(layer, shape) -> int:
    """Number of spatial positions of a (batch, …, channels) or channels-first shape."""
    dims = shape[2:] if getattr(layer, "data_format", "channels_last") == "channels_first" else shape[1:-1]
    return math.prod(int(d) for d in dims)


def _sublayers(layer) -> list:
    return [sub for sub in getattr(layer, "_layers", []) if isinstance(sub, keras.layers.Layer)]


def layer_macs(layer: keras.layers.Layer, input_shape=None, output_shape=None) -> int:
    """Multiply–accumulates of one call of ``layer`` on one sample.

    Args:
        layer: a built layer; a ``keras.Model`` is recursed into (:func:`macs`).
        input_shape, output_shape: shapes with a batch dimension; default: the shape the layer
            was built with and ``layer.compute_output_shape`` of it.

    Returns:
        positions × kernel size for convolutions (output positions; input positions for
        transposed convolutions) and dense layers; for other layers the sum over their
        sub-layers (0 without sub-layers, e.g. batch norm or pooling).
    """
    if isinstance(layer, keras.Model):
        return macs(layer)
    if input_shape is None:
        config = layer.get_build_config() if layer.built else None
        if not config or "input_shape" not in config:
            return sum(layer_macs(sub) for sub in _sublayers(layer) if sub.built)
        input_shape = config["input_shape"]
    if output_shape is None:
        try:
            output_shape = layer.compute_output_shape(input_shape)
        except Exception:  # layers without a static output shape: fall back to their sub-layers
            output_shape = None
    if isinstance(layer, (keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)):
        return _spatial(layer, output_shape) * _size([layer.depthwise_kernel, layer.pointwise_kernel])
    if isinstance(layer, (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose,
                          keras.layers.Conv3DTranspose)):
        return _spatial(layer, input_shape) * _size([layer.kernel])
    if isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D,
                          keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)):
        return _spatial(layer, output_shape) * _size([layer.kernel])
    if isinstance(layer, keras.layers.Dense):
        return math.prod(int(d) for d in output_shape[1:-1]) * _size([layer.kernel])
    if _is_deformable(layer):
        return _spatial(layer, output_shape) * _size([layer.kernel]) + layer_macs(layer.offset_conv, input_shape)
    return sum(layer_macs(sub) for sub in _sublayers(layer) if sub.built)


def _is_deformable(layer) -> bool:
    from cnnkit.layers.deformable import DeformableConv2D  # lazy: cnnkit.layers need not load for counting

    return isinstance(layer, DeformableConv2D)


def _graph_calls(model: keras.Model) -> dict[int, list]:
    """``id(layer) → [(input_shape, output_shape), …]`` for every call of a layer in ``model``'s graph."""
    graph = getattr(model, "_functional", None)  # Sequential keeps its graph there
    graph = model if graph is None else graph
    calls: dict[int, list] = {}
    for nodes in getattr(graph, "_nodes_by_depth", {}).values():
        for node in nodes:
            ins, outs = node.input_tensors, node.output_tensors
            shapes = (ins[0].shape if len(ins) == 1 else None, outs[0].shape if outs else None)
            calls.setdefault(id(node.operation), []).append(shapes)
    return calls


def _ensure_built(model: keras.Model, input_shape) -> None:
    if model.built:
        return
    if input_shape is None:
        raise ValueError(f"model {model.name!r} is not built; pass input_shape=(height, width, channels)")
    model.build((None, *input_shape))


def _rows(model: keras.Model) -> list[dict]:
    calls = _graph_calls(model)
    rows = []
    for layer in model.layers:
        layer_calls = calls.get(id(layer)) or [(None, None)]
        total = sum(layer_macs(layer, i, o) if i is not None else layer_macs(layer) for i, o in layer_calls)
        out = layer_calls[0][1]
        rows.append({"name": layer.name, "type": type(layer).__name__,
                     "output_shape": tuple(out) if out is not None else None,
                     "params": _size(layer.weights), "macs": int(total)})
    return rows


def macs(model: keras.Model, input_shape: tuple[int, ...] | None = None) -> int:
    """Multiply–accumulates of one forward pass of one sample (convolutions and dense layers only).

    Args:
        model: a Keras model (functional, sequential or subclassed).
        input_shape: ``(height, width, channels)``, needed only when the model is not built.
    """
    _ensure_built(model, input_shape)
    return sum(row["macs"] for row in _rows(model))


def layer_table(model: keras.Model, input_shape: tuple[int, ...] | None = None) -> pd.DataFrame:
    """One row per layer: ``name``, ``type``, ``output_shape``, ``params``, ``macs``.

    ``params`` includes non-trainable weights (as ``model.count_params()``); a nested model
    is one row with its total. ``input_shape`` is needed only when the model is not built.
    """
    _ensure_built(model, input_shape)
    return pd.DataFrame(_rows(model), columns=["name", "type", "output_shape", "params", "macs"])


# --- the teaching formulas ---------------------------------------------------------------------

def conv_params(k: int, c_in: int, c_out: int, groups: int = 1, bias: bool = False) -> int:
    """Weights of a k×k convolution: ``k²·(c_in/groups)·c_out`` (+ ``c_out`` biases)."""
    if c_in % groups or c_out % groups:
        raise ValueError(f"c_in ({c_in}) and c_out ({c_out}) must be divisible by groups ({groups})")
    return k * k * (c_in // groups) * c_out + (c_out if bias else 0)


def conv_macs(k: int, c_in: int, c_out: int, height: int, width: int, groups: int = 1) -> int:
    """Multiply–accumulates of a k×k convolution with a ``height × width`` output: positions × weights."""
    return height * width * conv_params(k, c_in, c_out, groups)


def separable_params(k: int, c_in: int, c_out: int, bias: bool = False) -> int:
    """Depthwise-separable k×k convolution: ``k²·c_in`` (depthwise) + ``c_in·c_out`` (pointwise)."""
    return k * k * c_in + c_in * c_out + (c_out if bias else 0)


def separable_vs_standard(k: int, c_in: int, c_out: int) -> dict[str, float]:
    """Standard vs depthwise-separable k×k convolution; ``ratio`` = 1/c_out + 1/k² (MobileNet §3.1)."""
    standard, separable = conv_params(k, c_in, c_out), separable_params(k, c_in, c_out)
    return {"standard": standard, "separable": separable, "ratio": separable / standard}


def basic_vs_bottleneck(channels: int = 256, reduction: int = 4) -> dict[str, float]:
    """Weights of a basic block (two 3x3, C→C) vs a bottleneck (1x1 C→C/4, 3x3, 1x1 C/4→C), no biases.

    For 256 channels: 1,179,648 vs 69,632, ratio 16.94 (He et al. 2016, Fig. 5).
    """
    inner = channels // reduction
    basic = 2 * conv_params(3, channels, channels)
    bottleneck = conv_params(1, channels, inner) + conv_params(3, inner, inner) + conv_params(1, inner, channels)
    return {"basic": basic, "bottleneck": bottleneck, "ratio": basic / bottleneck}


def two_3x3_vs_5x5(channels: int) -> dict[str, float]:
    """Two stacked 3x3 convolutions (18C²) vs one 5x5 (25C²): same 5x5 receptive field, 28 % fewer weights."""
    two, one = 2 * conv_params(3, channels, channels), conv_params(5, channels, channels)
    return {"two_3x3": two, "one_5x5": one, "saving": 1 - two / one}
