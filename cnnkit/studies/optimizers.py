"""08 · Optimizers, learning-rate schedules and the LR range test, on one net and the same seeds.

* Optimizers: SGD, momentum (Polyak 1964), Nesterov (Sutskever et al. 2013), Adagrad (Duchi et
  al. 2011), Adadelta (Zeiler 2012), RMSprop (Hinton 2012), Adam (Kingma & Ba 2015), each at its
  recipe's learning rate (:func:`settings_table` states them) with a constant schedule.
* Schedules, all with SGD + momentum: step ÷10 (AlexNet, ResNet), exponential, reduce-on-plateau
  (AlexNet §5), cyclic (Smith 2017), cosine (Loshchilov & Hutter 2017); the momentum run with a
  constant rate is their baseline. :func:`schedule_lrs` gives the rate of every iteration
  (plateau's from the run's history).
* The LR range test (:mod:`cnnkit.train.lr_finder`) on the same net: :func:`range_test`.

Every claim here is judged during training (``judged_at="early"``). The optimizer claims are about how fast
the training loss falls (Kingma & Ba's curves), with constant rates so that only the step rule differs. A
schedule's claim is measured against the constant-rate run, whose rate never decays: that run can never
converge (:mod:`cnnkit.train.convergence`), so a "trained" row against it could never be judged. "A schedule
beats a constant rate at the same budget" is a claim about the budget, and it is judged as one: early. The
schedules themselves are budget-aware (their milestones and decays are fractions of the run's iterations).
A linear model on the same data and budget (:data:`~cnnkit.studies._common.LINEAR`) is the floor shown beside
the arms, and :func:`tracks` follows the headline differences over training.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cnnkit._status import FINISHED
from cnnkit.ablation import Experiment, apply_overrides, plot_differences
from cnnkit.ablation.over_training import Track
from cnnkit.ablation.verdicts import Claim
from cnnkit.notebook.report import Row
from cnnkit.reference import OPTIMIZATION
from cnnkit.studies._common import (LINEAR, absolute_row, base_config, by_seed, checked_variants, converged_text,
                                    diff_row, differences_frame, floor_row, judged_row, mean_text, run_grid,
                                    runs_converged, with_floor)
from cnnkit.studies._spec import StudyParams
from cnnkit.studies.regularization import MODEL_OPTIONS
from cnnkit.train.lr_finder import lr_range_test, suggest_lr
from cnnkit.train.schedules import lr_curve

OPTIMIZER_NAMES = ("sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam")
SCHEDULE_NAMES = ("step", "exponential", "plateau", "cyclic", "cosine")
BASE_OPTIMIZER = "momentum"  # the schedules run with it; its constant-rate run is their baseline
RECIPE = "alexnet"  # SGD momentum 0.9 at 0.01 (AlexNet §5); each other optimizer at its own default rate

NOTEBOOK = "08_optimizers_schedules"
WORKERS = 2  # training processes of the grid

LOSS_MARGIN = 0.05  # nats of final training loss within which "no worse" holds (non-inferiority rows)
# What the papers say, declared before any run (b − a, paired by seed). The optimizer claims are about how fast the
# training loss falls (the papers' curves): the final training loss at a fixed budget with constant rates, judged
# during training. A schedule's lower test error against a constant rate is a claim about that budget (early, see the
# module docstring); the cyclic rate's claim is that it gets there sooner (a speed claim).
CLAIMS = {
    "momentum": Claim("negative", judged_at="early"),  # momentum − sgd: momentum accelerates SGD
    "nesterov": Claim("not_greater", margin=LOSS_MARGIN, judged_at="early"),  # nesterov − momentum: no worse
    "adam": Claim("negative", judged_at="early"),      # adam − nesterov: Adam's training cost falls fastest
    "adagrad": Claim("positive", judged_at="early"),   # adagrad − adam: AdaGrad is slower on CNNs
    # a decaying schedule − constant rate: lower test error at the same budget. Early: the constant rate never decays,
    # so its runs never converge and a claim about trained nets against it could never be judged.
    "schedule": Claim("negative", judged_at="early"),
    "cyclic": Claim("negative", judged_at="early"),    # cyclic − constant: the same accuracy in fewer iterations
}
# (a, b, claim for b − a in final training loss, the claim in words); the first is the headline
OPTIMIZER_CLAIMS = (
    ("sgd", "momentum", CLAIMS["momentum"],
     "lower (Polyak 1964; Sutskever et al. 2013: momentum accelerates SGD)"),
    ("momentum", "nesterov", CLAIMS["nesterov"],
     f"lower or equal (Sutskever et al. 2013: Nesterov's look-ahead step); no worse than +{LOSS_MARGIN:g}"),
    ("nesterov", "adam", CLAIMS["adam"],
     "lower (Kingma & Ba 2015, Fig. 3, CIFAR-10 CNN: Adam's training cost falls fastest)"),
    ("adam", "adagrad", CLAIMS["adagrad"], "higher (Kingma & Ba 2015, Fig. 3: AdaGrad is slower on CNNs)"),
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


@dataclass(frozen=True)
class Params(StudyParams):
    """Notebook 08's parameters; the defaults are the quick preset."""

    dataset: str = "fashion_mnist"  # preset paper uses "cifar10"
    optimizers: tuple[str, ...] = ("sgd", "momentum", "nesterov", "adagrad", "adam")  # each with a constant rate;
    # the pairs the papers compare (OPTIMIZER_CLAIMS); "adadelta" and "rmsprop" may be added (preset paper: all seven)
    lrs: dict = field(default_factory=dict)  # per-optimizer rates, e.g. {"adam": 3e-4}; empty: the recipe's rule
    schedules: tuple[str, ...] = ("step",)  # with SGD + momentum (baseline: constant rate); also "exponential",
    # "plateau", "cyclic", "cosine"
    plateau_patience: int = 1  # epochs without a better validation error before reduce-on-plateau divides by 10
    seeds: tuple[int, ...] = (0, 1, 2)  # the same seeds for every optimizer and schedule (runs paired by seed)
    subset: int | None = 500  # training examples, class-balanced (None: all)
    eval_subset: int | None = 1000  # validation and test examples (None: as subset)
    epochs: int = 6  # passes over the training subset, in batches of batch_size
    batch_size: int = 32  # AlexNet (and preset paper): 128
    weight_decay: float = 0.0  # coupled L2 for every run; 0 keeps the plotted loss pure cross-entropy (AlexNet: 5e-4)
    range_min_lr: float = 1e-4  # LR range test: first rate
    range_max_lr: float = 3.0  # LR range test: last rate (the test stops early if the loss diverges)
    range_steps: int = 100  # LR range test: iterations

    def __post_init__(self):
        super().__post_init__()
        checked_variants(self.optimizers, f"optimizers must be distinct names from {list(OPTIMIZER_NAMES)}",
                         choices=OPTIMIZER_NAMES)
        checked_variants(self.schedules, f"schedules must be distinct names from {list(SCHEDULE_NAMES)}",
                         choices=SCHEDULE_NAMES, at_least=0)
        if self.schedules and BASE_OPTIMIZER not in self.optimizers:
            raise ValueError(f"optimizers must include {BASE_OPTIMIZER!r} when schedules are run (its constant-rate "
                             f"run is their baseline); got optimizers={self.optimizers!r}, "
                             f"schedules={self.schedules!r}")
        unknown = sorted(set(self.lrs) - set(self.optimizers))
        bad = {k: v for k, v in self.lrs.items() if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0}
        if unknown or bad:
            raise ValueError(f"lrs maps optimizers that are run to rates > 0, e.g. {{'adam': 3e-4}}; got {self.lrs!r} "
                             f"({f'not run: {unknown}' if unknown else f'bad rates: {bad}'}); run them or drop them")
        if self.plateau_patience < 0:
            raise ValueError(f"plateau_patience must be a whole number of epochs >= 0, got {self.plateau_patience!r}")
        if not 0 < self.range_min_lr < self.range_max_lr or self.range_steps < 2:
            raise ValueError(f"the LR range test needs 0 < range_min_lr < range_max_lr and range_steps >= 2; got "
                             f"{self.range_min_lr!r}, {self.range_max_lr!r}, {self.range_steps!r} "
                             "(e.g. 1e-4, 3.0, 100)")


