"""05 · Convolution types: what each one costs, what it sees, and how fast it runs.

The eight kinds of the source article (001): standard, grouped, dilated, depthwise-separable,
transposed, deformable (Dai et al. 2017), 1x1 ("pointwise") and channel shuffle (Zhang et al.
2018). Each is built as a one-layer Keras model (:func:`build_conv`); :func:`conv_table` puts
its measured output shape, parameters, multiply–accumulates (:mod:`cnnkit.stats`) and receptive
field (by automatic differentiation) beside the closed-form formulas. :func:`block_comparison`
checks two classic parameter arguments on built blocks: a bottleneck block on 256 channels has
69,632 weights against 1,179,648 for the basic block, 16.94x fewer (He et al. 2016, Fig. 5), and
two stacked 3x3 convolutions have 18C² weights against 25C² for one 5x5 with the same 5x5
receptive field (Szegedy et al. 2016, "Rethinking the Inception Architecture", §3.1).
:func:`sampling_positions` gives the input points one output pixel reads (standard, dilated,
deformable) and :func:`measure_throughput` times a layer kind on the current device.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import keras
import numpy as np
import pandas as pd

from cnnkit import stats
from cnnkit._checks import check_choice
from cnnkit.blocks.conv import conv_layer
from cnnkit.blocks.residual import basic_block, bottleneck_block
from cnnkit.layers import ChannelShuffle, DeformableConv2D
from cnnkit.notebook.report import Row
from cnnkit.reference import CONV_COUNTS
from cnnkit.teach._autodiff import input_gradient

__all__ = ["KINDS", "block_comparison", "build_conv", "conv_table", "deformable_example", "deformable_positions",
           "deformable_vs_conv", "formula", "measure_throughput", "plot_sampling_positions", "receptive_field",
           "sampling_positions", "summary_rows", "throughput_table"]

KINDS = ("standard", "grouped", "dilated", "separable", "transposed", "deformable", "pointwise", "shuffle")
PASSES = ("forward", "forward+backward")


def _check_kind(kind: str) -> None:
    check_choice("convolution kind", kind, KINDS)


def _layer(kind: str, filters: int, kernel_size: int, groups: int, dilation_rate: int, strides: int):
    """The one layer of ``kind`` (no biases, so that the counts are the textbook ones)."""
    if kind == "deformable":
        return DeformableConv2D(filters, kernel_size, use_bias=False, name=kind)
    if kind == "shuffle":
        return ChannelShuffle(groups, name=kind)
    if kind == "pointwise":
        return conv_layer(filters, 1, name=kind)
    if kind == "transposed":  # 'valid': output side (i − 1)·s + k, the formula with p = 0
        return conv_layer(filters, kernel_size, kind=kind, strides=strides, padding="valid", name=kind)
    return conv_layer(filters, kernel_size, kind=kind, groups=groups if kind == "grouped" else 1,
                      dilation_rate=dilation_rate if kind == "dilated" else 1, name=kind)


def build_conv(kind: str, input_shape: tuple[int, int, int] = (16, 16, 16), filters: int = 16, *,
               kernel_size: int = 3, groups: int = 4, dilation_rate: int = 2, strides: int = 2) -> keras.Model:
    """A tiny model ``Input → one layer of kind`` (layer named ``kind``), without biases.

    Args:
        kind: one of :data:`KINDS`.
        input_shape: ``(height, width, channels)``. Default 16x16x16.
        filters: output channels (ignored by ``"shuffle"``, which keeps the channels). Default 16.
        kernel_size: k of the k×k kernel (``"pointwise"`` is always 1x1). Default 3.
        groups: groups of ``"grouped"`` and ``"shuffle"``; must divide the channels. Default 4.
        dilation_rate: of ``"dilated"`` (≥ 2). Default 2.
        strides: the upsampling factor of ``"transposed"`` ('valid' padding); the others use
            stride 1 and 'same' padding. Default 2.
    """
    _check_kind(kind)
    channels = input_shape[-1]
    if kind in ("grouped", "shuffle") and (groups < 2 or channels % groups or (kind == "grouped" and filters % groups)):
        raise ValueError(f"{kind}: groups={groups} must be >= 2 and divide the {channels} input channels"
                         f"{' and the filters' if kind == 'grouped' else ''}; pick e.g. groups=2")
    inputs = keras.Input(input_shape)
    outputs = _layer(kind, filters, kernel_size, groups, dilation_rate, strides)(inputs)
    return keras.Model(inputs, outputs, name=kind)


def formula(kind: str, input_shape: tuple[int, int, int] = (16, 16, 16), filters: int = 16, *,
            kernel_size: int = 3, groups: int = 4, dilation_rate: int = 2, strides: int = 2) -> dict:
    """The closed-form ``output_shape``, ``params``, ``macs`` and ``receptive_field`` of :func:`build_conv`.

    Parameters and MACs come from :func:`cnnkit.stats.conv_params` / :func:`~cnnkit.stats.conv_macs` /
    :func:`~cnnkit.stats.separable_params`. The receptive field is the side of the input window one
    output pixel depends on: k, d(k−1)+1 dilated, ⌈k/s⌉ for a transposed convolution (the pixels
    with most taps), k for a deformable one at initialisation (zero offsets; learned offsets
    move the points anywhere), 1 for 1x1 and shuffle.
    """
    _check_kind(kind)
    height, width, c = input_shape
    k, f = (1 if kind == "pointwise" else kernel_size), filters
    shape, rf = (height, width, f), k
    if kind in ("standard", "dilated", "pointwise"):
        params, macs = stats.conv_params(k, c, f), stats.conv_macs(k, c, f, height, width)
        rf = dilation_rate * (k - 1) + 1 if kind == "dilated" else k
    elif kind == "grouped":
        params, macs = stats.conv_params(k, c, f, groups), stats.conv_macs(k, c, f, height, width, groups)
    elif kind == "separable":
        params = stats.separable_params(k, c, f)
        macs = height * width * params
    elif kind == "transposed":  # each input position scatters one k×k×c_in×c_out kernel
        shape = ((height - 1) * strides + k, (width - 1) * strides + k, f)
        params, macs, rf = stats.conv_params(k, c, f), stats.conv_macs(k, c, f, height, width), math.ceil(k / strides)
    elif kind == "deformable":  # main kernel + the offset conv (2·k² channels, with bias)
        offsets = 2 * k * k
        params = stats.conv_params(k, c, f) + stats.conv_params(k, c, offsets, bias=True)
        macs = stats.conv_macs(k, c, f, height, width) + stats.conv_macs(k, c, offsets, height, width)
    else:  # shuffle: a permutation
        shape, params, macs, rf = input_shape, 0, 0, 1
    return {"output_shape": tuple(shape), "params": params, "macs": macs, "receptive_field": rf}


def receptive_field(model: keras.Model, seed: int = 0) -> int:
    """The receptive field of ``model``'s output, measured by automatic differentiation.

    The gradient of one output pixel (summed over channels) with respect to a random input is
    non-zero exactly on the input pixels it depends on; the field is the larger side of their
    bounding box, maximised over the centre pixel and its lower-right neighbour (a transposed
    convolution's pixels differ).
    """
    x = np.random.default_rng(seed).normal(size=(1, *model.input_shape[1:])).astype("float32")
    out_h, out_w = model.output_shape[1:3]
    best = 0
    for r, c in ((out_h // 2, out_w // 2), (out_h // 2 + 1, out_w // 2 + 1)):
        r, c = min(r, out_h - 1), min(c, out_w - 1)
        grad = input_gradient(lambda v, r=r, c=c: model(v)[:, r, c, :], x)
        rows, cols = np.nonzero(np.abs(grad[0]).sum(axis=-1))
        if len(rows):
            best = max(best, int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1))
    return best


def conv_table(input_shape: tuple[int, int, int] = (16, 16, 16), filters: int = 16, kinds: Sequence[str] = KINDS,
               **settings) -> pd.DataFrame:
    """One row per kind: measured vs formula output shape, parameters, MACs and receptive field.

    Args:
        input_shape, filters: as in :func:`build_conv`.
        kinds: subset of :data:`KINDS`.
        **settings: ``kernel_size``, ``groups``, ``dilation_rate``, ``strides`` (see :func:`build_conv`).

    Returns:
        Columns ``kind, output_shape, params, macs, receptive_field`` (measured: the built model,
        :func:`cnnkit.stats.count_params`, :func:`cnnkit.stats.macs`, :func:`receptive_field`), the
        same with a ``_formula`` suffix (:func:`formula`), and ``matches`` (all four equal).
    """
    rows = []
    for kind in kinds:
        model = build_conv(kind, input_shape, filters, **settings)
        want = formula(kind, input_shape, filters, **settings)
        got = {"output_shape": tuple(model.output_shape[1:]), "params": stats.count_params(model)["total"],
               "macs": stats.macs(model), "receptive_field": receptive_field(model)}
        rows.append({"kind": kind, **got, **{f"{key}_formula": value for key, value in want.items()},
                     "matches": got == want})
    return pd.DataFrame(rows)


# --- where one output pixel reads --------------------------------------------------------------

def _grid(pixel: tuple[int, int], kernel_size: int, dilation_rate: int) -> np.ndarray:
    """``(k·k, 2)`` rows/cols read by a stride-1 'same' k×k convolution at ``pixel``."""
    pad = (kernel_size - 1) * dilation_rate // 2
    ky, kx = np.meshgrid(np.arange(kernel_size), np.arange(kernel_size), indexing="ij")
    return np.stack([pixel[0] - pad + ky.ravel() * dilation_rate, pixel[1] - pad + kx.ravel() * dilation_rate],
                    axis=1).astype("float32")


def deformable_example(size: int = 9, kernel_size: int = 3, offset_scale: float = 0.2,
                       seed: int = 0) -> tuple[DeformableConv2D, np.ndarray]:
    """A one-channel :class:`DeformableConv2D` whose offset conv has random weights, and a random input.

    The layer starts with zero offsets (a standard convolution); random offset weights, scaled
    by ``offset_scale``, stand in for learned ones so that the sampling points move.

    Returns:
        ``(layer, x)`` with ``x`` of shape ``(1, size, size, 1)``.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(1, size, size, 1)).astype("float32")
    layer = DeformableConv2D(1, kernel_size, use_bias=False, name="deformable")
    layer.build(x.shape)
    kernel, bias = layer.offset_conv.get_weights()
    layer.offset_conv.set_weights([offset_scale * rng.normal(size=kernel.shape).astype("float32"),
                                   offset_scale * rng.normal(size=bias.shape).astype("float32")])
    return layer, x


