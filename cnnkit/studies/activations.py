"""06 · The activation zoo: ReLU, LeakyReLU, ELU, PReLU, RReLU, sigmoid and tanh trained side by side.

The source article (001) makes a qualitative claim: saturating activations (sigmoid, tanh) suffer
from vanishing gradients, non-saturating ones (the ReLU family) avoid it and converge faster.
AlexNet's Fig. 1 gives the one number: ReLU reaches 25 % training error six times faster than
tanh (Krizhevsky et al. 2012). This study trains the same net with each activation × seeds and
reports the final test error and the iterations to a target training error. Every row pairs the
runs by seed (same subset and data order in every arm) and states its test before the runs
(:data:`CLAIMS`): test error is a claim about trained nets (``judged_at="trained"``: on runs that did
not converge its row reads "not converged"); iterations to the target is a claim about speed,
judged during training (``"early"``).

A trained claim needs nets that learn within the budget, so the design (fixed before any run) is:

* **each unit its own initialisation** (:data:`INITIALIZERS`): He et al. 2015 for the ReLU family,
  Glorot & Bengio 2010 for tanh, and for sigmoid the same derivation with its slope of 1/4 at 0, a
  uniform range 4x Glorot's. Under one shared Glorot init, sigmoid nets without normalisation never
  left chance (90 % training error), which measures a failure to start, not the unit's final error.
  The learning rate stays the recipe's, shared by every unit (a sweep per unit, as 02 runs, does not
  fit this notebook's budget); the gradient-flow section still compares the units at one shared init;
* **a schedule that ends in the budget**: the rate is divided by 10 at 50 % and 75 % of the iterations
  (``schedule="step"``, He et al.'s), and runs are counted in iterations at 16x16 (about 3x cheaper per
  iteration than 28x28) with a point logged every ``log_every`` (a quarter of the run is a whole number of
  points, so each ÷10 starts a logging interval and the last quarter's points all follow the last one);
* **a floor**: the linear model on the same data and budget (:data:`~cnnkit.studies._common.LINEAR`);
  a unit whose nets do not beat it has learnt nothing the claim could be about, and its rows read
  "not converged".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cnnkit._status import FINISHED
from cnnkit.ablation import Experiment
from cnnkit.ablation.over_training import Track
from cnnkit.ablation.verdicts import Claim
from cnnkit.layers.factories import ACTIVATIONS as KNOWN
from cnnkit.notebook.report import Row
from cnnkit.reference import ALEXNET
from cnnkit.studies._common import (LINEAR, absolute_row, base_config, check_iterations, checked_variants,
                                    converged_text, diff_row, floor_row, iterations_to_target, judged_row, mean_text,
                                    run_grid, with_floor)
from cnnkit.studies._spec import StudyParams
from cnnkit.studies.pooling import SCHEDULE_TEXT

ZOO = ("relu", "leaky_relu", "elu", "prelu", "rrelu", "sigmoid", "tanh")
SATURATING = ("sigmoid", "tanh")
ARTICLE = "article 001, qualitative"
MODEL = "alexnet_cifar"  # AlexNet's 4-layer CIFAR net (no hidden dense layer), its activation set per arm
RECIPE = "alexnet"  # SGD with momentum at the recipe's rate, the same for every activation
# The convolutions' initialisation that suits each unit (a Keras initializer name or config): He et al. 2015 for the
# ReLU family, Glorot & Bengio 2010 for tanh (slope 1 at 0); sigmoid's slope at 0 is 1/4, so the same derivation
# gives a 4x wider uniform range (variance 16x Glorot's).
SIGMOID_INIT = {"class_name": "VarianceScaling",
                "config": {"scale": 16.0, "mode": "fan_avg", "distribution": "uniform"}}
INITIALIZERS = {"relu": "he_normal", "leaky_relu": "he_normal", "elu": "he_normal", "prelu": "he_normal",
                "rrelu": "he_normal", "tanh": "glorot_uniform", "sigmoid": SIGMOID_INIT}

NOTEBOOK = "06_activations"
WORKERS = 2  # training processes of the grid

# What the article and AlexNet say, declared before any run (b − a, paired by seed).
CLAIMS = {
    "test_error": Claim("positive", judged_at="trained"),  # test error, a saturating unit − the baseline > 0
    "family": Claim("positive", judged_at="trained"),      # test error, saturating − non-saturating family > 0
    "speed": Claim("positive", judged_at="early"),         # iterations to the target, slow − fast > 0
}


@dataclass(frozen=True)
class Params(StudyParams):
    """Notebook 06's parameters; the defaults are the quick preset."""

    dataset: str = "fashion_mnist"  # the paper (AlexNet Fig. 1) used "cifar10"
    activations: tuple[str, ...] = ZOO  # the baseline first
    target_error: float = 0.5  # training error to reach; AlexNet's 0.25 is out of reach in this budget
    seeds: tuple[int, ...] = (0, 1)  # training seeds (runs paired by seed), and the seeds of the gradient-flow nets
    subset: int | None = 1200  # training examples, class-balanced (None: all)
    eval_subset: int | None = 1000  # validation and test examples (None: as subset)
    resolution: int | None = 16  # images resized to 16x16, about 3x cheaper per iteration (None: native 28x28)
    iterations: int = 160  # training iterations, 4k x log_every for the step schedule; AlexNet: ~36 epochs
    log_every: int = 20  # iterations per logged point; each ÷10 of the step schedule starts an interval
    schedule: str = "step"  # ÷10 at 50 % and 75 % of the iterations (budget-aware); AlexNet: "plateau"
    batch_size: int = 32  # the paper (and preset paper): 128
    augment: str = "none"  # no augmentation: the activations alone differ
    bn_momentum: float = 0.9  # used only with norm "batch"
    norm: str | None = None  # the model's normalisation: None, so only the activation shapes the gradient flow

    def __post_init__(self):
        super().__post_init__()
        checked_variants(self.activations, f"activations must be two or more distinct names from {list(KNOWN)}, "
                                           f"baseline first, e.g. {ZOO}", choices=KNOWN, at_least=2)
        if not any(a in SATURATING for a in self.activations[1:]) or self.activations[0] in SATURATING:
            raise ValueError(f"activations must start with a non-saturating baseline and include a saturating unit "
                             f"{SATURATING} after it (every judged row compares the two), e.g. ('relu', 'sigmoid'); "
                             f"got {self.activations!r}")
        if not 0 < self.target_error < 1:
            raise ValueError(f"target_error is a training error in (0, 1), e.g. 0.25; got {self.target_error!r}")
        check_iterations(self.iterations, self.log_every)


