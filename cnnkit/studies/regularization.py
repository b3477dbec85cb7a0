"""07 · Regularisation: dropout, L2 vs L1 weight penalties, batch norm, data augmentation.

AlexNet (Krizhevsky et al. 2012) fought overfitting with data augmentation (§4.1: without it
"substantial overfitting"; PCA colour jitter lowers top-1 error "by over 1 %") and dropout 0.5
(§4.2: without it "substantial overfitting"; it "roughly doubles the number of iterations
required to converge"), and trained with weight decay 5e-4 (§5). Each regulariser is added
alone to an unregularised net (``none``), so every variant's effect is measured against the
same baseline: on the train–test gap and on the test error, over seeds.

The training error of the gap is measured on the training images in inference mode (no
dropout, no augmentation, BN moving statistics; :func:`fit_with_train_error`): Keras' running
training error is taken with dropout and augmentation on, which would hide the overfitting.

The gap and the errors are claims about trained nets, so every run must finish learning within its
budget: the learning rate is divided by 10 at 50 % and 75 % of the iterations (``schedule="step"``,
He et al.'s schedule; the budget-aware form of AlexNet's "divide by 10 when the validation error
stops improving", whose plateaus a short run never reaches). Runs are counted in iterations of
AlexNet's batch of 128 and log a point every ``log_every`` iterations, so the convergence measure
and the verdict over training (:func:`tracks`) have points to read (a quarter of the run is a whole
number of points, so each ÷10 starts a logging interval and the last quarter's points all follow the
last one). A linear model on the same data and budget is the floor every arm must beat
(:data:`~cnnkit.studies._common.LINEAR`): a regularised net that does not has learnt nothing the
claim could be about, and its rows read "not converged".
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import pandas as pd

from cnnkit._status import DONE
from cnnkit.ablation import Experiment, format_mean_ci, summarize
from cnnkit.ablation.over_training import Track
from cnnkit.ablation.verdicts import Claim
from cnnkit.notebook.report import Row
from cnnkit.reference import REGULARIZATION
from cnnkit.studies._common import (LINEAR, base_config, check_iterations, checked_variants, converged_text, diff_row,
                                    floor_row, run_grid, with_floor)
from cnnkit.studies._spec import StudyParams
from cnnkit.studies.activations import speed_row
from cnnkit.studies.pooling import SCHEDULE_TEXT

VARIANTS = ("none", "dropout", "l2", "l1", "batch_norm", "aug_resnet_cifar", "aug_alexnet", "aug_alexnet_no_pca")
# LeNet-5 made AlexNet-like: ReLU, max pooling, two hidden fully connected layers (where AlexNet has dropout).
MODEL_OPTIONS = {"activation": "relu", "pooling": "max", "norm": None, "dropout": 0.0}
RECIPE = "alexnet"  # SGD momentum 0.9 (AlexNet §5); its weight decay is switched off in the baseline
CLEAN_TRAIN = ("train_clean_error", "train_clean_loss")

NOTEBOOK = "07_regularization"
WORKERS = 2  # training processes of the grid

# What AlexNet says, declared before any run (b − a, paired by seed). The gap and the errors are claims about
# trained nets (judged only on runs that converged); dropout's cost in iterations is a claim about speed.
CLAIMS = {
    "gap": Claim("negative", judged_at="trained"),       # a regulariser shrinks the train–test gap (§4.1, §4.2)
    "test": Claim("negative", judged_at="trained"),      # ... and lowers the test error
    "l2_train": Claim("negative", judged_at="trained"),  # §5: weight decay "reduces the model's training error"
    "pca": Claim("negative", judged_at="trained"),       # §4.1: PCA colour jitter lowers top-1 error by over 1 %
    "dropout_speed": Claim("positive", judged_at="early"),  # §4.2: dropout roughly doubles the iterations to converge
}

_ALEX = "Krizhevsky et al. 2012"
# variant -> (reference for the gap, reference for the test error)
_REFERENCES = {
    "dropout": (f"smaller ({_ALEX}, §4.2: without dropout 'substantial overfitting')", "lower (§4.2)"),
    "l2": ("— (§5: weight decay 5e-4 'is not merely a regularizer')", "lower (AlexNet's recipe has wd 5e-4)"),
    "l1": ("— (not in AlexNet; L1 pulls every weight towards 0 at a constant rate: sparse weights)", "—"),
    "batch_norm": ("smaller (Ioffe & Szegedy 2015, §3.4: BN regularises, less need for dropout)", "lower (ibid.)"),
    "aug_resnet_cifar": ("smaller (He et al. 2016 train CIFAR with pad-crop-flip)", "lower"),
    "aug_alexnet": (f"smaller ({_ALEX}, §4.1: without augmentation 'substantial overfitting')", "lower (§4.1)"),
    "aug_alexnet_no_pca": ("smaller (§4.1, crops and flips alone)", "lower (§4.1)"),
}


@dataclass(frozen=True)
class Params(StudyParams):
    """Notebook 07's parameters; the defaults are the quick preset."""

    dataset: str = "fashion_mnist"  # the paper: ImageNet; preset paper uses "cifar10"
    variants: tuple[str, ...] = ("none", "dropout", "aug_alexnet")  # "none" is the baseline; AlexNet's two remedies
    # (§4.1, §4.2); more: "l2", "l1", "batch_norm", "aug_resnet_cifar", "aug_alexnet_no_pca" (preset paper: all)
    seeds: tuple[int, ...] = (0, 1, 2)  # runs are paired by seed (same training images, same data order in every arm)
    subset: int | None = 500  # training examples, class-balanced: a small training set overfits within minutes
    eval_subset: int | None = 1000  # validation and test examples (None: as subset)
    iterations: int = 160  # training iterations, 4k x log_every for the step schedule; AlexNet: ~90 epochs
    log_every: int = 20  # iterations per logged point; each ÷10 of the step schedule starts an interval
    batch_size: int = 128  # AlexNet's
    lr: float | None = 0.03  # SGD + momentum 0.9 as in AlexNet; its rate was 0.01 (preset paper); None: the recipe's
    schedule: str = "step"  # ÷10 at 50 % and 75 % of the iterations (budget-aware); AlexNet: "plateau"
    dropout: float = 0.5  # AlexNet's rate, after both hidden dense layers
    l2: float = 5e-3  # L2 weight decay (gradient l2·w): 10x AlexNet's 5e-4 because the run is short
    l1: float = 2e-4  # L1 penalty (gradient l1·sign(w)); not in AlexNet
    target_error: float = 0.2  # each run records when its running training error first gets this low
    width: float = 1.0  # LeNet-5 channel and unit multiplier
    bn_momentum: float = 0.9  # for the batch_norm variant; Keras' 0.99 is too slow for short runs (REFERENCE.md)

    def __post_init__(self):
        super().__post_init__()
        checked_variants(self.variants, f"variants must include the baseline 'none' and at least one regulariser, "
                                        f"each once, from {list(VARIANTS)}", choices=VARIANTS, required=("none",),
                         at_least=2)
        if not 0 < self.target_error < 1:
            raise ValueError(f"target_error is a training error in (0, 1), e.g. 0.2; got {self.target_error!r}")
        check_iterations(self.iterations, self.log_every)


