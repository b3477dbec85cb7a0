"""04 · Pooling: forward and backward by hand, checked against autodiff, and what pooling costs in parameters.

Article 002 asks how backpropagation passes a pooling layer that has no weights, and answers with
NumPy code: max pooling routes each incoming gradient to the position of its window's maximum,
average pooling spreads it evenly over the window (``max_pool_backward`` / ``avg_pool_backward``,
loops over an NCHW array). This module keeps the article's names and its ``cache = (x, pool_param)``
convention but uses **NHWC** (batch, height, width, channels), Keras' layout; an NCHW array ``a``
becomes ``a.transpose(0, 2, 3, 1)``.

* :func:`max_pool_forward`, :func:`max_pool_backward`, :func:`avg_pool_forward`,
  :func:`avg_pool_backward`: any window and stride, 'valid' windows (rows/columns a window does not
  reach are dropped, as in Keras). The backward passes loop over the k_h·k_w offsets of a window and
  handle every window at once; overlapping windows (stride < window) *accumulate* (``+=``) into the
  inputs they share. :func:`max_pool_backward_loops` / :func:`avg_pool_backward_loops` are the
  article's loops, unchanged apart from the layout (its ``//stride是…`` comment is C++-style and
  would not run as Python).
* :func:`autodiff_backward` and :func:`backward_table`: the same gradients from the backend's
  automatic differentiation of ``keras.ops.max_pool`` / ``keras.ops.average_pool``.
* :func:`worked_examples`: the article's 2x2 examples; :func:`pool_examples`,
  :func:`stochastic_frequencies`: max, average, global average, overlapping and stochastic pooling
  (Zeiler & Fergus 2013) on one small map; :func:`head_params`: a global-average-pooling head
  against flatten + fully connected layers (Lin et al. 2014, "Network in Network").

Ties: ``np.argmax`` sends the gradient to the first maximum of a window in row-major order; the
backends may pick another one, so gradient checks use inputs without ties.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import pandas as pd

from cnnkit._checks import check_choice
from cnnkit.layers import StochasticPooling2D
from cnnkit.stats import count_params, shapes_only
from cnnkit.teach._autodiff import input_gradient

__all__ = ["MODES", "SETTINGS", "autodiff_backward", "avg_pool_backward", "avg_pool_backward_loops",
           "avg_pool_forward", "backward_table", "example_map", "head_params", "max_pool_backward",
           "max_pool_backward_loops", "max_pool_forward", "plot_pool_examples", "pool_examples",
           "stochastic_frequencies", "worked_examples"]

MODES = ("max", "avg")
# (window, stride, input side): disjoint, overlapping (AlexNet's 3x3/2), stride 1, a size that windows do
# not tile (7 with 2x2/2 drops the last row and column; 8 with 3x3/2 drops one too) and a rectangular window.
SETTINGS = ((2, 2, 8), (3, 2, 9), (3, 1, 6), (2, 2, 7), (3, 2, 8), (3, 3, 9), ((2, 3), (1, 2), 7))


def _pair(v, name: str) -> tuple[int, int]:
    pair = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(pair) != 2 or not all(isinstance(p, (int, np.integer)) and p >= 1 for p in pair):
        raise ValueError(f"{name} must be a positive int or a pair of them, got {v!r}")
    return int(pair[0]), int(pair[1])


def _positive(v, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{name} must be a positive int, got {v!r}")
    return int(v)


def _geometry(x: np.ndarray, pool_param: dict) -> tuple[int, int, int, int, int, int]:
    """(k_h, k_w, s_h, s_w, out_h, out_w) of 'valid' pooling ``pool_param`` over NHWC ``x``."""
    missing = {"pool_height", "pool_width", "stride"} - set(pool_param)
    if missing:
        raise ValueError(f"pool_param needs the keys pool_height, pool_width and stride (the article's); "
                         f"missing {sorted(missing)} in {pool_param!r}")
    if np.ndim(x) != 4:
        raise ValueError(f"pooling takes NHWC arrays (batch, height, width, channels), got shape {np.shape(x)}")
    kh, kw = (_positive(pool_param[k], k) for k in ("pool_height", "pool_width"))
    sh, sw = _pair(pool_param["stride"], "stride")
    height, width = x.shape[1], x.shape[2]
    if kh > height or kw > width:
        raise ValueError(f"a {kh}x{kw} window does not fit a {height}x{width} map; use a smaller window")
    return kh, kw, sh, sw, (height - kh) // sh + 1, (width - kw) // sw + 1


def _windows(x: np.ndarray, kh: int, kw: int, sh: int, sw: int) -> np.ndarray:
    """Every pooling window as a view: (N, out_h, out_w, C, k_h, k_w)."""
    view = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
    return view[:, ::sh, ::sw]


def _offset_slice(i: int, j: int, sh: int, sw: int, out_h: int, out_w: int) -> tuple[slice, ...]:
    """The input positions that window offset (i, j) reads, one per output position."""
    return (slice(None), slice(i, i + (out_h - 1) * sh + 1, sh), slice(j, j + (out_w - 1) * sw + 1, sw))


def max_pool_forward(x: np.ndarray, pool_param: dict) -> tuple[np.ndarray, tuple]:
    """Max pooling of NHWC ``x``; returns ``(out, cache)`` with ``cache = (x, pool_param)`` as in the article.

    Args:
        x: array (batch, height, width, channels).
        pool_param: ``{"pool_height": k_h, "pool_width": k_w, "stride": s}`` (``s`` an int or a pair).
    """
    kh, kw, sh, sw, _, _ = _geometry(x, pool_param)
    return _windows(x, kh, kw, sh, sw).max(axis=(-2, -1)), (x, pool_param)


def avg_pool_forward(x: np.ndarray, pool_param: dict) -> tuple[np.ndarray, tuple]:
    """Average pooling of NHWC ``x``; arguments and return as in :func:`max_pool_forward`."""
    kh, kw, sh, sw, _, _ = _geometry(x, pool_param)
    return _windows(x, kh, kw, sh, sw).mean(axis=(-2, -1)), (x, pool_param)


def max_pool_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """The gradient of max pooling: each ``dout`` value goes to its window's arg-max, others get 0.

    Loops over the k_h·k_w window offsets; each offset adds ``dout`` where it holds the maximum,
    so an input that is the maximum of several overlapping windows collects all their gradients.
    """
    x, pool_param = cache
    kh, kw, sh, sw, out_h, out_w = _geometry(x, pool_param)
    windows = _windows(x, kh, kw, sh, sw)
    flat = windows.reshape(*windows.shape[:4], kh * kw)
    winner = flat.argmax(axis=-1)  # (N, out_h, out_w, C): first maximum in row-major order, as np.argmax
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    for i in range(kh):
        for j in range(kw):
            dx[_offset_slice(i, j, sh, sw, out_h, out_w)] += np.where(winner == i * kw + j, dout, 0)
    return dx


def avg_pool_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """The gradient of average pooling: each ``dout`` value is split evenly, ``dout / (k_h·k_w)`` per input."""
    x, pool_param = cache
    kh, kw, sh, sw, out_h, out_w = _geometry(x, pool_param)
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    for i in range(kh):
        for j in range(kw):
            dx[_offset_slice(i, j, sh, sw, out_h, out_w)] += dout / (kh * kw)
    return dx


def _window_loops(x: np.ndarray, pool_param):
    """Every pooling window, loop by loop as the article walks them: ``(n, c, h, w, out_h, out_w)`` (NHWC)."""
    kh, kw, sh, sw, _, _ = _geometry(x, pool_param)
    n_batch, height, width, channels = x.shape
    for n in range(n_batch):
        for c in range(channels):
            for h in range(0, height - kh + 1, sh):
                for w in range(0, width - kw + 1, sw):
                    yield n, c, h, w, h // sh, w // sw  # h // sh: the output row


def max_pool_backward_loops(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """The article's ``max_pool_backward`` loop by loop (NHWC; slow, for reading and cross-checking)."""
    x, pool_param = cache
    kh, kw, *_ = _geometry(x, pool_param)
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    for n, c, h, w, oh, ow in _window_loops(x, pool_param):
        window = x[n, h:h + kh, w:w + kw, c]
        max_idx = np.unravel_index(np.argmax(window), window.shape)
        dx[n, h + max_idx[0], w + max_idx[1], c] += dout[n, oh, ow, c]  # the gradient goes to the arg-max
    return dx