# The notebook's presets: only what each changes from Params (cnnkit.studies._spec.COMMON adds the shared ones).
PRESETS = {
    # Two optimizers (momentum is the schedules' baseline), a computed and a history-read schedule; two seeds, the
    # fewest the verdict over training can pair.
    "smoke": {"optimizers": ("sgd", "momentum"), "schedules": ("step", "plateau"), "range_steps": 10, "seeds": (0, 1)},
    # The quick design trained 5x longer (on a 2-core CPU, within the hour): do the early verdicts hold later on?
    "long": {"epochs": 30},
    # CIFAR-10 at AlexNet's batch 128 and weight decay; plateau with the default patience of 3 epochs.
    "paper": {"dataset": "cifar10", "epochs": 60, "weight_decay": 5e-4, "plateau_patience": 3, "range_steps": 300,
              "optimizers": OPTIMIZER_NAMES, "schedules": SCHEDULE_NAMES},
}


def schedule_variant(schedule: str) -> str:
    """The variant name of a schedule run: ``"momentum+step"``."""
    return f"{BASE_OPTIMIZER}+{schedule}"


def _base(p: Params) -> dict:
    return base_config(model="lenet5", dataset=p.dataset, subset=p.subset, epochs=p.epochs, batch_size=p.batch_size,
                       augment="none", bn_momentum=0.9, recipe=RECIPE, model_options=dict(MODEL_OPTIONS),
                       weight_decay=p.weight_decay, schedule="constant", eval_subset=p.eval_subset)