# The notebook's presets: only what each changes from Params (cnnkit.studies._spec.COMMON adds the shared ones).
PRESETS = {
    # One run per code path: the baseline, a model option (dropout), the L1 penalty, an augmentation.
    # Two seeds: the fewest the verdict over training can pair.
    "smoke": {"variants": ("none", "dropout", "l1", "aug_alexnet"), "iterations": 20, "log_every": 10,
              "seeds": (0, 1)},
    # The quick design trained 5x longer (on a 2-core CPU, within the hour): do the regularised arms, which learn
    # slower, beat the floor and keep their verdicts?
    "long": {"iterations": 800, "log_every": 40},
    # AlexNet §5 on CIFAR-10: SGD momentum 0.9, lr 0.01 ÷10 on plateau, wd 5e-4, ~90 epochs of 45k images (one logged
    # point per epoch, so the plateau's patience counts epochs); a wider LeNet.
    "paper": {"dataset": "cifar10", "iterations": 31590, "log_every": 351, "lr": 0.01, "schedule": "plateau",
              "l2": 5e-4, "l1": 5e-5, "target_error": 0.25, "width": 4.0, "variants": VARIANTS},
}


def variant_overrides(variant: str, p: Params = Params()) -> dict[str, Any]:
    """The config overrides that add one regulariser (of strength ``p.dropout``/``p.l2``/``p.l1``) to the base.

    Args:
        variant: a name from :data:`VARIANTS` (``aug_*`` selects a ``cnnkit.data`` augmentation).
        p: the parameters: ``dropout`` is the rate after each hidden dense layer, ``l2`` the coupled L2 decay
            (gradient ``wd·w``), ``l1`` the L1 penalty (gradient ``λ·sign(w)``).
    """
    overrides = {"none": {}, "dropout": {"model_options.dropout": p.dropout}, "l2": {"weight_decay": p.l2},
                 "l1": {"weight_decay": p.l1, "weight_decay_kind": "l1"},
                 "batch_norm": {"model_options.norm": "batch"}}
    if variant.startswith("aug_") and variant in VARIANTS:
        return {"augment": variant[len("aug_"):]}
    if variant not in overrides:
        raise ValueError(f"unknown variant {variant!r}; choose one of {list(VARIANTS)}")
    return overrides[variant]


