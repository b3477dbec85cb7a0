"""04 · Overlapping vs non-overlapping pooling (Krizhevsky et al. 2012, §3.4), plus average and stochastic pooling.

AlexNet pools with 3x3 windows at stride 2, so neighbouring windows overlap; against 2x2 windows at
stride 2 (same output size) this lowered ImageNet top-1/top-5 error by 0.4/0.3 points, and the
authors observed that nets with overlapping pooling "find it slightly more difficult to overfit".
Zeiler & Fergus (2013) sample one activation per window instead (stochastic pooling) and report
lower CIFAR-10 error than with max or average pooling.

The grid trains ``alexnet_cifar`` (AlexNet's CIFAR net) with every pooling layer set by its
``pooling`` option: ``"overlap"`` (max 3x3/2), ``"max"`` (max 2x2/2), ``"avg"`` and
``"stochastic"`` (2x2/2). Its pools are 'same'-padded, so all variants see the same map sizes and
have the same parameters: only the pooling differs.

The claims are about the final error of trained nets, so every run ends its schedule inside its
budget: the rate is divided by 10 at 50 % and 75 % of the iterations (``schedule="step"``, He et
al.'s; the budget-aware form of AlexNet's "divide by 10 when the validation error stops improving",
which a run of a few hundred iterations never triggers). Runs are counted in iterations and log a
point every ``log_every`` of them, so the convergence measure (:mod:`cnnkit.train.convergence`) and
the verdict over training (:func:`tracks`) have points to read; a quarter of the run is a whole
number of points, so each ÷10 starts a logging interval and the last quarter's points all follow the
last one. A linear model on the same data and budget is the floor every arm must beat
(:data:`~cnnkit.studies._common.LINEAR`); an arm that does not has learnt nothing the claim could be
about, and its rows read "not converged".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cnnkit.ablation import Experiment
from cnnkit.ablation.over_training import Track
from cnnkit.ablation.verdicts import Claim
from cnnkit.notebook.report import Row
from cnnkit.reference import ALEXNET, POOLING
from cnnkit.studies._common import (LINEAR, absolute_row, base_config, check_iterations, checked_variants,
                                    converged_text, diff_row, finished, floor_row, mean_text, run_grid, with_floor)
from cnnkit.studies._spec import StudyParams

POOLINGS = ("overlap", "max", "avg", "stochastic")
_LABELS = {"overlap": "overlapping max 3x3/2", "max": "max 2x2/2", "avg": "average 2x2/2",
           "stochastic": "stochastic 2x2/2"}
MODEL = "alexnet_cifar"  # AlexNet's CIFAR net; its 'same'-padded pools give every pooling the same map sizes
RECIPE = "alexnet"  # SGD momentum 0.9, lr 0.01, weight decay 5e-4 (AlexNet §5); the schedule is a parameter
# What each budget-aware (or not) schedule does, for the what-differs tables of the studies that train with one.
SCHEDULE_TEXT = {
    "step": "÷10 at 50 % and 75 % of the iterations (He et al.'s step decay): a budget-aware form of AlexNet's, "
            "whose plateaus a short run never reaches",
    "linear": "linear decay to zero at the last iteration (Li, Yumer & Ramanan 2020, Budgeted Training)",
    "plateau": "÷10 when the validation error stops improving (AlexNet's)",
    "constant": "constant: the rate never decays, so no run can converge",
}

NOTEBOOK = "04_pooling"
WORKERS = 2  # training processes of the grid

# What the papers say, declared before any run (b − a of the named metric, paired by seed). All are about the
# final error of trained nets: judged only on runs that converged.
CLAIMS = {
    "overlap": Claim("negative", judged_at="trained"),      # §3.4: overlapping pooling lowers top-1 error by 0.4 pp
    "overlap_gap": Claim("negative", judged_at="trained"),  # §3.4: overlapping nets overfit slightly less
    "stochastic": Claim("negative", judged_at="trained"),   # Zeiler & Fergus: below max and average pooling
}


@dataclass(frozen=True)
class Params(StudyParams):
    """Notebook 04's parameters; the defaults are the quick preset."""

    dataset: str = "fashion_mnist"  # the paper used ImageNet; Zeiler & Fergus "cifar10"
    poolings: tuple[str, ...] = ("overlap", "max")  # the paper's pair, max 3x3/2 vs 2x2/2; may add "avg", "stochastic"
    seeds: tuple[int, ...] = (0, 1, 2, 3)  # runs are paired by seed (same subset, same data order in every arm)
    subset: int | None = 2400  # training examples, class-balanced (None: all)
    eval_subset: int | None = 1000  # validation and test examples (None: as subset); val is scored at every point
    resolution: int | None = 16  # images resized to 16x16 (maps 16 → 8 → 4 → 2; None: native)
    iterations: int = 120  # training iterations, 4k x log_every for the step schedule; AlexNet: ~90 epochs
    log_every: int = 15  # iterations per logged point; each ÷10 of the step schedule starts an interval
    schedule: str = "step"  # ÷10 at 50 % and 75 % of the iterations (budget-aware); AlexNet: "plateau"
    gap_row: bool = False  # judge "overlapping overfits less": needs runs long enough to overfit (preset paper)
    batch_size: int = 32  # more updates per image for short runs; the paper (and preset paper): 128
    augment: str = "none"  # AlexNet: random crops and mirror images ("alexnet")
    bn_momentum: float = 0.9  # only used with norm "batch"
    norm: str | None = "lrn"  # the net's normalisation: "lrn" (AlexNet), None or "batch"

    def __post_init__(self):
        super().__post_init__()
        checked_variants(self.poolings, f"poolings must include 'overlap' and 'max' once each and may add 'avg' "
                                        f"and 'stochastic' (choices {list(POOLINGS)})",
                         choices=POOLINGS, required=("overlap", "max"))
        check_iterations(self.iterations, self.log_every)


