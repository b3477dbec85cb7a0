"""14 · Does the warm-up matter for depth? (He et al. 2016, §4.2, footnote on ResNet-110).

He et al. found the rate of 0.1 "slightly too large to start converging" for ResNet-110, so they
trained it at 0.01 until its training error fell below 80 % (about 400 iterations), then at 0.1;
their shallower nets, 56 layers included, started at 0.1. Notebook 01 warms every net up (a linear
warm-up over ``warmup_steps``). Here the warm-up is the only factor. The design, fixed before any run:

* arms: plain-20 and resnet-20 (``resnet_cifar``, width 8, Fashion-MNIST at 16x16, 01's subset,
  batch 64, BN momentum 0.9, SGD momentum 0.9, weight decay 1e-4), each **with** a linear warm-up
  over 40 iterations to lr 0.1 and **without** (``warmup_steps`` 0: 0.1 from the first step); the
  step schedule of 01 (÷10 at 50 % and 75 % of the iterations); 3 seeds, paired (one seed: the same
  initial weights and data order in both arms of a family); and 01's ``linear`` floor arm;
* budget: 120 iterations, one point every 15, 20 layers (the long preset: 56 layers, 1,200 iterations).
  Twelve deep runs share the main job's 15 minutes with thirteen other notebooks: 56 layers at 150
  iterations cost ≈ 430 CPU-seconds and 32 layers at 120 iterations ≈ 185 lane-seconds of the main job
  (measured, read for their cost only), several times this notebook's share. At 20 layers the quick
  verdict is about nets He et al. started at 0.1 without trouble; the long preset asks it at 56. The warm arms reach the peak at iteration 40 and hold it until the first decay at 60;
* claims (:data:`CLAIMS`), per family, each ``no warm-up − warm-up`` paired by seed:
  "early" — the iterations until the running training error first falls below 80 % (He et al.'s
  "started converging", :data:`TARGET`; recorded by each run through
  ``target_train_error``; a run that never gets there counts its length, a lower bound) are > 0;
  "trained" — the final training error (the last interval's running error) is equivalent within
  ±2 pp (TOST): the warm-up decides the start, not the end. A trained row is judged only on runs
  that converged and beat the linear floor, else it reads "not converged";
* headlines: the two families' final-error rows.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import pandas as pd

from cnnkit._status import FINISHED
from cnnkit.ablation import Experiment
from cnnkit.ablation.over_training import Track
from cnnkit.ablation.verdicts import Claim
from cnnkit.notebook.report import Row
from cnnkit.studies import depth
from cnnkit.studies._common import (LINEAR, base_config, check_iterations, converged_text, diff_row, floor_row,
                                    iterations_to_target, judged_row, run_grid, with_floor)
from cnnkit.studies._spec import StudyParams

NOTEBOOK = "14_warmup_depth"
WORKERS = 2  # training processes of the grid

# What the paper says, declared before any run (no warm-up − warm-up, paired by seed, per family).
CLAIMS = {
    # the footnote: at 0.1 from the first step the net is slow to start (iterations to < 80 % training error)
    "early": Claim("positive", judged_at="early"),
    # warm-up decides the start, not the end: final training error within ±2 pp (TOST)
    "trained": Claim("equivalent", margin=0.02, judged_at="trained"),
}
FAMILIES = {"plain": True, "resnet": False}  # family → model_options.plain
TARGET = depth.CHANCE  # He et al.'s "started converging": the training error is below 80 %


@dataclass(frozen=True)
class Params(StudyParams):
    """Notebook 14's parameters; the defaults are the quick preset."""

    dataset: str = "fashion_mnist"  # the paper: "cifar10"
    depth: int = 20  # layers, 6n+2 and at least 14; the long preset: 56; the footnote's net: 110
    seeds: tuple[int, ...] = (0, 1, 2)  # paired: one seed gives both arms of a family the same weights and data order
    subset: int | None = 7200  # training images, class-balanced (None: all)
    eval_subset: int | None = 250  # validation and test images (only the floor uses them: the claims are on training error)
    resolution: int | None = 16  # images resized to 16x16 (None: native); the paper: 32x32
    width: int = 8  # filters of the first stage; the paper: 16
    iterations: int = 120  # training iterations, a multiple of log_every; the paper: 64k
    log_every: int = 15  # iterations per point of the learning curves
    batch_size: int = 64  # the paper: 128
    lr: float = 0.1  # peak rate (the arms without warm-up start at it), divided by 10 at 50 % and 75 %
    warmup_steps: int = 40  # the warm arms' linear warm-up to lr; He et al.: 0.01 for ~400 iterations
    augment: str = "none"  # the paper: "resnet_cifar" (pad 4, random crop, flip)
    bn_momentum: float = 0.9  # Keras' 0.99 barely moves in a few hundred steps (REFERENCE.md)
    recipe: str = "resnet_cifar"  # SGD momentum 0.9, weight decay 1e-4 (the paper's)

    def __post_init__(self):
        super().__post_init__()
        if self.depth < 14:
            raise ValueError(f"depth={self.depth!r} is too shallow for a question about depth; "
                             "use a 6n+2 depth of at least 14, e.g. 56 or 110")
        depth.Params(depths=(8, self.depth))  # depth's 6n+2 rule: a ValueError naming the bad depth
        check_iterations(self.iterations, self.log_every)
        if not 0 < self.warmup_steps < self.iterations:
            raise ValueError(f"warmup_steps={self.warmup_steps!r} must lie in 1..iterations-1 "
                             f"(iterations={self.iterations}): the warm arms need a warm-up, the others have none")


