"""08 · Optimizers, learning-rate schedules and the LR range test, on one net and the same seeds.

* Optimizers: SGD, momentum (Polyak 1964), Nesterov (Sutskever et al. 2013), Adagrad (Duchi et
  al. 2011), Adadelta (Zeiler 2012), RMSprop (Hinton 2012), Adam (Kingma & Ba 2015), each at its
  recipe's learning rate (:func:`settings_table` states them) with a constant schedule.
* Schedules, all with SGD + momentum: step ÷10 (AlexNet, ResNet), exponential, reduce-on-plateau
  (AlexNet §5), cyclic (Smith 2017), cosine (Loshchilov & Hutter 2017); the momentum run with a
  constant rate is their baseline. :func:`schedule_lrs` gives the rate of every iteration
  (plateau's from the run's history).
* The LR range test (:mod:`cnnkit.train.lr_finder`) on the same net: :func:`range_test`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cnnkit.ablation import Experiment, apply_overrides
from cnnkit.ablation.verdicts import Claim
from cnnkit.notebook.report import Row
from cnnkit.reference import OPTIMIZATION
from cnnkit.studies._common import absolute_row, base_config, by_seed, diff_row, judged_row, mean_text
from cnnkit.studies.regularization import MODEL_OPTIONS
from cnnkit.train.lr_finder import lr_range_test, suggest_lr
from cnnkit.train.schedules import lr_curve

OPTIMIZER_NAMES = ("sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam")
SCHEDULE_NAMES = ("step", "exponential", "plateau", "cyclic", "cosine")
BASE_OPTIMIZER = "momentum"  # the schedules run with it; its constant-rate run is their baseline

LOSS_MARGIN = 0.05  # nats of final training loss within which "no worse" holds (non-inferiority rows)
# (a, b, claim kind for b − a in final training loss, the claim in words); the first is the headline
OPTIMIZER_CLAIMS = (
    ("sgd", "momentum", "negative", "lower (Polyak 1964; Sutskever et al. 2013: momentum accelerates SGD)"),
    ("momentum", "nesterov", "not_greater", f"lower or equal (Sutskever et al. 2013: Nesterov's look-ahead step); "
                                            f"no worse than +{LOSS_MARGIN:g}"),
    ("nesterov", "adam", "negative", "lower (Kingma & Ba 2015, Fig. 3, CIFAR-10 CNN: Adam's training cost falls "
                                     "fastest)"),
    ("adam", "adagrad", "positive", "higher (Kingma & Ba 2015, Fig. 3: AdaGrad is slower on CNNs)"),
)
_CLR = OPTIMIZATION["clr_iterations"]
SCHEDULE_CLAIMS = {
    "step": "lower (AlexNet and ResNet divide by 10; He et al. 2016, Fig. 6: the error drops at each step)",
    "exponential": "— (a common decay; no paper claim)",
    "plateau": "lower (Krizhevsky et al. 2012, §5: ÷10 when the validation error stops improving)",
    "cyclic": f"lower, sooner ({_CLR.source}: CIFAR-10 81.4 % in {_CLR.value / 1000:.0f}k iterations, fixed lr "
              f"{OPTIMIZATION['fixed_lr_iterations'].value / 1000:.0f}k)",
    "cosine": "lower (Loshchilov & Hutter 2017, SGDR: cosine annealing beats step decay on CIFAR)",
}


def schedule_variant(schedule: str) -> str:
    """The variant name of a schedule run: ``"momentum+step"``."""
    return f"{BASE_OPTIMIZER}+{schedule}"


def _check(names: Sequence[str], allowed: Sequence[str], what: str) -> list[str]:
    names = list(names)
    bad = [n for n in names if n not in allowed]
    if bad or len(set(names)) != len(names):
        raise ValueError(f"{what} must be distinct names from {list(allowed)}; got {names!r}")
    return names


def _resolved_lr(base: dict, optimizer: str) -> float:
    from cnnkit.config import RunConfig

    return RunConfig.from_dict({**base, "optimizer": optimizer}).resolved().lr


def experiment(*, optimizers: Sequence[str] = OPTIMIZER_NAMES, schedules: Sequence[str] = SCHEDULE_NAMES,
               lrs: Mapping[str, float] | None = None, plateau_patience: int = 1, seeds: Sequence[int] = (0, 1),
               dataset: str = "fashion_mnist", subset: int | None = 500, epochs: int = 20, batch_size: int = 32,
               weight_decay: float = 0.0, recipe: str = "alexnet", resolution: int | None = None,
               eval_subset: int | None = None, name: str = "optimizers_schedules") -> Experiment:
    """Every optimizer with a constant rate, and SGD + momentum under every schedule, × seeds.

    Args:
        optimizers: names from :data:`OPTIMIZER_NAMES` (variants named after them).
        schedules: names from :data:`SCHEDULE_NAMES` (variants ``"momentum+<schedule>"``); they
            need ``"momentum"`` among the optimizers (their constant-rate baseline).
        lrs: per-optimizer learning rates; the rest get the recipe's rule (AlexNet recipe: 0.01 for
            the SGD family, each optimizer's own default otherwise — Adadelta 1.0, Adagrad 0.01,
            RMSprop and Adam 1e-3). Schedules start from momentum's rate.
        plateau_patience: epochs without a better validation error before reduce-on-plateau divides by 10.
        weight_decay: coupled L2 for every run (AlexNet: 5e-4; 0 keeps the loss pure cross-entropy).
        seeds, dataset, subset, epochs, batch_size, recipe, resolution, eval_subset: see
            :class:`cnnkit.config.RunConfig`.
        name: the experiment's name (its folder in the results store).
    """
    optimizers = _check(optimizers, OPTIMIZER_NAMES, "optimizers")
    schedules = _check(schedules, SCHEDULE_NAMES, "schedules")
    lrs = dict(lrs or {})
    unknown = sorted(set(lrs) - set(optimizers))
    if unknown:
        raise ValueError(f"lrs names optimizers {unknown} that are not run; run them or drop them from lrs")
    if not optimizers or (schedules and BASE_OPTIMIZER not in optimizers):
        raise ValueError(f"optimizers must be non-empty and include {BASE_OPTIMIZER!r} when schedules are run "
                         f"(its constant-rate run is their baseline); got optimizers={optimizers!r}")
    if isinstance(plateau_patience, bool) or not isinstance(plateau_patience, int) or plateau_patience < 0:
        raise ValueError(f"plateau_patience must be a whole number of epochs >= 0, got {plateau_patience!r}")
    base = base_config(model="lenet5", dataset=dataset, subset=subset, epochs=epochs, batch_size=batch_size,
                       augment="none", bn_momentum=0.9, recipe=recipe, resolution=resolution,
                       model_options=dict(MODEL_OPTIONS), weight_decay=weight_decay, schedule="constant",
                       eval_subset=eval_subset)
    rate = {o: float(lrs.get(o, _resolved_lr(base, o))) for o in optimizers}
    variants = {o: {"optimizer": o, "lr": rate[o]} for o in optimizers}
    for s in schedules:
        options = {"patience": plateau_patience} if s == "plateau" else {}
        variants[schedule_variant(s)] = {"optimizer": BASE_OPTIMIZER, "lr": rate[BASE_OPTIMIZER], "schedule": s,
                                         "schedule_options": options}
    return Experiment(name, base, variants=variants, seeds=tuple(seeds))


def settings_table(exp: Experiment) -> pd.DataFrame:
    """Per variant, the resolved optimizer, learning rate, momentum, schedule and weight decay."""
    from cnnkit.config import RunConfig

    rows = []
    for v in exp.variants:
        c = RunConfig.from_dict(exp.config(v, exp.seeds[0])).resolved()
        rows.append({"variant": v, "optimizer": c.optimizer, "lr": c.lr, "momentum": c.momentum,
                     "schedule": c.schedule, "schedule_options": dict(c.schedule_options),
                     "weight_decay": c.weight_decay})
    return pd.DataFrame(rows).set_index("variant")


def range_test(exp: Experiment, *, min_lr: float = 1e-4, max_lr: float = 3.0, steps: int = 100) -> pd.DataFrame:
    """The LR range test (:func:`cnnkit.train.lr_finder.lr_range_test`) on the experiment's net with
    SGD + momentum and its first seed."""
    config = apply_overrides(exp.base, {"optimizer": BASE_OPTIMIZER, "seed": exp.seeds[0]})
    return lr_range_test(config, min_lr=min_lr, max_lr=max_lr, steps=steps)


def schedule_lrs(results) -> pd.DataFrame:
    """The learning rate of every iteration of every run that has a schedule or a constant momentum rate.

    Args:
        results: :class:`cnnkit.ablation.Results` of :func:`experiment`.

    Returns:
        Columns ``variant, seed, step, lr``: scheduled rates from
        :func:`cnnkit.train.schedules.lr_curve` over the run's iterations; reduce-on-plateau's from
        the run's history (the ``lr`` of each epoch, held over that epoch's iterations).
    """
    frames = []
    for rec in results.records():
        config, history = rec.get("config") or {}, rec.get("history") or []
        if config.get("optimizer") != BASE_OPTIMIZER or rec.get("status") not in ("done", "diverged") or not history:
            continue
        if config.get("schedule") == "plateau":
            curve = _epoch_rates(history)
        else:
            total = int(max(h["step"] for h in history))
            curve = lr_curve(config["schedule"], total, base_lr=config["lr"],
                             warmup_steps=config.get("warmup_steps", 0), **config.get("schedule_options", {}))
        frames.append(curve.assign(variant=rec["variant"], seed=rec["seed"]))
    columns = ["variant", "seed", "step", "lr"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def _epoch_rates(history: list[dict]) -> pd.DataFrame:
    """Iteration-level rates from per-epoch ``lr`` and ``step``: epoch e's rate covers its own iterations."""
    steps, lrs, start = [], [], 0
    for h in sorted(history, key=lambda h: h["epoch"]):
        end = int(h["step"])
        steps.extend(range(start, end))
        lrs.extend([float(h["lr"])] * (end - start))
        start = end
    return pd.DataFrame({"step": steps, "lr": lrs})


