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

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cnnkit.ablation import Experiment
from cnnkit.notebook.report import Row
from cnnkit.reference import ALEXNET, POOLING
from cnnkit.studies._common import absolute_row, base_config, checked_variants, diff_row, finished, mean_text

POOLINGS = ("overlap", "max", "avg", "stochastic")
_LABELS = {"overlap": "overlapping max 3x3/2", "max": "max 2x2/2", "avg": "average 2x2/2",
           "stochastic": "stochastic 2x2/2"}


def experiment(*, poolings: Sequence[str] = POOLINGS, seeds: Sequence[int] = (0, 1),
               dataset: str = "fashion_mnist", subset: int | None = 3000, epochs: int = 2, batch_size: int = 32,
               augment: str = "none", bn_momentum: float = 0.9, norm: str | None = "lrn",
               model: str = "alexnet_cifar", recipe: str = "alexnet", resolution: int | None = None,
               eval_subset: int | None = None, name: str = "pooling") -> Experiment:
    """The same net with each pooling (``'overlap'``, ``'max'``, ``'avg'``, ``'stochastic'``) × seeds.

    Args:
        poolings: variant names, each passed as the model's ``pooling`` option; ``'overlap'`` and
            ``'max'`` are required (the paper's pair), ``'avg'`` and ``'stochastic'`` are optional.
        norm: the model's ``norm`` option (``'lrn'`` as in the paper, ``None``, ``'batch'``).
        seeds, dataset, subset, epochs, batch_size, augment, bn_momentum, model, recipe, resolution,
            eval_subset: see :class:`cnnkit.config.RunConfig`.
        name: the experiment's name (its folder in the results store).
    """
    poolings = checked_variants(poolings, f"poolings must include 'overlap' and 'max' once each and may add 'avg' "
                                          f"and 'stochastic' (choices {list(POOLINGS)})",
                                choices=POOLINGS, required=("overlap", "max"))
    base = base_config(model=model, dataset=dataset, subset=subset, epochs=epochs, batch_size=batch_size,
                       augment=augment, bn_momentum=bn_momentum, recipe=recipe, resolution=resolution,
                       eval_subset=eval_subset)
    base["model_options"] = {"norm": norm}
    variants = {p: {"model_options.pooling": p} for p in poolings}
    return Experiment(name, base, variants=variants, seeds=tuple(seeds))


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


def summary_rows(runs: pd.DataFrame, *, gap_row: bool = False) -> list[Row]:
    """Overlapping against non-overlapping pooling (the paper: −0.4 pp top-1), then the other poolings.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
        gap_row: add the generalisation-gap row (test − train error; the paper: overlapping overfits
            slightly less, no number). Off by default: a run short enough not to overfit cannot decide it.

    Returns:
        ``overlap − max`` test error (headline; one-sided paired t, the paper: negative); the gap row
        if ``gap_row`` and ``train_error`` was recorded; ``stochastic − max`` and ``stochastic − avg`` test
        error (Zeiler & Fergus: negative) for the variants that ran; each variant's test error
        (not comparable: another data set and budget).
    """
    gain = ALEXNET["overlap_pool_top1_gain"]
    rows = [diff_row(runs, "max", "overlap", "test_error",
                     quantity="test error, overlapping 3x3/2 − non-overlapping 2x2/2",
                     reference=f"−{100 * gain.value:.1f} pp ({gain.source}, ImageNet top-1; top-5 −0.3 pp)",
                     expect="negative", headline=True, note="paired by seed (same subset and data order)")]
    if gap_row and "train_error" in runs.columns and not finished(runs, "overlap", "train_error").empty:
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
    rows += [absolute_row(f"test error, {_LABELS.get(v, v)}", mean_text(runs, v, "test_error"), refs.get(v, "—"))
             for v in variants]
    return rows
