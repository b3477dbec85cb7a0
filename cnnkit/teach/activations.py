"""06 · Activation functions: their curves, their derivatives, and what the derivatives do to gradients.

The source article (001) splits activations into *saturating* ones (sigmoid, tanh), whose
derivative goes to 0 for large |x| (sigmoid's is at most 1/4), and *non-saturating* ones (ReLU,
LeakyReLU, ELU, PReLU, RReLU), which "solve the vanishing-gradient problem and converge faster".
This module evaluates every activation as the layer :func:`cnnkit.layers.get_activation` builds
(LeakyReLU slope 0.01, ELU α = 1, PReLU initial slope 0.25, RReLU slopes U(1/8, 1/3) while
training and their mean 11/48 at inference), differentiates it with the backend's automatic
differentiation, compares that with the closed form, and follows the gradient through a deep
plain CNN at initialisation (:func:`gradient_norms`): with sigmoid units the first layers get
orders of magnitude less gradient than the last.

References: Nair & Hinton 2010 (ReLU); Maas et al. 2013 (leaky ReLU); Clevert et al. 2016 (ELU);
He et al. 2015 (PReLU); Xu et al. 2015 (RReLU); Glorot & Bengio 2010 (saturation, vanishing gradients).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import pandas as pd

from cnnkit.layers import RReLU, get_activation
from cnnkit.notebook.report import Row
from cnnkit.teach._autodiff import input_gradient, weight_gradients

__all__ = ["ACTIVATIONS", "SATURATING", "curves", "derivative_formula", "formula_gap", "gradient_norms",
           "gradient_ratio", "plot_curves", "plot_gradient_norms", "rrelu_samples", "summary_rows"]

ACTIVATIONS = ("relu", "leaky_relu", "elu", "prelu", "rrelu", "sigmoid", "tanh")
SATURATING = ("sigmoid", "tanh")
_NEGATIVE_SLOPE = {"relu": 0.0, "leaky_relu": 0.01, "prelu": 0.25, "rrelu": (1 / 8 + 1 / 3) / 2}


def _check(names: Sequence[str]) -> list[str]:
    names = list(names)
    bad = [n for n in names if n not in ACTIVATIONS]
    if bad or not names:
        raise ValueError(f"unknown activations {bad or names!r}; choose from {list(ACTIVATIONS)}")
    return names


def _grid(x) -> np.ndarray:
    return np.linspace(-5, 5, 200, dtype="float32") if x is None else np.asarray(x, dtype="float32").ravel()


def curves(names: Sequence[str] = ACTIVATIONS, x: Sequence[float] | None = None) -> pd.DataFrame:
    """Value and derivative (automatic differentiation) of each activation layer, inference mode.

    Args:
        names: activation names from :data:`ACTIVATIONS`.
        x: points to evaluate at (default 200 points in [-5, 5], which avoid the kink at 0).

    Returns:
        A tidy frame ``activation, x, value, derivative``.
    """
    x = _grid(x)
    frames = []
    for name in _check(names):
        layer = get_activation(name)
        layer.build((1, len(x), 1, 1))  # (batch, H, W, C): PReLU shares its slope over H and W

        def fn(v, layer=layer):
            return layer(keras.ops.reshape(v, (1, -1, 1, 1)), training=False)

        value = keras.ops.convert_to_numpy(fn(x)).ravel()
        frames.append(pd.DataFrame({"activation": name, "x": x, "value": value,
                                    "derivative": input_gradient(fn, x)}))
    return pd.concat(frames, ignore_index=True)


def derivative_formula(name: str, x) -> np.ndarray:
    """The closed-form derivative of activation ``name`` (inference mode; at the kink, the right side).

    relu: 1[x>0]; leaky_relu/prelu/rrelu: 1 or the negative slope (0.01, 0.25, 11/48); elu: 1 or
    eˣ; sigmoid: σ(x)(1 − σ(x)); tanh: 1 − tanh²(x).
    """
    _check([name])
    x = np.asarray(x, dtype="float64")
    if name in _NEGATIVE_SLOPE:
        return np.where(x > 0, 1.0, _NEGATIVE_SLOPE[name])
    if name == "elu":
        return np.where(x > 0, 1.0, np.exp(np.minimum(x, 0)))
    if name == "sigmoid":
        s = 1 / (1 + np.exp(-x))
        return s * (1 - s)
    return 1 - np.tanh(x) ** 2


def formula_gap(frame: pd.DataFrame) -> pd.DataFrame:
    """Per activation: max |autodiff derivative − closed form| over the points of :func:`curves` (x ≠ 0)."""
    frame = frame[np.abs(frame["x"]) > 1e-6]
    gaps = [{"activation": name, "max_abs_diff": float(np.abs(part["derivative"]
                                                              - derivative_formula(name, part["x"])).max())}
            for name, part in frame.groupby("activation", sort=False)]
    return pd.DataFrame(gaps, columns=["activation", "max_abs_diff"])


def rrelu_samples(x: Sequence[float] | None = None, *, lower: float = 1 / 8, upper: float = 1 / 3,
                  seed: int = 0) -> pd.DataFrame:
    """RReLU outputs while training (a random slope per element) and at inference (the mean slope).

    Returns:
        A tidy frame ``mode, x, value, slope`` (``slope = value / x`` for ``x < 0``, else NaN).
    """
    x = _grid(x)
    layer = RReLU(lower=lower, upper=upper, seed=seed)
    frames = []
    for mode in ("training", "inference"):
        value = keras.ops.convert_to_numpy(layer(x, training=mode == "training"))
        slope = np.where(x < 0, value / np.where(x < 0, x, 1), np.nan)
        frames.append(pd.DataFrame({"mode": mode, "x": x, "value": value, "slope": slope}))
    return pd.concat(frames, ignore_index=True)


# --- gradient flow through a deep plain CNN ---------------------------------------------------------

def _plain_cnn(activation: str, depth: int, width: int, size: int, initializer: str, seed: int) -> keras.Model:
    """``depth`` × (3x3 conv → activation) → global average pool → dense 10 (no BN, no shortcuts)."""
    config = keras.initializers.get(initializer).get_config()

    def init(i):
        return keras.initializers.get({"class_name": initializer, "config": {**config, "seed": seed * 1000 + i}})

    inputs = keras.Input((size, size, 3))
    x = inputs
    for i in range(1, depth + 1):
        x = keras.layers.Conv2D(width, 3, padding="same", kernel_initializer=init(i), name=f"conv{i}")(x)
        x = get_activation(activation, layer_name=f"act{i}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(10, kernel_initializer=init(0), name="logits")(x)
    return keras.Model(inputs, outputs, name=f"plain_{activation}_{depth}")


def gradient_norms(names: Sequence[str] = ACTIVATIONS, *, depth: int = 20, width: int = 16, size: int = 8,
                   batch_size: int = 16, seeds: Sequence[int] = (0,),
                   initializer: str = "glorot_uniform") -> pd.DataFrame:
    """L2 norm of the loss gradient of every conv kernel of a deep plain CNN at initialisation.

    The net is ``depth`` × (3x3 conv, ``width`` channels → activation) → global average pool →
    dense 10, without normalisation or shortcuts, initialised with ``initializer`` (Keras'
    default Glorot uniform) and seeded; the loss is cross-entropy on one batch of standard-normal
    ``size``×``size``×3 images with random labels. Gradients come from the backend's automatic
    differentiation, in inference mode (RReLU uses its mean slope).

    Returns:
        A tidy frame ``activation, seed, layer, grad_norm`` (``layer`` 1 = next to the input).
    """
    if depth < 2 or width < 1 or size < 1 or batch_size < 1:
        raise ValueError(f"need depth >= 2 and positive width/size/batch_size, got depth={depth}, width={width}, "
                         f"size={size}, batch_size={batch_size}")
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    rows = []
    for name in _check(names):
        for seed in seeds:
            rng = np.random.default_rng(seed)
            x = rng.normal(size=(batch_size, size, size, 3)).astype("float32")
            y = rng.integers(0, 10, size=batch_size)
            model = _plain_cnn(name, depth, width, size, initializer, seed)
            grads = dict(zip((v.path for v in model.trainable_variables), weight_gradients(model, x, y, loss)))
            rows += [{"activation": name, "seed": seed, "layer": i,
                      "grad_norm": float(np.linalg.norm(grads[f"conv{i}/kernel"]))} for i in range(1, depth + 1)]
    return pd.DataFrame(rows, columns=["activation", "seed", "layer", "grad_norm"])


def gradient_ratio(frame: pd.DataFrame) -> pd.DataFrame:
    """Per activation and seed: gradient norm of the first conv layer / that of the last (1 = no decay).

    Args:
        frame: :func:`gradient_norms`.
    """
    def ratio(part):
        ordered = part.sort_values("layer")["grad_norm"].to_numpy()
        return ordered[0] / ordered[-1]

    out = frame.groupby(["activation", "seed"], sort=False).apply(ratio, include_groups=False)
    return out.rename("first_over_last").reset_index()


# --- plots and the notebook's rows -----------------------------------------------------------------

def plot_curves(frame: pd.DataFrame):
    """Two panels: the activations (left) and their derivatives by automatic differentiation (right)."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, part in frame.groupby("activation", sort=False):
        left.plot(part["x"], part["value"], label=name)
        right.plot(part["x"], part["derivative"], label=name)
    left.set(title="f(x)", xlabel="x", ylim=(-2, 5))
    right.set(title="f'(x) (automatic differentiation)", xlabel="x")
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_gradient_norms(frame: pd.DataFrame):
    """Gradient norm per layer (mean over seeds, log scale), one line per activation."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    means = frame.groupby(["activation", "layer"], sort=False)["grad_norm"].mean().reset_index()
    for name, part in means.groupby("activation", sort=False):
        ax.plot(part["layer"], part["grad_norm"], marker=".", label=name)
    ax.set(yscale="log", xlabel="conv layer (1 = next to the input)", ylabel="‖∂loss/∂kernel‖ at init",
           title=f"Gradient through a {int(frame['layer'].max())}-layer plain CNN")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def summary_rows(curve_frame: pd.DataFrame, gradients: pd.DataFrame, saturating: str = "sigmoid",
                 baseline: str = "relu") -> list[Row]:
    """Rows that the computation decides: autodiff vs closed form, sigmoid's ¼ bound, gradient decay.

    Args:
        curve_frame: :func:`curves`.
        gradients: :func:`gradient_norms`.
        saturating, baseline: the pair compared for vanishing gradients.

    Returns:
        The largest autodiff − closed-form gap (agrees below 1e-5), the largest derivative of
        ``saturating`` on the grid (sigmoid: ≤ 0.25), and the first/last-layer gradient ratio of
        ``saturating`` vs ``baseline``: agrees when every seed of ``saturating`` decays more than
        every seed of ``baseline`` (left out when either is missing from ``gradients``).
    """
    gap = formula_gap(curve_frame)
    worst = gap.loc[gap["max_abs_diff"].idxmax()]
    rows = [Row("derivatives: autodiff − closed form, max |diff|", f"{worst['max_abs_diff']:.1e} "
                f"({worst['activation']}, over {len(gap)} activations)", "0 (closed forms)",
                "agrees" if worst["max_abs_diff"] < 1e-5 else "disagrees", "float32; the kink x = 0 excluded")]
    sigmoid = curve_frame.loc[curve_frame["activation"] == "sigmoid", "derivative"]
    if saturating == "sigmoid" and len(sigmoid):
        rows.append(Row("largest sigmoid derivative on the grid", f"{sigmoid.max():.4f}",
                        "≤ 0.25, at x = 0 (σ' = σ(1 − σ))",
                        "agrees" if sigmoid.max() <= 0.25 + 1e-6 else "disagrees",
                        "each sigmoid layer scales gradients by ≤ ¼"))
    ratios = gradient_ratio(gradients)
    sat = ratios.loc[ratios["activation"] == saturating, "first_over_last"].to_numpy()
    base = ratios.loc[ratios["activation"] == baseline, "first_over_last"].to_numpy()
    if len(sat) == 0 or len(base) == 0 or saturating == baseline:
        return rows
    verdict = "agrees" if sat.max() < base.min() else "disagrees" if sat.min() > base.max() else "inconclusive"
    rows.append(Row(f"gradient norm, layer 1 / layer {int(gradients['layer'].max())} at init (plain CNN), "
                    f"{saturating} vs {baseline}",
                    f"{saturating} {np.median(sat):.1e}, {baseline} {np.median(base):.1e} (median of {len(sat)} seeds)",
                    f"{saturating} ≪ {baseline}: saturating units make gradients vanish (article 001)", verdict,
                    "agrees: every seed of the saturating unit decays more than every seed of the other"))
    return rows