def experiment(p: Params = Params(), *, name: str = "regularization") -> Experiment:
    """LeNet-5 (ReLU, max pooling) without any regulariser, and with each one of ``p.variants`` alone, × seeds.

    Every run uses :data:`RECIPE` (SGD momentum 0.9) at ``p.lr`` with ``p.schedule`` for ``p.iterations``
    (one logged point every ``p.log_every``) and records the first iteration its running training error
    reaches ``p.target_error`` (the dropout convergence row). The variant :data:`LINEAR` is the floor: the
    linear model on the same data and budget.
    """
    base = base_config(model="lenet5", dataset=p.dataset, subset=p.subset, epochs=p.iterations // p.log_every,
                       steps_per_epoch=p.log_every, batch_size=p.batch_size, augment="none",
                       bn_momentum=p.bn_momentum, recipe=RECIPE, model_options={**MODEL_OPTIONS, "width": p.width},
                       weight_decay=0.0, schedule=p.schedule, target_train_error=p.target_error, lr=p.lr,
                       eval_subset=p.eval_subset)
    variants = {v: variant_overrides(v, p) for v in p.variants}
    variants[LINEAR] = {"model": "linear", "model_options": {}}  # the floor every net must beat
    return Experiment(name, base, variants=variants, seeds=p.seeds)


def run(p: Params, root: str, *, workers: int = WORKERS, **kwargs):
    """Train :func:`experiment` of ``p`` with :func:`fit_with_train_error` in ``workers`` processes.

    The train function is this study's own: the gap needs the training error in inference mode, which
    :func:`cnnkit.train.fit` does not measure. Finished runs are kept, interrupted ones resume.

    Raises:
        ValueError: ``train_fn`` was passed (to train otherwise, call
            ``run_grid(experiment(p), root, train_fn=...)`` and add ``train_clean_error`` yourself).
    """
    if "train_fn" in kwargs:
        raise ValueError(f"regularization.run trains with fit_with_train_error (the gap needs train_clean_error); "
                         f"got train_fn={kwargs['train_fn']!r}. Leave it out, or call "
                         "cnnkit.studies.run_grid(regularization.experiment(p), root, train_fn=...) directly")
    return run_grid(experiment(p), root, workers=workers, train_fn=fit_with_train_error, **kwargs)


class CleanTrainError(keras.callbacks.Callback):
    """At the end of training, the cross-entropy and error on ``batches`` in inference mode.

    Dropout is off and BN uses its moving statistics. The network must output probabilities
    (softmax). When cnnkit's device-data path wraps the network (``DeviceDataModel``), its
    ``.network`` is evaluated.

    Args:
        batches: indexable ``(images, labels)`` batches, normalised and not augmented, e.g.
            ``cnnkit.data.load(..., augment="none", format="numpy")``.
    """

    def __init__(self, batches: Any):
        super().__init__()
        self.batches = batches
        self.values = dict.fromkeys(CLEAN_TRAIN, math.nan)

    def on_train_end(self, logs: dict | None = None) -> None:
        network = getattr(self.model, "network", self.model)
        wrong, total, nll = 0, 0, 0.0
        for i in range(len(self.batches)):
            x, y = self.batches[i]
            p = keras.ops.convert_to_numpy(network(x, training=False)).astype("float64")
            y = np.asarray(y)
            wrong += int((p.argmax(axis=-1) != y).sum())
            nll -= float(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).sum())
            total += len(y)
        if total:
            self.values = {"train_clean_error": wrong / total, "train_clean_loss": nll / total}