def deformable_positions(layer: DeformableConv2D, x: np.ndarray, pixel: tuple[int, int]) -> np.ndarray:
    """``(k·k, 2)`` fractional rows/cols that ``layer`` samples for output ``pixel`` (offset group 0).

    The regular grid of a stride-1 'same' convolution plus the ``(dy, dx)`` the offset conv
    predicts at that pixel (channels ordered ``(group, ky, kx, [dy, dx])``).
    """
    if layer.strides != (1, 1) or layer.padding != "same":
        raise ValueError(f"deformable_positions expects strides 1 and padding 'same', got strides={layer.strides}, "
                         f"padding={layer.padding!r}")
    kh, _ = layer.kernel_size
    offsets = keras.ops.convert_to_numpy(layer.offset_conv(x))[0, pixel[0], pixel[1]]
    return _grid(pixel, kh, layer.dilation_rate[0]) + offsets.reshape(-1, kh * kh, 2)[0]


def sampling_positions(kinds: Sequence[str] = ("standard", "dilated", "deformable"), *, size: int = 9,
                       kernel_size: int = 3, dilation_rate: int = 2, offset_scale: float = 0.2,
                       seed: int = 0) -> pd.DataFrame:
    """The input points one output pixel (the centre of a ``size``×``size`` map) reads, per kind.

    ``"deformable"`` uses :func:`deformable_example` (random offsets of scale ``offset_scale``).

    Returns:
        A tidy frame ``kind, point, row, col`` (fractional for ``"deformable"``) with the output
        pixel in ``pixel_row``/``pixel_col``.
    """
    pixel = (size // 2, size // 2)
    frames = []
    for kind in kinds:
        if kind == "deformable":
            layer, x = deformable_example(size, kernel_size, offset_scale, seed)
            points = deformable_positions(layer, x, pixel)
        elif kind in ("standard", "dilated"):
            points = _grid(pixel, kernel_size, dilation_rate if kind == "dilated" else 1)
        else:
            raise ValueError(f"sampling_positions draws 'standard', 'dilated' and 'deformable', got {kind!r}")
        frames.append(pd.DataFrame({"kind": kind, "point": range(len(points)), "row": points[:, 0],
                                    "col": points[:, 1], "pixel_row": pixel[0], "pixel_col": pixel[1]}))
    return pd.concat(frames, ignore_index=True)


def plot_sampling_positions(frame: pd.DataFrame, size: int = 9):
    """One panel per kind: the ``size``×``size`` input grid, the output pixel (square) and its sampling points."""
    import matplotlib.pyplot as plt

    kinds = list(dict.fromkeys(frame["kind"]))
    fig, axes = plt.subplots(1, len(kinds), figsize=(3.2 * len(kinds), 3.4), squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        part = frame[frame["kind"] == kind]
        ax.set_xticks(np.arange(-0.5, size, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, size, 1), minor=True)
        ax.grid(which="minor", color="0.85")
        ax.scatter(part["pixel_col"].iloc[:1], part["pixel_row"].iloc[:1], marker="s", s=260, c="none",
                   edgecolors="tab:red", linewidths=2, label="output pixel")
        ax.scatter(part["col"], part["row"], c="tab:blue", s=30, label="sampling points")
        ax.add_patch(plt.Rectangle((-0.5, -0.5), size, size, fill=False, color="0.3", lw=1.5))  # the input
        ax.set(xlim=(-1.5, size + 0.5), ylim=(size + 0.5, -1.5), title=kind, xticks=[], yticks=[], aspect="equal")
    axes[0][0].legend(loc="lower left", fontsize=7)
    fig.tight_layout()
    return fig


def deformable_vs_conv(input_shape: tuple[int, int, int] = (9, 9, 4), filters: int = 4, kernel_size: int = 3,
                       seed: int = 0) -> float:
    """Max |difference| between a fresh (zero-offset) DeformableConv2D and a Conv2D with the same kernel."""
    x = np.random.default_rng(seed).normal(size=(1, *input_shape)).astype("float32")
    deformable = DeformableConv2D(filters, kernel_size, use_bias=False)
    conv = keras.layers.Conv2D(filters, kernel_size, padding="same", use_bias=False)
    deformable.build(x.shape)
    conv.build(x.shape)
    conv.set_weights([keras.ops.convert_to_numpy(deformable.kernel)])
    diff = keras.ops.convert_to_numpy(deformable(x)) - keras.ops.convert_to_numpy(conv(x))
    return float(np.abs(diff).max())


# --- blocks: basic vs bottleneck, two 3x3 vs one 5x5 --------------------------------------------

def _block_model(block: str, channels: int, size: int) -> keras.Model:
    """Conv weights only (no BN, no bias, no activation: none changes the count or the wiring)."""
    inputs = keras.Input((size, size, channels))
    if block == "basic":
        x = basic_block(inputs, channels, norm=None, use_bias=False, activation=None, name="basic")
    elif block == "bottleneck":
        x = bottleneck_block(inputs, channels // 4, out_filters=channels, norm=None, use_bias=False,
                             activation=None, name="bottleneck")
    elif block == "two_3x3":
        x = conv_layer(channels, 3, name="two_3x3_2")(conv_layer(channels, 3, name="two_3x3_1")(inputs))
    else:
        x = conv_layer(channels, 5, name="one_5x5")(inputs)
    return keras.Model(inputs, x, name=block)


def block_comparison(channels: int = 256, size: int = 8) -> pd.DataFrame:
    """Basic vs bottleneck block and two 3x3 vs one 5x5 convolution, built and by formula.

    Blocks come from :mod:`cnnkit.blocks` (``basic_block``, ``bottleneck_block`` with reduction 4)
    built without normalisation and biases, counted with :mod:`cnnkit.stats` under
    :func:`~cnnkit.stats.shapes_only`; the formulas are :func:`cnnkit.stats.basic_vs_bottleneck`
    and :func:`cnnkit.stats.two_3x3_vs_5x5`. The receptive field is measured on a 4-channel twin.

    Args:
        channels: C (the paper's 256); a multiple of 4.
        size: side of the ``size``×``size`` feature map for the MACs.

    Returns:
        One row per ``block`` (``basic``, ``bottleneck``, ``two_3x3``, ``one_5x5``): ``params``,
        ``params_formula``, ``macs``, ``macs_formula`` (positions × weights), ``receptive_field``,
        ``receptive_field_formula``.
    """
    if channels < 4 or channels % 4:
        raise ValueError(f"channels must be a positive multiple of 4 (bottleneck reduction 4), got {channels!r}")
    pair, stack = stats.basic_vs_bottleneck(channels), stats.two_3x3_vs_5x5(channels)
    want = {"basic": (pair["basic"], 5), "bottleneck": (pair["bottleneck"], 3),
            "two_3x3": (stack["two_3x3"], 5), "one_5x5": (stack["one_5x5"], 5)}
    rows = []
    for block, (params, rf) in want.items():
        with stats.shapes_only():
            model = _block_model(block, channels, size)
            counted = stats.count_params(model)["total"], stats.macs(model)
        rows.append({"block": block, "channels": channels, "params": counted[0], "params_formula": int(params),
                     "macs": counted[1], "macs_formula": int(params) * size * size,
                     "receptive_field": receptive_field(_block_model(block, 4, 11)),
                     "receptive_field_formula": rf})
    return pd.DataFrame(rows)


# --- speed ---------------------------------------------------------------------------------------

def measure_throughput(layer_kind: str, *, input_shape: tuple[int, int, int] = (32, 32, 16), filters: int = 16,
                       batch_size: int = 32, steps: int = 10, warmup: int = 2, backward: bool = True,
                       seed: int = 0, **settings) -> float:
    """Images per second of one layer of ``layer_kind`` on the current device (warm-up excluded).

    Forward: ``model.predict_on_batch``; forward + backward: ``model.train_on_batch`` with an MSE
    loss and SGD at learning rate 0 (the weights stay put). Both are Keras' compiled steps and
    return host arrays, so every timed step has finished. A kind without weights (``"shuffle"``)
    is timed forward only. Timings vary with the machine's load; never assert on them.

    Args:
        layer_kind: one of :data:`KINDS`.
        input_shape, filters, **settings: as in :func:`build_conv`.
        batch_size: images per step.
        steps: timed steps (≥ 1); warmup: untimed steps first (compilation happens there).
        backward: time forward + backward (default) or forward only.
        seed: seed of the random inputs.
    """
    if steps < 1 or warmup < 0:
        raise ValueError(f"steps must be >= 1 and warmup >= 0, got steps={steps!r}, warmup={warmup!r}")
    model = build_conv(layer_kind, input_shape, filters, **settings)
    backward = backward and bool(model.trainable_weights)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch_size, *input_shape)).astype("float32")
    y = np.zeros((batch_size, *model.output_shape[1:]), "float32")
    step = (lambda: model.train_on_batch(x, y)) if backward else (lambda: model.predict_on_batch(x))
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return batch_size * steps / (time.perf_counter() - start)


