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
claim that BN does at least as well (non-inferiority within the same margin). Every claim is about
the test error of trained nets (``judged_at="trained"``): on runs that did not converge its row
reads "not converged".
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cnnkit.ablation import Experiment
from cnnkit.ablation.verdicts import NOT_CONVERGED, Claim
from cnnkit.notebook.report import Row
from cnnkit.reference import ALEXNET
from cnnkit.studies._common import (absolute_row, base_config, check_iterations, checked_variants,
                                    converged_text, diff_row, mean_text, run_grid)
from cnnkit.studies._spec import StudyParams

NORMS = {"lrn": "lrn", "none": None, "batch": "batch"}
MARGIN = 0.01  # 1 pp of test error: half AlexNet's +2 pp, VGG's "no gain" (0.1 pp) well inside
MODEL = "alexnet_cifar"  # AlexNet's four-layer CIFAR-10 net, its norm option set per arm
RECIPE = "alexnet"  # SGD momentum 0.9, weight decay 5e-4, the rate divided by 10 on a plateau

NOTEBOOK = "03_lrn"
WORKERS = 2  # training processes of the grid

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
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)  # paired: one seed gives every arm the same initialisation and data order
    subset: int | None = 12000  # training images, class-balanced (None: all)
    eval_subset: int | None = 2000  # validation and test images (test error is what is judged)
    resolution: int | None = 16  # images resized to 16x16 (None: native 28x28); the paper: 32x32
    iterations: int = 500  # training iterations, a multiple of log_every; the paper trained ~100 epochs
    log_every: int = 100  # iterations per point of the curves
    batch_size: int = 64  # the paper: 128
    lr: float | None = 0.02  # SGD momentum 0.9, weight decay 5e-4, divided by 10 on a plateau (AlexNet recipe)
    augment: str = "none"  # no augmentation (cuda-convnet's layers-18pct had none)
    bn_momentum: float = 0.9  # for the "batch" arm

    def __post_init__(self):
        super().__post_init__()
        _check_norms(self.norms)
        check_iterations(self.iterations, self.log_every)


# The notebook's presets: only what each changes from Params (cnnkit.studies._spec.COMMON adds the shared ones).
PRESETS = {
    # One seed, 20 iterations in this kernel: every code path, no verdict.
    "smoke": {"eval_subset": 100, "iterations": 20, "log_every": 10},
    # cuda-convnet layers-18pct: CIFAR-10 at 32x32 without augmentation, ~100 epochs of 50k in batches of 128.
    "paper": {"dataset": "cifar10", "resolution": None, "iterations": 39000, "log_every": 390, "lr": 0.01},
}


def experiment(p: Params = Params(), *, name: str = "lrn") -> Experiment:
    """The same net (:data:`MODEL`, :data:`RECIPE`) with each normalisation of ``p.norms`` × seeds.

    Each variant name maps to the model's ``norm`` option by :data:`NORMS`; training error is logged
    as the running mean over each interval of ``log_every`` iterations.
    """
    base = base_config(model=MODEL, dataset=p.dataset, subset=p.subset, eval_subset=p.eval_subset,
                       epochs=p.iterations // p.log_every, steps_per_epoch=p.log_every, batch_size=p.batch_size,
                       augment=p.augment, bn_momentum=p.bn_momentum, recipe=RECIPE, resolution=p.resolution, lr=p.lr)
    variants = {n: {"model_options": {"norm": NORMS[n]}} for n in p.norms}
    return Experiment(name, base, variants=variants, seeds=p.seeds)


def run(p: Params, root: str, *, workers: int = WORKERS, **kwargs):
    """Train :func:`experiment` of ``p`` in ``workers`` processes; finished runs are kept, interrupted ones resume."""
    return run_grid(experiment(p), root, workers=workers, **kwargs)


def summary_rows(runs: pd.DataFrame, p: Params = Params()) -> list[Row]:
    """AlexNet's claim and VGG's on the same runs (headlines), BN if ``p.norms`` has it, then absolute errors.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
        p: the parameters the runs used (its arms).
    """
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
    return rows


def supported(rows: list[Row]) -> str:
    """Which of the two claims the data support, from the two headline rows' verdicts."""
    alexnet, vgg = (r.verdict for r in rows[:2])
    if NOT_CONVERGED in (alexnet, vgg):
        return ("Neither claim is judged: the runs had not converged (both papers speak of trained nets); "
                "train longer before reading the difference.")
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


def differences(p: Params, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """What a run with the parameters ``p`` does differently from the paper.

    With the ``runs`` frame, a row says how many of the runs converged (:func:`converged_text`).
    """
    res = f"{p.resolution}x{p.resolution}" if p.resolution else "native size"
    rows = [("data", f"{p.dataset} at {res}, {p.subset or 'all'} training images", "cifar10, 32x32, 50k"),
            ("LRN", "across channels, n=5, k=2, α=1e-4, β=0.75 (AlexNet §3.3)",
             "cuda-convnet layers-18pct: within each map, 3x3"),
            ("iterations × batch", f"{p.iterations} × {p.batch_size}", "~100 epochs × 128"),
            ("test error", f"on {p.eval_subset or 'all'} test images", "10k test images"),
            ("seeds", f"{len(p.seeds)}, paired (same initialisation and data order)", "one run each")]
    if runs is not None and "status" in runs:
        rows.append(("convergence", converged_text(runs), "trained to the end of the schedule"))
    return pd.DataFrame([(k, str(a), str(b)) for k, a, b in rows], columns=["", "here", "Krizhevsky et al. 2012"])