# The notebook's presets: only what each changes from Params (cnnkit.studies._spec.COMMON adds the shared ones).
PRESETS = {
    # A non-saturating and a saturating unit: every code path, no verdict. Two seeds, the fewest the verdict over
    # training can pair (COMMON's smoke has one; (0, 1) would read as repeating the default).
    "smoke": {"activations": ("relu", "sigmoid"), "iterations": 20, "log_every": 10, "seeds": (1, 2)},
    # The quick design trained 5x longer on 5x the images (on a 2-core CPU, within the hour): do the units beat
    # the linear floor and keep their verdicts?
    "long": {"iterations": 800, "log_every": 40, "subset": 6000},
    # Krizhevsky et al. 2012, Fig. 1: CIFAR-10 at 32x32, 4-layer CNN, until 25 % training error; about 40 epochs of
    # 45k images, one logged point per epoch.
    "paper": {"dataset": "cifar10", "resolution": None, "iterations": 14040, "log_every": 351, "target_error": 0.25},
}


def experiment(p: Params = Params(), *, name: str = "activation_zoo") -> Experiment:
    """The same net (:data:`MODEL`, :data:`RECIPE`, normalisation ``p.norm``) with each activation × seeds,
    recording the iterations to ``p.target_error`` (the running training error).

    Each activation's convolutions start from its own initialisation (:data:`INITIALIZERS`); every run trains
    ``p.iterations`` with ``p.schedule``, one logged point every ``p.log_every``. The variant :data:`LINEAR` is
    the floor: the suite's linear model on the same data and budget.
    """
    base = base_config(model=MODEL, dataset=p.dataset, subset=p.subset, epochs=p.iterations // p.log_every,
                       steps_per_epoch=p.log_every, batch_size=p.batch_size, augment=p.augment,
                       bn_momentum=p.bn_momentum, recipe=RECIPE, resolution=p.resolution, schedule=p.schedule,
                       target_train_error=p.target_error, eval_subset=p.eval_subset)
    variants = {a: {"model_options": {"activation": a, "norm": p.norm, "kernel_initializer": initializer(a)}}
                for a in p.activations}
    variants[LINEAR] = {"model": "linear", "model_options": {}}  # the floor every net must beat
    return Experiment(name, base, variants=variants, seeds=p.seeds)