def summary_rows(runs: pd.DataFrame, range_frame: pd.DataFrame | None = None) -> list[Row]:
    """Optimizer and schedule comparisons beside the papers' claims, and the range test's suggestion.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment` (with its ``lr`` column).
        range_frame: the curve of :func:`range_test`, if it ran.

    Returns:
        For each claim of :data:`OPTIMIZER_CLAIMS` whose optimizers both ran, the difference in final
        training loss (paired by seed; the first, momentum − SGD, is the headline); each schedule's test
        error minus the constant rate's (one-sided paired t); each optimizer's test error with its learning
        rate and the range test's two suggestions (not comparable: no reference on this data and budget).
    """
    present = list(dict.fromkeys(runs["variant"]))
    rows = [_loss_row(runs, a, b, expect, claim, headline=k == 0)
            for k, (a, b, expect, claim) in enumerate(OPTIMIZER_CLAIMS) if a in present and b in present]
    for s in (s for s in SCHEDULE_NAMES if schedule_variant(s) in present and BASE_OPTIMIZER in present):
        rows.append(diff_row(runs, BASE_OPTIMIZER, schedule_variant(s), "test_error",
                             quantity=f"test error, {s} schedule − constant rate (SGD + momentum)",
                             reference=SCHEDULE_CLAIMS[s], expect="negative"))
    for o in (o for o in OPTIMIZER_NAMES if o in present):
        lr = pd.to_numeric(runs.loc[runs["variant"] == o].get("lr", pd.Series(dtype=float)), errors="coerce").dropna()
        label = f" (lr {lr.iloc[0]:g})" if len(lr) else ""
        rows.append(absolute_row(f"test error, {o}{label}", mean_text(runs, o, "test_error"), "—",
                                 "each optimizer at its recipe's rate, not tuned"))
    if range_frame is not None and len(range_frame) >= 3:
        ref = OPTIMIZATION["alexnet_lr"]
        steep, low = suggest_lr(range_frame, "steepest"), suggest_lr(range_frame, "min_loss")
        rows.append(absolute_row("LR range test: suggested lr, steepest descent / min-loss ÷ 10",
                                 f"{steep:.3g} / {low:.3g}", f"AlexNet used {ref.value:g} ({ref.source})",
                                 f"{len(range_frame)} iterations, one seed; a starting point to try, not a measurement"))
    return rows


