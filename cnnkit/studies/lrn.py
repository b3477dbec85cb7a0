"""03 · Local response normalisation on/off: AlexNet's claim against VGG's (a two-sided question).

Krizhevsky et al. (2012, §3.3): on CIFAR-10 their four-layer CNN had 13 % test error without
normalisation and 11 % with LRN (+2 pp for LRN). Simonyan & Zisserman (2015, Table 3) found no
gain on ImageNet (net A 29.6 % vs A-LRN 29.7 % top-1) and dropped it. Both claims are declared
in :data:`CLAIMS` before any run and judged on the same paired runs (same seed = same
initialisation and data order; LRN has no weights):

* AlexNet: ``test error(no norm) − test error(LRN) > 0`` (one-sided paired t, α = 0.05);
* VGG: ``|test error(no norm) − test error(LRN)| < MARGIN`` (TOST, α = 0.05). The margin is half
  AlexNet's effect, so the two claims cannot both hold.

Batch normalisation (``"batch"``) can be added as a third arm; its row is Ioffe & Szegedy's
claim that BN does at least as well (non-inferiority within the same margin).

Both papers speak of *trained* nets (``judged_at="trained"``), so the design, fixed before any run, makes
the runs finish learning within the budget and says where they did not:

1. **A learning rate per arm** (:mod:`cnnkit.studies._sweep`): LRN with k = 2 divides the activations by
   about 2^0.75 ≈ 1.7, which changes the effective step, so one shared rate would favour whichever arm it
   suits. A sweep (one seed outside the main seeds, ``sweep_iterations`` with the same schedule) trains every
   arm and the linear floor at each rate of ``lrs``; each keeps the rate with the lowest mean training error
   over its sweep run. The table and the chosen rates are part of the report. The sweep is new cost: it runs
   a quarter of the main runs' length, so the choice rests on early progress.
2. **A schedule written for the budget** (:data:`SCHEDULE`): the rate is divided by 10 at 50 % and 75 % of
   the iterations (He et al.'s milestones). AlexNet divided it by 10 whenever the validation error stopped
   improving; that plateau rule never fired in a run of a few hundred iterations, so the rate never decayed
   and no run could converge. The step schedule keeps AlexNet's ÷10 and fits it into the budget.
3. **A floor**: the suite's linear model trains beside the arms on the same data and budget (at its own
   swept rate); an arm that does not beat its test error has learnt nothing the claims could be about.
4. **Convergence** (:mod:`cnnkit.train.convergence`): a claim is judged only where every run behind it
   converged (the rate decayed, the training error flat over the last quarter) and beat the floor; otherwise
   its row reads "not converged". :func:`tracks` follows both claims over training (validation error).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from cnnkit.ablation import Experiment
from cnnkit.ablation.over_training import Track
from cnnkit.ablation.verdicts import NOT_CONVERGED, Claim
from cnnkit.notebook.report import Row
from cnnkit.reference import ALEXNET
from cnnkit.studies._common import (LINEAR, absolute_row, base_config, check_iterations, checked_variants,
                                    converged_text, diff_row, floor_row, mean_text, run_grid, with_floor)
from cnnkit.studies._spec import StudyParams
from cnnkit.studies._sweep import SWEEP_SEED, check_lrs, picked, rates_text, sweep_arms, sweep_table
from cnnkit.studies._sweep import sweep_figure  # noqa: F401 - the notebook draws lrn.sweep_figure

NORMS = {"lrn": "lrn", "none": None, "batch": "batch"}
MARGIN = 0.01  # 1 pp of test error: half AlexNet's +2 pp, VGG's "no gain" (0.1 pp) well inside
MODEL = "alexnet_cifar"  # AlexNet's four-layer CIFAR-10 net, its norm option set per arm
RECIPE = "alexnet"  # SGD momentum 0.9, weight decay 5e-4 (the schedule is SCHEDULE, not the recipe's plateau)
SCHEDULE = "step"  # the rate ÷10 at 50 % and 75 % of each run's iterations: decays within any budget

NOTEBOOK = "03_lrn"
WORKERS = 2  # training processes of the sweep and of the main grid

# What the papers say, declared before any run (b − a of the test error, paired by seed): trained nets.
CLAIMS = {
    "alexnet": Claim("positive", judged_at="trained"),                  # none − LRN > 0
    "vgg": Claim("equivalent", margin=MARGIN, judged_at="trained"),     # |none − LRN| < 1 pp
    "batch": Claim("not_greater", margin=MARGIN, judged_at="trained"),  # BN − LRN < +1 pp: BN does at least as well
}


def _check_norms(norms) -> list[str]:
    return checked_variants(norms, f"norms must include 'none' and 'lrn' once each and may add 'batch' "
                                   f"(choices {list(NORMS)})", choices=NORMS, required=("lrn", "none"))


@dataclass(frozen=True)
class Params(StudyParams):
    """Notebook 03's parameters; the defaults are the quick preset."""

    dataset: str = "fashion_mnist"  # the paper: "cifar10"
    norms: tuple[str, ...] = ("none", "lrn")  # add "batch" for batch normalisation as a third arm
    seeds: tuple[int, ...] = (0, 1, 2, 3)  # paired: same initialisation and data order per seed; the long preset: 5
    subset: int | None = 12000  # training images, class-balanced (None: all)
    eval_subset: int | None = 2000  # validation and test images (test error is what is judged)
    resolution: int | None = 16  # images resized to 16x16 (None: native 28x28); the paper: 32x32
    iterations: int = 480  # per main run, a multiple of log_every; the paper trained ~100 epochs
    log_every: int = 40  # iterations per point of the curves; a quarter of the run holds several points
    batch_size: int = 64  # the paper: 128
    lrs: tuple[float, ...] = (0.03, 0.1, 0.3)  # the sweep: each arm and the linear floor train at their best rate
    sweep_iterations: int = 120  # per sweep run, with the same schedule (a quarter of the main runs)
    augment: str = "none"  # no augmentation (cuda-convnet's layers-18pct had none)
    bn_momentum: float = 0.9  # for the "batch" arm

    def __post_init__(self):
        super().__post_init__()
        _check_norms(self.norms)
        check_iterations(self.iterations, self.log_every)
        check_iterations(self.sweep_iterations, self.log_every)
        check_lrs(self.lrs)
        if self.sweep_iterations > self.iterations:
            raise ValueError(f"sweep_iterations={self.sweep_iterations!r} must not exceed iterations="
                             f"{self.iterations!r}: the sweep chooses rates for the main runs, it is not one")


