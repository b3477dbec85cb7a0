"""00 · Backpropagation by hand: the classic 2-2-2 sigmoid network, in NumPy and in Keras.

The worked example of article 000 (the well-known one of Mazur 2015, "A Step by Step
Backpropagation Example"): inputs i1 = 0.05, i2 = 0.10; targets 0.01, 0.99; weights w1..w8 =
0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55; one bias per layer, b1 = 0.35 and b2 = 0.60, shared
by both neurons of the layer and never updated; logistic units; E = ½ Σ (target − out)²;
plain gradient descent with learning rate 0.5. The wiring::

    net_h1 = w1 i1 + w2 i2 + b1      net_o1 = w5 out_h1 + w6 out_h2 + b2
    net_h2 = w3 i1 + w4 i2 + b1      net_o2 = w7 out_h1 + w8 out_h2 + b2
    out = σ(net) = 1 / (1 + e^−net)

:func:`forward` … :func:`train` (:mod:`cnnkit.teach.backprop_numpy`) do the arithmetic in float64 NumPy,
naming every quantity the article names; the ``keras_*`` functions get the same numbers from a
``keras.Model`` (two sigmoid ``Dense`` layers, float64, biases frozen), the backend's autodiff and
``keras.optimizers.SGD``;
:func:`reproduce` and :func:`summary_rows` set both beside the article's printed numbers.

Two slips of the article, both measured here:

* it writes "o1 = 1.10590", which is ``net_o1`` (before the sigmoid); the output is
  ``out_o1 = σ(1.105905967) = 0.751365070``;
* its text updates the hidden weights with gradients taken at the *old* output weights (w1+ =
  0.149780716, which we reproduce), but its error after one step (0.291027924) and its outputs after
  10,000 steps (0.015912196, 0.984065734) are those of a program that first updates w5..w8 and then
  backpropagates through the *new* ones (``order="output_first"``). True gradient descent (the text,
  autodiff, Keras) gives 0.291027774 and 0.015913620, 0.984064274. The article's error after 10,000
  steps (0.0000351085) fits neither; ½ Σ (t − o)² of its own printed outputs is 0.0000350848.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable

import keras
import numpy as np
import pandas as pd
from keras import ops

from cnnkit.notebook.report import Row
from cnnkit.reference import BACKPROP_ARTICLE, BACKPROP_SOURCE
from cnnkit.teach.backprop_numpy import (ARTICLE, ORDERS, ChainRule, Forward, Network, Training, chain_rule,
                                         forward, gradients, sigmoid, step, train)

__all__ = ["ARTICLE", "ORDERS", "ChainRule", "Forward", "HalfSquaredError", "Network", "Training", "chain_rule",
           "conclusion", "decimals", "forward", "gradients", "keras_quantities", "keras_train", "numpy_quantities",
           "plot_errors", "reproduce", "sigmoid", "step", "summary_rows", "tolerance", "train"]


# --- the same network in Keras -----------------------------------------------------------------

@keras.saving.register_keras_serializable(package="cnnkit")
class HalfSquaredError(keras.losses.Loss):
    """E = ½ Σ_k (target_k − out_k)², summed over outputs, averaged over the batch.

    With two outputs and a batch of one this equals ``keras.losses.MeanSquaredError`` (the mean
    of two squares is half their sum); spelled out here so that the loss reads like the article's.
    """

    def call(self, y_true, y_pred):
        return 0.5 * ops.sum(ops.square(y_true - y_pred), axis=-1)


@contextlib.contextmanager
def _float64():
    """Compute a block in float64: Keras' floatx (``fit`` casts NumPy inputs to it) and, on JAX, x64 mode.

    JAX computes in float32 unless x64 is switched on; both settings are restored afterwards.
    """
    floatx = keras.config.floatx()
    with contextlib.ExitStack() as stack:
        if keras.backend.backend() == "jax":
            import jax

            stack.enter_context(jax.enable_x64(True))
        keras.config.set_floatx("float64")
        try:
            yield
        finally:
            keras.config.set_floatx(floatx)


def _gradient(fn: Callable, *args: np.ndarray) -> list[np.ndarray]:
    """∂fn/∂arg for every argument, by the backend's autodiff, keeping float64."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return [np.asarray(g) for g in jax.grad(fn, argnums=tuple(range(len(args))))(*args)]
    if backend == "tensorflow":
        import tensorflow as tf

        xs = [tf.constant(a, dtype="float64") for a in args]
        with tf.GradientTape() as tape:
            tape.watch(xs)
            value = fn(*xs)
        return [np.asarray(g) for g in tape.gradient(value, xs)]
    raise ValueError(f"the Keras path supports the backends ['jax', 'tensorflow'], got KERAS_BACKEND={backend!r}; "
                     "set KERAS_BACKEND to one of them")


