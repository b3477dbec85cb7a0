"""02 · ReLU vs tanh (Krizhevsky et al. 2012, Fig. 1), under the paper's own conditions.

AlexNet's four-layer CIFAR-10 CNN reached 25 % training error six times faster with ReLUs than
with tanh units, with "the learning rates for each network chosen independently to make
training as fast as possible" and "no regularization of any kind". The design, fixed before
any run:

1. **Two initialisations** (:data:`INITS`): each unit's own (He et al. 2015 for ReLU, Glorot & Bengio
   2010 for tanh; :data:`INITIALIZERS`) and the paper's (every convolution drawn from N(0, 0.01),
   AlexNet §5; :data:`PAPER_INIT`). Both units train under both, so the report shows whether the ReLU
   advantage depends on the initialisation. No weight decay, dropout, augmentation or normalisation.
2. **A learning rate per arm** (:mod:`cnnkit.studies._sweep`): a sweep (one seed outside the main seeds,
   ``sweep_iterations`` per run) over ``lrs`` for each unit × initialisation and for a linear model; each
   picks the rate with the lowest *mean* training error over its run (the area under its curve: fast early
   progress counts, not only the end). The second initialisation doubles the nets; the sweep pays for it with
   fewer rates (three, bracketing every net's best) and much shorter runs than the main ones (before: four rates
   at half the main length): the rate is chosen on early progress, and the target is what the linear model
   reaches in that shorter run. Validation and test sets are kept small: nothing is judged on them.
3. **A target scaled to the data**: 25 % is far below what a linear model reaches on CIFAR-10
   (~60 %), but a linear model nearly reaches it on Fashion-MNIST. Here the target is the final
   training error (mean over the last quarter of its run) of the linear model at *its* best rate
   in the sweep: the point from which a net has learnt something no linear model does in that
   budget. The main runs train longer than the sweep, so both units get there and few runs are censored.
   :func:`ratio_curve` reads the ratio at lower targets too, from the same curves (no extra runs).
4. **The tests** (:data:`CLAIMS`), under each initialisation: per seed,
   ``log(iterations_tanh) − log(iterations_relu) > 0`` (ReLU faster at all) and ``> log 2`` (several
   times faster, as the paper's 6x), paired by seed, one-sided t at α = 0.05; a run that never reaches
   the target counts with the iterations it trained (censored, a lower bound: conservative for a tanh
   run, and marked).

Every claim here is judged during training (``judged_at="early"``): the speed-ups are claims about
speed, and Fig. 1 plots training curves over a fixed budget, so its "the ReLU curve lies below" is a
statement about the curves at the end of that budget, not about trained nets. The rate stays constant
(Fig. 1's conditions: no schedule is stated, and a decay would mix the schedule into the speed), so no
run converges, and none needs to.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

from cnnkit._status import DIVERGED, FINISHED
from cnnkit.ablation import Experiment
from cnnkit.ablation.verdicts import Claim, decide
from cnnkit.notebook.report import Row
from cnnkit.reference import ALEXNET
from cnnkit.studies._common import (LINEAR, absolute_row, base_config, check_iterations, checked_variants,
                                    diff_row, iterations_to_target, needed_text, run_grid, runs_converged)
from cnnkit.studies._spec import StudyParams
from cnnkit.studies._sweep import (SWEEP_SEED, check_lrs, picked, rates_text, sweep_arms, sweep_table)
from cnnkit.studies._sweep import sweep_figure  # noqa: F401 - the notebook draws relu_vs_tanh.sweep_figure

INITIALIZERS = {"relu": "he_normal", "tanh": "glorot_uniform", "sigmoid": "glorot_uniform", "elu": "he_normal",
                "leaky_relu": "he_normal"}
PAPER_INIT = {"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 0.01}}  # AlexNet §5, a Keras config
INITS = {"own": "own init (He / Glorot)", "paper": "paper's init N(0, 0.01)"}  # the initialisations and their labels
LARGE = 2.0  # "several times faster": a third of the paper's 6x
TARGETS = 8  # points of the ratio-against-target curve

NOTEBOOK = "02_relu_vs_tanh"
WORKERS = 2  # training processes of the sweep and of the main grid

# What the paper says, declared before any run. All judged during training ("early"): iterations to a target
# are a claim about speed; Fig. 1's curves end at a fixed budget, so "the ReLU curve lies below" is about the
# curve at that point, not about trained nets.
CLAIMS = {
    # log(iterations to target, tanh) − log(…, ReLU) > 0: ReLU gets there sooner
    "speedup": Claim("positive", judged_at="early"),
    # … and more than LARGE times sooner
    "large": Claim("positive", threshold=math.log(LARGE), judged_at="early"),
    # training error at the end of the budget, tanh − ReLU > 0 (Fig. 1: the ReLU curve lies below)
    "final": Claim("positive", judged_at="early"),
}


def _check(activations: Sequence[str], inits: Sequence[str], lrs: Sequence[float]) -> list[str]:
    activations = checked_variants(activations, "activations must be two distinct names, fast first, e.g. "
                                                f"('relu', 'tanh') (choices {sorted(INITIALIZERS)})",
                                   choices=INITIALIZERS, at_least=2)
    if len(activations) != 2:
        raise ValueError(f"activations must be exactly two names, fast first, e.g. ('relu', 'tanh'); "
                         f"got {activations!r}")
    checked_variants(inits, f"inits must be distinct names from {list(INITS)}, e.g. ('own', 'paper')",
                     choices=INITS)
    check_lrs(lrs)
    return activations


@dataclass(frozen=True)
class Params(StudyParams):
    """Notebook 02's parameters; the defaults are the quick preset."""

    dataset: str = "fashion_mnist"  # the paper: "cifar10"
    activations: tuple[str, ...] = ("relu", "tanh")  # the fast unit first
    inits: tuple[str, ...] = ("own", "paper")  # "own": He for ReLU, Glorot for tanh; "paper": N(0, 0.01) for both
    lrs: tuple[float, ...] = (0.05, 0.1, 0.2)  # the sweep: each unit × init trains at its fastest rate among these
    seeds: tuple[int, ...] = (0, 1, 2)  # paired: one seed gives every arm the same data order; the long preset: 4
    subset: int | None = 12000  # training images, class-balanced (None: all)
    eval_subset: int | None = 250  # validation and test images (nothing is judged on them: kept small)
    resolution: int | None = 16  # images resized to 16x16 (None: native 28x28); the paper: 32x32
    iterations: int = 800  # per main run; the paper trained ~36 epochs
    sweep_iterations: int = 150  # per sweep run (it also sets the target: the linear model's error at its end)
    log_every: int = 25  # iterations per point of the training curves
    batch_size: int = 64  # the paper: 128

    def __post_init__(self):
        super().__post_init__()
        _check(self.activations, self.inits, self.lrs)
        check_iterations(self.iterations, self.log_every)
        check_iterations(self.sweep_iterations, self.log_every)
        if self.sweep_iterations > self.iterations:
            raise ValueError(f"sweep_iterations={self.sweep_iterations!r} must not exceed iterations="
                             f"{self.iterations!r}: the main runs must be able to reach the sweep's target")