def fit_with_train_error(config: Any, *, workdir: str | os.PathLike | None = None, **kwargs: Any):
    """:func:`cnnkit.train.fit`, adding ``train_clean_error``/``train_clean_loss`` to ``result.final``.

    The training split is evaluated once, after training, without augmentation and in inference
    mode (``train_clean_loss`` is the cross-entropy alone, without weight penalties). Use it as
    ``run_experiment(..., train_fn=fit_with_train_error)``; :func:`run` does.

    Args:
        config: a :class:`~cnnkit.train.config.RunConfig` or its dict.
        workdir, **kwargs: passed to :func:`cnnkit.train.fit` (``callbacks`` are kept and extended).
    """
    from cnnkit import data
    from cnnkit.train import fit
    from cnnkit.train.config import RunConfig

    cfg = config if isinstance(config, RunConfig) else RunConfig.from_dict(config)
    clean = data.load(cfg.dataset, "train", augment="none", shuffle=False, batch_size=cfg.batch_size,
                      subset=cfg.subset, resolution=cfg.resolution, val_fraction=cfg.val_fraction, seed=cfg.seed,
                      format="numpy", **cfg.data_options)
    recorder = CleanTrainError(clean)
    result = fit(cfg, workdir=workdir, callbacks=[*kwargs.pop("callbacks", ()), recorder], **kwargs)
    if result.status == DONE:
        result.final.update(recorder.values)
    return result


def add_gap(runs: pd.DataFrame) -> pd.DataFrame:
    """``runs`` with a ``gap`` column: test error − training error in inference mode (NaN where missing)."""
    out = runs.copy()
    test = pd.to_numeric(out.get("test_error", pd.Series(math.nan, out.index)), errors="coerce")
    train = pd.to_numeric(out.get("train_clean_error", pd.Series(math.nan, out.index)), errors="coerce")
    out["gap"] = test - train
    return out