def _keras_network(net: Network) -> tuple[keras.Model, keras.Model]:
    """(a model returning [net_h, out_h, net_o, out_o], the training model input → out_o), float64.

    Keras kernels are (inputs, units), so they hold the transposed weight matrices; each layer's
    bias vector repeats the article's single bias and is frozen.
    """
    x = keras.Input((2,), dtype="float64", name="i")
    hidden = keras.layers.Dense(2, dtype="float64", name="hidden")
    output = keras.layers.Dense(2, dtype="float64", name="output")
    net_h = hidden(x)
    out_h = keras.layers.Activation("sigmoid", dtype="float64", name="out_h")(net_h)
    net_o = output(out_h)
    out_o = keras.layers.Activation("sigmoid", dtype="float64", name="out_o")(net_o)
    hidden.set_weights([net.hidden.T, np.full(2, net.b1)])
    output.set_weights([net.output.T, np.full(2, net.b2)])
    for layer in (hidden, output):
        layer.bias.trainable = False
    return keras.Model(x, [net_h, out_h, net_o, out_o], name="backprop_222_parts"), keras.Model(x, out_o,
                                                                                                 name="backprop_222")


def keras_quantities(net: Network = ARTICLE) -> dict[str, float]:
    """The article's quantities computed by Keras: the forward pass by the model, every derivative by autodiff.

    Keys are those of :func:`numpy_quantities` that autodiff can give without hand-written
    derivatives (forward values, E, ∂E/∂out_o1, ∂out_o1/∂net_o1, the two paths ∂E_ok/∂out_h1,
    ∂E/∂out_h1, ∂out_h1/∂net_h1, ∂E/∂w1..w8) and ``w1_new`` … ``w8_new`` after one ``SGD.apply``.
    """
    with _float64():
        parts, model = _keras_network(net)
        x, t = np.array([net.inputs]), np.array([net.targets])
        net_h, out_h, net_o, out_o = [np.asarray(v)[0] for v in parts(x)]
        loss = HalfSquaredError(dtype="float64")
        q = dict(zip(["net_h1", "net_h2", "out_h1", "out_h2", "net_o1", "net_o2", "out_o1", "out_o2"],
                     map(float, [*net_h, *out_h, *net_o, *out_o])))
        q["E_total"] = float(loss(t, out_o[None]))
        q["E_o1"], q["E_o2"] = (float(0.5 * (t[0, k] - out_o[k]) ** 2) for k in (0, 1))
        w_o = ops.convert_to_tensor(net.output)

        def error_of_out_h(h, k=None):  # E (or E_ok) as a function of the hidden outputs
            o = ops.sigmoid(ops.matmul(w_o, h) + net.b2)
            return 0.5 * ops.sum(ops.square(t[0] - o)) if k is None else 0.5 * ops.square(t[0, k] - o[k])

        q["dE/dout_o1"] = float(_gradient(lambda o: loss(t, o[None]), out_o)[0][0])
        q["dout_o1/dnet_o1"] = float(_gradient(lambda z: ops.sigmoid(z)[0], net_o)[0][0])
        q["dE_o1/dout_h1"] = float(_gradient(lambda h: error_of_out_h(h, 0), out_h)[0][0])
        q["dE_o2/dout_h1"] = float(_gradient(lambda h: error_of_out_h(h, 1), out_h)[0][0])
        q["dE/dout_h1"] = float(_gradient(error_of_out_h, out_h)[0][0])
        q["dout_h1/dnet_h1"] = float(_gradient(lambda z: ops.sigmoid(z)[0], net_h)[0][0])
        grads = _weight_gradients(model, x, t, loss)
        q.update({f"dE/dw{k + 1}": float(g) for k, g in enumerate(grads)})
        stepped = _fit(model, x, t, net.lr, steps=1)
        q.update({f"w{k + 1}_new": float(v) for k, v in enumerate(stepped)})
    return q


def _weights_of(model: keras.Model) -> np.ndarray:
    """w1..w8 from the model's kernels (transposed back to the article's row = neuron order)."""
    hidden, output = (np.asarray(v).T for v in model.trainable_variables)
    return np.concatenate([hidden.ravel(), output.ravel()])