# The notebook's presets: only what each changes from Params (cnnkit.studies._spec.COMMON adds the shared ones).
PRESETS = {
    # Two rates, one seed, a few dozen iterations in this kernel: every code path, no verdict.
    "smoke": {"lrs": (0.01, 0.05), "eval_subset": 100, "iterations": 40, "sweep_iterations": 20, "log_every": 10},
    # Four times the quick iterations (issue 27's 3,200-iteration check) on the same data, 2 CPU cores, < 1 hour.
    "long": {"seeds": (0, 1, 2, 3), "iterations": 3200, "sweep_iterations": 600, "log_every": 50},
    # Krizhevsky et al. 2012, Fig. 1: CIFAR-10 at 32x32, ~36 epochs of 50k in batches of 128 (≈ 14k iterations).
    "paper": {"dataset": "cifar10", "resolution": None, "iterations": 14000, "sweep_iterations": 7000,
              "log_every": 200, "lrs": (0.005, 0.01, 0.02, 0.05)},
}


def initializer(unit: str, init: str) -> str | dict:
    """The convolutions' ``kernel_initializer`` of ``unit`` under ``init`` (:data:`INITS`)."""
    return INITIALIZERS[unit] if init == "own" else PAPER_INIT


def arm(unit: str, init: str) -> str:
    """The variant name of ``unit`` under ``init``: ``'relu · he_normal'``, ``'tanh · N(0, 0.01)'``."""
    return f"{unit} · {INITIALIZERS[unit] if init == 'own' else 'N(0, 0.01)'}"


