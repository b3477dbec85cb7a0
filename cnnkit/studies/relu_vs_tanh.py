"""02 · ReLU vs tanh (Krizhevsky et al. 2012, Fig. 1), under the paper's own conditions.

AlexNet's four-layer CIFAR-10 CNN reached 25 % training error six times faster with ReLUs than
with tanh units, with "the learning rates for each network chosen independently to make
training as fast as possible" and "no regularization of any kind". The design, fixed before
any run:

1. **A learning rate per activation**: a sweep (one seed, half the main runs' iterations) over
   ``lrs`` for each activation and for a linear model; each picks the rate with the lowest *mean*
   training error over the run (the area under its curve: fast early progress counts, not only the end).
2. **An initialisation that suits each unit** (:data:`INITIALIZERS`): He et al. 2015 for ReLU,
   Glorot & Bengio 2010 for tanh. No weight decay, dropout, augmentation or normalisation.
3. **A target scaled to the data**: 25 % is far below what a linear model reaches on CIFAR-10
   (~60 %), but a linear model nearly reaches it on Fashion-MNIST. Here the target is the final
   training error (mean over the last quarter of its run) of the linear model at *its* best rate
   in the sweep: the point from which a net has learnt something no linear model does in that
   budget. The main runs train twice as long, so both units get there and few runs are censored.
4. **The tests** (:data:`CLAIMS`): per seed, ``log(iterations_tanh) − log(iterations_relu) > 0``
   (ReLU faster at all) and ``> log 2`` (several times faster, as the paper's 6x), paired by seed,
   one-sided t at α = 0.05; a run that never reaches the target counts with the iterations it
   trained (censored, a lower bound: conservative for a tanh run, and marked).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cnnkit.ablation import Experiment
from cnnkit.ablation.verdicts import Claim, decide
from cnnkit.notebook.report import Row
from cnnkit.reference import ALEXNET
from cnnkit.studies._common import (FINISHED, absolute_row, base_config, checked_variants, diff_row, needed_text,
                                    run_grid)

INITIALIZERS = {"relu": "he_normal", "tanh": "glorot_uniform", "sigmoid": "glorot_uniform", "elu": "he_normal",
                "leaky_relu": "he_normal"}
LINEAR = "linear"
LARGE = 2.0  # "several times faster": a third of the paper's 6x
CLAIMS = {
    "speedup": Claim("positive"),  # log(iterations to target, tanh) − log(…, ReLU) > 0: ReLU gets there sooner
    "large": Claim("positive", threshold=math.log(LARGE)),  # … and more than LARGE times sooner
    "final": Claim("positive"),    # final training error, tanh − ReLU > 0 (Fig. 1: the ReLU curve lies below)
}
METRIC = "iterations_to_target"


def _check(activations: Sequence[str], lrs: Sequence[float]) -> list[str]:
    activations = checked_variants(activations, "activations must be two distinct names, fast first, e.g. "
                                                f"['relu', 'tanh'] (choices {sorted(INITIALIZERS)})",
                                   choices=INITIALIZERS, at_least=2)
    if len(activations) != 2:
        raise ValueError(f"activations must be exactly two names, fast first, e.g. ['relu', 'tanh']; got {activations!r}")
    if not lrs or any(isinstance(x, bool) or not isinstance(x, (int, float)) or x <= 0 for x in lrs):
        raise ValueError(f"lrs must be positive learning rates, e.g. [0.01, 0.02, 0.05, 0.1]; got {lrs!r}")
    return activations


def _base(*, dataset, subset, eval_subset, resolution, iterations, log_every, batch_size, **extra) -> dict:
    if log_every < 1 or iterations < log_every or iterations % log_every:
        raise ValueError(f"iterations={iterations!r} must be a positive multiple of log_every={log_every!r}")
    # "No regularization of any kind": no weight decay, no augmentation; SGD momentum 0.9 at a constant rate.
    return base_config(model="alexnet_cifar", dataset=dataset, subset=subset, eval_subset=eval_subset,
                       epochs=iterations // log_every, steps_per_epoch=log_every, batch_size=batch_size,
                       augment="none", bn_momentum=0.9, recipe="alexnet", resolution=resolution, weight_decay=0.0,
                       schedule="constant", **extra)


def _arm(name: str, lr: float) -> dict:
    if name == LINEAR:
        return {"model": "linear", "model_options": {}, "lr": lr}
    return {"model_options": {"activation": name, "norm": None, "kernel_initializer": INITIALIZERS[name]}, "lr": lr}


def sweep_name(arm: str, lr: float) -> str:
    """``'tanh lr=0.05'``."""
    return f"{arm} lr={lr:g}"


def sweep(*, activations: Sequence[str] = ("relu", "tanh"), lrs: Sequence[float] = (0.01, 0.02, 0.05, 0.1),
          sweep_seed: int = 100, dataset: str = "fashion_mnist", subset: int | None = 12000,
          eval_subset: int | None = 500, resolution: int | None = 16, iterations: int = 800, log_every: int = 25,
          batch_size: int = 64, name: str = "relu_vs_tanh_sweep") -> Experiment:
    """Each activation and the linear model at every rate in ``lrs``, one seed (``sweep_seed``, not a main seed),
    for half the main runs' ``iterations``."""
    activations = _check(activations, lrs)
    half = max(log_every, iterations // 2 // log_every * log_every)
    base = _base(dataset=dataset, subset=subset, eval_subset=eval_subset, resolution=resolution,
                 iterations=half, log_every=log_every, batch_size=batch_size)
    variants = {sweep_name(a, lr): _arm(a, lr) for a in (*activations, LINEAR) for lr in lrs}
    return Experiment(name, base, variants=variants, seeds=(sweep_seed,))


def _last_quarter(curve: pd.DataFrame) -> float:
    curve = curve.sort_values("step")
    return float(curve["value"].iloc[-max(1, len(curve) // 4):].mean())


def sweep_table(runs: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """Per sweep run: arm, lr, status, mean training error over the run (the criterion) and the final training
    error (the mean over the last quarter of the run, steadier than the last interval alone)."""
    train = history[(history["split"] == "train") & (history["metric"] == "error")]
    mean_error = train.groupby("run_id")["value"].mean()
    final = train.groupby("run_id")[["step", "value"]].apply(_last_quarter)
    parts = runs["variant"].str.rsplit(" lr=", n=1, expand=True)
    table = pd.DataFrame({"arm": parts[0], "lr": parts[1].astype(float), "status": runs["status"],
                          "mean training error": runs["run_id"].map(mean_error),
                          "final training error": runs["run_id"].map(final)})
    ok = table["status"].isin(FINISHED) & (table["status"] != "diverged") & table["mean training error"].notna()
    table["chosen"] = False
    for arm, group in table[ok].groupby("arm", sort=False):
        table.loc[group["mean training error"].idxmin(), "chosen"] = True
    return table.sort_values(["arm", "lr"]).reset_index(drop=True)


def chosen(table: pd.DataFrame) -> tuple[dict[str, float], float]:
    """``({arm: lr}, target)``: each arm's chosen rate and the target (the linear model's final training error).

    Raises:
        ValueError: an arm has no usable sweep run (every rate diverged or failed).
    """
    picks = table[table["chosen"]].set_index("arm")
    missing = sorted(set(table["arm"]) - set(picks.index))
    if missing:
        raise ValueError(f"no usable sweep run for {missing}: every learning rate diverged or failed; "
                         "add smaller rates to lrs")
    return {a: float(lr) for a, lr in picks["lr"].items()}, float(picks.loc[LINEAR, "final training error"])


def experiment(*, activations: Sequence[str] = ("relu", "tanh"), lrs: dict[str, float] | None = None,
               target_error: float = 0.2, seeds: Sequence[int] = (0, 1, 2, 3), dataset: str = "fashion_mnist",
               subset: int | None = 12000, eval_subset: int | None = 500, resolution: int | None = 16,
               iterations: int = 800, log_every: int = 25, batch_size: int = 64,
               name: str = "relu_vs_tanh") -> Experiment:
    """Each activation at its own rate (``lrs``, from :func:`chosen`) × seeds, recording iterations to the target."""
    lrs = dict(lrs or {a: 0.01 for a in activations})
    activations = _check(activations, list(lrs.values()))
    if not 0 < target_error < 1:
        raise ValueError(f"target_error is a training error in (0, 1), e.g. 0.2; got {target_error!r}")
    base = _base(dataset=dataset, subset=subset, eval_subset=eval_subset, resolution=resolution,
                 iterations=iterations, log_every=log_every, batch_size=batch_size,
                 target_train_error=round(float(target_error), 4))
    return Experiment(name, base, variants={a: _arm(a, lrs[a]) for a in activations}, seeds=tuple(seeds))


run = run_grid  # train the grid in `workers` processes sharing the CPUs; finished runs are kept


def to_target(runs: pd.DataFrame, history: pd.DataFrame, variant: str) -> pd.DataFrame:
    """Per finished run of ``variant`` by seed: iterations to the target, or the iterations trained (censored)."""
    trained = history.groupby("run_id")["step"].max()
    sel = runs[(runs["variant"] == variant) & runs["status"].isin(FINISHED)]
    reached = pd.to_numeric(sel[METRIC], errors="coerce") if METRIC in sel else pd.Series(np.nan, sel.index)
    frame = pd.DataFrame({"seed": sel["seed"].to_numpy(), "reached": reached.notna().to_numpy(),
                          "iterations": reached.fillna(sel["run_id"].map(trained)).to_numpy(dtype=float)})
    return frame.dropna().set_index("seed").sort_index()


def speedup_row(runs: pd.DataFrame, history: pd.DataFrame, fast: str, slow: str, target: float,
                claim: str = "speedup") -> Row:
    """A headline: iterations to the target, ``slow / fast``, judged on paired log-iterations by ``CLAIMS[claim]``."""
    f, s = to_target(runs, history, fast), to_target(runs, history, slow)
    seeds = f.index.intersection(s.index)
    paper = ALEXNET["relu_tanh_speedup"]
    c = CLAIMS[claim]
    ask = "faster at all (> 1x)?" if c.threshold == 0 else f"several times faster (> {math.exp(c.threshold):g}x)?"
    quantity = f"iterations to {100 * target:.1f} % training error, {slow} / {fast}: is {fast} {ask}"
    reference = f"6x at 25 % on CIFAR-10 ({paper.source})"
    test = f"one-sided paired t on log(iterations), H1: {slow}/{fast} > {math.exp(c.threshold):g}x, α = {c.alpha:g}"
    if len(seeds) == 0:
        return Row(quantity, "no seed finished both", reference, "inconclusive", headline=True, test=test)
    d = decide(np.log(f.loc[seeds, "iterations"]), np.log(s.loc[seeds, "iterations"]), c, paired=True)
    censored = {v: int((~frame.loc[seeds, "reached"]).sum()) for v, frame in ((fast, f), (slow, s))}
    ci = "" if math.isnan(d.low) else f" [{100 * d.confidence:.0f} % CI {math.exp(d.low):.2f}, {math.exp(d.high):.2f}]"
    p = "" if math.isnan(d.p) else f", p = {d.p:.2g}"
    mark = "≥ " if censored[slow] and not censored[fast] else ""
    measured = f"{mark}{math.exp(d.diff):.2f}x{ci}{p} (n = {d.n}; geometric mean of per-seed ratios)"
    notes = [f"{n} of {len(seeds)} {v} runs never reached the target (counted with the iterations trained)"
             for v, n in censored.items() if n]
    notes.append(needed_text(d))
    return Row(quantity, measured, reference, d.verdict, "; ".join(x for x in notes if x), True, test,
               paper=math.log(paper.value))


def summary_rows(runs: pd.DataFrame, history: pd.DataFrame, *, fast: str = "relu", slow: str = "tanh",
                 target_error: float) -> list[Row]:
    """The speed-up (headline), the final training error difference, and each unit's iterations to the target."""
    rows = [speedup_row(runs, history, fast, slow, target_error),
            speedup_row(runs, history, fast, slow, target_error, claim="large"),
            diff_row(runs, fast, slow, "train_error", quantity=f"final training error, {slow} − {fast}",
                     reference="> 0 (Fig. 1: the ReLU curve lies below the tanh curve)", expect=CLAIMS["final"])]
    for v in (fast, slow):
        t = to_target(runs, history, v)
        text = ("no finished run" if t.empty else
                f"{t['iterations'].mean():.0f} (reached in {int(t['reached'].sum())} of {len(t)} runs)")
        rows.append(absolute_row(f"iterations to target, {v}", text, "—",
                                 "depends on the data set, target and batch size"))
    return rows


def sweep_figure(table: pd.DataFrame) -> Figure:
    """Mean training error against the learning rate per arm, the chosen rates ringed."""
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    for arm, group in table.groupby("arm", sort=False):
        group = group.sort_values("lr")
        line, = ax.plot(group["lr"], 100 * group["mean training error"], marker="o", label=arm)
        pick = group[group["chosen"]]
        ax.scatter(pick["lr"], 100 * pick["mean training error"], s=160, facecolors="none",
                   edgecolors=line.get_color(), linewidths=2)
    ax.set(xscale="log", xlabel="learning rate (SGD, momentum 0.9)", ylabel="mean training error over the run (%)",
           title="Learning-rate sweep: each arm gets its fastest rate (ringed)")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def differences(p: dict, lrs: dict[str, float], target: float) -> pd.DataFrame:
    """What a run with the notebook parameters ``p`` does differently from the paper."""
    res = f"{p['resolution']}x{p['resolution']}" if p.get("resolution") else "native size"
    rows = [("data", f"{p['dataset']} at {res}, {p['subset'] or 'all'} training images", "cifar10, 32x32, 50k"),
            ("net", "alexnet_cifar (3 conv + fc), no normalisation", "4-layer CNN"),
            ("target training error", f"{100 * target:.1f} % (the linear model's final error in the sweep)",
             "25 %"),
            ("learning rates", ", ".join(f"{a} {lr:g}" for a, lr in lrs.items()) + f" (sweep over {p['lrs']})",
             "chosen per net for the fastest training"),
            ("initialisation", ", ".join(f"{a}: {INITIALIZERS.get(a, '?')}" for a in p["activations"]),
             "N(0, 0.01) for both (AlexNet §5)"),
            ("iterations × batch", f"{p['iterations']} × {p['batch_size']}", "≈ 36 epochs × 128"),
            ("seeds", f"{len(p['seeds'])}, paired", "one run per unit")]
    return pd.DataFrame(rows, columns=["", "here", "Krizhevsky et al. 2012"])