# The notebook's presets: only what each changes from Params (cnnkit.studies._spec.COMMON adds the shared ones).
PRESETS = {
    # One seed, 20 iterations (the sweep 10) at two rates in this kernel: every code path, no verdict.
    "smoke": {"eval_subset": 100, "iterations": 20, "sweep_iterations": 10, "log_every": 10, "lrs": (0.03, 0.3)},
    # Six times the quick iterations and sweep (issue 27's 3,000-iteration check) on the same data: 2 CPU cores,
    # < 1 hour.
    "long": {"seeds": (0, 1, 2, 3, 4), "iterations": 2880, "sweep_iterations": 720, "log_every": 120},
    # cuda-convnet layers-18pct: CIFAR-10 at 32x32 without augmentation, ~100 epochs of 50k in batches of 128.
    "paper": {"dataset": "cifar10", "resolution": None, "iterations": 39000, "sweep_iterations": 9750,
              "log_every": 390, "lrs": (0.003, 0.01, 0.03)},
}


def _base(p: Params, iterations: int) -> dict:
    """The config every run shares: the recipe's optimizer and weight decay, :data:`SCHEDULE` over ``iterations``."""
    return base_config(model=MODEL, dataset=p.dataset, subset=p.subset, eval_subset=p.eval_subset,
                       epochs=iterations // p.log_every, steps_per_epoch=p.log_every, batch_size=p.batch_size,
                       augment=p.augment, bn_momentum=p.bn_momentum, recipe=RECIPE, resolution=p.resolution,
                       schedule=SCHEDULE)


def arms(p: Params) -> list[str]:
    """Every arm that trains: the normalisations of ``p`` and the linear floor."""
    return [*p.norms, LINEAR]


def _arm(name: str, lr: float) -> dict:
    if name == LINEAR:  # the floor every net must beat
        return {"model": "linear", "model_options": {}, "lr": lr}
    return {"model_options": {"norm": NORMS[name]}, "lr": lr}


