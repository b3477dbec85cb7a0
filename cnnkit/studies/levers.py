"""10 · The four design levers of article 000: input resolution, depth, width, skip connections.

The article (after the RandWire paper's introduction) names four things that made CNNs better:
higher input resolution, more depth, more width, and skip connections (residual or dense). This
study varies each lever *alone* on one CIFAR ResNet (``resnet_cifar``) around a baseline:

* resolution: :class:`~cnnkit.train.config.RunConfig`'s ``resolution`` (bilinear resize of the images);
* depth: ``depth`` (6n+2 layers);
* width: ``width``, the filters of the first stage (16 in He et al.; doubled at each stage);
* skip connections: ``plain=True`` removes every shortcut (the plain net of He et al. Fig. 6).

Every lever's runs share the baseline run (it is trained once), so each facet of
:func:`plot_levers` shows the baseline among the lever's values. Which lever and value a run
stands for is read from the parameters (:func:`variant_levers`), never parsed out of its name.

Every claim is about *trained* nets, so it is judged only on runs that finished learning
(:mod:`cnnkit.train.convergence`) and beat a linear model on the same data and budget (the ``linear`` floor arm):

* the learning rate decays within the budget: He et al.'s recipe for this net (``resnet_cifar``: SGD with momentum,
  lr 0.1 after a short linear warm-up) with its step schedule, ÷10 at 50 % and 75 % of the iterations the run
  has, so the last quarter trains at a hundredth of the peak and the training error settles. The old quick
  recipe, Adam at 1e-3 with a cosine decay, learnt more slowly: when this design was chosen (300 iterations of
  batch 32 on 1,000 images, one seed) it reached about 30 % test error where this recipe reached about 22 %;
* batches of 64 (He et al.: 128): on a CPU a batch of 64 costs little more per step than one of 32, and it gave
  the lowest error per CPU-second of 32, 64 and 128 at this budget; the validation split is evaluated at every
  logged point, so it is kept small (``eval_subset``);
* :func:`tracks` follows the headline levers' differences over training (validation error standing in for the
  test set), so the report says whether each verdict still moved in the last quarter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from cnnkit._status import FINISHED
from cnnkit.ablation import Experiment, summarize
from cnnkit.ablation.over_training import Track
from cnnkit.ablation.verdicts import Claim
from cnnkit.notebook.report import Row
from cnnkit.reference import DESIGN_LEVERS
from cnnkit.studies._common import (LINEAR, absolute_row, base_config, check_iterations, converged_text, data_shape,
                                    diff_row, floor_row, mean_text, run_grid, with_floor)
from cnnkit.studies._spec import StudyParams

NOTEBOOK = "10_design_levers"
WORKERS = 2  # training processes of the grid

# What the article says, declared before any run: each lever pulled alone lowers the final test error of the
# trained net (highest − lowest value; skip: on − off), so every claim is judged on trained nets.
CLAIMS = {
    "resolution": Claim("negative"),  # higher input resolution → lower test error
    "depth": Claim("negative"),       # more depth → lower test error
    "width": Claim("negative"),       # more width → lower test error
    "skip": Claim("negative"),        # shortcuts on → lower test error than the plain net
}
LEVERS = ("resolution", "depth", "width", "skip")
BASELINE = "baseline"
HEADLINE_LEVERS = ("depth", "skip")  # the suite's theme (notebook 01): deeper nets, and shortcuts that let them train
LEVER_FRAME_COLUMNS = ["lever", "value", "variant", "seed", "status", "test_error", "train_error", "params", "macs"]


@dataclass(frozen=True)
class Params(StudyParams):
    """Notebook 10's parameters; the defaults are the quick preset."""

    dataset: str = "fashion_mnist"  # "cifar10" for 32x32 colour images
    resolutions: tuple[int, ...] = (16,)  # input sides; one value: not pulled (sweep down from the native size)
    depths: tuple[int, ...] = (8, 14)  # resnet_cifar depth, 6n+2
    widths: tuple[int, ...] = (4, 8)  # filters of the first stage (He et al.: 16), doubled at each stage
    skips: tuple[bool, ...] = (False, True)  # identity shortcuts off (plain net) or on
    baseline_resolution: int = 16  # the baseline run's input side; each lever varies alone around the baseline
    baseline_depth: int = 8  # the baseline run's depth (6n+2)
    baseline_width: int = 8  # the baseline run's first-stage filters
    baseline_skip: bool = True  # the baseline run has identity shortcuts
    seeds: tuple[int, ...] = (0, 1, 2)  # runs are paired by seed (same subset, same data order in every arm)
    subset: int | None = 8000  # training images, class-balanced (None: all)
    eval_subset: int | None = 500  # validation and test images (None: as subset)
    iterations: int = 84  # training iterations of every run, a multiple of log_every; He et al.: 64k
    log_every: int = 14  # iterations per logged point (training error, validation error, the rate)
    batch_size: int = 64  # He et al.: 128
    lr: float = 0.1  # peak learning rate (He et al.'s), divided by 10 at 50 % and 75 % of the iterations
    warmup_steps: int = 14  # linear warm-up of the learning rate (the plain net starts at lr 0.1 otherwise)
    augment: str = "none"  # He et al.: "resnet_cifar" (pad 4, random crop, flip)
    bn_momentum: float = 0.9  # Keras' 0.99 is too slow for a few dozen steps (REFERENCE.md)
    recipe: str = "resnet_cifar"  # He et al.: SGD momentum 0.9, weight decay 1e-4, step schedule; every run

    def __post_init__(self):
        super().__post_init__()
        check_iterations(self.iterations, self.log_every)
        for lever in LEVERS:
            for value in (self.baseline[lever], *self.lever_values[lever]):
                _check_value(lever, value)

    @property
    def baseline(self) -> dict:
        """Every lever's value in the shared baseline run."""
        return {"resolution": self.baseline_resolution, "depth": self.baseline_depth, "width": self.baseline_width,
                "skip": self.baseline_skip}

    @property
    def lever_values(self) -> dict[str, tuple]:
        """Lever → the values to try (the baseline's value may be listed or not)."""
        return {"resolution": self.resolutions, "depth": self.depths, "width": self.widths, "skip": self.skips}


