"""06 · The activation zoo: ReLU, LeakyReLU, ELU, PReLU, RReLU, sigmoid and tanh trained side by side.

The source article (001) makes a qualitative claim: saturating activations (sigmoid, tanh) suffer
from vanishing gradients, non-saturating ones (the ReLU family) avoid it and converge faster.
AlexNet's Fig. 1 gives the one number: ReLU reaches 25 % training error six times faster than
tanh (Krizhevsky et al. 2012). This study trains the same net with each activation × seeds and
reports the final test error and the iterations to a target training error, reusing the
iteration counting of :mod:`cnnkit.studies.activations` (notebook 02).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cnnkit.ablation import Experiment
from cnnkit.layers.factories import ACTIVATIONS as KNOWN
from cnnkit.notebook.report import Row
from cnnkit.reference import ALEXNET
from cnnkit.studies import activations as two
from cnnkit.studies._common import FINISHED, base_config, checked_variants, diff_row, mean_text

ZOO = ("relu", "leaky_relu", "elu", "prelu", "rrelu", "sigmoid", "tanh")
SATURATING = ("sigmoid", "tanh")
ARTICLE = "article 001, qualitative"


def experiment(*, activations: Sequence[str] = ZOO, seeds: Sequence[int] = (0, 1), target_error: float = 0.25,
               dataset: str = "fashion_mnist", subset: int | None = 2000, epochs: int = 2, batch_size: int = 32,
               augment: str = "none", bn_momentum: float = 0.9, model: str = "alexnet_cifar",
               norm: str | None = None, recipe: str = "alexnet", resolution: int | None = None,
               name: str = "activation_zoo") -> Experiment:
    """The same net with each activation × seeds, recording iterations to ``target_error``.

    Args:
        activations: two or more distinct names from :data:`cnnkit.layers.factories.ACTIVATIONS`
            for the model's ``activation`` option, the baseline (ReLU) first.
        target_error: the training error to reach, in (0, 1) (AlexNet's: 0.25).
        model: a model with ``activation`` and ``norm`` options; default ``"alexnet_cifar"``
            (AlexNet's 4-layer CIFAR net; it has no hidden dense layer).
        norm: the model's normalisation; default ``None`` so that nothing but the activation
            shapes the gradient flow (``"lrn"`` is AlexNet's, ``"batch"`` would rescue saturating units).
        seeds, dataset, subset, epochs, batch_size, augment, bn_momentum, recipe, resolution:
            see :class:`cnnkit.config.RunConfig`.
        name: the experiment's name (its folder in the results store).
    """
    activations = checked_variants(activations, f"activations must be two or more distinct names from "
                                                f"{list(KNOWN)}, baseline first, e.g. {list(ZOO)}",
                                   choices=KNOWN, at_least=2)
    if not 0 < target_error < 1:
        raise ValueError(f"target_error is a training error in (0, 1), e.g. 0.25; got {target_error!r}")
    base = base_config(model=model, dataset=dataset, subset=subset, epochs=epochs, batch_size=batch_size,
                       augment=augment, bn_momentum=bn_momentum, recipe=recipe, resolution=resolution,
                       target_train_error=target_error)
    variants = {a: {"model_options": {"activation": a, "norm": norm}} for a in activations}
    return Experiment(name, base, variants=variants, seeds=tuple(seeds))


def families(runs: pd.DataFrame) -> pd.DataFrame:
    """``runs`` with ``variant`` replaced by ``"saturating"`` (sigmoid, tanh) or ``"non-saturating"``."""
    return runs.assign(variant=np.where(runs["variant"].isin(SATURATING), "saturating", "non-saturating"))


def _iterations_text(runs: pd.DataFrame, history: pd.DataFrame, variant: str) -> str:
    to_target, total = two.iterations(runs, history, variant)
    reached = to_target[~np.isnan(to_target)]
    if len(to_target) == 0:
        return "no finished run"
    if len(reached) == 0:
        return "not reached" + ("" if np.isnan(total).all() else f" in {np.nanmax(total):.0f}")
    return f"{reached.mean():.0f} ({len(reached)} of {len(to_target)} runs)"


def _speed_row(runs: pd.DataFrame, history: pd.DataFrame, fast: str, slow: str, target: float) -> Row:
    """Iterations to the target, ``slow / fast``, judged run by run (:func:`studies.activations.speedup_verdict`)."""
    ratio, censored = two.speedup(runs, history, fast, slow)
    if math.isnan(ratio):
        f, _ = two.iterations(runs, history, fast)
        measured = f"{fast} did not reach the target in every run" if len(f) and np.isnan(f).any() else "n/a"
    else:
        measured = f"{'≥ ' if censored else ''}{ratio:.2f}x"
    reference = f"> 1: {fast} faster ({ARTICLE})"
    if slow == "tanh":
        reference += f"; tanh / ReLU 6x on CIFAR-10 ({ALEXNET['relu_tanh_speedup'].source})"
    return Row(f"iterations to {100 * target:.0f} % training error, {slow} / {fast}", measured, reference,
               two.speedup_verdict(runs, history, fast, slow),
               "a run that never reached the target counts its length (≥: a lower bound); agrees: every run of "
               f"{fast} got there before every run of {slow}")


def summary_rows(runs: pd.DataFrame, history: pd.DataFrame, target_error: float = 0.25) -> list[Row]:
    """What the runs show about the article's claims, with 95 % intervals over seeds.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
        history: :meth:`cnnkit.ablation.Results.history` (the length of runs that missed the target).
        target_error: the target the runs used (labels the rows).

    Returns:
        Test error of each saturating unit minus the baseline (the first variant, normally ReLU;
        the article: positive) and of the saturating family minus the non-saturating one
        (pooled: each activation × seed is a sample); the iterations to the target, each
        saturating unit / the baseline; then one row per activation with its test error and
        iterations to the target (no reference).
    """
    variants = list(dict.fromkeys(runs["variant"]))
    baseline = variants[0]
    saturating = [v for v in SATURATING if v in variants and v != baseline]
    rows = [diff_row(runs, baseline, v, "test_error", quantity=f"test error, {v} − {baseline}",
                     reference=f"> 0: {v} saturates ({ARTICLE})", expect="positive") for v in saturating]
    fam = families(runs)
    if fam["variant"].nunique() == 2 and len(variants) > 2:
        rows.append(diff_row(fam, "non-saturating", "saturating", "test_error",
                             quantity="test error, saturating (sigmoid, tanh) − non-saturating (ReLU family), pooled",
                             reference=f"> 0 ({ARTICLE})", expect="positive",
                             note="pooled: every activation × seed counts as one sample; the spread mixes units"))
    rows += [_speed_row(runs, history, baseline, v, target_error) for v in saturating]
    for v in variants:
        done = runs[(runs["variant"] == v) & runs["status"].isin(FINISHED)]
        rows.append(Row(f"{v}: test error; iterations to {100 * target_error:.0f} % training error",
                        f"{mean_text(runs, v, 'test_error')}; {_iterations_text(runs, history, v)}", "—",
                        "inconclusive", f"{len(done)} finished runs; absolute numbers depend on data and budget"))
    return rows