def sweep(p: Params = Params(), *, name: str = "lrn_sweep") -> Experiment:
    """Every arm (:func:`arms`) at every rate of ``p.lrs``, one seed (:data:`SWEEP_SEED`, not a main seed), for
    ``p.sweep_iterations`` with the same schedule."""
    variants = {v: _arm(arm, lr) for v, (arm, lr) in sweep_arms(arms(p), p.lrs).items()}
    return Experiment(name, _base(p, p.sweep_iterations), variants=variants, seeds=(SWEEP_SEED,))


def experiment(p: Params = Params(), *, lrs: dict[str, float] | None = None, name: str = "lrn") -> Experiment:
    """The same net (:data:`MODEL`, :data:`RECIPE`) with each normalisation of ``p.norms``, and the linear floor,
    × seeds, each arm at its own rate.

    Each variant name maps to the model's ``norm`` option by :data:`NORMS`; training error is logged
    as the running mean over each interval of ``log_every`` iterations.

    Args:
        p: the notebook's parameters.
        lrs: each arm's rate, chosen by the sweep (:func:`run` passes it). Without it the grid has its shape
            (variants, seeds) but not its rates: every arm at the sweep's first rate.
        name: the experiment's name (its folder in the results store).

    Raises:
        ValueError: ``lrs`` lacks an arm.
    """
    lrs = dict(lrs or {a: p.lrs[0] for a in arms(p)})
    missing = [a for a in arms(p) if a not in lrs]
    if missing:
        raise ValueError(f"lrs has no rate for {missing}; give one per arm, e.g. "
                         f"{ {a: p.lrs[0] for a in arms(p)} } (run() takes them from the sweep)")
    return Experiment(name, _base(p, p.iterations), variants={a: _arm(a, lrs[a]) for a in arms(p)}, seeds=p.seeds)


@dataclass(frozen=True)
class Trained:
    """What :func:`run` trained: the sweep, the rates it chose, and the main runs.

    Attributes:
        sweep: the sweep's :class:`~cnnkit.ablation.Results`.
        table: :func:`cnnkit.studies._sweep.sweep_table` of the sweep (each arm's chosen rate marked).
        lrs: each arm's chosen rate (the linear floor's too).
        results: the main grid's :class:`~cnnkit.ablation.Results`.
    """

    sweep: Any
    table: pd.DataFrame
    lrs: dict[str, float]
    results: Any

    @property
    def choice(self) -> dict[str, Any]:
        """What the sweep chose, for the run summary: ``{"chosen_lrs": …}``."""
        return {"chosen_lrs": self.lrs}

    @property
    def text(self) -> str:
        """The choice in a sentence (Markdown)."""
        return "Chosen rates: " + ", ".join(f"**{a}** {lr:g}" for a, lr in self.lrs.items()) + "."


def run(p: Params, root: str, *, workers: int = WORKERS, **kwargs: Any) -> Trained:
    """Train the sweep, choose each arm's rate from it, then train :func:`experiment` with them.

    Both grids train in ``workers`` processes sharing the CPUs; finished runs are kept, interrupted ones
    resume (``kwargs`` go to :func:`cnnkit.studies.run_grid`).
    """
    swept = run_grid(sweep(p), root, workers=workers, **kwargs)
    table = sweep_table(swept.runs(), swept.history(), sweep_arms(arms(p), p.lrs))
    choice = picked(table)
    lrs = {a: choice[a] for a in arms(p)}
    return Trained(swept, table, lrs, run_grid(experiment(p, lrs=lrs), root, workers=workers, **kwargs))


def tracks(p: Params = Params()) -> list[Track]:
    """Both headline claims followed over training on the validation error (it stands in for the test set)."""
    quantity = "validation error, none − LRN"
    return [Track(f"{quantity}: does LRN help (AlexNet)?", "lrn", "none", CLAIMS["alexnet"], split="val"),
            Track(f"{quantity}: no effect (VGG)?", "lrn", "none", CLAIMS["vgg"], split="val")]