def throughput_table(kinds: Sequence[str] = KINDS, passes: Sequence[str] = PASSES, **options) -> pd.DataFrame:
    """:func:`measure_throughput` for every kind × pass (``"forward"``, ``"forward+backward"``).

    Returns:
        Columns ``kind, mode, images_per_s, device, backend``; a kind without weights
        (``"shuffle"``) gets a ``"forward"`` row only.
    """
    from cnnkit.train.provenance import device_name

    bad = [p for p in passes if p not in PASSES]
    if bad:
        raise ValueError(f"unknown passes {bad}; choose from {list(PASSES)}")
    rows = []
    for kind in kinds:
        for name in passes:
            if kind == "shuffle" and name != "forward":
                continue
            rate = measure_throughput(kind, backward=name != "forward", **options)
            rows.append({"kind": kind, "mode": name, "images_per_s": rate})
    frame = pd.DataFrame(rows, columns=["kind", "mode", "images_per_s"])
    return frame.assign(device=device_name(), backend=keras.backend.backend())


# --- the notebook's table ------------------------------------------------------------------------

def _exact(quantity: str, measured, reference, source: str, note: str = "", headline: bool = False) -> Row:
    fmt = (lambda v: f"{v:,}") if isinstance(reference, int) else (lambda v: f"{v}")
    verdict = "agrees" if measured == reference else "disagrees"
    return Row(quantity, fmt(measured), f"{fmt(reference)} ({source})", verdict, note, headline, "exact count")