def avg_pool_backward_loops(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """The article's ``avg_pool_backward`` loop by loop (NHWC)."""
    x, pool_param = cache
    kh, kw, *_ = _geometry(x, pool_param)
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    for n, c, h, w, oh, ow in _window_loops(x, pool_param):
        dx[n, h:h + kh, w:w + kw, c] += dout[n, oh, ow, c] / (kh * kw)  # spread evenly over the window
    return dx


def _check_mode(mode: str) -> None:
    check_choice("pooling mode", mode, MODES)


def autodiff_backward(x: np.ndarray, dout: np.ndarray, pool_param: dict, mode: str = "max") -> np.ndarray:
    """∂ Σ(dout · pool(x)) / ∂x by the backend's autodiff of ``keras.ops.max_pool`` / ``average_pool``.

    That is the vector–Jacobian product a framework's backward pass computes: the gradient
    ``dout`` arriving at the pooled map, carried back to the input (float32).
    """
    _check_mode(mode)
    kh, kw, sh, sw, _, _ = _geometry(x, pool_param)
    op = keras.ops.max_pool if mode == "max" else keras.ops.average_pool
    weights = keras.ops.convert_to_tensor(np.asarray(dout, dtype="float32"))
    return input_gradient(lambda v: op(v, (kh, kw), (sh, sw), padding="valid") * weights, x)


def backward_table(settings: Sequence[tuple] = SETTINGS, *, batch: int = 2, channels: int = 3,
                   seed: int = 0) -> pd.DataFrame:
    """Forward and backward of the NumPy functions against Keras/autodiff, for several windows and strides.

    Inputs are random normals (no ties), ``dout`` too. Each row: ``mode, window, stride, input,
    output, overlapping, forward_max_abs_diff, backward_max_abs_diff`` (largest absolute
    difference from Keras' pooling and its autodiff gradient) and ``loops_max_abs_diff`` (the
    vectorised backward against the article's loops).

    Args:
        settings: ``(window, stride, input side)`` triples; window/stride an int or a pair.
        batch, channels: size of the random input.
        seed: NumPy seed.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for window, stride, side in settings:
        (kh, kw), (sh, sw) = _pair(window, "window"), _pair(stride, "stride")
        param = {"pool_height": kh, "pool_width": kw, "stride": (sh, sw)}
        x = rng.standard_normal((batch, side, side, channels))
        for mode in MODES:
            fwd, bwd, loops = ((max_pool_forward, max_pool_backward, max_pool_backward_loops) if mode == "max"
                               else (avg_pool_forward, avg_pool_backward, avg_pool_backward_loops))
            out, cache = fwd(x, param)
            dout = rng.standard_normal(out.shape)
            op = keras.ops.max_pool if mode == "max" else keras.ops.average_pool
            reference = keras.ops.convert_to_numpy(op(x.astype("float32"), (kh, kw), (sh, sw), padding="valid"))
            dx = bwd(dout, cache)
            rows.append({"mode": mode, "window": f"{kh}x{kw}", "stride": f"{sh}x{sw}" if sh != sw else str(sh),
                         "input": f"{side}x{side}", "output": f"{out.shape[1]}x{out.shape[2]}",
                         "overlapping": sh < kh or sw < kw,
                         "forward_max_abs_diff": float(np.abs(out - reference).max()),
                         "backward_max_abs_diff": float(np.abs(dx - autodiff_backward(x, dout, param, mode)).max()),
                         "loops_max_abs_diff": float(np.abs(dx - loops(dout, cache)).max())})
    return pd.DataFrame(rows)


def worked_examples() -> dict[str, np.ndarray]:
    """The article's 2x2 examples: window [[1, 3], [2, 4]], incoming gradient 1.

    Returns:
        ``input``; ``max_out`` (4) and ``max_grad`` (1 at the position of 4, 0 elsewhere);
        ``avg_out`` (2.5) and ``avg_grad`` (0.25 everywhere). All 2-D (the batch and
        channel axes removed).
    """
    x = np.array([[1.0, 3.0], [2.0, 4.0]])[None, :, :, None]
    param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    max_out, max_cache = max_pool_forward(x, param)
    avg_out, avg_cache = avg_pool_forward(x, param)
    one = np.ones((1, 1, 1, 1))
    maps = {"input": x, "max_out": max_out, "max_grad": max_pool_backward(one, max_cache),
            "avg_out": avg_out, "avg_grad": avg_pool_backward(one, avg_cache)}
    return {name: m[0, :, :, 0] for name, m in maps.items()}


def example_map(side: int = 7, seed: int = 0) -> np.ndarray:
    """A small non-negative feature map (as after a ReLU) of integers 0–9, shape (side, side).

    The default side 7 gives a 3x3 output for both 2x2/2 (the last row and column unread) and 3x3/2.
    """
    return np.random.default_rng(seed).integers(0, 10, size=(side, side)).astype("float32")


def pool_examples(feature_map: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """One 2-D map through every pooling the articles name, with Keras and cnnkit layers.

    Returns:
        ``{name: 2-D output}`` for max 2x2/2, average 2x2/2, overlapping max 3x3/2, global average,
        stochastic 2x2/2 while training (one sample) and at inference (Σa²/Σa per window).
    """
    x = np.asarray(feature_map, dtype="float32")[None, :, :, None]
    layers = {"max 2x2/2": keras.layers.MaxPooling2D(2, 2), "average 2x2/2": keras.layers.AveragePooling2D(2, 2),
              "overlapping max 3x3/2": keras.layers.MaxPooling2D(3, 2),
              "global average": keras.layers.GlobalAveragePooling2D(keepdims=True)}
    out = {name: keras.ops.convert_to_numpy(layer(x))[0, :, :, 0] for name, layer in layers.items()}
    stochastic = StochasticPooling2D(2, 2, seed=seed)
    out["stochastic 2x2/2 (training)"] = keras.ops.convert_to_numpy(stochastic(x, training=True))[0, :, :, 0]
    out["stochastic 2x2/2 (inference)"] = keras.ops.convert_to_numpy(stochastic(x, training=False))[0, :, :, 0]
    return {"input": x[0, :, :, 0], **out}


def stochastic_frequencies(window: Sequence[Sequence[float]] = ((1, 3), (2, 4)), draws: int = 4000,
                           seed: int = 0) -> pd.DataFrame:
    """How often stochastic pooling picks each activation of one window, against p_i = a_i / Σ a.

    Pools ``draws`` copies of the window in training mode (one sample each) and counts the picks.

    Returns:
        One row per activation: ``value, probability, frequency`` (sampled share), plus the
        inference output Σ a² / Σ a in ``frame.attrs["inference"]``.
    """
    a = np.asarray(window, dtype="float32")
    if a.ndim != 2 or a.min() < 0 or a.sum() <= 0:
        raise ValueError(f"window must be a 2-D array of non-negative activations with a positive sum, got {window!r}")
    layer = StochasticPooling2D(a.shape, seed=seed)
    batch = np.broadcast_to(a[None, :, :, None], (draws, *a.shape, 1)).copy()
    picked = keras.ops.convert_to_numpy(layer(batch, training=True)).ravel()
    values = a.ravel()
    frame = pd.DataFrame({"value": values, "probability": values / values.sum(),
                          "frequency": [np.mean(picked == v) for v in values]})
    frame.attrs["inference"] = float(keras.ops.convert_to_numpy(layer(batch[:1], training=False)).ravel()[0])
    return frame


def plot_pool_examples(examples: dict[str, np.ndarray]):
    """One annotated heat map per entry of :func:`pool_examples`; returns the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(examples), figsize=(2.3 * len(examples), 2.6))
    vmax = float(examples["input"].max())
    for ax, (name, grid) in zip(np.atleast_1d(axes), examples.items()):
        ax.imshow(grid, cmap="viridis", vmin=0, vmax=vmax)
        for (r, c), v in np.ndenumerate(grid):
            ax.text(c, r, f"{v:.3g}", ha="center", va="center", color="w", fontsize=8)
        ax.set_title(f"{name}\n{grid.shape[0]}x{grid.shape[1]}", fontsize=8)
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