def _weight_gradients(model: keras.Model, x: np.ndarray, t: np.ndarray, loss: keras.losses.Loss) -> np.ndarray:
    """∂E/∂w1..w8 through the model's own forward pass (``stateless_call``)."""
    frozen = [v.value for v in model.non_trainable_variables]

    def error(k_hidden, k_output):
        out, _ = model.stateless_call([k_hidden, k_output], frozen, x)
        return loss(t, out)

    g_hidden, g_output = _gradient(error, *[np.asarray(v) for v in model.trainable_variables])
    return np.concatenate([g_hidden.T.ravel(), g_output.T.ravel()])


def _fit(model: keras.Model, x: np.ndarray, t: np.ndarray, lr: float, steps: int) -> np.ndarray:
    """``steps`` SGD steps on the one example with ``model.fit`` (batch 1); returns w1..w8."""
    if steps > 0:
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss=HalfSquaredError(dtype="float64"),
                      steps_per_execution=min(steps, 1000))
        model.fit(np.repeat(x, steps, 0), np.repeat(t, steps, 0), batch_size=1, epochs=1, shuffle=False,
                  verbose=0)
    return _weights_of(model)


def keras_train(net: Network = ARTICLE, steps: int = 10_000) -> Network:
    """``steps`` steps of ``keras.optimizers.SGD`` on :class:`HalfSquaredError`; returns the trained network.

    Raises:
        ValueError: if training changed a bias (it must not: they are frozen, as in the article).
    """
    if not (isinstance(steps, int) and steps >= 0):
        raise ValueError(f"steps must be a non-negative int, got {steps!r}")
    with _float64():
        _, model = _keras_network(net)
        w = _fit(model, np.array([net.inputs]), np.array([net.targets]), net.lr, steps)
        biases = [np.asarray(v) for v in model.non_trainable_variables]
    if not (np.all(biases[0] == net.b1) and np.all(biases[1] == net.b2)):
        raise ValueError(f"the biases changed during training ({biases}); they must stay frozen")
    return net.with_weights(w[:4], w[4:])


# --- the article's numbers beside ours ---------------------------------------------------------

def numpy_quantities(net: Network = ARTICLE, steps: int = 10_000) -> dict[str, dict[str, float]]:
    """Every quantity the article prints, by NumPy, for both update orders (see :data:`ORDERS`).

    Returns:
        ``{"simultaneous": {...}, "output_first": {...}}``; the keys are those of
        ``BACKPROP_ARTICLE`` (``w5_new``: w5 after one step; ``E_step1``: E_total after one step;
        ``E_trained``, ``out_o1_trained``, ``out_o2_trained``: after ``steps`` steps).
    """
    f = forward(net)
    w5, w1 = chain_rule(net, "w5"), chain_rule(net, "w1")
    common = {**dataclasses.asdict(f), **{f"dE/dw{k + 1}": float(g) for k, g in enumerate(gradients(net))},
              **w5.factors, **w1.factors, "dE/dw5": w5.gradient, "dE/dw1": w1.gradient}
    out = {}
    for order in ORDERS:
        one = step(net, order)
        trained = train(net, steps, order).final
        out[order] = {**common, **{f"w{k + 1}_new": v for k, v in enumerate(one.w)},
                      "E_step1": forward(one).E_total, "E_trained": trained.E_total,
                      "out_o1_trained": trained.out_o1, "out_o2_trained": trained.out_o2}
    return out


def decimals(printed: str) -> int:
    """Digits after the decimal point of a printed number (``"0.7513650"`` → 7)."""
    return len(printed.split(".")[1]) if "." in printed else 0


def tolerance(printed: str) -> float:
    """The article's printed precision: one unit of its last digit (``"0.298371109"`` → 1e-9).

    One unit, not half: the article rounds intermediate results before using them, which can
    move its last digit by one (its ∂E_o2/∂out_h1 = −0.019049119 is −0.0190491183 exactly).
    """
    return 10.0 ** -decimals(printed)