def summary_rows(runs: pd.DataFrame, p: Params = Params()) -> list[Row]:
    """AlexNet's claim and VGG's on the same runs (headlines), BN if ``p.norms`` has it, the absolute errors
    and the linear floor.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
        p: the parameters the runs used (its arms).
    """
    runs = with_floor(runs)
    without, with_ = ALEXNET["lrn_cifar_without"], ALEXNET["lrn_cifar_with"]
    quantity = "test error, no normalisation − LRN"
    rows = [diff_row(runs, "lrn", "none", "test_error", quantity=f"{quantity}: does LRN help (AlexNet)?",
                     reference=f"+{100 * (without.value - with_.value):.0f} pp ({without.source}: 13 % → 11 % "
                               "on CIFAR-10)", expect=CLAIMS["alexnet"], headline=True,
                     paper=without.value - with_.value),
            diff_row(runs, "lrn", "none", "test_error", quantity=f"{quantity}: no effect (VGG)?",
                     reference=f"within ±{100 * MARGIN:g} pp (Simonyan & Zisserman 2015, Table 3: A 29.6 % vs "
                               "A-LRN 29.7 % top-1 on ImageNet)", expect=CLAIMS["vgg"], headline=True)]
    if "batch" in p.norms:
        rows.append(diff_row(runs, "lrn", "batch", "test_error", quantity="test error, BN − LRN",
                             reference=f"< +{100 * MARGIN:g} pp (BN made LRN obsolete; Ioffe & Szegedy 2015)",
                             expect=CLAIMS["batch"]))
    refs = {"lrn": with_.text(), "none": without.text()}
    rows += [absolute_row(f"test error, {v}", mean_text(runs, v, "test_error"), refs.get(v, "—"),
                          "CIFAR-10 with the full recipe there; Fashion-MNIST at 16x16 and a CPU budget here")
             for v in p.norms]
    rows.append(floor_row(runs, p.norms))
    return rows


def supported(rows: list[Row]) -> str:
    """Which of the two claims the data support, from the two headline rows' verdicts."""
    alexnet, vgg = (r.verdict for r in rows[:2])
    if NOT_CONVERGED in (alexnet, vgg):
        return ("Neither claim is judged: the runs had not converged or did not beat the linear floor (both papers "
                "speak of trained nets); train longer before reading the difference.")
    if alexnet == vgg == "agrees":
        return (f"LRN lowers the test error, but by less than {100 * MARGIN:g} pp: nearer VGG's 'no gain' than "
                "AlexNet's 2 pp.")
    if alexnet == "agrees" and vgg != "agrees":
        return "The data support AlexNet's claim: LRN lowers the test error."
    if vgg == "agrees" and alexnet != "agrees":
        return f"The data support VGG's claim: LRN changes the test error by less than {100 * MARGIN:g} pp."
    if alexnet == "disagrees" and vgg == "disagrees":
        return "The data support neither claim: LRN raises the test error by more than the margin."
    return "The data decide between neither claim at this number of seeds."


def differences(p: Params, runs: pd.DataFrame | None = None, lrs: dict[str, float] | None = None) -> pd.DataFrame:
    """What a run with the parameters ``p`` does differently from the paper.

    With the ``runs`` frame, a row says how many of the arms' runs converged (:func:`converged_text`); with
    ``lrs`` (:attr:`Trained.lrs`), the learning-rate row names the rates the sweep chose.
    """
    res = f"{p.resolution}x{p.resolution}" if p.resolution else "native size"
    swept = f"sweep over {', '.join(f'{lr:g}' for lr in p.lrs)}, one seed, {p.sweep_iterations} iterations"
    rates = f"{rates_text(lrs)} ({swept})" if lrs else f"each arm's best in the {swept}"
    rows = [("data", f"{p.dataset} at {res}, {p.subset or 'all'} training images", "cifar10, 32x32, 50k"),
            ("LRN", "across channels, n=5, k=2, α=1e-4, β=0.75 (AlexNet §3.3)",
             "cuda-convnet layers-18pct: within each map, 3x3"),
            ("iterations × batch", f"{p.iterations} × {p.batch_size}", "~100 epochs × 128"),
            ("learning rates", rates, "one rate for both nets"),
            ("schedule", "÷10 at 50 % and 75 % of the iterations (budget-aware: AlexNet's ÷10 on a plateau never "
             "fires in a run this short, so the rate would never decay)",
             "÷10 when the validation error stopped improving"),
            ("floor", "the linear model on the same data and budget, at its own swept rate", "none"),
            ("test error", f"on {p.eval_subset or 'all'} test images", "10k test images"),
            ("seeds", f"{len(p.seeds)}, paired (same initialisation and data order)", "one run each")]
    if runs is not None and "status" in runs:
        rows.append(("convergence", converged_text(runs, p.norms), "trained to the end of the schedule"))
    return pd.DataFrame([(k, str(a), str(b)) for k, a, b in rows], columns=["", "here", "Krizhevsky et al. 2012"])