def _head(feature_shape: tuple[int, int, int], num_classes: int, hidden: Sequence[int], gap: bool) -> keras.Model:
    inputs = keras.Input(feature_shape)
    x = keras.layers.GlobalAveragePooling2D()(inputs) if gap else keras.layers.Flatten()(inputs)
    for units in () if gap else hidden:
        x = keras.layers.Dense(units)(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes)(x))


def head_params(feature_shape: tuple[int, int, int] = (7, 7, 512), num_classes: int = 1000,
                hidden: Sequence[int] = (4096, 4096)) -> pd.DataFrame:
    """Parameters of a classifier head on a ``feature_shape`` map: flatten + FC layers vs GAP + one dense layer.

    Counted with :func:`cnnkit.stats.count_params` on Keras models built without allocating weights
    (VGG16's flatten head alone is 123.6 M), and by the formula Σ (inputs + 1) · units.

    Args:
        feature_shape: the last feature map, (height, width, channels); default VGG16's 7x7x512.
        num_classes: classifier outputs.
        hidden: units of the hidden fully connected layers of the flatten head (VGG/AlexNet: 4096, 4096).

    Returns:
        Rows ``head, params (Keras), params (formula)`` for ``"flatten + FC"`` and ``"GAP + dense"``.
    """
    h, w, c = feature_shape
    units = [*hidden, num_classes]
    fan_in = [h * w * c, *hidden]
    formulas = {"flatten + FC": sum((i + 1) * u for i, u in zip(fan_in, units)), "GAP + dense": (c + 1) * num_classes}
    rows = []
    with shapes_only():
        for name, gap in (("flatten + FC", False), ("GAP + dense", True)):
            model = _head(tuple(feature_shape), num_classes, hidden, gap)
            rows.append({"head": name, "params (Keras)": count_params(model)["total"],
                         "params (formula)": formulas[name]})
    return pd.DataFrame(rows)