def _loss_row(runs: pd.DataFrame, a: str, b: str, expect: str, claim: str, headline: bool = False) -> Row:
    """``b − a`` of the final training loss, paired by seed (a loss, not a rate: no percentage points)."""
    quantity, note = f"final training loss, {b} − {a}", "running mean over the last epoch; constant learning rates"
    kind = Claim(expect, LOSS_MARGIN if expect in ("equivalent", "not_greater", "not_less") else 0.0)
    xa, xb = by_seed(runs, a, "train_loss"), by_seed(runs, b, "train_loss")
    common = xa.index.intersection(xb.index)
    if len(common) == 0:
        return Row(quantity, f"no finished pair of {a} and {b} runs", claim, "inconclusive", note, headline,
                   kind.describe(True, unit=1.0, suffix=""))
    return judged_row(quantity, xa[common].to_numpy(), xb[common].to_numpy(), kind, reference=claim,
                      headline=headline, note=note, scale=1.0, suffix="")


def plot_lr_range(frame: pd.DataFrame, suggestions: Mapping[str, float] | None = None) -> Figure:
    """Loss against learning rate (log axis), raw and smoothed, with the suggested rates as vertical lines."""
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(frame["lr"], frame["loss"], color="0.7", lw=1, label="loss (one batch)")
    if "smoothed_loss" in frame:
        ax.plot(frame["lr"], frame["smoothed_loss"], color="C0", lw=2, label="smoothed loss")
    for i, (label, lr) in enumerate((suggestions or {}).items()):
        ax.axvline(lr, color=f"C{i + 1}", ls="--", label=f"{label}: {lr:.3g}")
    ax.set_xscale("log")
    finite = frame["loss"][np.isfinite(frame["loss"])]
    if len(finite):  # keep the divergence from squashing the interesting part
        ax.set_ylim(top=min(float(finite.max()), 2.0 * float(finite.iloc[0])) * 1.05)
    ax.set(xlabel="learning rate (log scale)", ylabel="training loss", title="LR range test")
    ax.legend(loc="best")
    return fig