# The notebook's presets: only what each changes from Params (cnnkit.studies._spec.COMMON adds the shared ones).
PRESETS = {
    # Two levers varied (resolution, skip) on a 16x16, 4-filter, 8-layer baseline: 3 runs instead of 5; the
    # study's tests cover every lever's frame, table and rows.
    "smoke": {"resolutions": (8, 16), "depths": (8,), "widths": (4,), "baseline_width": 4, "iterations": 20,
              "log_every": 10, "warmup_steps": 5},
    # The quick design trained over ten times longer on every training image (a 2-core CPU: well under an hour).
    "long": {"subset": None, "eval_subset": 1000, "iterations": 1120, "log_every": 70},
    # CIFAR-10 with He et al.'s recipe (64k iterations of 128 ≈ 182 epochs of 45k, augmented) around ResNet-20 at
    # 32x32.
    "paper": {"dataset": "cifar10", "iterations": 64000, "log_every": 400, "warmup_steps": 0, "augment": "resnet_cifar",
              "resolutions": (16, 24, 32), "depths": (8, 20, 56), "widths": (8, 16, 32),
              "baseline_resolution": 32, "baseline_depth": 20, "baseline_width": 16},
}


def variant_name(lever: str, value) -> str:
    """``'depth=8'``, ``'skip=off'``: the variant that sets ``lever`` to ``value`` (others at the baseline)."""
    if lever not in LEVERS:
        raise ValueError(f"unknown lever {lever!r}; choose one of {list(LEVERS)}")
    return f"skip={'on' if value else 'off'}" if lever == "skip" else f"{lever}={value}"


def _check_value(lever: str, value) -> None:
    if lever == "skip":
        if not isinstance(value, bool):
            raise ValueError(f"skip values must be True (shortcuts) or False (plain net), got {value!r}")
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{lever} values must be ints, got {value!r}")
    if lever == "depth" and (value < 8 or (value - 2) % 6):
        raise ValueError(f"depth {value} is not 6n+2 with n >= 1; use e.g. 8, 14, 20, 32, 44, 56")
    if lever == "resolution" and value < 8:
        raise ValueError(f"resolution {value} is below resnet_cifar's minimum input of 8x8; use 8 or more")
    if lever == "width" and value < 1:
        raise ValueError(f"width must be >= 1 filter, got {value}")


def variant_levers(p: Params) -> dict[str, list[tuple[str, int | bool]]]:
    """Variant → the ``(lever, value)`` pairs it stands for: the baseline for every lever, each other variant for one.

    The factors of each run come from here (from ``p``), never from parsing its variant name.
    """
    out = {BASELINE: [(lever, p.baseline[lever]) for lever in LEVERS]}
    for lever, values in p.lever_values.items():
        for value in values:
            if value != p.baseline[lever]:
                out[variant_name(lever, value)] = [(lever, value)]
    return out