# The notebook's presets: only what each changes from Params (cnnkit.studies._spec.COMMON adds the shared ones).
PRESETS = {
    # COMMON's tiny budget on the paper's pair only (overlapping vs non-overlapping max), the quick grid;
    # avg/stochastic pooling are layer-tested.
    # Two seeds: the fewest the verdict over training can pair.
    "smoke": {"iterations": 20, "log_every": 10, "seeds": (0, 1)},
    # The quick design trained 5x longer on 5x the images (on a 2-core CPU, within the hour): do the nets beat
    # the linear floor and keep their verdicts?
    "long": {"iterations": 800, "log_every": 40, "subset": 12000, "eval_subset": 2000},
    # Krizhevsky et al. 2012 §3.4 measured on ImageNet; CIFAR-10 is Zeiler & Fergus' stochastic-pooling set:
    # 100 epochs of 45k images, one logged point per epoch (the plateau's patience counts epochs).
    "paper": {"dataset": "cifar10", "iterations": 35100, "log_every": 351, "schedule": "plateau",
              "poolings": ("overlap", "max", "avg", "stochastic"), "gap_row": True, "resolution": None},
}


def experiment(p: Params = Params(), *, name: str = "pooling") -> Experiment:
    """The same net (:data:`MODEL`) with each pooling of ``p.poolings`` × seeds, and the linear floor.

    Each variant is named after the pooling it passes as the model's ``pooling`` option
    (``'overlap'``, ``'max'``, ``'avg'``, ``'stochastic'``); ``p.norm`` is its ``norm`` option. Every run
    trains ``p.iterations`` with ``p.schedule``, one logged point every ``p.log_every``. The variant
    :data:`LINEAR` is the suite's linear model on the same data and budget.
    """
    base = base_config(model=MODEL, dataset=p.dataset, subset=p.subset, epochs=p.iterations // p.log_every,
                       steps_per_epoch=p.log_every, batch_size=p.batch_size, augment=p.augment,
                       bn_momentum=p.bn_momentum, recipe=RECIPE, resolution=p.resolution, eval_subset=p.eval_subset,
                       schedule=p.schedule)
    base["model_options"] = {"norm": p.norm}
    variants = {pool: {"model_options.pooling": pool} for pool in p.poolings}
    variants[LINEAR] = {"model": "linear", "model_options": {}}  # the floor every net must beat
    return Experiment(name, base, variants=variants, seeds=p.seeds)


