"""10 · The four design levers of article 000: input resolution, depth, width, skip connections.

The article (after the RandWire paper's introduction) names four things that made CNNs better:
higher input resolution, more depth, more width, and skip connections (residual or dense). This
study varies each lever *alone* on one CIFAR ResNet (``resnet_cifar``) around a baseline:

* resolution: :class:`~cnnkit.config.RunConfig`'s ``resolution`` (bilinear resize of the images);
* depth: ``depth`` (6n+2 layers);
* width: ``width``, the filters of the first stage (16 in He et al.; doubled at each stage);
* skip connections: ``plain=True`` removes every shortcut (the plain net of He et al. Fig. 6).

Every lever's runs share the baseline run (it is trained once), so each facet of
:func:`plot_levers` shows the baseline among the lever's values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from cnnkit.ablation import Experiment, summarize
from cnnkit.notebook.report import Row
from cnnkit.reference import DESIGN_LEVERS
from cnnkit.studies._common import absolute_row, base_config, diff_row, mean_text

LEVERS = ("resolution", "depth", "width", "skip")
BASELINE = "baseline"
DEFAULT_BASELINE = {"resolution": 28, "depth": 14, "width": 16, "skip": True}
HEADLINE_LEVERS = ("depth", "skip")  # the suite's theme (notebook 01): deeper nets, and shortcuts that let them train
LEVER_FRAME_COLUMNS = ["lever", "value", "variant", "seed", "status", "test_error", "train_error", "params", "macs"]


def variant_name(lever: str, value) -> str:
    """``'depth=8'``, ``'skip=off'``: the variant that sets ``lever`` to ``value`` (others at the baseline)."""
    if lever not in LEVERS:
        raise ValueError(f"unknown lever {lever!r}; choose one of {list(LEVERS)}")
    return f"skip={'on' if value else 'off'}" if lever == "skip" else f"{lever}={value}"


def parse_variant(name: str) -> tuple[str, int | bool]:
    """Inverse of :func:`variant_name`: ``'depth=8'`` → ``('depth', 8)``, ``'skip=off'`` → ``('skip', False)``."""
    lever, _, text = name.partition("=")
    if lever not in LEVERS or not text:
        raise ValueError(f"{name!r} is not a lever variant like 'depth=8' or 'skip=off' (levers {list(LEVERS)})")
    if lever == "skip":
        if text not in ("on", "off"):
            raise ValueError(f"{name!r}: skip must be 'on' or 'off'")
        return lever, text == "on"
    return lever, int(text)


def _overrides(lever: str, value) -> dict:
    if lever == "resolution":
        return {"resolution": value}
    if lever == "skip":
        return {"model_options.plain": not value}
    return {f"model_options.{lever}": value}


def check_baseline(baseline: Mapping) -> dict:
    """``baseline`` with every lever set and checked; raises ``ValueError`` naming the bad entry."""
    baseline = dict(baseline)
    if set(baseline) != set(LEVERS):
        raise ValueError(f"baseline must set exactly the levers {list(LEVERS)}, got keys {sorted(baseline)}")
    for lever in ("resolution", "depth", "width"):
        value = baseline[lever]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"baseline[{lever!r}] must be a positive int, got {value!r}")
    if not isinstance(baseline["skip"], bool):
        raise ValueError(f"baseline['skip'] must be True (shortcuts on) or False, got {baseline['skip']!r}")
    return baseline


def lever_variants(baseline: Mapping, values: Mapping[str, Sequence]) -> dict[str, dict]:
    """Variant name → config overrides: ``'baseline'`` plus one variant per non-baseline lever value.

    Args:
        baseline: the value of every lever in the baseline run (see :data:`DEFAULT_BASELINE`).
        values: lever → the values to try (the baseline value may be listed or not).

    Raises:
        ValueError: an unknown lever, a depth that is not 6n+2 >= 8, a resolution below 8
            (``resnet_cifar``'s minimum), a non-positive width or a non-bool skip value.
    """
    baseline = check_baseline(baseline)
    unknown = sorted(set(values) - set(LEVERS))
    if unknown:
        raise ValueError(f"unknown lever(s) {unknown}; choose from {list(LEVERS)}")
    for lever in LEVERS:
        _check_value(lever, baseline[lever])
    # every run states all four levers, so no lever falls back to a config or builder default
    base = {k: v for lever in LEVERS for k, v in _overrides(lever, baseline[lever]).items()}
    variants = {BASELINE: base}
    for lever, vals in values.items():
        for value in vals:
            _check_value(lever, value)
            if value != baseline[lever]:
                variants[variant_name(lever, value)] = {**base, **_overrides(lever, value)}
    return variants


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
        raise ValueError(f"resolution {value} is below resnet_cifar's minimum input of 8x8")
    if lever == "width" and value < 1:
        raise ValueError(f"width must be >= 1 filter, got {value}")


def experiment(*, resolutions: Sequence[int] = (14, 28), depths: Sequence[int] = (8, 14),
               widths: Sequence[int] = (8, 16), skips: Sequence[bool] = (False, True),
               baseline: Mapping | None = None, seeds: Sequence[int] = (0, 1),
               dataset: str = "fashion_mnist", subset: int | None = 2000, epochs: int = 2, batch_size: int = 64,
               augment: str = "none", bn_momentum: float = 0.9, recipe: str = "adam",
               eval_subset: int | None = None, name: str = "design_levers") -> Experiment:
    """``resnet_cifar`` with each lever varied alone around ``baseline`` × seeds.

    Args:
        resolutions: input sides (``cnnkit.data``: smaller than the images → bilinear resize,
            larger → zero padding; either way nothing is added beyond the native 28x28 of
            Fashion-MNIST, so sweep downwards from the native size).
        depths: 6n+2 depths. widths: first-stage filters. skips: ``True`` shortcuts, ``False`` plain.
        baseline: every lever's value in the shared baseline run (default :data:`DEFAULT_BASELINE`).
        seeds, dataset, subset, epochs, batch_size, augment, bn_momentum, recipe, eval_subset: see
            :class:`cnnkit.config.RunConfig` (one recipe for every run: default Adam 1e-3).
        name: the experiment's folder in the results store.
    """
    values = {"resolution": resolutions, "depth": depths, "width": widths, "skip": skips}
    variants = lever_variants(DEFAULT_BASELINE if baseline is None else baseline, values)
    base = base_config(model="resnet_cifar", dataset=dataset, subset=subset, epochs=epochs, batch_size=batch_size,
                       augment=augment, bn_momentum=bn_momentum, recipe=recipe, eval_subset=eval_subset)
    return Experiment(name, base, variants=variants, seeds=tuple(seeds))


def variant_macs(exp: Experiment, *, image_shape: Sequence[int] = (28, 28, 1),
                 num_classes: int = 10) -> dict[str, int]:
    """Multiply–accumulates per image of every variant of :func:`experiment` (built with shapes only).

    Args:
        exp: the experiment.
        image_shape, num_classes: the data set's native images and classes (Fashion-MNIST:
            28x28x1, 10); a variant's ``resolution`` replaces the side.
    """
    from cnnkit.config import RunConfig
    from cnnkit.models import build
    from cnnkit.stats import macs, shapes_only

    out = {}
    for variant in exp.variants:
        cfg = RunConfig.from_dict(exp.config(variant, exp.seeds[0]))
        shape = (cfg.resolution, cfg.resolution, image_shape[2]) if cfg.resolution else tuple(image_shape)
        with shapes_only():
            model = build(cfg.model, input_shape=shape, num_classes=num_classes,
                          **cfg.model_options)
        out[variant] = macs(model)
    return out


def lever_frame(runs: pd.DataFrame, baseline: Mapping | None = None,
                macs: Mapping[str, int] | None = None) -> pd.DataFrame:
    """Long frame for the effect plot: one row per (lever, run), the baseline runs repeated in every lever.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
        baseline: the experiment's baseline (default :data:`DEFAULT_BASELINE`).
        macs: variant → MACs per image (:func:`variant_macs`); NaN without.

    Returns:
        Columns :data:`LEVER_FRAME_COLUMNS` (missing metrics as NaN), ordered by lever then value.
    """
    baseline = check_baseline(DEFAULT_BASELINE if baseline is None else baseline)
    parts = []
    for variant, group in runs.groupby("variant", sort=False):
        pairs = [(lever, baseline[lever]) for lever in LEVERS] if variant == BASELINE else [parse_variant(variant)]
        for lever, value in pairs:
            parts.append(group.assign(lever=lever, value=value))
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
    done = points[points["status"].isin(["done", "diverged"])]
    ax.scatter(done["value"].map(pos), done[metric], color="0.6", s=14, zorder=2)
    half = ((stats["ci95_high"] - stats["ci95_low"]) / 2).fillna(0)
    ax.errorbar(range(len(stats)), stats["mean"], yerr=half, fmt="o-", color="C0", capsize=4, zorder=3)
    base = set(points.loc[points["variant"] == BASELINE, "value"])
    ring = stats[stats["value"].isin(base)]
    ax.scatter(ring["value"].map(pos), ring["mean"], s=160, facecolors="none", edgecolors="C3", zorder=4,
               label="baseline")
    ax.set_xticks(range(len(stats)), labels)
    ax.set(title=lever, xlabel="shortcuts" if lever == "skip" else lever)


def summary_rows(runs: pd.DataFrame, baseline: Mapping | None = None,
                 macs: Mapping[str, int] | None = None) -> list[Row]:
    """Each lever's effect on test error, its lowest value → its highest (skip: off → on), vs the article.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
        baseline: the experiment's baseline (default :data:`DEFAULT_BASELINE`).
        macs: variant → MACs per image (:func:`variant_macs`), for the cost note.

    Returns:
        Per lever with two or more values: the test error difference (high − low), runs paired by
        seed; the article claims every lever lowers the error, so the declared test is one-sided
        (:data:`HEADLINE_LEVERS` are headlines). The note gives the cost ratios. Then the
        baseline's absolute test error (not comparable: no reference).
    """
    baseline = check_baseline(DEFAULT_BASELINE if baseline is None else baseline)
    frame = lever_frame(runs, baseline, macs)
    rows = []
    for lever in LEVERS:
        values = sorted(set(frame.loc[frame["lever"] == lever, "value"]))
        if len(values) < 2:
            continue
        name = {v: BASELINE if v == baseline[lever] else variant_name(lever, v) for v in values}
        low, high = values[0], values[-1]
        label = "skip connections off → on" if lever == "skip" else f"{lever} {low} → {high}"
        rows.append(diff_row(runs, name[low], name[high], "test_error", quantity=f"test error, {label}",
                             reference=f"< 0: {DESIGN_LEVERS[lever]}", expect="negative",
                             headline=lever in HEADLINE_LEVERS, note=_cost_note(frame, lever, low, high)))
    rows.append(absolute_row("test error, baseline " + ", ".join(f"{k}={v}" for k, v in baseline.items()),
                             mean_text(runs, BASELINE, "test_error"), "—",
                             "absolute errors depend on the data set and the budget"))
    return rows


def _cost_note(frame: pd.DataFrame, lever: str, low, high) -> str:
    """``'parameters x4.00, MACs x3.98'``: the cost of moving ``lever`` from ``low`` to ``high``."""
    sel = frame[frame["lever"] == lever].groupby("value")[["params", "macs"]].first()
    parts = []
    for col, label in (("params", "parameters"), ("macs", "MACs")):
        a, b = (pd.to_numeric(sel[col].get(v), errors="coerce") for v in (low, high))
        if not (pd.isna(a) or pd.isna(b) or a == 0):
            parts.append(f"{label} x{b / a:.2f}")
    return ", ".join(parts)