def initializer(activation: str) -> str | dict:
    """The convolutions' initialisation for ``activation``: :data:`INITIALIZERS`, else Keras' Glorot uniform."""
    return INITIALIZERS.get(activation, "glorot_uniform")


def run(p: Params, root: str, *, workers: int = WORKERS, **kwargs):
    """Train :func:`experiment` of ``p`` in ``workers`` processes; finished runs are kept, interrupted ones resume."""
    return run_grid(experiment(p), root, workers=workers, **kwargs)


def families(runs: pd.DataFrame) -> pd.DataFrame:
    """``runs`` with ``variant`` replaced by ``"saturating"`` (sigmoid, tanh) or ``"non-saturating"``; the linear
    floor's runs are left out (it is no activation)."""
    runs = runs[runs["variant"] != LINEAR]
    return runs.assign(variant=np.where(runs["variant"].isin(SATURATING), "saturating", "non-saturating"))


def tracks(p: Params) -> list[Track]:
    """The trained headline differences followed over training: each saturating unit − the baseline in validation
    error (the split that stands in for the test set while training), judged by the test-error claim."""
    baseline = p.activations[0]
    return [Track(f"{v} − {baseline}, validation error", baseline, v, CLAIMS["test_error"], split="val")
            for v in SATURATING if v in p.activations]


def speed_row(runs: pd.DataFrame, history: pd.DataFrame, fast: str, slow: str, *, quantity: str, reference: str,
              headline: bool = False, note: str = "", claim: Claim = CLAIMS["speed"]) -> Row:
    """Iterations to the target, ``slow − fast``, paired by seed; the claim: ``slow`` needs more (one-sided).

    A censored ``slow`` run counts its length, which can only understate how slow it was, so an
    *agrees* stands; a censored ``fast`` run leaves the difference unbounded: the row says so and is
    inconclusive. The note gives the ratio of means (``≥``: a lower bound). ``claim`` is judged during
    training (``judged_at="early"``) unless another is given.
    """
    f = iterations_to_target(runs, history, fast).dropna()
    s = iterations_to_target(runs, history, slow).dropna()
    common = f.index.intersection(s.index)
    if len(common) == 0:
        return Row(quantity, f"no finished pair of {fast} and {slow} runs", reference, "inconclusive", note,
                   headline, claim.describe(True), judged_at=claim.judged_at)
    f_cens, s_cens = ~f.loc[common, "reached"], ~s.loc[common, "reached"]
    if f_cens.any():
        return Row(quantity, f"{fast} did not reach the target in {int(f_cens.sum())} of {len(common)} runs",
                   reference, "inconclusive", note, headline, claim.describe(True), judged_at=claim.judged_at)
    fi, si = f.loc[common, "iterations"], s.loc[common, "iterations"]
    ratio = f"{slow} / {fast} {'≥ ' if s_cens.any() else ''}{si.mean() / fi.mean():.2f}x"
    reached = f"{slow} reached the target in {int((~s_cens).sum())} of {len(common)} runs"
    return judged_row(quantity, fi.to_numpy(), si.to_numpy(), claim, reference=reference,
                      headline=headline, note="; ".join(x for x in (ratio, reached, note) if x), scale=1.0,
                      suffix=" iterations")


def _iterations_text(runs: pd.DataFrame, history: pd.DataFrame, variant: str) -> str:
    frame = iterations_to_target(runs, history, variant)
    if frame.empty:
        return "no finished run"
    values, reached = frame["iterations"], frame["reached"]
    if not reached.any():
        return "not reached" + ("" if values.isna().all() else f" in {values.max():.0f}")
    return f"{values[reached].mean():.0f} ({int(reached.sum())} of {len(values)} runs)"


