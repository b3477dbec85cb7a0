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
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd

from cnnkit.ablation import Experiment, format_mean_ci, summarize
from cnnkit.notebook.report import Row
from cnnkit.reference import REGULARIZATION
from cnnkit.studies._common import base_config, diff_row
from cnnkit.studies.activations import speed_row

VARIANTS = ("none", "dropout", "l2", "l1", "batch_norm", "aug_resnet_cifar", "aug_alexnet", "aug_alexnet_no_pca")
# LeNet-5 made AlexNet-like: ReLU, max pooling, two hidden fully connected layers (where AlexNet has dropout).
MODEL_OPTIONS = {"activation": "relu", "pooling": "max", "norm": None, "dropout": 0.0}
CLEAN_TRAIN = ("train_clean_error", "train_clean_loss")

_ALEX = "Krizhevsky et al. 2012"
# variant -> (reference for the gap, reference for the test error)
_CLAIMS = {
    "dropout": (f"smaller ({_ALEX}, §4.2: without dropout 'substantial overfitting')", "lower (§4.2)"),
    "l2": ("— (§5: weight decay 5e-4 'is not merely a regularizer')", "lower (AlexNet's recipe has wd 5e-4)"),
    "l1": ("— (not in AlexNet; L1 pulls every weight towards 0 at a constant rate: sparse weights)", "—"),
    "batch_norm": ("smaller (Ioffe & Szegedy 2015, §3.4: BN regularises, less need for dropout)", "lower (ibid.)"),
    "aug_resnet_cifar": ("smaller (He et al. 2016 train CIFAR with pad-crop-flip)", "lower"),
    "aug_alexnet": (f"smaller ({_ALEX}, §4.1: without augmentation 'substantial overfitting')", "lower (§4.1)"),
    "aug_alexnet_no_pca": ("smaller (§4.1, crops and flips alone)", "lower (§4.1)"),
}


def _check_variants(variants: Sequence[str]) -> list[str]:
    variants = list(variants)
    bad = [v for v in variants if v not in VARIANTS]
    if bad or "none" not in variants or len(set(variants)) != len(variants) or len(variants) < 2:
        raise ValueError(f"variants must include the baseline 'none' and at least one regulariser, each once, "
                         f"from {list(VARIANTS)}; got {variants!r}")
    return variants


def variant_overrides(variant: str, *, dropout: float = 0.5, l2: float = 5e-4, l1: float = 5e-5) -> dict[str, Any]:
    """The config overrides that add one regulariser to the unregularised base.

    Args:
        variant: a name from :data:`VARIANTS` (``aug_*`` selects a ``cnnkit.data`` augmentation).
        dropout: rate after each hidden dense layer (AlexNet: 0.5).
        l2: coupled L2 decay ``wd`` (gradient ``wd·w``; AlexNet: 5e-4).
        l1: L1 penalty ``λ`` (gradient ``λ·sign(w)``).
    """
    overrides = {"none": {}, "dropout": {"model_options.dropout": dropout}, "l2": {"weight_decay": l2},
                 "l1": {"weight_decay": l1, "weight_decay_kind": "l1"}, "batch_norm": {"model_options.norm": "batch"}}
    if variant.startswith("aug_") and variant in VARIANTS:
        return {"augment": variant[len("aug_"):]}
    if variant not in overrides:
        raise ValueError(f"unknown variant {variant!r}; choose one of {list(VARIANTS)}")
    return overrides[variant]


