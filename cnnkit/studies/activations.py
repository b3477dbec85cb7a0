"""06 · The activation zoo: ReLU, LeakyReLU, ELU, PReLU, RReLU, sigmoid and tanh trained side by side.

The source article (001) makes a qualitative claim: saturating activations (sigmoid, tanh) suffer
from vanishing gradients, non-saturating ones (the ReLU family) avoid it and converge faster.
AlexNet's Fig. 1 gives the one number: ReLU reaches 25 % training error six times faster than
tanh (Krizhevsky et al. 2012). This study trains the same net with each activation × seeds and
reports the final test error and the iterations to a target training error. Every row pairs the
runs by seed (same subset and data order in every arm) and states its test before the runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cnnkit.ablation import Experiment
from cnnkit.layers.factories import ACTIVATIONS as KNOWN
from cnnkit.notebook.report import Row
from cnnkit.reference import ALEXNET
from cnnkit.ablation.verdicts import Claim
from cnnkit.studies._common import FINISHED, absolute_row, base_config, checked_variants, diff_row, judged_row, mean_text

ZOO = ("relu", "leaky_relu", "elu", "prelu", "rrelu", "sigmoid", "tanh")
SATURATING = ("sigmoid", "tanh")
ARTICLE = "article 001, qualitative"


def experiment(*, activations: Sequence[str] = ZOO, seeds: Sequence[int] = (0, 1), target_error: float = 0.25,
               dataset: str = "fashion_mnist", subset: int | None = 2000, epochs: int = 2, batch_size: int = 32,
               augment: str = "none", bn_momentum: float = 0.9, model: str = "alexnet_cifar",
               norm: str | None = None, recipe: str = "alexnet", resolution: int | None = None,
               eval_subset: int | None = None, name: str = "activation_zoo") -> Experiment:
    """The same net with each activation × seeds, recording iterations to ``target_error``.

    Args:
        activations: two or more distinct names from :data:`cnnkit.layers.factories.ACTIVATIONS`
            for the model's ``activation`` option, the baseline (ReLU) first.
        target_error: the training error to reach, in (0, 1) (AlexNet's: 0.25).
        model: a model with ``activation`` and ``norm`` options; default ``"alexnet_cifar"``
            (AlexNet's 4-layer CIFAR net; it has no hidden dense layer).
        norm: the model's normalisation; default ``None`` so that nothing but the activation
            shapes the gradient flow (``"lrn"`` is AlexNet's, ``"batch"`` would rescue saturating units).
        seeds, dataset, subset, epochs, batch_size, augment, bn_momentum, recipe, resolution, eval_subset:
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
                       target_train_error=target_error, eval_subset=eval_subset)
    variants = {a: {"model_options": {"activation": a, "norm": norm}} for a in activations}
    return Experiment(name, base, variants=variants, seeds=tuple(seeds))


def families(runs: pd.DataFrame) -> pd.DataFrame:
    """``runs`` with ``variant`` replaced by ``"saturating"`` (sigmoid, tanh) or ``"non-saturating"``."""
    return runs.assign(variant=np.where(runs["variant"].isin(SATURATING), "saturating", "non-saturating"))


def iterations_by_seed(runs: pd.DataFrame, history: pd.DataFrame, variant: str) -> tuple[pd.Series, pd.Series]:
    """Per seed of ``variant``'s finished runs: iterations to the target, and whether the run never got there.

    A run that never reached the target counts the iterations it trained (a lower bound: it is
    *censored*), read from ``history`` (its largest ``step``); NaN where that is unknown too.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` (``run_id``, ``variant``, ``seed``, ``status``,
            ``iterations_to_target``).
        history: :meth:`cnnkit.ablation.Results.history` (``run_id``, ``step``).

    Returns:
        ``(iterations, censored)``, two Series indexed by seed.
    """
    sel = runs[(runs["variant"] == variant) & runs["status"].isin(FINISHED)]
    reached = pd.to_numeric(sel.get("iterations_to_target", pd.Series(np.nan, sel.index)), errors="coerce")
    trained = (pd.to_numeric(history["step"], errors="coerce").groupby(history["run_id"]).max()
               if {"run_id", "step"} <= set(history.columns) else pd.Series(dtype=float))
    total = pd.to_numeric(sel["run_id"].map(trained), errors="coerce")
    values = pd.Series(reached.where(reached.notna(), total).to_numpy(float), index=sel["seed"].to_numpy())
    censored = pd.Series(reached.isna().to_numpy(), index=sel["seed"].to_numpy())
    return values.sort_index(), censored.sort_index()


def speed_row(runs: pd.DataFrame, history: pd.DataFrame, fast: str, slow: str, *, quantity: str, reference: str,
              headline: bool = False, note: str = "") -> Row:
    """Iterations to the target, ``slow − fast``, paired by seed; the claim: ``slow`` needs more (one-sided).

    A censored ``slow`` run counts its length, which can only understate how slow it was, so an
    *agrees* stands; a censored ``fast`` run leaves the difference unbounded: the row says so and is
    inconclusive. The note gives the ratio of means (``≥``: a lower bound).
    """
    f, f_cens = iterations_by_seed(runs, history, fast)
    s, s_cens = iterations_by_seed(runs, history, slow)
    common = f.dropna().index.intersection(s.dropna().index)
    claim = Claim("positive")
    if len(common) == 0:
        return Row(quantity, f"no finished pair of {fast} and {slow} runs", reference, "inconclusive", note,
                   headline, claim.describe(True))
    if f_cens[common].any():
        return Row(quantity, f"{fast} did not reach the target in {int(f_cens[common].sum())} of {len(common)} runs",
                   reference, "inconclusive", note, headline, claim.describe(True))
    ratio = f"{slow} / {fast} {'≥ ' if s_cens[common].any() else ''}{s[common].mean() / f[common].mean():.2f}x"
    reached = f"{slow} reached the target in {int((~s_cens[common]).sum())} of {len(common)} runs"
    return judged_row(quantity, f[common].to_numpy(), s[common].to_numpy(), claim, reference=reference,
                      headline=headline, note="; ".join(x for x in (ratio, reached, note) if x), scale=1.0,
                      suffix=" iterations")


def _iterations_text(runs: pd.DataFrame, history: pd.DataFrame, variant: str) -> str:
    values, censored = iterations_by_seed(runs, history, variant)
    if values.empty:
        return "no finished run"
    if censored.all():
        return "not reached" + ("" if values.isna().all() else f" in {values.max():.0f}")
    return f"{values[~censored].mean():.0f} ({int((~censored).sum())} of {len(values)} runs)"


def summary_rows(runs: pd.DataFrame, history: pd.DataFrame, target_error: float = 0.25) -> list[Row]:
    """What the runs show about the article's claims, each row's test declared (paired by seed).

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
        history: :meth:`cnnkit.ablation.Results.history` (the length of runs that missed the target).
        target_error: the target the runs used (labels the rows).

    Returns:
        Test error of each saturating unit minus the baseline (the first variant, normally ReLU;
        the article: positive; sigmoid's is a headline) and of the saturating family minus the
        non-saturating one (per seed, the mean of each family); the iterations to the target, each
        saturating unit − the baseline (tanh's is a headline: AlexNet's Fig. 1); then one row per
        activation with its test error and iterations to the target (not comparable).
    """
    variants = list(dict.fromkeys(runs["variant"]))
    baseline = variants[0]
    saturating = [v for v in SATURATING if v in variants and v != baseline]
    rows = [diff_row(runs, baseline, v, "test_error", quantity=f"test error, {v} − {baseline}",
                     reference=f"> 0: {v} saturates ({ARTICLE})", expect="positive", headline=v == "sigmoid")
            for v in saturating]
    fam = families(runs)
    if fam["variant"].nunique() == 2 and len(variants) > 2:
        rows.append(diff_row(fam, "non-saturating", "saturating", "test_error",
                             quantity="test error, saturating (sigmoid, tanh) − non-saturating (ReLU family)",
                             reference=f"> 0 ({ARTICLE})", expect="positive",
                             note="per seed, the mean over each family's units"))
    for v in saturating:
        reference = f"> 0: {baseline} faster ({ARTICLE})"
        if v == "tanh":
            reference += f"; tanh / ReLU 6x on CIFAR-10 ({ALEXNET['relu_tanh_speedup'].source})"
        rows.append(speed_row(runs, history, baseline, v, headline=v == "tanh", reference=reference,
                              quantity=f"iterations to {100 * target_error:.0f} % training error, {v} − {baseline}",
                              note="running training error; a run that never got there counts its length (≥)"))
    for v in variants:
        done = runs[(runs["variant"] == v) & runs["status"].isin(FINISHED)]
        rows.append(absolute_row(f"{v}: test error; iterations to {100 * target_error:.0f} % training error",
                                 f"{mean_text(runs, v, 'test_error')}; {_iterations_text(runs, history, v)}", "—",
                                 f"{len(done)} finished runs; absolute numbers depend on data and budget"))
    return rows