# The notebook's presets: only what each changes from Params (cnnkit.studies._spec.COMMON adds the shared ones).
PRESETS = {
    # A 14-layer net, 20 iterations in this kernel: every code path, no verdict; two seeds, so that the
    # verdict over training has a paired interval to draw.
    "smoke": {"depth": 14, "seeds": (0, 1), "eval_subset": 100, "width": 4, "iterations": 20, "log_every": 10,
              "warmup_steps": 5},
    # The same design at 01's depth of 56, trained ten times longer on the embedded data (2-core CPU, under an hour).
    "long": {"depth": 56, "iterations": 1200, "log_every": 50, "warmup_steps": 50},
    # The footnote's net: ResNet-110 on CIFAR-10 at 32x32, width 16, 64k iterations of batch 128, a warm-up
    # of ~400 iterations, augmented, the whole 45k/5k split.
    "paper": {"dataset": "cifar10", "depth": 110, "resolution": None, "width": 16, "iterations": 64000,
              "log_every": 400, "warmup_steps": 400, "augment": "resnet_cifar"},
}


def arm(family: str, warm: bool, p: Params = Params()) -> str:
    """``plain-20 warm-up`` / ``resnet-20 no warm-up``."""
    return f"{depth.variant_name(p.depth, FAMILIES[family])} {'warm-up' if warm else 'no warm-up'}"


def experiment(p: Params = Params(), *, name: str = "warmup_depth") -> Experiment:
    """Plain and residual nets of ``p.depth`` layers, with and without the warm-up, × seeds, and the linear floor.

    Each run records the iteration at which its running training error first fell below
    :data:`TARGET` (``target_train_error``); the recipe divides the rate by 10 at 50 %
    and 75 % of the iterations.
    """
    base = base_config(model="resnet_cifar", dataset=p.dataset, subset=p.subset, epochs=p.iterations // p.log_every,
                       batch_size=p.batch_size, augment=p.augment, bn_momentum=p.bn_momentum, recipe=p.recipe,
                       resolution=p.resolution, eval_subset=p.eval_subset, steps_per_epoch=p.log_every, lr=p.lr,
                       warmup_steps=p.warmup_steps, target_train_error=TARGET)
    variants = {arm(f, warm, p): {"model_options": {"depth": p.depth, "plain": plain, "width": p.width},
                                  "warmup_steps": p.warmup_steps if warm else 0}
                for f, plain in FAMILIES.items() for warm in (False, True)}
    variants[LINEAR] = {"model": "linear", "model_options": {}}  # the floor every net must beat
    return Experiment(name, base, variants=variants, seeds=p.seeds)


def run(p: Params, root: str, *, workers: int = WORKERS, **kwargs):
    """Train :func:`experiment` of ``p`` in ``workers`` processes; finished runs are kept, interrupted ones resume."""
    return run_grid(experiment(p), root, workers=workers, **kwargs)


