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
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from cnnkit.ablation import Experiment
from cnnkit.notebook.report import Row
from cnnkit.reference import ALEXNET, POOLING
from cnnkit.studies._common import base_config, checked_variants, diff_row, finished, mean_text

POOLINGS = ("overlap", "max", "avg", "stochastic")
_LABELS = {"overlap": "overlapping max 3x3/2", "max": "max 2x2/2", "avg": "average 2x2/2",
           "stochastic": "stochastic 2x2/2"}


def experiment(*, poolings: Sequence[str] = POOLINGS, seeds: Sequence[int] = (0, 1),
               dataset: str = "fashion_mnist", subset: int | None = 3000, epochs: int = 2, batch_size: int = 32,
               augment: str = "none", bn_momentum: float = 0.9, norm: str | None = "lrn",
               model: str = "alexnet_cifar", recipe: str = "alexnet", resolution: int | None = None,
               name: str = "pooling") -> Experiment:
    """The same net with each pooling (``'overlap'``, ``'max'``, ``'avg'``, ``'stochastic'``) × seeds.

    Args:
        poolings: variant names, each passed as the model's ``pooling`` option; ``'overlap'`` and
            ``'max'`` are required (the paper's pair), ``'avg'`` and ``'stochastic'`` are optional.
        norm: the model's ``norm`` option (``'lrn'`` as in the paper, ``None``, ``'batch'``).
        seeds, dataset, subset, epochs, batch_size, augment, bn_momentum, model, recipe, resolution:
            see :class:`cnnkit.config.RunConfig`.
        name: the experiment's name (its folder in the results store).
    """
    poolings = checked_variants(poolings, f"poolings must include 'overlap' and 'max' once each and may add 'avg' "
                                          f"and 'stochastic' (choices {list(POOLINGS)})",
                                choices=POOLINGS, required=("overlap", "max"))
    base = base_config(model=model, dataset=dataset, subset=subset, epochs=epochs, batch_size=batch_size,
                       augment=augment, bn_momentum=bn_momentum, recipe=recipe, resolution=resolution)
    base["model_options"] = {"norm": norm}
    variants = {p: {"model_options.pooling": p} for p in poolings}
    return Experiment(name, base, variants=variants, seeds=tuple(seeds))


def _gap(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs with ``test_error`` replaced by the generalisation gap ``test_error − train_error``."""
    out = runs.copy()
    out["test_error"] = pd.to_numeric(out["test_error"], errors="coerce") - pd.to_numeric(out["train_error"],
                                                                                           errors="coerce")
    return out


def summary_rows(runs: pd.DataFrame) -> list[Row]:
    """Overlapping against non-overlapping pooling (the paper: −0.4 pp top-1), then the other poolings.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.

    Returns:
        ``overlap − max`` test error (the paper: negative); ``overlap − max`` generalisation gap
        (test − train error; the paper: overlapping overfits slightly less, no number) if
        ``train_error`` was recorded; ``stochastic − max`` and ``stochastic − avg`` test error
        (Zeiler & Fergus: negative) for the variants that ran; each variant's test error.
    """
    gain = ALEXNET["overlap_pool_top1_gain"]
    rows = [diff_row(runs, "max", "overlap", "test_error",
                     quantity="test error, overlapping 3x3/2 − non-overlapping 2x2/2",
                     reference=f"−{100 * gain.value:.1f} pp ({gain.source}, ImageNet top-1; top-5 −0.3 pp)",
                     expect="negative", note="a 0.4 pp effect needs many seeds to resolve")]
    if "train_error" in runs.columns and not finished(runs, "overlap", "train_error").empty:
        rows.append(diff_row(_gap(runs), "max", "overlap", "test_error",
                             quantity="generalisation gap (test − train error), overlapping − non-overlapping",
                             reference=f"negative: 'slightly more difficult to overfit' ({gain.source})",
                             expect="negative", note="train error is the running mean of the last epoch"))
    variants = list(dict.fromkeys(runs["variant"]))
    stochastic = POOLING["stochastic_cifar_test_error"]
    for other in ("max", "avg"):
        if "stochastic" in variants and other in variants:
            rows.append(diff_row(runs, other, "stochastic", "test_error",
                                 quantity=f"test error, stochastic − {_LABELS[other]}",
                                 reference=f"negative ({stochastic.source}, CIFAR-10)", expect="negative"))
    refs = {"stochastic": stochastic.text()}
    rows += [Row(f"test error, {_LABELS.get(v, v)}", mean_text(runs, v, "test_error"), refs.get(v, "—"),
                 "inconclusive", "absolute errors compare only on the paper's data and budget") for v in variants]
    return rows