def _resolved_lr(base: dict, optimizer: str) -> float:
    from cnnkit.train.config import RunConfig

    return RunConfig.from_dict({**base, "optimizer": optimizer}).resolved().lr


def rates(p: Params) -> dict[str, float]:
    """Each optimizer's learning rate: ``p.lrs`` where given, else the recipe's rule (AlexNet recipe: 0.01 for the
    SGD family, each optimizer's own default otherwise — Adadelta 1.0, Adagrad 0.01, RMSprop and Adam 1e-3)."""
    base = _base(p)
    return {o: float(p.lrs.get(o, _resolved_lr(base, o))) for o in p.optimizers}


def experiment(p: Params = Params(), *, name: str = "optimizers_schedules") -> Experiment:
    """Every optimizer of ``p`` with a constant rate (:func:`rates`), and SGD + momentum under every schedule, × seeds.

    Variants are named after the optimizer, and ``"momentum+<schedule>"`` for the schedules (which start from
    momentum's rate; reduce-on-plateau waits ``p.plateau_patience`` epochs). The variant :data:`LINEAR` is the
    floor: the suite's linear model with SGD + momentum at a constant rate, on the same data and budget.
    """
    rate = rates(p)
    variants = {o: {"optimizer": o, "lr": rate[o]} for o in p.optimizers}
    for s in p.schedules:
        options = {"patience": p.plateau_patience} if s == "plateau" else {}
        variants[schedule_variant(s)] = {"optimizer": BASE_OPTIMIZER, "lr": rate[BASE_OPTIMIZER], "schedule": s,
                                         "schedule_options": options}
    floor_lr = rate.get(BASE_OPTIMIZER, _resolved_lr(_base(p), BASE_OPTIMIZER))
    # the floor every net must beat: the linear model, SGD + momentum at momentum's constant rate
    variants[LINEAR] = {"model": "linear", "model_options": {}, "optimizer": BASE_OPTIMIZER, "lr": floor_lr}
    return Experiment(name, _base(p), variants=variants, seeds=p.seeds)


def run(p: Params, root: str, *, workers: int = WORKERS, **kwargs):
    """Train :func:`experiment` of ``p`` in ``workers`` processes; finished runs are kept, interrupted ones resume."""
    return run_grid(experiment(p), root, workers=workers, **kwargs)


def settings_table(p: Params) -> pd.DataFrame:
    """Per variant of :func:`experiment`, the resolved optimizer, learning rate, momentum, schedule and weight decay."""
    from cnnkit.train.config import RunConfig

    exp = experiment(p)
    rows = []
    for v in exp.variants:
        c = RunConfig.from_dict(exp.config(v, exp.seeds[0])).resolved()
        rows.append({"variant": v, "optimizer": c.optimizer, "lr": c.lr, "momentum": c.momentum,
                     "schedule": c.schedule, "schedule_options": dict(c.schedule_options),
                     "weight_decay": c.weight_decay})
    return pd.DataFrame(rows).set_index("variant")