def curves(history: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """The learning curves with the factors as columns: ``family`` (plain/resnet), ``warm-up`` (its iterations,
    ``none`` without), iterations and error in %. The factors come from the runs' config columns; the linear
    floor is left out."""
    nets = runs[runs["variant"] != LINEAR].set_index("run_id")[["model_options.plain", "warmup_steps"]]
    data = history[(history["metric"] == "error") & history["run_id"].isin(nets.index)].join(nets, on="run_id")
    data["family"] = data["model_options.plain"].map({plain: f for f, plain in FAMILIES.items()})
    steps = data["warmup_steps"].astype(int)
    data["warm-up"] = steps.map(lambda n: f"{n} iterations" if n else "none")
    data["iteration"] = data["step"]
    return data


def arms(runs: pd.DataFrame, history: pd.DataFrame, p: Params = Params()) -> pd.DataFrame:
    """Per arm, the linear floor last: finished runs, how many started (training error ≤ :data:`TARGET`), their
    mean iterations to it, and the means of the final training and test error in %."""
    out = []
    for v in [arm(f, w, p) for f in FAMILIES for w in (True, False)] + [LINEAR]:
        done = runs[(runs["variant"] == v) & runs["status"].isin(FINISHED)]
        start = iterations_to_target(runs, history, v)
        reached = start[start["reached"]]["iterations"]
        out.append({"arm": v, "runs": len(done), "started": int(start["reached"].sum()),
                    f"iterations to ≤ {100 * TARGET:g} %": round(float(reached.mean()), 1) if len(reached) else None,
                    "final training error %": round(100 * float(done["train_error"].mean()), 2),
                    "test error %": round(100 * float(done["test_error"].mean()), 2)})
    return pd.DataFrame(out)


def tracks(p: Params = Params()) -> list[Track]:
    """The headline differences followed over training: no warm-up − warm-up training error, per family."""
    return [Track(f"{arm(f, False, p)} − warm-up, training error", arm(f, True, p), arm(f, False, p),
                  CLAIMS["trained"]) for f in FAMILIES]


def early_row(runs: pd.DataFrame, history: pd.DataFrame, family: str, p: Params) -> Row:
    """Iterations to < 80 % training error, no warm-up − warm-up, paired by seed (claim "early").

    A run without warm-up that never got there counts its length: the difference is then a lower bound,
    which can only understate the claim, so an *agrees* stands. A warm run that never got there leaves
    the difference unbounded: the row says so and is inconclusive.
    """
    warm, cold = arm(family, True, p), arm(family, False, p)
    quantity = f"iterations to ≤ {100 * TARGET:g} % training error, {cold} − warm-up"
    reference = ("> 0: at 0.1 from the first step ResNet-110 was 'slightly too large to start converging' "
                 "(He et al. 2016, §4.2 footnote; its 56-layer nets started at 0.1)")
    claim = CLAIMS["early"]
    w, c = iterations_to_target(runs, history, warm).dropna(), iterations_to_target(runs, history, cold).dropna()
    seeds = w.index.intersection(c.index)
    if len(seeds) == 0 or not w.loc[seeds, "reached"].all():
        measured = (f"no finished pair of {warm} and {cold}" if len(seeds) == 0 else
                    f"{warm} did not get there in {int((~w.loc[seeds, 'reached']).sum())} of {len(seeds)} runs")
        return Row(quantity, measured, reference, "inconclusive", "", False, claim.describe(True),
                   judged_at=claim.judged_at)
    late = int((~c.loc[seeds, "reached"]).sum())
    note = (f"{late} of {len(seeds)} runs without warm-up never got there (counted with their length, ≥)"
            if late else "")
    return judged_row(quantity, w.loc[seeds, "iterations"].to_numpy(), c.loc[seeds, "iterations"].to_numpy(), claim,
                      reference=reference, note=note, scale=1.0, suffix=" iterations")


def summary_rows(runs: pd.DataFrame, p: Params, history: pd.DataFrame) -> list[Row]:
    """Measured vs paper, per family: when the net started (early) and where it ended (trained), then the floor.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
        p: the parameters the runs used.
        history: :meth:`cnnkit.ablation.Results.history` (the length of a run that never started).

    Returns:
        Per family, no warm-up − warm-up: final training error (headline; claim "trained", ±2 pp) and the
        iterations to < 80 % training error (claim "early"); then the linear floor beside the four arms.
    """
    runs = with_floor(runs)
    rows = [diff_row(runs, arm(f, True, p), arm(f, False, p), "train_error",
                     quantity=f"final training error, {arm(f, False, p)} − warm-up: does the warm-up change the end?",
                     reference=f"≈ 0, within ±{100 * CLAIMS['trained'].margin:g} pp (the footnote warms up only "
                               "until the net starts, then trains at 0.1)", expect=CLAIMS["trained"], headline=True)
            for f in FAMILIES]
    rows += [early_row(runs, history, f, p) for f in FAMILIES]
    rows.append(floor_row(runs, [arm(f, w, p) for f in FAMILIES for w in (True, False)]))
    return rows


def differences(p: Params, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """What a run with the parameters ``p`` does differently from the paper (a table for the report)."""
    from cnnkit.train.callbacks import IterationsToTarget

    window = inspect.signature(IterationsToTarget).parameters["window"].default
    res = f"{p.resolution}x{p.resolution}" if p.resolution else "native size"
    rows = [("data", f"{p.dataset} at {res}, {p.subset or 'all'} training images", "cifar10, 32x32, 45k images"),
            ("net", f"plain-{p.depth} and resnet-{p.depth}, width {p.width}", "ResNet-110, width 16"),
            ("iterations × batch", f"{p.iterations} × {p.batch_size}", "64k × 128"),
            ("warm-up", f"linear from 0 to lr {p.lr} over {p.warmup_steps} iterations",
             "lr 0.01 until the training error is below 80 % (~400 iterations), then 0.1"),
            ("without warm-up", f"lr {p.lr} from the first step, same seeds", "described in words only"),
            ("'started converging'", f"running training error over the last {window} iterations first < "
             f"{100 * TARGET:g} % (≤)", "training error below 80 %"),
            ("augmentation", p.augment, "resnet_cifar (pad 4, random crop, flip)"),
            ("seeds", f"{len(p.seeds)}, paired (same seed, same weights and data order)", "one run")]
    if runs is not None:
        nets = [arm(f, w, p) for f in FAMILIES for w in (True, False)]
        rows.append(("convergence", converged_text(runs, nets), "trained to the end of the schedule (64k)"))
    return pd.DataFrame([(k, str(a), str(b)) for k, a, b in rows], columns=["", "here", "He et al. 2016"])