def plot_schedules(lrs: pd.DataFrame, history: pd.DataFrame, metric: str = "loss") -> Figure:
    """Two panels: each run's learning rate per iteration, and its training ``metric`` per epoch end.

    Args:
        lrs: :func:`schedule_lrs` (mean over seeds is drawn; plateau's differ by seed).
        history: :meth:`cnnkit.ablation.Results.history` (rows of the variants in ``lrs`` are used).
        metric: the history metric of the right panel (default ``"loss"``).
    """
    import seaborn as sns

    variants = list(dict.fromkeys(lrs["variant"]))
    curves = history[history["variant"].isin(variants) & (history["split"] == "train")
                     & (history["metric"] == metric)]
    fig = Figure(figsize=(11.0, 4.0), layout="constrained")
    left, right = fig.subplots(1, 2)
    sns.lineplot(data=lrs, x="step", y="lr", hue="variant", hue_order=variants, errorbar=None, ax=left)
    left.set(xlabel="iteration", ylabel="learning rate", title="learning rate per iteration")
    if not curves.empty:
        sns.lineplot(data=curves, x="step", y="value", hue="variant", hue_order=variants, errorbar="sd",
                     marker="o", markersize=4, ax=right)
    right.set(xlabel="iteration", ylabel=f"training {metric}", title=f"training {metric}: mean ± sd over seeds")
    return fig


__all__ = ["BASE_OPTIMIZER", "OPTIMIZER_CLAIMS", "OPTIMIZER_NAMES", "SCHEDULE_CLAIMS", "SCHEDULE_NAMES", "experiment",
           "plot_lr_range", "plot_schedules", "range_test", "schedule_lrs", "schedule_variant", "settings_table",
           "summary_rows"]