def summary_rows(table: pd.DataFrame, blocks: pd.DataFrame, throughput: pd.DataFrame | None = None,
                 zero_offset_diff: float | None = None) -> list[Row]:
    """Measured-vs-formula rows: exact counts agree or disagree; timings have no reference.

    Args:
        table: :func:`conv_table`; one row per kind (params, MACs, output shape, receptive field).
        blocks: :func:`block_comparison` (basic vs bottleneck, two 3x3 vs one 5x5).
        throughput: :func:`throughput_table` (rows ``not comparable``: a machine's speed has no reference).
        zero_offset_diff: :func:`deformable_vs_conv` (agrees below 1e-4).
    """
    by = blocks.set_index("block")
    c = int(by.loc["basic", "channels"])
    ref = CONV_COUNTS
    rows = []
    if c == 256:
        rows += [_exact("parameters, basic block (two 3x3, 256 ch, built)", int(by.loc["basic", "params"]),
                        int(ref["basic_256"].value), ref["basic_256"].source),
                 _exact("parameters, bottleneck block (1x1-3x3-1x1, 256 ch, built)",
                        int(by.loc["bottleneck", "params"]), int(ref["bottleneck_256"].value),
                        ref["bottleneck_256"].source)]
    ratio = round(float(by.loc["basic", "params"] / by.loc["bottleneck", "params"]), 2)
    formula_ratio = round(stats.basic_vs_bottleneck(c)["ratio"], 2)
    rows.append(_exact(f"basic / bottleneck parameters, {c} ch (built)", ratio,
                       ref["basic_bottleneck_ratio"].value if c == 256 else formula_ratio,
                       ref["basic_bottleneck_ratio"].source if c == 256 else "stats.basic_vs_bottleneck",
                       "to 2 decimals", headline=True))
    per_c2 = (round(float(by.loc["two_3x3", "params"]) / c**2, 2), round(float(by.loc["one_5x5", "params"]) / c**2, 2))
    rows.append(_exact("weights / C², two 3x3 vs one 5x5 (built)", f"{per_c2[0]:g}C² vs {per_c2[1]:g}C²",
                       f"{ref['two_3x3_per_c2'].value:g}C² vs {ref['one_5x5_per_c2'].value:g}C²",
                       ref["two_3x3_per_c2"].source, f"{1 - per_c2[0] / per_c2[1]:.0%} fewer weights", headline=True))
    rows.append(_exact("receptive field, two 3x3 vs one 5x5 (autodiff)",
                       f"{by.loc['two_3x3', 'receptive_field']} vs {by.loc['one_5x5', 'receptive_field']}",
                       "5 vs 5", ref["two_3x3_per_c2"].source))
    blocks_match = bool((blocks["params"] == blocks["params_formula"]).all()
                        and (blocks["macs"] == blocks["macs_formula"]).all())
    rows.append(Row("built blocks: parameters and MACs = formulas (cnnkit.stats)",
                    "all equal" if blocks_match else "mismatch (see the block table)", "exact",
                    "agrees" if blocks_match else "disagrees"))
    for rec in table.itertuples(index=False):
        measured = f"{rec.params:,} params, {rec.macs:,} MACs, out {rec.output_shape}, RF {rec.receptive_field}"
        reference = (f"{rec.params_formula:,} params, {rec.macs_formula:,} MACs, out {rec.output_shape_formula}, "
                     f"RF {rec.receptive_field_formula} (formula)")
        rows.append(Row(f"{rec.kind}: parameters, MACs, output shape, receptive field (RF)", measured, reference,
                        "agrees" if rec.matches else "disagrees", "built layer, cnnkit.stats; RF by autodiff"))
    if zero_offset_diff is not None:
        rows.append(Row("deformable with zero offsets − Conv2D, max |diff|", f"{zero_offset_diff:.1e}",
                        "0 (Dai et al. 2017: zero offsets give the standard convolution)",
                        "agrees" if zero_offset_diff < 1e-4 else "disagrees", "tolerance 1e-4 (float32)"))
    if throughput is not None:
        for rec in throughput.itertuples(index=False):
            rows.append(Row(f"throughput, {rec.kind} ({rec.mode})", f"{rec.images_per_s:,.0f} images/s",
                            "— (no reference)", "not comparable",
                            f"{rec.device}, {rec.backend}; a property of this machine and its load"))
    return rows