def gap_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per variant: clean training error, test error and their gap, as ``mean ± 95 % CI`` in percent."""
    runs = add_gap(runs)
    columns = {"train_clean_error": "train error % (inference mode)", "test_error": "test error %",
               "gap": "gap (test − train) %"}
    parts = []
    for metric, label in columns.items():
        if metric in runs and pd.to_numeric(runs[metric], errors="coerce").notna().any():
            parts.append(format_mean_ci(summarize(runs, metric), scale=100).rename(label))
    return pd.concat(parts, axis=1) if parts else pd.DataFrame()


SPEED_QUANTITY = "iterations to the target training error, dropout − none"


def _dropout_row(runs: pd.DataFrame, history: pd.DataFrame) -> Row:
    ref = REGULARIZATION["dropout_iterations"]
    return speed_row(runs, history, "none", "dropout", headline=True, claim=CLAIMS["dropout_speed"],
                     quantity=SPEED_QUANTITY,
                     reference=f"> 0, ≈ {ref.value:.0f}x ({ref.source}: 'roughly doubles the iterations required to "
                               "converge')",
                     note="running training error (dropout on); the claim judged is the direction")


HEADLINE_GAPS = ("dropout", "aug_alexnet")  # AlexNet's two remedies for "substantial overfitting"


def tracks(p: Params = Params()) -> list[Track]:
    """The headline regularisers followed over training: ``v − none`` in validation error (the split that stands
    in for the test set), judged by the test-error claim. The gap itself needs the training error in inference
    mode, which is measured once, at the end; the running training error has dropout and augmentation on."""
    return [Track(f"{v} − none, validation error", "none", v, CLAIMS["test"], split="val")
            for v in HEADLINE_GAPS if v in p.variants]


def summary_rows(runs: pd.DataFrame, p: Params, history: pd.DataFrame) -> list[Row]:
    """Each regulariser's effect against the baseline, beside AlexNet's claims (runs paired by seed).

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment` (with ``train_clean_error``
            from :func:`fit_with_train_error`).
        p: the parameters the runs used (its ``variants`` name the arms).
        history: :meth:`cnnkit.ablation.Results.history` (for the dropout convergence row).

    Returns:
        Per regulariser of ``p.variants``: the change of the train–test gap and of the test error
        (``variant − none``, :data:`CLAIMS` ``gap``/``test``: both shrink; the gap rows of dropout and
        AlexNet's augmentation are headlines); for ``l2`` also the training error (AlexNet §5: weight
        decay lowers it); the PCA-jitter effect (``aug_alexnet − aug_alexnet_no_pca``) if both ran; the
        dropout convergence row (iterations to ``p.target_error``, judged early) if dropout ran; the linear floor.
    """
    runs = with_floor(add_gap(runs))
    rows: list[Row] = []
    for v in (v for v in VARIANTS if v in p.variants and v != "none"):
        gap_ref, test_ref = _REFERENCES[v]
        rows.append(diff_row(runs, "none", v, "gap", quantity=f"train–test gap, {v} − none", reference=gap_ref,
                             expect=CLAIMS["gap"], headline=v in HEADLINE_GAPS,
                             note="gap = test error − training error in inference mode"))
        rows.append(diff_row(runs, "none", v, "test_error", quantity=f"test error, {v} − none", reference=test_ref,
                             expect=CLAIMS["test"]))
        if v == "l2":
            wd = REGULARIZATION["weight_decay"]
            rows.append(diff_row(runs, "none", v, "train_clean_error", quantity="training error, l2 − none",
                                 reference=f"lower ({wd.source}: wd {wd.value:g} 'reduces the model's training "
                                           "error')", expect=CLAIMS["l2_train"]))
    if {"aug_alexnet", "aug_alexnet_no_pca"} <= set(p.variants):
        pca = REGULARIZATION["pca_jitter_top1_gain"]
        rows.append(diff_row(runs, "aug_alexnet_no_pca", "aug_alexnet", "test_error",
                             quantity="test error, PCA colour jitter on − off (crops and flips in both)",
                             reference=f"< −{100 * pca.value:.0f} pp ({pca.source}, ImageNet top-1)",
                             expect=CLAIMS["pca"], note="on 1-channel images the jitter is an intensity shift"))
    if "dropout" in p.variants:
        rows.append(_dropout_row(runs, history))
    rows.append(floor_row(runs, p.variants))
    return rows


def error_rows(rows: list[Row]) -> list[Row]:
    """The judged rows measured in error (pp; for the differences plot): all but the iterations row."""
    return [r for r in rows if r.diff is not None and r.quantity != SPEED_QUANTITY]


def differences(p: Params, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """What a run with the parameters ``p`` does differently from the paper (a table for the report).

    With the ``runs`` frame, a row says how many of the runs converged (:func:`converged_text`).
    """
    weights = [f"{v} {x:g}" for v, x in (("l2", p.l2), ("l1", p.l1)) if v in p.variants]
    augments = [v[len("aug_"):] for v in p.variants if v.startswith("aug_")]
    rows = [("data", f"{p.dataset}, {p.subset or 'all'} training images",
             "ImageNet, 1.2M images (224x224 crops of 256x256)"),
            ("net", f"LeNet-5 (ReLU, max pooling, two hidden dense layers), width ×{p.width:g}",
             "AlexNet: 5 conv + 3 FC layers, 60M parameters"),
            ("design", f"each regulariser alone against 'none': {', '.join(p.variants)}",
             "all together: augmentation, dropout and weight decay in one net"),
            ("training", f"{p.iterations} iterations of batch {p.batch_size}, SGD momentum 0.9, "
                         f"lr {p.lr if p.lr is not None else 'of the recipe'}",
             "about 90 epochs of batch 128, SGD momentum 0.9, lr 0.01"),
            ("schedule", SCHEDULE_TEXT.get(p.schedule, p.schedule),
             "÷10 when the validation error stopped improving (three times in about 90 epochs)"),
            ("dropout", f"{p.dropout:g} after both hidden dense layers" if "dropout" in p.variants else "not run",
             "0.5 in the first two FC layers"),
            ("weight penalties", ", ".join(weights) or "not run", "L2 5e-4 in every run"),
            ("augmentation", ", ".join(augments) or "not run",
             "random 224x224 crops, mirror images, PCA colour jitter (RGB)"),
            ("dropout's cost in iterations", f"iterations until the running training error ≤ {p.target_error:g}",
             "'roughly doubles the number of iterations required to converge'"),
            ("seeds", f"{len(p.seeds)}, paired (same seed, same images and data order)", "one run per setting"),
            ("floor", "a linear model on the same data and budget: every arm must beat it", "—")]
    if runs is not None and "status" in runs:
        rows.append(("convergence", converged_text(runs, p.variants), "trained to convergence"))
    return pd.DataFrame([(k, str(a), str(b)) for k, a, b in rows], columns=["", "here", "Krizhevsky et al. 2012"])


__all__ = ["CLAIMS", "CLEAN_TRAIN", "CleanTrainError", "MODEL_OPTIONS", "NOTEBOOK", "PRESETS", "Params", "VARIANTS",
           "WORKERS", "add_gap", "differences", "error_rows", "experiment", "fit_with_train_error", "gap_table", "run",
           "summary_rows", "tracks", "variant_overrides"]
