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
   trained (censored, a lower bound: conservative for a tanh run, and marked). These speed claims are
   judged during training (``judged_at="early"``); the final-error claim is about trained nets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cnnkit._status import DIVERGED, FINISHED
from cnnkit.ablation import Experiment
from cnnkit.ablation.verdicts import Claim, decide
from cnnkit.notebook.report import Row
from cnnkit.reference import ALEXNET
from cnnkit.studies._common import (LINEAR, absolute_row, base_config, check_iterations, checked_variants,
                                    diff_row, iterations_to_target, needed_text, run_grid, runs_converged)
from cnnkit.studies._spec import StudyParams

INITIALIZERS = {"relu": "he_normal", "tanh": "glorot_uniform", "sigmoid": "glorot_uniform", "elu": "he_normal",
                "leaky_relu": "he_normal"}
LARGE = 2.0  # "several times faster": a third of the paper's 6x
SWEEP_SEED = 100  # the sweep's one seed, outside the main seeds

NOTEBOOK = "02_relu_vs_tanh"
WORKERS = 2  # training processes of the sweep and of the main grid

# What the paper says, declared before any run. The speed claims are judged during training ("early"):
# iterations to a target are a claim about speed, not about trained nets. The final error is about trained nets.
CLAIMS = {
    # log(iterations to target, tanh) − log(…, ReLU) > 0: ReLU gets there sooner
    "speedup": Claim("positive", judged_at="early"),
    # … and more than LARGE times sooner
    "large": Claim("positive", threshold=math.log(LARGE), judged_at="early"),
    # final training error, tanh − ReLU > 0 (Fig. 1: the ReLU curve lies below)
    "final": Claim("positive", judged_at="trained"),
}


def _check(activations: Sequence[str], lrs: Sequence[float]) -> list[str]:
    activations = checked_variants(activations, "activations must be two distinct names, fast first, e.g. "
                                                f"('relu', 'tanh') (choices {sorted(INITIALIZERS)})",
                                   choices=INITIALIZERS, at_least=2)
    if len(activations) != 2:
        raise ValueError(f"activations must be exactly two names, fast first, e.g. ('relu', 'tanh'); "
                         f"got {activations!r}")
    if not lrs or any(isinstance(x, bool) or not isinstance(x, (int, float)) or x <= 0 for x in lrs):
        raise ValueError(f"lrs must be positive learning rates, e.g. (0.01, 0.02, 0.05, 0.1); got {lrs!r}")
    return activations


@dataclass(frozen=True)
class Params(StudyParams):
    """Notebook 02's parameters; the defaults are the quick preset."""

    dataset: str = "fashion_mnist"  # the paper: "cifar10"
    activations: tuple[str, ...] = ("relu", "tanh")  # the fast unit first
    lrs: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2)  # the sweep: each unit trains at its fastest rate among these
    seeds: tuple[int, ...] = (0, 1, 2, 3)  # paired: one seed gives both units the same data order
    subset: int | None = 12000  # training images, class-balanced (None: all)
    eval_subset: int | None = 500  # validation and test images
    resolution: int | None = 16  # images resized to 16x16 (None: native 28x28); the paper: 32x32
    iterations: int = 800  # per main run (the sweep runs half); the paper trained ~36 epochs
    log_every: int = 25  # iterations per point of the training curves
    batch_size: int = 64  # the paper: 128

    def __post_init__(self):
        super().__post_init__()
        _check(self.activations, self.lrs)
        check_iterations(self.iterations, self.log_every)


# The notebook's presets: only what each changes from Params (cnnkit.studies._spec.COMMON adds the shared ones).
PRESETS = {
    # Two rates, one seed, a few dozen iterations in this kernel: every code path, no verdict.
    "smoke": {"lrs": (0.01, 0.05), "eval_subset": 100, "iterations": 40, "log_every": 10},
    # Krizhevsky et al. 2012, Fig. 1: CIFAR-10 at 32x32, ~36 epochs of 50k in batches of 128 (≈ 14k iterations).
    "paper": {"dataset": "cifar10", "resolution": None, "iterations": 14000, "log_every": 200,
              "lrs": (0.005, 0.01, 0.02, 0.05)},
}


def _base(p: Params, iterations: int, **extra: Any) -> dict:
    # "No regularization of any kind": no weight decay, no augmentation; SGD momentum 0.9 at a constant rate.
    return base_config(model="alexnet_cifar", dataset=p.dataset, subset=p.subset, eval_subset=p.eval_subset,
                       epochs=iterations // p.log_every, steps_per_epoch=p.log_every, batch_size=p.batch_size,
                       augment="none", bn_momentum=0.9, recipe="alexnet", resolution=p.resolution,
                       weight_decay=0.0, schedule="constant", **extra)


def _arm(name: str, lr: float) -> dict:
    if name == LINEAR:
        return {"model": "linear", "model_options": {}, "lr": lr}
    return {"model_options": {"activation": name, "norm": None, "kernel_initializer": INITIALIZERS[name]}, "lr": lr}