def experiment(*, variants: Sequence[str] = VARIANTS, seeds: Sequence[int] = (0, 1, 2), dropout: float = 0.5,
               l2: float = 5e-3, l1: float = 2e-4, target_error: float = 0.15, dataset: str = "fashion_mnist",
               subset: int | None = 500, epochs: int = 20, batch_size: int = 32, schedule: str = "constant",
               lr: float | None = 0.03, width: float = 1.0, bn_momentum: float = 0.9, recipe: str = "alexnet",
               resolution: int | None = None, eval_subset: int | None = None,
               name: str = "regularization") -> Experiment:
    """LeNet-5 (ReLU, max pooling) without any regulariser, and with each one alone, × seeds.

    Args:
        variants: names from :data:`VARIANTS`; ``"none"`` (the baseline) is required.
        dropout, l2, l1: strengths of the ``dropout``, ``l2`` and ``l1`` variants.
        target_error: training error whose first iteration each run records (the dropout
            convergence row: iterations to this error with and without dropout).
        schedule: the learning-rate schedule of every run (AlexNet: ``"plateau"``).
        lr: the learning rate of every run; ``None`` takes the recipe's (AlexNet: 0.01). The defaults are
            the notebook's ``quick`` values (a short run: a larger rate and larger penalties than AlexNet's).
        width: channel/width multiplier of LeNet-5.
        seeds, dataset, subset, epochs, batch_size, bn_momentum, recipe, resolution, eval_subset:
            see :class:`cnnkit.config.RunConfig`. The recipe gives optimizer and lr (AlexNet's: SGD
            momentum 0.9, lr 0.01); its weight decay is switched off in the baseline.
        name: the experiment's name (its folder in the results store).
    """
    variants = _check_variants(variants)
    base = base_config(model="lenet5", dataset=dataset, subset=subset, epochs=epochs, batch_size=batch_size,
                       augment="none", bn_momentum=bn_momentum, recipe=recipe, resolution=resolution,
                       model_options={**MODEL_OPTIONS, "width": width}, weight_decay=0.0, schedule=schedule,
                       target_train_error=target_error, lr=lr, eval_subset=eval_subset)
    return Experiment(name, base, variants={v: variant_overrides(v, dropout=dropout, l2=l2, l1=l1) for v in variants},
                      seeds=tuple(seeds))


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
    ``run_experiment(..., train_fn=fit_with_train_error)``.

    Args:
        config: a :class:`~cnnkit.config.RunConfig` or its dict.
        workdir, **kwargs: passed to :func:`cnnkit.train.fit` (``callbacks`` are kept and extended).
    """
    from cnnkit import data
    from cnnkit.config import RunConfig
    from cnnkit.train import fit

    cfg = config if isinstance(config, RunConfig) else RunConfig.from_dict(config)
    clean = data.load(cfg.dataset, "train", augment="none", shuffle=False, batch_size=cfg.batch_size,
                      subset=cfg.subset, resolution=cfg.resolution, val_fraction=cfg.val_fraction, seed=cfg.seed,
                      format="numpy", **cfg.data_options)
    recorder = CleanTrainError(clean)
    result = fit(cfg, workdir=workdir, callbacks=[*kwargs.pop("callbacks", ()), recorder], **kwargs)
    if result.status == "done":
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


def _dropout_row(runs: pd.DataFrame, history: pd.DataFrame) -> Row:
    ref = REGULARIZATION["dropout_iterations"]
    return speed_row(runs, history, "none", "dropout", headline=True,
                     quantity="iterations to the target training error, dropout − none",
                     reference=f"> 0, ≈ {ref.value:.0f}x ({ref.source}: 'roughly doubles the iterations required to "
                               "converge')",
                     note="running training error (dropout on); the claim judged is the direction")


HEADLINE_GAPS = ("dropout", "aug_alexnet")  # AlexNet's two remedies for "substantial overfitting"


def summary_rows(runs: pd.DataFrame, history: pd.DataFrame) -> list[Row]:
    """Each regulariser's effect against the baseline, beside AlexNet's claims (runs paired by seed).

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment` (with ``train_clean_error``
            from :func:`fit_with_train_error`).
        history: :meth:`cnnkit.ablation.Results.history` (for the dropout convergence row).

    Returns:
        Per regulariser present: the change of the train–test gap and of the test error
        (``variant − none``, one-sided paired t; the expectation: both shrink; the gap rows of
        dropout and AlexNet's augmentation are headlines); for ``l2`` also the training error
        (AlexNet §5: weight decay lowers it); the PCA-jitter effect (``aug_alexnet −
        aug_alexnet_no_pca``) if both ran; the dropout convergence row if dropout ran.
    """
    runs = add_gap(runs)
    present = list(dict.fromkeys(runs["variant"]))
    rows: list[Row] = []
    for v in (v for v in VARIANTS if v in present and v != "none"):
        gap_ref, test_ref = _CLAIMS[v]
        rows.append(diff_row(runs, "none", v, "gap", quantity=f"train–test gap, {v} − none", reference=gap_ref,
                             expect="negative", headline=v in HEADLINE_GAPS,
                             note="gap = test error − training error in inference mode"))
        rows.append(diff_row(runs, "none", v, "test_error", quantity=f"test error, {v} − none", reference=test_ref,
                             expect="negative"))
        if v == "l2":
            wd = REGULARIZATION["weight_decay"]
            rows.append(diff_row(runs, "none", v, "train_clean_error", quantity="training error, l2 − none",
                                 reference=f"lower ({wd.source}: wd {wd.value:g} 'reduces the model's training "
                                           "error')", expect="negative"))
    if {"aug_alexnet", "aug_alexnet_no_pca"} <= set(present):
        pca = REGULARIZATION["pca_jitter_top1_gain"]
        rows.append(diff_row(runs, "aug_alexnet_no_pca", "aug_alexnet", "test_error",
                             quantity="test error, PCA colour jitter on − off (crops and flips in both)",
                             reference=f"< −{100 * pca.value:.0f} pp ({pca.source}, ImageNet top-1)",
                             expect="negative",
                             note="on 1-channel images the jitter is an intensity shift"))
    if "dropout" in present:
        rows.append(_dropout_row(runs, history))
    return rows


__all__ = ["CLEAN_TRAIN", "CleanTrainError", "MODEL_OPTIONS", "VARIANTS", "add_gap", "experiment",
           "fit_with_train_error", "gap_table", "summary_rows", "variant_overrides"]