def summary_rows(runs: pd.DataFrame, p: Params, history: pd.DataFrame) -> list[Row]:
    """What the runs show about the article's claims, each row's test declared (paired by seed).

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
        p: the parameters the runs used (its activations, the baseline first, and its target).
        history: :meth:`cnnkit.ablation.Results.history` (the length of runs that missed the target).

    Returns:
        Test error of each saturating unit minus the baseline (the first activation, normally ReLU;
        the article: positive; sigmoid's is a headline) and of the saturating family minus the
        non-saturating one (per seed, the mean of each family); the iterations to the target, each
        saturating unit − the baseline (tanh's is a headline: AlexNet's Fig. 1); then one row per
        activation with its test error and iterations to the target (not comparable); the linear floor.
    """
    runs = with_floor(runs)
    variants = list(p.activations)
    baseline, target = variants[0], f"{100 * p.target_error:g} %"
    saturating = [v for v in SATURATING if v in variants and v != baseline]
    rows = [diff_row(runs, baseline, v, "test_error", quantity=f"test error, {v} − {baseline}",
                     reference=f"> 0: {v} saturates ({ARTICLE})", expect=CLAIMS["test_error"],
                     headline=v == "sigmoid") for v in saturating]
    if len(variants) > 2:  # the baseline is non-saturating and a saturating unit follows (Params checks)
        rows.append(diff_row(families(runs), "non-saturating", "saturating", "test_error",
                             quantity="test error, saturating (sigmoid, tanh) − non-saturating (ReLU family)",
                             reference=f"> 0 ({ARTICLE})", expect=CLAIMS["family"],
                             note="per seed, the mean over each family's units"))
    for v in saturating:
        reference = f"> 0: {baseline} faster ({ARTICLE})"
        if v == "tanh":
            reference += f"; tanh / ReLU 6x on CIFAR-10 ({ALEXNET['relu_tanh_speedup'].source})"
        rows.append(speed_row(runs, history, baseline, v, headline=v == "tanh", reference=reference,
                              quantity=f"iterations to {target} training error, {v} − {baseline}",
                              note="running training error; a run that never got there counts its length (≥)"))
    for v in variants:
        done = runs[(runs["variant"] == v) & runs["status"].isin(FINISHED)]
        rows.append(absolute_row(f"{v}: test error; iterations to {target} training error",
                                 f"{mean_text(runs, v, 'test_error')}; {_iterations_text(runs, history, v)}", "—",
                                 f"{len(done)} finished runs; absolute numbers depend on data and budget"))
    rows.append(floor_row(runs, variants))
    return rows


def error_rows(rows: list[Row]) -> list[Row]:
    """The rows of ``rows`` that judge a test-error difference (in pp; for the differences plot)."""
    return [r for r in rows if r.diff is not None and r.quantity.startswith("test error")]


def _init_text(init: str | dict) -> str:
    """``'he_normal'``, or ``'VarianceScaling(scale 16, fan_avg, uniform)'`` for a Keras config."""
    if isinstance(init, str):
        return init
    config = init.get("config", {})
    parts = [f"scale {config['scale']:g}" if "scale" in config else "", config.get("mode", ""),
             config.get("distribution", "")]
    return f"{init.get('class_name', 'initializer')}({', '.join(x for x in parts if x)})"


def differences(p: Params, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """What a run with the parameters ``p`` does differently from AlexNet's Fig. 1 (the article's one number).

    With the ``runs`` frame, a row says how many of the runs converged (:func:`converged_text`).
    """
    res = f"{p.resolution}x{p.resolution}" if p.resolution else "native size"
    inits = ", ".join(f"{a} {_init_text(initializer(a))}" for a in p.activations)
    rows = [("data", f"{p.dataset} at {res}, {p.subset or 'all'} training images", "cifar10, 32x32, 50k"),
            ("net", f"{MODEL}, normalisation {p.norm}", "4-layer CNN"),
            ("activations", ", ".join(p.activations), "ReLU and tanh (the article adds the ReLU family and sigmoid)"),
            ("learning rate", f"the {RECIPE} recipe's, shared by every activation",
             "chosen per network for the fastest training"),
            ("initialisation", f"each unit its own: {inits}", "N(0, 0.01) for every layer (AlexNet §5)"),
            ("target training error", f"{100 * p.target_error:g} % (running error of the mini-batches)", "25 %"),
            ("budget", f"{p.iterations} iterations × batch {p.batch_size}", "≈ 36 epochs × 128"),
            ("schedule", SCHEDULE_TEXT.get(p.schedule, p.schedule), "÷10 when the validation error stopped improving"),
            ("floor", "a linear model on the same data and budget: every unit must beat it", "—"),
            ("saturating vs non-saturating", "per seed, the mean of each family's units: read it beside the "
             "per-unit rows", "the article's grouping, not measured there"),
            ("seeds", f"{len(p.seeds)}, paired (same subset and data order)", "one run per unit")]
    if runs is not None and "status" in runs:
        rows.append(("convergence", converged_text(runs, p.activations), "—"))
    return pd.DataFrame([(k, str(a), str(b)) for k, a, b in rows], columns=["", "here", "Krizhevsky et al. 2012"])