def range_test(p: Params) -> pd.DataFrame:
    """The LR range test (:func:`cnnkit.train.lr_finder.lr_range_test`) on the net of :func:`experiment` with
    SGD + momentum and the first seed: ``p.range_steps`` rates from ``p.range_min_lr`` to ``p.range_max_lr``."""
    config = apply_overrides(_base(p), {"optimizer": BASE_OPTIMIZER, "seed": p.seeds[0]})
    return lr_range_test(config, min_lr=p.range_min_lr, max_lr=p.range_max_lr, steps=p.range_steps)


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
        if (config.get("optimizer") != BASE_OPTIMIZER or rec.get("variant") == LINEAR
                or rec.get("status") not in FINISHED or not history):
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


def tracks(p: Params = Params()) -> list[Track]:
    """The headline differences followed over training: momentum − SGD in training loss (the optimizer headline),
    and each schedule − the constant rate in validation error (the split that stands in for the test set)."""
    out = []
    if "sgd" in p.optimizers and "momentum" in p.optimizers:
        out.append(Track("momentum − sgd, training loss", "sgd", "momentum", CLAIMS["momentum"], metric="loss"))
    for s in (s for s in SCHEDULE_NAMES if s in p.schedules):
        out.append(Track(f"{s} schedule − constant rate, validation error", BASE_OPTIMIZER, schedule_variant(s),
                         CLAIMS["cyclic" if s == "cyclic" else "schedule"], split="val"))
    return out


def summary_rows(runs: pd.DataFrame, p: Params, range_frame: pd.DataFrame | None = None) -> list[Row]:
    """Optimizer and schedule comparisons beside the papers' claims, and the range test's suggestion.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment` (with its ``lr`` column).
        p: the parameters the runs used (its ``optimizers`` and ``schedules`` name the arms).
        range_frame: the curve of :func:`range_test`, if it ran.

    Returns:
        For each claim of :data:`OPTIMIZER_CLAIMS` whose optimizers are both in ``p.optimizers``, the difference
        in final training loss (paired by seed; the first, momentum − SGD, is the headline; judged early); each
        schedule's test error minus the constant rate's (one-sided paired t; judged early: a claim about this
        budget, since the constant rate never decays); each optimizer's test error with its learning rate and the
        range test's two suggestions (not comparable: no reference on this data and budget); the linear floor.
    """
    runs = with_floor(runs)
    rows = [_loss_row(runs, a, b, claim, text, headline=k == 0)
            for k, (a, b, claim, text) in enumerate(OPTIMIZER_CLAIMS) if a in p.optimizers and b in p.optimizers]
    for s in (s for s in SCHEDULE_NAMES if s in p.schedules):
        rows.append(diff_row(runs, BASE_OPTIMIZER, schedule_variant(s), "test_error",
                             quantity=f"test error, {s} schedule − constant rate (SGD + momentum)",
                             reference=SCHEDULE_CLAIMS[s], expect=CLAIMS["cyclic" if s == "cyclic" else "schedule"]))
    for o in (o for o in OPTIMIZER_NAMES if o in p.optimizers):
        lr = pd.to_numeric(runs.loc[runs["variant"] == o].get("lr", pd.Series(dtype=float)), errors="coerce").dropna()
        label = f" (lr {lr.iloc[0]:g})" if len(lr) else ""
        rows.append(absolute_row(f"test error, {o}{label}", mean_text(runs, o, "test_error"), "—",
                                 "each optimizer at its recipe's rate, not tuned"))
    if range_frame is not None and len(range_frame) >= 3:
        ref = OPTIMIZATION["alexnet_lr"]
        steep, low = suggest_lr(range_frame, "steepest"), suggest_lr(range_frame, "min_loss")
        rows.append(absolute_row("LR range test: suggested lr, steepest descent / min-loss ÷ 10",
                                 f"{steep:.3g} / {low:.3g}", f"AlexNet used {ref.value:g} ({ref.source})",
                                 f"{len(range_frame)} iterations, one seed; a starting point to try, "
                                 "not a measurement"))
    rows.append(floor_row(runs, [*p.optimizers, *(schedule_variant(s) for s in p.schedules)]))
    return rows