def arms(p: Params) -> dict[str, tuple[str, str]]:
    """Every net that trains, ``{variant: (unit, init)}``: each unit under each initialisation, init by init."""
    return {arm(u, i): (u, i) for i in p.inits for u in p.activations}


def _base(p: Params, iterations: int, **extra: Any) -> dict:
    # "No regularization of any kind": no weight decay, no augmentation; SGD momentum 0.9 at a constant rate.
    return base_config(model="alexnet_cifar", dataset=p.dataset, subset=p.subset, eval_subset=p.eval_subset,
                       epochs=iterations // p.log_every, steps_per_epoch=p.log_every, batch_size=p.batch_size,
                       augment="none", bn_momentum=0.9, recipe="alexnet", resolution=p.resolution,
                       weight_decay=0.0, schedule="constant", **extra)


def _config(p: Params, name: str, lr: float) -> dict:
    if name == LINEAR:
        return {"model": "linear", "model_options": {}, "lr": lr}
    unit, init = arms(p)[name]
    return {"model_options": {"activation": unit, "norm": None, "kernel_initializer": initializer(unit, init)},
            "lr": lr}


def sweep_variants(p: Params) -> dict[str, tuple[str, float]]:
    """The sweep's variants: ``{name: (arm, lr)}`` for each net of :func:`arms` and the linear model at every rate."""
    return sweep_arms([*arms(p), LINEAR], p.lrs)


def sweep(p: Params = Params(), *, name: str = "relu_vs_tanh_sweep") -> Experiment:
    """Each net and the linear model at every rate in ``p.lrs``, one seed (:data:`SWEEP_SEED`, not a main seed),
    for ``p.sweep_iterations``."""
    variants = {v: _config(p, a, lr) for v, (a, lr) in sweep_variants(p).items()}
    return Experiment(name, _base(p, p.sweep_iterations), variants=variants, seeds=(SWEEP_SEED,))


def chosen(table: pd.DataFrame) -> tuple[dict[str, float], float]:
    """``({arm: lr}, target)``: each arm's chosen rate and the target (the linear model's final training error).

    Raises:
        ValueError: an arm has no usable sweep run (every rate diverged or failed).
    """
    lrs = picked(table)
    pick = table[table["chosen"] & (table["arm"] == LINEAR)]
    return lrs, float(pick["final training error"].iloc[0])


def experiment(p: Params = Params(), *, lrs: dict[str, float] | None = None, target_error: float | None = None,
               name: str = "relu_vs_tanh") -> Experiment:
    """Each net of :func:`arms` at its own rate × seeds, recording the iterations to ``target_error``.

    Args:
        p: the notebook's parameters.
        lrs: each net's rate and ``target_error`` the target training error, both chosen by the sweep
            (:func:`chosen`; :func:`run` passes them). Without them the grid has its shape (variants, seeds)
            but not its rates: every net at the sweep's first rate, and no target.
        name: the experiment's name (its folder in the results store).

    Raises:
        ValueError: ``lrs`` lacks a net of ``p``, or ``target_error`` lies outside (0, 1).
    """
    lrs = dict(lrs or {a: p.lrs[0] for a in arms(p)})
    missing = [a for a in arms(p) if a not in lrs]
    if missing:
        raise ValueError(f"lrs has no rate for {missing}; give one per net, e.g. "
                         f"{ {a: p.lrs[0] for a in arms(p)} } (chosen() returns them)")
    extra = {}
    if target_error is not None:
        if not 0 < target_error < 1:
            raise ValueError(f"target_error is a training error in (0, 1), e.g. 0.2; got {target_error!r}")
        extra["target_train_error"] = round(float(target_error), 4)
    return Experiment(name, _base(p, p.iterations, **extra), variants={a: _config(p, a, lrs[a]) for a in arms(p)},
                      seeds=p.seeds)