def run(p: Params, root: str, *, workers: int = WORKERS, **kwargs):
    """Train :func:`experiment` of ``p`` in ``workers`` processes; finished runs are kept, interrupted ones resume."""
    return run_grid(experiment(p), root, workers=workers, **kwargs)


def tracks(p: Params = Params()) -> list[Track]:
    """The headline difference followed over training: overlapping − non-overlapping max pooling in validation
    error (the split that stands in for the test set while training), judged by the headline's claim."""
    return [Track("overlap − max, validation error", "max", "overlap", CLAIMS["overlap"], split="val")]


def _gap(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs with ``test_error`` replaced by the generalisation gap ``test_error − train_error``."""
    out = runs.copy()
    out["test_error"] = pd.to_numeric(out["test_error"], errors="coerce") - pd.to_numeric(out["train_error"],
                                                                                           errors="coerce")
    return out


def mechanics_rows(checks: pd.DataFrame, examples: Mapping[str, np.ndarray],
                   heads: Mapping[str, pd.DataFrame] | None = None, tolerance: float = 1e-6) -> list[Row]:
    """Rows the computation decides exactly: the article's backward passes and its 2x2 examples, head sizes.

    Args:
        checks: :func:`cnnkit.teach.pooling.backward_table`.
        examples: :func:`cnnkit.teach.pooling.worked_examples`.
        heads: name → :func:`cnnkit.teach.pooling.head_params` (Keras counts against the formula).
        tolerance: largest absolute difference from Keras that still agrees (float32 round-off).

    Returns:
        The NumPy backward (and forward) against Keras' pooling and its autodiff gradient over every
        window/stride of ``checks`` (headline), the article's 2x2 max and average examples, and per
        head the Keras parameter counts against the formula.
    """
    worst = float(checks[["forward_max_abs_diff", "backward_max_abs_diff", "loops_max_abs_diff"]].max().max())
    overlapping = int(checks["overlapping"].sum())
    rows = [Row("max/avg pooling forward and backward (NumPy, article 002) − Keras autodiff, max |diff|",
                f"{worst:.1e} over {len(checks)} window/stride/mode settings ({overlapping} overlapping)",
                "0: the gradient goes to the arg-max (max) or 1/k² to each input (average)",
                "agrees" if worst < tolerance else "disagrees", f"float32 round-off tolerance {tolerance:g}", True,
                f"exact computation, |diff| < {tolerance:g}")]
    max_ok = np.array_equal(examples["max_grad"], examples["input"] == examples["input"].max())
    avg_ok = np.allclose(examples["avg_grad"], 1.0 / examples["input"].size)
    rows.append(Row("the article's 2x2 example [[1, 3], [2, 4]], gradient 1: max / average backward",
                    f"max {examples['max_grad'].tolist()}, average {examples['avg_grad'].tolist()}",
                    "max: 1 at the position of 4, 0 elsewhere; average: 0.25 each (article 002)",
                    "agrees" if max_ok and avg_ok else "disagrees", "", False, "exact computation"))
    for name, frame in (heads or {}).items():
        counts = frame.set_index("head")
        same = bool((counts["params (Keras)"] == counts["params (formula)"]).all())
        rows.append(Row(f"classifier head parameters, {name}: flatten + FC vs GAP + dense",
                        " vs ".join(f"{int(v):,}" for v in counts["params (Keras)"]),
                        " vs ".join(f"{int(v):,}" for v in counts["params (formula)"]) + " (formula Σ (in + 1)·out)",
                        "agrees" if same else "disagrees", "counted by Keras", False, "exact count"))
    return rows


def summary_rows(runs: pd.DataFrame, p: Params = Params()) -> list[Row]:
    """Overlapping against non-overlapping pooling (the paper: −0.4 pp top-1), then the other poolings.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
        p: the parameters the runs used: its ``poolings`` name the arms; ``gap_row`` adds the
            generalisation-gap row (test − train error; the paper: overlapping overfits slightly less, no
            number). Off in the quick preset: a run short enough not to overfit cannot decide it.

    Returns:
        ``overlap − max`` test error (headline; :data:`CLAIMS`: negative); the gap row if ``p.gap_row`` and
        ``train_error`` was recorded; ``stochastic − max`` and ``stochastic − avg`` test error (Zeiler &
        Fergus: negative) where both arms are in ``p.poolings``; each pooling's test error (not comparable:
        another data set and budget); the linear floor beside the arms.
    """
    runs = with_floor(runs)
    gain = ALEXNET["overlap_pool_top1_gain"]
    rows = [diff_row(runs, "max", "overlap", "test_error",
                     quantity="test error, overlapping 3x3/2 − non-overlapping 2x2/2",
                     reference=f"−{100 * gain.value:.1f} pp ({gain.source}, ImageNet top-1; top-5 −0.3 pp)",
                     expect=CLAIMS["overlap"], headline=True, note="paired by seed (same subset and data order)")]
    if p.gap_row and "train_error" in runs.columns and not finished(runs, "overlap", "train_error").empty:
        rows.append(diff_row(_gap(runs), "max", "overlap", "test_error",
                             quantity="generalisation gap (test − train error), overlapping − non-overlapping",
                             reference=f"negative: 'slightly more difficult to overfit' ({gain.source})",
                             expect=CLAIMS["overlap_gap"], note="train error is the running mean of the last epoch"))
    stochastic = POOLING["stochastic_cifar_test_error"]
    for other in ("max", "avg"):
        if "stochastic" in p.poolings and other in p.poolings:
            rows.append(diff_row(runs, other, "stochastic", "test_error",
                                 quantity=f"test error, stochastic − {_LABELS[other]}",
                                 reference=f"negative ({stochastic.source}, CIFAR-10)", expect=CLAIMS["stochastic"]))
    refs = {"stochastic": stochastic.text()}
    rows += [absolute_row(f"test error, {_LABELS[v]}", mean_text(runs, v, "test_error"), refs.get(v, "—"))
             for v in p.poolings]
    rows.append(floor_row(runs, p.poolings))
    return rows


def iterations(p: Params) -> str:
    """The training of a run with ``p``, as text: iterations, and the passes over the subset they make."""
    if p.subset is None:
        return f"{p.iterations} iterations"
    return f"{p.iterations} iterations (≈ {p.iterations * p.batch_size / p.subset:.1f} passes over the subset)"


def differences(p: Params, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """What a run with the parameters ``p`` does differently from the paper (a table for the report).

    With the ``runs`` frame, a row says how many of the runs converged (:func:`converged_text`).
    """
    res = f"{p.resolution}x{p.resolution}" if p.resolution else "native size"
    arms = ", ".join(_LABELS[v] for v in p.poolings)
    rows = [("data", f"{p.dataset} at {res}, {p.subset or 'all'} training images",
             "ImageNet, 224x224 crops of 256x256 images, 1.2M images (stochastic pooling: CIFAR-10)"),
            ("net", f"{MODEL} (AlexNet's CIFAR net), normalisation {p.norm}", "AlexNet: 5 conv + 3 FC layers, LRN"),
            ("poolings compared", arms, "overlapping max 3x3/2 vs max 2x2/2 (Zeiler & Fergus: max, avg, stochastic)"),
            ("training", f"{iterations(p)} of batch {p.batch_size}, recipe {RECIPE}",
             "about 90 epochs of batch 128, SGD momentum 0.9, lr 0.01"),
            ("schedule", SCHEDULE_TEXT.get(p.schedule, p.schedule), "÷10 when the validation error stopped improving"),
            ("augmentation", p.augment, "random 224x224 crops, mirror images, PCA colour jitter"),
            ("overfitting claim", "judged (gap_row)" if p.gap_row else "not judged (gap_row False)",
             "'slightly more difficult to overfit', no number"),
            ("what is judged", "the direction of overlap − max, paired by seed", "−0.4 pp top-1, −0.3 pp top-5"),
            ("seeds", f"{len(p.seeds)}, paired (same seed, same data order)", "one run per setting"),
            ("floor", "a linear model on the same data and budget: every arm must beat it", "—")]
    if runs is not None and "status" in runs:
        rows.append(("convergence", converged_text(runs, p.poolings), "trained to convergence"))
    return pd.DataFrame([(k, str(a), str(b)) for k, a, b in rows], columns=["", "here", "Krizhevsky et al. 2012"])