def reproduce(net: Network = ARTICLE, steps: int = 10_000, keras_steps: int | None = None) -> pd.DataFrame:
    """One row per number the article prints: the article, NumPy (both orders) and Keras.

    Args:
        net: the network (the article's unless you want to experiment).
        steps: steps of the long run (the article: 10,000).
        keras_steps: steps of the Keras long run (default ``steps``).

    Returns:
        Columns ``quantity, article, tolerance, numpy, numpy_output_first, keras`` (``keras`` is NaN
        where Keras does not compute a quantity by itself, e.g. the output-first order), plus
        ``steps`` and ``keras_steps`` (so the long-run rows know what they measured).
    """
    keras_steps = steps if keras_steps is None else keras_steps
    measured = numpy_quantities(net, steps)
    k = keras_quantities(net)
    trained_net = keras_train(net, keras_steps)
    trained = forward(trained_net)
    one = forward(net.with_weights(np.reshape([k[f"w{i}_new"] for i in range(1, 5)], (2, 2)),
                                   np.reshape([k[f"w{i}_new"] for i in range(5, 9)], (2, 2))))
    k.update(E_step1=one.E_total, E_trained=trained.E_total, out_o1_trained=trained.out_o1,
             out_o2_trained=trained.out_o2)
    rows = [{"quantity": name, "article": printed, "tolerance": tolerance(printed),
             "numpy": measured["simultaneous"][name], "numpy_output_first": measured["output_first"][name],
             "keras": k.get(name, np.nan), "steps": steps, "keras_steps": keras_steps}
            for name, printed in BACKPROP_ARTICLE.items()]
    return pd.DataFrame(rows)


_LONG_RUN = ("E_trained", "out_o1_trained", "out_o2_trained")
_ARTICLE_STEPS = 10_000
_NOTES = {
    "net_o1": "the article's 'o1 = 1.10590' is this pre-activation; the output is out_o1",
    "E_step1": "the article's value is that of output_first (hidden deltas through the updated w5..w8)",
    "out_o1_trained": "the article's value is that of output_first",
    "out_o2_trained": "the article's value is that of output_first",
    "E_trained": "½Σ(t−o)² of the article's own printed outputs is 0.0000350848: its E fits neither order",
}


def _agrees(value: float, printed: str, tol: float) -> bool:
    return bool(np.isfinite(value) and abs(value - float(printed)) <= tol)


def summary_rows(table: pd.DataFrame) -> list[Row]:
    """Rows for :func:`cnnkit.notebook.write_summary`, one per number of :func:`reproduce`'s table.

    ``measured`` gives NumPy (true gradient descent) and Keras, and NumPy's output-first order
    where it differs at the article's precision. Verdict: ``agrees`` when NumPy and Keras
    (where Keras computes it) both round to the printed value; ``disagrees`` otherwise. Long-run
    rows are ``inconclusive`` unless both ran the article's 10,000 steps.
    """
    rows = []
    for r in table.itertuples(index=False):
        parts = [f"NumPy {r.numpy:.10g}"] + ([f"Keras {r.keras:.10g}"] if np.isfinite(r.keras) else [])
        ours = _agrees(r.numpy, r.article, r.tolerance) and (not np.isfinite(r.keras)
                                                             or _agrees(r.keras, r.article, r.tolerance))
        if _agrees(r.numpy_output_first, r.article, r.tolerance) != _agrees(r.numpy, r.article, r.tolerance):
            parts.append(f"output-first {r.numpy_output_first:.10g}")
        verdict = "agrees" if ours else "disagrees"
        note = _NOTES.get(r.quantity, "")
        if r.quantity in _LONG_RUN and not (r.steps == r.keras_steps == _ARTICLE_STEPS):
            verdict, note = "inconclusive", f"ran {r.steps} (NumPy) / {r.keras_steps} (Keras) steps, not 10,000"
        rows.append(Row(r.quantity, ", ".join(parts), f"{r.article} ({BACKPROP_SOURCE})", verdict,
                        note or f"tolerance {r.tolerance:.0e} (one unit of the article's last digit)"))
    return rows


def conclusion(rows: list[Row]) -> str:
    """One sentence: how many printed numbers NumPy and Keras reproduce, and which ones they do not."""
    off = [r.quantity for r in rows if r.verdict == "disagrees"]
    open_ = [r.quantity for r in rows if r.verdict == "inconclusive"]
    text = (f"NumPy and Keras reproduce {sum(r.verdict == 'agrees' for r in rows)} of the article's {len(rows)} "
            f"printed numbers to its last digit")
    if off:
        text += f"; they differ from {', '.join(off)} (see the notes: the article's own slips)"
    if open_:
        text += f"; {', '.join(open_)} were not run for the article's 10,000 steps"
    return text + "."


def plot_errors(runs: dict[str, Training]):
    """E_total against the step, log scale, one line per labelled :class:`Training`; returns the figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, run in runs.items():
        ax.plot(np.arange(len(run.errors)), run.errors, label=label)
    ax.set(xlabel="step", ylabel="E_total = ½Σ(target − out)²", yscale="log", title="2-2-2 network, lr 0.5")
    ax.legend()
    fig.tight_layout()
    return fig