@dataclass(frozen=True)
class Trained:
    """What :func:`run` trained: the sweep, the rates and target it chose, and the main runs.

    Attributes:
        sweep: the sweep's :class:`~cnnkit.ablation.Results`.
        table: :func:`cnnkit.studies._sweep.sweep_table` of the sweep (the chosen rate of each arm marked).
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
    """Train the sweep, choose each net's rate and the target from it, then train :func:`experiment` with them.

    Both grids train in ``workers`` processes sharing the CPUs; finished runs are kept, interrupted ones
    resume (``kwargs`` go to :func:`cnnkit.studies.run_grid`).
    """
    swept = run_grid(sweep(p), root, workers=workers, **kwargs)
    table = sweep_table(swept.runs(), swept.history(), sweep_variants(p))
    picks, target = chosen(table)
    lrs = {a: picks[a] for a in (*arms(p), LINEAR)}  # the nets in their order, then the linear model
    results = run_grid(experiment(p, lrs=lrs, target_error=target), root, workers=workers, **kwargs)
    return Trained(swept, table, lrs, target, results)


def _label(init: str) -> str:
    return INITS.get(init, init)


def panels(p: Params) -> dict[str, str]:
    """``{variant: panel title}``: one panel of the curves per initialisation (``plot_curves(col=...)``)."""
    return {a: _label(init) for a, (_, init) in arms(p).items()}


def speedup_row(runs: pd.DataFrame, history: pd.DataFrame, p: Params, init: str, target: float,
                claim: str = "speedup") -> Row:
    """A headline: iterations to the target, ``slow / fast`` under ``init``, judged on paired log-iterations by
    ``CLAIMS[claim]``."""
    fast_unit, slow_unit = p.activations
    fast, slow = arm(fast_unit, init), arm(slow_unit, init)
    f = iterations_to_target(runs, history, fast).dropna()
    s = iterations_to_target(runs, history, slow).dropna()
    seeds = f.index.intersection(s.index)
    paper = ALEXNET["relu_tanh_speedup"]
    c = CLAIMS[claim]
    ask = "faster at all (> 1x)?" if c.threshold == 0 else f"several times faster (> {math.exp(c.threshold):g}x)?"
    quantity = (f"iterations to {100 * target:.1f} % training error, {slow_unit} / {fast_unit}, {_label(init)}: "
                f"is {fast_unit} {ask}")
    reference = f"6x at 25 % on CIFAR-10 ({paper.source})"
    test = f"one-sided paired t on log(iterations), H1: {slow}/{fast} > {math.exp(c.threshold):g}x, α = {c.alpha:g}"
    if len(seeds) == 0:
        return Row(quantity, "no seed finished both", reference, "inconclusive", headline=True, test=test,
                   judged_at=c.judged_at)
    d = decide(np.log(f.loc[seeds, "iterations"]), np.log(s.loc[seeds, "iterations"]), c, paired=True)
    censored = {v: int((~frame.loc[seeds, "reached"]).sum()) for v, frame in ((fast, f), (slow, s))}
    ci = "" if math.isnan(d.low) else f" [{100 * d.confidence:.0f} % CI {math.exp(d.low):.2f}, {math.exp(d.high):.2f}]"
    pval = "" if math.isnan(d.p) else f", p = {d.p:.2g}"
    mark = "≥ " if censored[slow] and not censored[fast] else ""
    measured = f"{mark}{math.exp(d.diff):.2f}x{ci}{pval} (n = {d.n}; geometric mean of per-seed ratios)"
    notes = [f"{n} of {len(seeds)} {v} runs never reached the target (counted with the iterations trained)"
             for v, n in censored.items() if n]
    notes.append(needed_text(d))
    return Row(quantity, measured, reference, d.verdict, "; ".join(x for x in notes if x), True, test,
               paper=math.log(paper.value), judged_at=c.judged_at,
               converged=runs_converged(runs, (fast, slow), list(seeds)))


def summary_rows(runs: pd.DataFrame, p: Params, history: pd.DataFrame, target_error: float) -> list[Row]:
    """Under each initialisation: the speed-ups (headlines); then the training error at the end of the budget
    per initialisation, and each net's iterations to the target.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of the main grid (:func:`experiment`).
        p: the parameters the runs used (its two activations, the fast one first, and its initialisations).
        history: :meth:`cnnkit.ablation.Results.history` of the main grid (the length of a censored run).
        target_error: the target training error the runs used (:attr:`Trained.target`).
    """
    fast, slow = p.activations
    rows = [speedup_row(runs, history, p, init, target_error, claim)
            for init in p.inits for claim in ("speedup", "large")]
    rows += [diff_row(runs, arm(fast, init), arm(slow, init), "train_error",
                      quantity=f"training error at the end of the budget, {slow} − {fast}, {_label(init)}",
                      reference="> 0 (Fig. 1: the ReLU curve lies below the tanh curve)", expect=CLAIMS["final"])
             for init in p.inits]
    for v in arms(p):
        t = iterations_to_target(runs, history, v).dropna()
        text = ("no finished run" if t.empty else
                f"{t['iterations'].mean():.0f} (reached in {int(t['reached'].sum())} of {len(t)} runs)")
        rows.append(absolute_row(f"iterations to target, {v}", text, "—",
                                 "depends on the data set, target and batch size"))
    return rows


def _first_below(curve: pd.DataFrame, targets: np.ndarray) -> np.ndarray:
    """The first logged step whose training error is ``<= t`` for each target ``t`` (NaN where never)."""
    curve = curve.sort_values("step")
    steps, values = curve["step"].to_numpy(float), curve["value"].to_numpy(float)
    out = np.full(len(targets), np.nan)
    for k, t in enumerate(targets):
        hit = np.flatnonzero(values <= t)
        if hit.size:
            out[k] = steps[hit[0]]
    return out


def ratio_curve(runs: pd.DataFrame, history: pd.DataFrame, p: Params, start: float, points: int = TARGETS
                ) -> pd.DataFrame:
    """The ratio ``slow / fast`` of iterations to each of several targets, per initialisation, from the curves.

    Targets run from ``start`` (the sweep's target) down to the lowest training error that every run of both
    units under that initialisation reaches; each run's iterations to a target is the first logged step whose
    running training error is at or below it (so the resolution is ``log_every``). No extra runs train.

    Returns:
        Columns ``init``, ``target``, ``ratio`` (geometric mean of the per-seed ratios), ``low``, ``high`` (its
        90 % interval, paired t on log-ratios) and ``n`` (seeds); empty where no run pair reached ``start``.
    """
    fast_unit, slow_unit = p.activations
    train = history[(history["split"] == "train") & (history["metric"] == "error")]
    if "status" in runs:  # finished runs whose curves are whole (a diverged run's error ends in NaN)
        kept = runs["status"].isin(FINISHED) & (runs["status"] != DIVERGED)
        train = train[train["run_id"].isin(runs.loc[kept, "run_id"])]
    rows = []
    for init in p.inits:
        fast, slow = arm(fast_unit, init), arm(slow_unit, init)
        curves = {key: group for key, group in train[train["variant"].isin((fast, slow))].groupby(["variant", "seed"])}
        seeds = sorted({s for v, s in curves if v == fast} & {s for v, s in curves if v == slow})
        if not seeds:
            continue
        lowest = max(float(curves[(v, s)]["value"].min()) for v in (fast, slow) for s in seeds)
        if lowest > start:
            continue
        targets = np.linspace(start, lowest, points) if lowest < start else np.array([start])
        a = np.array([_first_below(curves[(fast, s)], targets) for s in seeds])
        b = np.array([_first_below(curves[(slow, s)], targets) for s in seeds])
        for k, t in enumerate(targets):
            d = decide(np.log(a[:, k]), np.log(b[:, k]), CLAIMS["speedup"], paired=True)
            rows.append({"init": init, "target": float(t), "ratio": math.exp(d.diff), "low": math.exp(d.low),
                         "high": math.exp(d.high), "n": d.n})
    return pd.DataFrame(rows, columns=["init", "target", "ratio", "low", "high", "n"])


def ratio_figure(frame: pd.DataFrame, p: Params = Params()) -> Figure:
    """The tanh/ReLU ratio of iterations against the target training error, one line per initialisation (90 %
    band), the target falling to the right as training goes on; 1x (no difference) and the paper's 6x marked."""
    slow, fast = p.activations[1], p.activations[0]
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    for init, part in frame.groupby("init", sort=False):
        part = part.sort_values("target", ascending=False)
        x = 100 * part["target"].to_numpy(float)
        line, = ax.plot(x, part["ratio"], marker="o", label=_label(str(init)))
        ax.fill_between(x, part["low"].to_numpy(float), part["high"].to_numpy(float), color=line.get_color(),
                        alpha=0.2, lw=0)
    if frame.empty:
        ax.text(0.5, 0.5, "no run pair reached the target", transform=ax.transAxes, ha="center", color="0.4")
    ax.axhline(1.0, color="0.5", lw=1)
    paper = ALEXNET["relu_tanh_speedup"]
    ax.axhline(paper.value, color="0.5", lw=1, ls=":", label=f"paper: {paper.value:g}x at 25 % on CIFAR-10")
    ax.set(yscale="log", xlabel="target training error (%)", ylabel=f"iterations, {slow} / {fast}",
           title=f"How much sooner {fast} reaches each target (90 % band over seeds)")
    ax.invert_xaxis()
    ax.yaxis.set_major_locator(FixedLocator([0.25, 0.5, 1, 2, 4, 6, 8, 16]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}x"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return fig


def differences(p: Params, trained: Trained | None = None) -> pd.DataFrame:
    """What a run with the parameters ``p`` does differently from the paper.

    With ``trained`` (what :func:`run` returned), the rows name the rates and the target the sweep chose.
    """
    res = f"{p.resolution}x{p.resolution}" if p.resolution else "native size"
    swept = f"sweep over {', '.join(f'{lr:g}' for lr in p.lrs)}, one seed, {p.sweep_iterations} iterations"
    rates = f"{rates_text(trained.lrs)} ({swept})" if trained else f"each net's fastest in the {swept}"
    target = (f"{100 * trained.target:.1f} %" if trained else "set by the sweep") + \
        " (the linear model's final error in the sweep)"
    inits = "; ".join(f"{init}: " + (", ".join(f"{u} {INITIALIZERS[u]}" for u in p.activations) if init == "own"
                                     else "N(0, 0.01) for the convolutions, Glorot for the classifier")
                      for init in p.inits)
    rows = [("data", f"{p.dataset} at {res}, {p.subset or 'all'} training images", "cifar10, 32x32, 50k"),
            ("net", "alexnet_cifar (3 conv + fc), no normalisation", "4-layer CNN"),
            ("target training error", target, "25 %"),
            ("learning rates", rates, "chosen per net for the fastest training"),
            ("sweep", f"{len(p.lrs)} rates × {p.sweep_iterations} iterations per net (the second initialisation "
             "doubles the nets; a shorter, coarser sweep pays for them)", "not described"),
            ("initialisation", inits, "N(0, 0.01) for every layer (AlexNet §5)"),
            ("schedule", "constant rate (a speed comparison; every claim is judged early, none on trained nets)",
             "not stated for Fig. 1"),
            ("iterations × batch", f"{p.iterations} × {p.batch_size}", "≈ 36 epochs × 128"),
            ("seeds", f"{len(p.seeds)}, paired", "one run per unit")]
    return pd.DataFrame(rows, columns=["", "here", "Krizhevsky et al. 2012"])