def _overrides(lever: str, value) -> dict:
    if lever == "resolution":
        return {"resolution": value}
    if lever == "skip":
        return {"model_options.plain": not value}
    return {f"model_options.{lever}": value}


def lever_variants(p: Params) -> dict[str, dict]:
    """Variant name → config overrides: ``'baseline'`` plus one variant per non-baseline lever value.

    Every run states all four levers, so no lever falls back to a config or builder default.
    """
    base = {k: v for lever in LEVERS for k, v in _overrides(lever, p.baseline[lever]).items()}
    return {name: {**base, **({} if name == BASELINE else _overrides(*pairs[0]))}
            for name, pairs in variant_levers(p).items()}


def experiment(p: Params = Params(), *, name: str = "design_levers") -> Experiment:
    """``resnet_cifar`` with each lever varied alone around ``p.baseline`` × seeds, one recipe for every run, and
    the ``linear`` floor on the baseline's images.

    Resolutions resize the images (``cnnkit.data``: smaller → bilinear resize, larger → zero padding;
    either way nothing is added beyond the native size, so sweep downwards from it). Every run trains
    ``p.iterations`` in points of ``p.log_every``, warmed up over ``p.warmup_steps``, with the recipe's schedule.
    """
    base = base_config(model="resnet_cifar", dataset=p.dataset, subset=p.subset, epochs=p.iterations // p.log_every,
                       batch_size=p.batch_size, augment=p.augment, bn_momentum=p.bn_momentum, recipe=p.recipe,
                       eval_subset=p.eval_subset, steps_per_epoch=p.log_every, lr=p.lr, warmup_steps=p.warmup_steps)
    variants = lever_variants(p)
    # the floor every net must beat, on the images the baseline sees
    variants[LINEAR] = {"model": "linear", "model_options": {}, "resolution": p.baseline_resolution}
    return Experiment(name, base, variants=variants, seeds=p.seeds)


def run(p: Params, root: str, *, workers: int = WORKERS, **kwargs):
    """Train :func:`experiment` of ``p`` (the baseline once, shared by every lever); finished runs are kept."""
    return run_grid(experiment(p), root, workers=workers, **kwargs)


def variant_macs(p: Params, *, image_shape: Sequence[int] | None = None,
                 num_classes: int | None = None) -> dict[str, int]:
    """Multiply–accumulates per image of every variant of :func:`experiment` (built with shapes only).

    Args:
        p: the parameters.
        image_shape, num_classes: the data set's native images and classes (default: read from
            ``p.dataset``); a variant's ``resolution`` replaces the side.
    """
    from cnnkit.models import build
    from cnnkit.stats import macs, shapes_only
    from cnnkit.train.config import RunConfig

    if image_shape is None or num_classes is None:
        image_shape, num_classes = data_shape(p.dataset)
    exp = experiment(p)
    out = {}
    for variant in [v for v in exp.variants if v != LINEAR]:
        cfg = RunConfig.from_dict(exp.config(variant, exp.seeds[0]))
        shape = (cfg.resolution, cfg.resolution, image_shape[2]) if cfg.resolution else tuple(image_shape)
        with shapes_only():
            model = build(cfg.model, input_shape=shape, num_classes=num_classes, **cfg.model_options)
        out[variant] = macs(model)
    return out


def lever_frame(runs: pd.DataFrame, p: Params = Params(), macs: Mapping[str, int] | None = None) -> pd.DataFrame:
    """Long frame for the effect plot: one row per (lever, run), the baseline runs repeated in every lever.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
        p: the parameters the runs used (each variant's lever and value: :func:`variant_levers`).
        macs: variant → MACs per image (:func:`variant_macs`); NaN without.

    Returns:
        Columns :data:`LEVER_FRAME_COLUMNS` (missing metrics as NaN), ordered by lever then value.

    Raises:
        ValueError: a run of a variant that ``p`` does not make (pass the parameters the runs used).
    """
    factors = variant_levers(p)
    runs = runs[runs["variant"] != LINEAR] if len(runs) else runs  # the floor is no lever
    unknown = sorted(set(runs["variant"]) - set(factors)) if len(runs) else []
    if unknown:
        raise ValueError(f"runs of variants {unknown} are not levers of these parameters (variants "
                         f"{sorted(factors)}); pass the Params the runs were trained with")
    parts = [group.assign(lever=lever, value=value) for variant, group in runs.groupby("variant", sort=False)
             for lever, value in factors[variant]]
    if not parts:
        return pd.DataFrame(columns=LEVER_FRAME_COLUMNS)
    frame = pd.concat(parts, ignore_index=True)
    frame["macs"] = frame["variant"].map(dict(macs or {}))
    frame = frame.reindex(columns=LEVER_FRAME_COLUMNS)
    frame["order"] = frame["lever"].map(LEVERS.index)
    return frame.sort_values(["order", "value", "seed"]).drop(columns="order").reset_index(drop=True)