def sweep_name(arm: str, lr: float) -> str:
    """``'tanh lr=0.05'``."""
    return f"{arm} lr={lr:g}"


def sweep_arms(p: Params) -> dict[str, tuple[str, float]]:
    """The sweep's variants: ``{name: (arm, lr)}`` for each activation and the linear model at every rate."""
    return {sweep_name(a, lr): (a, lr) for a in (*p.activations, LINEAR) for lr in p.lrs}


def sweep(p: Params = Params(), *, name: str = "relu_vs_tanh_sweep") -> Experiment:
    """Each activation and the linear model at every rate in ``p.lrs``, one seed (:data:`SWEEP_SEED`, not a main
    seed), for half the main runs' iterations."""
    half = max(p.log_every, p.iterations // 2 // p.log_every * p.log_every)
    variants = {v: _arm(arm, lr) for v, (arm, lr) in sweep_arms(p).items()}
    return Experiment(name, _base(p, half), variants=variants, seeds=(SWEEP_SEED,))


def _last_quarter(curve: pd.DataFrame) -> float:
    curve = curve.sort_values("step")
    return float(curve["value"].iloc[-max(1, len(curve) // 4):].mean())


def sweep_table(runs: pd.DataFrame, history: pd.DataFrame, p: Params = Params()) -> pd.DataFrame:
    """Per sweep run: arm, lr, status, mean training error over the run (the criterion) and the final training
    error (the mean over the last quarter of the run, steadier than the last interval alone).

    The arm and rate of each run come from ``p`` (:func:`sweep_arms`), not from its name.
    """
    arms = sweep_arms(p)
    runs = runs[runs["variant"].isin(arms)]
    train = history[(history["split"] == "train") & (history["metric"] == "error")]
    mean_error = train.groupby("run_id")["value"].mean()
    final = train.groupby("run_id")[["step", "value"]].apply(_last_quarter)
    table = pd.DataFrame({"arm": runs["variant"].map(lambda v: arms[v][0]),
                          "lr": runs["variant"].map(lambda v: arms[v][1]).astype(float), "status": runs["status"],
                          "mean training error": runs["run_id"].map(mean_error),
                          "final training error": runs["run_id"].map(final)})
    ok = table["status"].isin(FINISHED) & (table["status"] != DIVERGED) & table["mean training error"].notna()
    table["chosen"] = False
    for _, group in table[ok].groupby("arm", sort=False):
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


def experiment(p: Params = Params(), *, lrs: dict[str, float] | None = None, target_error: float | None = None,
               name: str = "relu_vs_tanh") -> Experiment:
    """Each activation of ``p`` at its own rate × seeds, recording the iterations to ``target_error``.

    Args:
        p: the notebook's parameters.
        lrs: each activation's rate and ``target_error`` the target training error, both chosen by the sweep
            (:func:`chosen`; :func:`run` passes them). Without them the grid has its shape (variants, seeds)
            but not its rates: every unit at the sweep's first rate, and no target.
        name: the experiment's name (its folder in the results store).

    Raises:
        ValueError: ``lrs`` lacks an activation of ``p``, or ``target_error`` lies outside (0, 1).
    """
    lrs = dict(lrs or {a: p.lrs[0] for a in p.activations})
    missing = [a for a in p.activations if a not in lrs]
    if missing:
        raise ValueError(f"lrs has no rate for {missing}; give one per activation, e.g. "
                         f"{ {a: p.lrs[0] for a in p.activations} } (chosen() returns them)")
    extra = {}
    if target_error is not None:
        if not 0 < target_error < 1:
            raise ValueError(f"target_error is a training error in (0, 1), e.g. 0.2; got {target_error!r}")
        extra["target_train_error"] = round(float(target_error), 4)
    return Experiment(name, _base(p, p.iterations, **extra), variants={a: _arm(a, lrs[a]) for a in p.activations},
                      seeds=p.seeds)


@dataclass(frozen=True)
class Trained:
    """What :func:`run` trained: the sweep, the rates and target it chose, and the main runs.

    Attributes:
        sweep: the sweep's :class:`~cnnkit.ablation.Results`.
        table: :func:`sweep_table` of the sweep (the chosen rate of each arm marked).
        lrs: each arm's chosen rate (the linear model's too).
        target: the target training error (the linear model's final training error in the sweep).
        results: the main grid's :class:`~cnnkit.ablation.Results`.
    """

    sweep: Any
    table: pd.DataFrame
    lrs: dict[str, float]
    target: float
    results: Any

    @property
    def choice(self) -> dict[str, Any]:
        """What the sweep chose, for the run summary: ``{"chosen_lrs": …, "target_error": …}``."""
        return {"chosen_lrs": self.lrs, "target_error": self.target}

    @property
    def text(self) -> str:
        """The choice in a sentence (Markdown): each arm's rate and the target."""
        return ("Chosen rates: " + ", ".join(f"**{a}** {lr:g}" for a, lr in self.lrs.items())
                + f". Target training error: **{100 * self.target:.1f} %** (the linear model's final training error "
                "in the sweep).")


def run(p: Params, root: str, *, workers: int = WORKERS, **kwargs: Any) -> Trained:
    """Train the sweep, choose each unit's rate and the target from it, then train :func:`experiment` with them.

    Both grids train in ``workers`` processes sharing the CPUs; finished runs are kept, interrupted ones
    resume (``kwargs`` go to :func:`cnnkit.studies.run_grid`).
    """
    swept = run_grid(sweep(p), root, workers=workers, **kwargs)
    table = sweep_table(swept.runs(), swept.history(), p)
    picked, target = chosen(table)
    lrs = {a: picked[a] for a in (*p.activations, LINEAR)}  # the units in their order, then the linear model
    results = run_grid(experiment(p, lrs=lrs, target_error=target), root, workers=workers, **kwargs)
    return Trained(swept, table, lrs, target, results)


def speedup_row(runs: pd.DataFrame, history: pd.DataFrame, fast: str, slow: str, target: float,
                claim: str = "speedup") -> Row:
    """A headline: iterations to the target, ``slow / fast``, judged on paired log-iterations by ``CLAIMS[claim]``."""
    f = iterations_to_target(runs, history, fast).dropna()
    s = iterations_to_target(runs, history, slow).dropna()
    seeds = f.index.intersection(s.index)
    paper = ALEXNET["relu_tanh_speedup"]
    c = CLAIMS[claim]
    ask = "faster at all (> 1x)?" if c.threshold == 0 else f"several times faster (> {math.exp(c.threshold):g}x)?"
    quantity = f"iterations to {100 * target:.1f} % training error, {slow} / {fast}: is {fast} {ask}"
    reference = f"6x at 25 % on CIFAR-10 ({paper.source})"
    test = f"one-sided paired t on log(iterations), H1: {slow}/{fast} > {math.exp(c.threshold):g}x, α = {c.alpha:g}"
    if len(seeds) == 0:
        return Row(quantity, "no seed finished both", reference, "inconclusive", headline=True, test=test,
                   judged_at=c.judged_at)
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
               paper=math.log(paper.value), judged_at=c.judged_at,
               converged=runs_converged(runs, (fast, slow), list(seeds)))


def summary_rows(runs: pd.DataFrame, p: Params, history: pd.DataFrame, target_error: float) -> list[Row]:
    """The speed-up (headlines), the final training error difference, and each unit's iterations to the target.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of the main grid (:func:`experiment`).
        p: the parameters the runs used (its two activations, the fast one first).
        history: :meth:`cnnkit.ablation.Results.history` of the main grid (the length of a censored run).
        target_error: the target training error the runs used (:attr:`Trained.target`).
    """
    fast, slow = p.activations
    rows = [speedup_row(runs, history, fast, slow, target_error),
            speedup_row(runs, history, fast, slow, target_error, claim="large"),
            diff_row(runs, fast, slow, "train_error", quantity=f"final training error, {slow} − {fast}",
                     reference="> 0 (Fig. 1: the ReLU curve lies below the tanh curve)", expect=CLAIMS["final"])]
    for v in (fast, slow):
        t = iterations_to_target(runs, history, v).dropna()
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


def differences(p: Params, trained: Trained | None = None) -> pd.DataFrame:
    """What a run with the parameters ``p`` does differently from the paper.

    With ``trained`` (what :func:`run` returned), the rows name the rates and the target the sweep chose.
    """
    res = f"{p.resolution}x{p.resolution}" if p.resolution else "native size"
    swept = f"sweep over {', '.join(f'{lr:g}' for lr in p.lrs)}"
    rates = (", ".join(f"{a} {lr:g}" for a, lr in trained.lrs.items()) + f" ({swept})" if trained else
             f"each unit's fastest in the {swept}")
    target = (f"{100 * trained.target:.1f} %" if trained else "set by the sweep") + \
        " (the linear model's final error in the sweep)"
    rows = [("data", f"{p.dataset} at {res}, {p.subset or 'all'} training images", "cifar10, 32x32, 50k"),
            ("net", "alexnet_cifar (3 conv + fc), no normalisation", "4-layer CNN"),
            ("target training error", target, "25 %"),
            ("learning rates", rates, "chosen per net for the fastest training"),
            ("initialisation", ", ".join(f"{a}: {INITIALIZERS[a]}" for a in p.activations),
             "N(0, 0.01) for both (AlexNet §5)"),
            ("schedule", "constant rate: the rate never decays, so no run counts as converged and the "
             "final-error row is not judged", "not stated for Fig. 1"),
            ("iterations × batch", f"{p.iterations} × {p.batch_size} (the sweep: half)", "≈ 36 epochs × 128"),
            ("seeds", f"{len(p.seeds)}, paired", "one run per unit")]
    return pd.DataFrame(rows, columns=["", "here", "Krizhevsky et al. 2012"])