def _loss_row(runs: pd.DataFrame, a: str, b: str, claim: Claim, reference: str, headline: bool = False) -> Row:
    """``b − a`` of the final training loss, paired by seed (a loss, not a rate: no percentage points)."""
    quantity, note = f"final training loss, {b} − {a}", "running mean over the last epoch; constant learning rates"
    xa, xb = by_seed(runs, a, "train_loss"), by_seed(runs, b, "train_loss")
    common = xa.index.intersection(xb.index)
    if len(common) == 0:
        return Row(quantity, f"no finished pair of {a} and {b} runs", reference, "inconclusive", note, headline,
                   claim.describe(True, unit=1.0, suffix=""), judged_at=claim.judged_at)
    return judged_row(quantity, xa[common].to_numpy(), xb[common].to_numpy(), claim, reference=reference,
                      headline=headline, note=note, scale=1.0, suffix="",
                      converged=runs_converged(runs, (a, b), list(common)))


def difference_figures(rows: list[Row]) -> dict[str, Figure]:
    """The judged differences of ``rows`` as figures, by file stem: training losses (nats), test errors (pp).

    A kind of difference without a measured row has no figure.
    """
    losses = [r for r in rows if r.diff is not None and r.quantity.startswith("final training loss")]
    errors = [r for r in rows if r.diff is not None and r.quantity.startswith("test error")]
    figures = {}
    if losses:
        figures["08_loss_differences"] = plot_differences(differences_frame(losses), unit="nats",
                                                          title="Final training loss: measured (90 % CI) and claims")
    if errors:
        figures["08_schedule_differences"] = plot_differences(differences_frame(errors), scale=100, unit="pp")
    return figures


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


def differences(p: Params, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """What a run with the parameters ``p`` does differently from the papers (a table for the report).

    With the ``runs`` frame, a row says how many of the runs converged (:func:`converged_text`).
    """
    per_epoch = f"{p.subset // p.batch_size} iterations" if p.subset else "the whole training split"
    rate = rates(p)
    rows = [("data", f"{p.dataset}, {p.subset or 'all'} training images",
             "CIFAR-10, 50k images (Kingma & Ba Fig. 3; Smith 2017)"),
            ("net", "LeNet-5 (ReLU, max pooling, two hidden dense layers)",
             "Kingma & Ba: a 3-layer CNN (c64-c64-c128-1000); Smith: Caffe's CIFAR-10 net"),
            ("training", f"{p.epochs} epochs × {per_epoch} of batch {p.batch_size}",
             f"tens of epochs (Kingma & Ba); {OPTIMIZATION['fixed_lr_iterations'].value / 1000:.0f}k iterations "
             "at a fixed rate (Smith)"),
            ("optimizers and rates", ", ".join(f"{o} {r:g}" for o, r in rate.items()),
             "each optimizer at a tuned rate (Kingma & Ba)"),
            ("optimizer claims judged on", "the final training loss at this budget, constant rates",
             "the training cost curves (Kingma & Ba Fig. 3)"),
            ("schedules", ", ".join(p.schedules) or "none",
             "step ÷10 (ResNet), plateau ÷10 (AlexNet), cosine (SGDR), triangular cycles (CLR)"),
            ("schedule claims judged on", "the test error at this budget, against a constant rate: a claim about "
             "the budget, judged early (a constant rate never decays, so its runs cannot converge)",
             "final errors after training to the end of each schedule"),
            ("floor", "a linear model on the same data and budget, shown beside the arms", "—"),
            ("weight decay", f"{p.weight_decay:g}", f"{OPTIMIZATION['alexnet_lr'].source}: 5e-4"),
            ("LR range test", f"{p.range_steps} iterations, rate growing geometrically from {p.range_min_lr:g} to "
                              f"{p.range_max_lr:g}, one seed",
             "Smith 2017 §3.3: a few epochs with the rate growing linearly"),
            ("seeds", f"{len(p.seeds)}, paired (same seed, same data order)", "one run per setting")]
    if runs is not None and "status" in runs:
        rows.append(("convergence", converged_text(runs, [v for v in runs["variant"].unique() if v != LINEAR]),
                     "trained to convergence"))
    return pd.DataFrame([(k, str(a), str(b)) for k, a, b in rows], columns=["", "here", "the papers"])


__all__ = ["BASE_OPTIMIZER", "CLAIMS", "NOTEBOOK", "OPTIMIZER_CLAIMS", "OPTIMIZER_NAMES", "PRESETS", "Params",
           "SCHEDULE_CLAIMS", "SCHEDULE_NAMES", "WORKERS", "difference_figures", "differences", "experiment",
           "plot_lr_range", "plot_schedules", "range_test", "rates", "run", "schedule_lrs", "schedule_variant",
           "settings_table", "summary_rows", "tracks"]