def lever_table(frame: pd.DataFrame, metric: str = "test_error") -> pd.DataFrame:
    """Per (lever, value): seeds, mean, 95 % CI of ``metric``, parameters and MACs, from :func:`lever_frame`."""
    stats = summarize(frame, metric, by=["lever", "value"])
    costs = frame.groupby(["lever", "value"], sort=False)[["params", "macs"]].first().reset_index()
    table = stats.merge(costs, on=["lever", "value"], how="left")
    # grouping mixes skip's bools with the other levers' ints; give skip its True/False back
    table["value"] = [bool(v) if lever == "skip" else v for lever, v in zip(table["lever"], table["value"])]
    return table


def plot_levers(frame: pd.DataFrame, metric: str = "test_error"):
    """One facet per lever: ``metric`` against the lever's value, seeds as dots, mean ± 95 % CI, baseline ringed.

    Raises:
        ValueError: no finished run with a ``metric`` value.
    """
    from matplotlib.figure import Figure

    table = lever_table(frame, metric)
    if not table["mean"].notna().any():
        raise ValueError(f"no finished runs with a {metric!r} value to plot")
    levers = [lv for lv in LEVERS if lv in set(table["lever"])]
    fig = Figure(figsize=(3.2 * len(levers), 3.6), layout="constrained")
    axes = fig.subplots(1, len(levers), sharey=True, squeeze=False)[0]
    for ax, lever in zip(axes, levers):
        _facet(ax, frame[frame["lever"] == lever], table[table["lever"] == lever], lever, metric)
    axes[0].set_ylabel(metric)
    axes[0].legend(loc="best", fontsize=8)
    fig.suptitle(f"each lever alone: {metric}, seeds (dots) and mean ± 95 % CI")
    return fig


def _facet(ax, points: pd.DataFrame, stats: pd.DataFrame, lever: str, metric: str) -> None:
    labels = [("on" if v else "off") if lever == "skip" else str(v) for v in stats["value"]]
    pos = {v: i for i, v in enumerate(stats["value"])}
    done = points[points["status"].isin(FINISHED)]
    ax.scatter(done["value"].map(pos), done[metric], color="0.6", s=14, zorder=2)
    half = ((stats["ci95_high"] - stats["ci95_low"]) / 2).fillna(0)
    ax.errorbar(range(len(stats)), stats["mean"], yerr=half, fmt="o-", color="C0", capsize=4, zorder=3)
    base = set(points.loc[points["variant"] == BASELINE, "value"])
    ring = stats[stats["value"].isin(base)]
    ax.scatter(ring["value"].map(pos), ring["mean"], s=160, facecolors="none", edgecolors="C3", zorder=4,
               label="baseline")
    ax.set_xticks(range(len(stats)), labels)
    ax.set(title=lever, xlabel="shortcuts" if lever == "skip" else lever)


def _pulled(p: Params) -> dict[str, tuple[object, object, str, str]]:
    """Lever → ``(low, high, variant at low, variant at high)`` for every lever with two or more values."""
    out = {}
    for lever in LEVERS:
        values = sorted({p.baseline[lever], *p.lever_values[lever]})
        if len(values) > 1:
            name = {v: BASELINE if v == p.baseline[lever] else variant_name(lever, v) for v in values}
            out[lever] = (values[0], values[-1], name[values[0]], name[values[-1]])
    return out


def _label(lever: str, low, high) -> str:
    return "skip connections off → on" if lever == "skip" else f"{lever} {low} → {high}"


def tracks(p: Params = Params()) -> list[Track]:
    """The headline levers' differences followed over training: highest − lowest value (skip: on − off) of the
    validation error (the validation split stands in for the test set while training), judged by the lever's claim."""
    return [Track(f"{_label(lever, low, high)}, validation error", a, b, CLAIMS[lever], split="val")
            for lever, (low, high, a, b) in _pulled(p).items() if lever in HEADLINE_LEVERS]


def summary_rows(runs: pd.DataFrame, p: Params = Params(), macs: Mapping[str, int] | None = None) -> list[Row]:
    """Each lever's effect on test error, its lowest value → its highest (skip: off → on), vs the article.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
        p: the parameters the runs used (the baseline and each lever's values).
        macs: variant → MACs per image (:func:`variant_macs`), for the cost note.

    Returns:
        Per lever with two or more values: the test error difference (high − low), runs paired by
        seed, judged by the lever's claim in :data:`CLAIMS` (one-sided, the article's direction, on
        trained nets; :data:`HEADLINE_LEVERS` are headlines). The note gives the cost ratios. Then
        the baseline's absolute test error (not comparable: no reference).
    """
    frame = lever_frame(runs, p, macs)
    runs = with_floor(runs)
    rows = []
    for lever, (low, high, a, b) in _pulled(p).items():
        rows.append(diff_row(runs, a, b, "test_error", quantity=f"test error, {_label(lever, low, high)}",
                             reference=f"< 0: {DESIGN_LEVERS[lever]}", expect=CLAIMS[lever],
                             headline=lever in HEADLINE_LEVERS, note=_cost_note(frame, lever, low, high)))
    rows.append(absolute_row("test error, baseline " + ", ".join(f"{k}={v}" for k, v in p.baseline.items()),
                             mean_text(runs, BASELINE, "test_error"), "—",
                             "absolute errors depend on the data set and the budget"))
    rows.append(floor_row(runs, list(variant_levers(p))))
    return rows


def _schedule_text(p: Params) -> str:
    """The runs' schedule in words: a budget-aware one decays before the last iteration, so the runs can converge."""
    from cnnkit.train.recipes import get_recipe

    schedule = get_recipe(p.recipe).schedule
    rule = ("÷10 at 50 % and 75 % of the run (He et al.'s step schedule written for this budget, not 64k cut "
            "short)" if schedule == "step" else f"the {p.recipe} recipe's {schedule} schedule over the run")
    return (f"linear warm-up over {p.warmup_steps} iterations to lr {p.lr}, then {rule}: the rate decays before the "
            "run ends")


def differences(p: Params, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """What a run with ``p`` does differently from the article's claim (with ``runs``: how many runs converged)."""
    b = p.baseline
    pulled = {lever: sorted({b[lever], *values}) for lever, values in p.lever_values.items()}
    levers = "; ".join(f"{lever}: {', '.join(map(str, v))}" if len(v) > 1 else f"{lever}: not pulled"
                       for lever, v in pulled.items())
    rows = [("network", f"resnet_cifar, baseline depth {b['depth']}, width {b['width']}, "
                        f"{'with' if b['skip'] else 'without'} shortcuts", "CNNs in general (no network named)"),
            ("levers pulled", levers, "each lever, more is better"),
            ("data", f"{p.dataset}, {p.subset or 'all'} training images, baseline at {b['resolution']}x"
                     f"{b['resolution']} (resized; above the native size nothing is added)",
             "real images at higher resolution carry more detail"),
            ("budget", f"{p.iterations} iterations × batch {p.batch_size}, {p.recipe} for every run, augment "
                       f"{p.augment}", "nets trained to the end (no numbers given)"),
            ("learning-rate schedule", _schedule_text(p), "— (none given; He et al.: ÷10 at 32k and 48k of 64k)"),
            ("floor", "a linear model on the baseline's images, same budget: a lever's row is judged only where "
             "every net beats it", "— (no baseline)"),
            ("seeds", f"{len(p.seeds)}, paired (same seed, same data order)", "— (a qualitative claim)")]
    if runs is not None:
        rows.append(("convergence", converged_text(runs, list(variant_levers(p))), "trained to convergence"))
    return pd.DataFrame([(k, str(a), str(c)) for k, a, c in rows], columns=["", "here", "article 000"])


def _cost_note(frame: pd.DataFrame, lever: str, low, high) -> str:
    """``'parameters x4.00, MACs x3.98'``: the cost of moving ``lever`` from ``low`` to ``high``."""
    sel = frame[frame["lever"] == lever].groupby("value")[["params", "macs"]].first()
    parts = []
    for col, label in (("params", "parameters"), ("macs", "MACs")):
        a, b = (pd.to_numeric(sel[col].get(v), errors="coerce") for v in (low, high))
        if not (pd.isna(a) or pd.isna(b) or a == 0):
            parts.append(f"{label} x{b / a:.2f}")
    return ", ".join(parts)
