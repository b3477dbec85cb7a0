"""09 · The model zoo: every registered model's size, cost, speed and accuracy under one budget.

Each model is counted twice: at its **native** configuration (its builder's defaults, the
paper's setting: 224x224x3 and 1000 classes for ImageNet nets, 32x32x3 and 10 classes for the
CIFAR nets) — where cnnkit's counts are checked against keras.applications and He et al.'s
Table 6 — and at the **zoo scale** of the data set at hand (28x28x1 for Fashion-MNIST), built
with the options that make an ImageNet net fit small images (:func:`zoo_options`: a CIFAR stem,
VGG's compact head). A few models make no sense there (:data:`NATIVE_ONLY`); they are listed at
their native size only. Models picked for training all get the same recipe, data, epochs and
seeds, so accuracy, measured images/s and multiply–accumulates (MACs) compare on one footing;
:func:`pareto_front` marks the models no other model beats on both accuracy and MACs.

AlexNet's depth ablation (Krizhevsky et al. 2012, §4: "removing any of the middle layers results
in a loss of about 2 % for the top-1 performance") is :func:`ablation_experiment`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from cnnkit import models as registry
from cnnkit import stats
from cnnkit._status import FAILED, FINISHED
from cnnkit.ablation import Experiment, summarize
from cnnkit.ablation.over_training import Track
from cnnkit.ablation.verdicts import Claim
from cnnkit.models.alexnet import MIDDLE_LAYERS
from cnnkit.notebook.report import Row
from cnnkit.reference import (FASHION_MNIST_ACCURACY, KERAS_APPLICATIONS_PARAMS, RESNET_CIFAR_PARAMS, ZOO)
from cnnkit.studies._common import absolute_row, base_config, diff_row, run_grid
from cnnkit.studies._spec import StudyParams

NOTEBOOK = "09_model_zoo"
WORKERS = 2  # training processes of the grids

# What the papers say, declared before any run. Counts are exact checks of builders (nothing trained);
# the AlexNet ablation is about the final error of trained nets.
CLAIMS = {
    "drop_layer": Claim("positive"),  # §4: AlexNet without a middle convolution − full, test error > 0 (≈ +2 pp)
    "keras_params": Claim("equivalent", margin=0.5, judged_at=None),  # the same count as keras.applications
    "table6_params": Claim("equivalent", margin=0.005e6, judged_at=None),  # Table 6's two digits (0.27 M: ±0.005 M)
}
ABLATION_MODEL = "alexnet_cifar"  # AlexNet's own CIFAR net (three convolutions): the ablation's model


@dataclass(frozen=True)
class Params(StudyParams):
    """Notebook 09's parameters; the defaults are the quick preset."""

    dataset: str = "fashion_mnist"  # the zoo scale is this data set's image size; "cifar10" for 32x32x3
    models: tuple[str, ...] | None = ("lenet5", "alexnet_cifar")  # trained under one budget; None: all that fit
    listed: tuple[str, ...] | None = None  # models in the table (counted only); None: every registered model
    seeds: tuple[int, ...] = (0, 1, 2)  # the AlexNet ablation's seeds, its runs paired by seed (the table: zoo_seeds)
    subset: int | None = 1500  # training images, class-balanced (None: all)
    eval_subset: int | None = 2000  # validation and test images (None: as subset)
    epochs: int = 2  # the same budget for every model (and the ablation)
    batch_size: int = 32  # one batch size for every model; most papers: 128 or 256
    augment: str = "none"  # the papers augment (crops, flips); "resnet_cifar" for pad, crop and flip
    bn_momentum: float = 0.9  # Keras' 0.99 is too slow for a few dozen steps (REFERENCE.md)
    recipe: str = "adam"  # one recipe for every model (Adam 1e-3): no per-model tuning
    drop_layer: int = 2  # AlexNet ablation: the middle convolution of alexnet_cifar to remove
    zoo_seeds: tuple[int, ...] = (0,)  # seeds of the zoo table (accuracy only, not judged); the ablation uses seeds
    ablation_resolution: int | None = 16  # the ablation's input side (16: a third of the MACs at 28; None: native)

    def __post_init__(self):
        super().__post_init__()
        resolve_models(self.models, trainable=True)
        resolve_models(self.listed)
        if self.drop_layer not in MIDDLE_LAYERS[ABLATION_MODEL]:
            raise ValueError(f"drop_layer={self.drop_layer!r} is not a middle convolution of {ABLATION_MODEL}; "
                             f"choose one of {list(MIDDLE_LAYERS[ABLATION_MODEL])}")


# The notebook's presets: only what each changes from Params (cnnkit.studies._spec.COMMON adds the shared ones).
PRESETS = {
    # One tiny net trained (alexnet_cifar trains in the ablation); counted: it, AlexNet's CIFAR net, a Table 6
    # ResNet, a keras.applications net, a native-only one.
    "smoke": {"models": ("lenet5",), "listed": ("lenet5", "alexnet_cifar", "resnet20", "mobilenet", "alexnet")},
    # Every model that fits 32x32 (None), CIFAR-10, 30 augmented epochs of one recipe: a GPU job.
    "paper": {"dataset": "cifar10", "models": None, "epochs": 30, "augment": "resnet_cifar",
              "zoo_seeds": (0, 1, 2, 3, 4), "ablation_resolution": None},
}

# Models that make no sense at CIFAR/Fashion-MNIST scale, with the reason (listed at native size only).
NATIVE_ONLY = {
    "alexnet": "ImageNet-only: its 11x11/4 stem needs >= 64x64 inputs; alexnet_cifar is the paper's own CIFAR net",
    "zfnet": "ImageNet-only: its 7x7/2 stem needs >= 53x53 inputs",
    "siamese": "metric learning: outputs a distance, not class scores",
    "triplet": "metric learning: outputs embeddings, not class scores",
}
# Zoo-scale cost above which a model is a GPU job: not trained by the smoke/quick presets.
GIANT_MACS = 5e8
# Registered name → key of cnnkit.reference.FASHION_MNIST_ACCURACY (the data set's README table).
FASHION_MNIST_KEYS = {"vgg16": "vgg16", "googlenet": "googlenet", "mobilenet": "mobilenet",
                      "resnet18": "resnet18_aug", "densenet_bc": "densenet_bc_768k", "wrn28_10": "wrn28_10",
                      "wrn40_4": "wrn40_4"}
RESNET_CIFAR_NAMES = {f"resnet{d}": d for d in RESNET_CIFAR_PARAMS}
TABLE_COLUMNS = ["model", "form", "zoo_options", "params", "macs", "native_input", "native_params",
                 "native_trainable", "native_macs", "reference_params", "reference", "params_match",
                 "n", "test_accuracy", "accuracy_ci95", "images_per_sec", "pareto", "note"]


# --- which model, at which scale ------------------------------------------------------------------

def native_config(name: str) -> tuple[tuple[int, int, int], int]:
    """``(input_shape, num_classes)`` the builder of ``name`` defaults to (its paper's setting)."""
    params = inspect.signature(registry.get_builder(name)).parameters
    return tuple(params["input_shape"].default), int(params["num_classes"].default)


def form(name: str) -> str:
    """``'metric'`` (Siamese/triplet), ``'imagenet'`` (native input >= 64 px) or ``'cifar'``."""
    return "metric" if name in ("siamese", "triplet") else (
        "imagenet" if min(native_config(name)[0][:2]) >= 64 else "cifar")


def zoo_options(name: str) -> dict | None:
    """Options that build ``name`` for 28x28/32x32 images, or ``None`` where that makes no sense.

    ImageNet nets with a ``cifar_stem`` option get the CIFAR stem (a 3x3/1 convolution, no pooling), VGG its
    compact head (``cifar=True``: GAP instead of the 4096-wide layers); GoogLeNet's 'same'-padded strides accept
    any size as is; the CIFAR nets need nothing.
    """
    if name in NATIVE_ONLY:
        return None
    valid = registry.options(name)
    if "cifar_stem" in valid:
        return {"cifar_stem": True}
    if "cifar" in valid:
        return {"cifar": True}
    return {}


def trainable_models() -> list[str]:
    """Every registered model that makes sense at CIFAR/Fashion-MNIST scale."""
    return [n for n in registry.available() if zoo_options(n) is not None]


def resolve_models(names: Sequence[str] | None, *, trainable: bool = False) -> list[str]:
    """``None`` → every registered (or, with ``trainable``, every trainable) model; a list is checked.

    Raises:
        ValueError: a string, an unknown name, a duplicate, an empty list, or (``trainable``) a model of NATIVE_ONLY.
    """
    pool = trainable_models() if trainable else registry.available()
    if names is None:
        return pool
    if isinstance(names, str):
        raise ValueError(f"give a list of model names or None (all), got the string {names!r}; "
                         f"write [{names!r}] for one model")
    names = list(names)
    unknown = [n for n in names if n not in registry.available()]
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; choose from cnnkit.models.available()")
    if len(set(names)) != len(names):
        raise ValueError(f"models lists a name twice: {names!r}")
    if not names:
        raise ValueError("the list of models is empty; give at least one name, or None for all")
    native = [n for n in names if n not in pool]
    if native:
        raise ValueError(f"{native} cannot be trained at CIFAR/Fashion-MNIST scale "
                         f"({'; '.join(f'{n}: {NATIVE_ONLY[n]}' for n in native)}); remove them from models")
    return names


def _shape_text(shape: Sequence[int]) -> str:
    return "x".join(map(str, shape))


def count(name: str, input_shape: Sequence[int], num_classes: int, **options) -> dict[str, int]:
    """``{"params", "trainable", "macs"}`` of ``name`` built with shapes only (no weight values)."""
    with stats.shapes_only():
        model = registry.build(name, input_shape=tuple(input_shape), num_classes=num_classes, **options)
    params = stats.count_params(model)
    return {"params": params["total"], "trainable": params["trainable"], "macs": stats.macs(model)}


# --- the catalogue: counts only ---------------------------------------------------------------------

def _reference(name: str) -> tuple[float, str, str]:
    """``(reference params, source, which count it compares with)`` for ``name`` (NaN, '' without)."""
    if name in KERAS_APPLICATIONS_PARAMS:
        return KERAS_APPLICATIONS_PARAMS[name], "keras.applications, exact", "native_params"
    if name in RESNET_CIFAR_NAMES:
        return (RESNET_CIFAR_PARAMS[RESNET_CIFAR_NAMES[name]], "He et al. 2016, Table 6",
                "native_trainable")
    return math.nan, "", ""


def params_match(measured: float, reference: float, source: str) -> bool | None:
    """Exact equality for keras.applications, equality at the paper's two significant digits otherwise."""
    if math.isnan(reference) or measured is None or math.isnan(measured):
        return None
    if source.startswith("keras.applications"):
        return int(measured) == int(reference)
    return f"{measured:.2g}" == f"{reference:.2g}"


def catalogue_row(name: str, *, input_shape: Sequence[int] = (28, 28, 1), num_classes: int = 10) -> dict:
    """One model's counts at its native configuration and (where it makes sense) at the zoo scale."""
    native_shape, native_classes = native_config(name)
    native = count(name, native_shape, native_classes)
    options = zoo_options(name)
    zoo = count(name, input_shape, num_classes, **options) if options is not None else {}
    ref, source, compared = _reference(name)
    native_counts = {"native_params": native["params"], "native_trainable": native["trainable"]}
    note = NATIVE_ONLY.get(name, "")
    if zoo and zoo["macs"] > GIANT_MACS:
        note = f"{zoo['macs'] / 1e9:.1f} GMAC per image at {_shape_text(input_shape)}: a GPU job (preset paper)"
    return {"model": name, "form": form(name),
            "zoo_options": "—" if options is None else (", ".join(f"{k}={v}" for k, v in options.items()) or "as is"),
            "params": zoo.get("params", math.nan), "macs": zoo.get("macs", math.nan),
            "native_input": f"{_shape_text(native_shape)}, {native_classes} classes", **native_counts,
            "native_macs": native["macs"], "reference_params": ref, "reference": source,
            "params_match": params_match(native_counts.get(compared, math.nan), ref, source), "note": note}


def catalogue(names: Sequence[str] | None = None, *, input_shape: Sequence[int] = (28, 28, 1),
              num_classes: int = 10) -> pd.DataFrame:
    """Counts of every model in ``names`` (``None``: every registered one), one row per model.

    Args:
        names: a list of registered names, or ``None`` for all.
        input_shape, num_classes: the zoo scale (the data set's image shape and classes).

    Returns:
        Columns ``model, form, zoo_options, params, macs`` (zoo scale; NaN for :data:`NATIVE_ONLY`),
        ``native_input, native_params, native_trainable, native_macs``, ``reference_params,
        reference, params_match`` (keras.applications, He et al. Table 6) and ``note``.
    """
    rows = [catalogue_row(n, input_shape=input_shape, num_classes=num_classes) for n in resolve_models(names)]
    return pd.DataFrame(rows)


# --- measurements and the table ----------------------------------------------------------------------

def measured(runs: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """Per model (the runs' ``variant``): seeds ``n``, mean ``test_accuracy``, its 95 % CI half-width
    ``accuracy_ci95`` and ``images_per_sec`` (each run's median over epochs, then the mean over seeds;
    the first step of a run, where tracing/compilation happens, is never timed)."""
    if "test_accuracy" not in runs:  # no run finished: every row gets NaN
        runs = runs.assign(test_accuracy=math.nan)
    acc = summarize(runs, "test_accuracy").rename(columns={"variant": "model", "mean": "test_accuracy"})
    acc["accuracy_ci95"] = (acc["ci95_high"] - acc["ci95_low"]) / 2
    history = history.reindex(columns=["variant", "run_id", "split", "metric", "value"])
    speed = history[(history["metric"] == "images_per_sec") & (history["split"] == "train")]
    per_run = speed.groupby(["variant", "run_id"])["value"].median().groupby("variant").mean()
    acc["images_per_sec"] = acc["model"].map(per_run)
    return acc[["model", "n", "test_accuracy", "accuracy_ci95", "images_per_sec"]]


def pareto_front(frame: pd.DataFrame, cost: str = "macs", score: str = "test_accuracy") -> pd.Series:
    """``True`` for rows no other row beats: none has ``cost`` <= and ``score`` >= with one strictly better.

    Rows with a missing cost or score are never on the front. Identical points are all on it.
    """
    c = pd.to_numeric(frame[cost], errors="coerce")
    s = pd.to_numeric(frame[score], errors="coerce")
    ok = c.notna() & s.notna()
    front = pd.Series(False, index=frame.index)
    for i in frame.index[ok]:
        others = ok & (c <= c[i]) & (s >= s[i]) & ((c < c[i]) | (s > s[i]))
        front[i] = not others.any()
    return front


def _failures(runs: pd.DataFrame | None) -> dict[str, str]:
    """Model → the error of its first failed run, for models none of whose runs finished."""
    if runs is None or not len(runs) or "status" not in runs:
        return {}
    finished = set(runs.loc[runs["status"].isin(FINISHED), "variant"])
    failed = runs[(runs["status"] == FAILED) & ~runs["variant"].isin(finished)].reindex(columns=["variant", "error"])
    return {m: str(e)[:120] for m, e in failed.groupby("variant", sort=False)["error"].first().items()}


def zoo_table(cat: pd.DataFrame, runs: pd.DataFrame | None = None,
              history: pd.DataFrame | None = None) -> pd.DataFrame:
    """The zoo table: the catalogue, the measurements of trained models, the Pareto front (accuracy vs MACs).

    Args:
        cat: :func:`catalogue`.
        runs, history: :meth:`Results.runs` / :meth:`Results.history` of :func:`experiment`
            (``None``: counts only). Trained models missing from ``cat`` are counted and added.

    Returns:
        One row per model, columns :data:`TABLE_COLUMNS`, cheapest zoo-scale MACs first.
        ``note`` says why a model was not trained.
    """
    table = cat.copy()
    if runs is not None and len(runs):
        meas = measured(runs, history if history is not None else pd.DataFrame())
        extra = [m for m in meas["model"] if m not in set(table["model"])]
        if extra:
            table = pd.concat([table, catalogue(extra)], ignore_index=True)
        table = table.merge(meas, on="model", how="left")
    for col in ("n", "test_accuracy", "accuracy_ci95", "images_per_sec"):
        if col not in table:
            table[col] = math.nan
    untrained = table["test_accuracy"].isna()
    for model, error in _failures(runs).items():
        table.loc[untrained & (table["model"] == model), "note"] = f"training failed: {error}"
    table.loc[untrained & (table["note"] == ""), "note"] = "not trained in this run (not in models)"
    table["pareto"] = pareto_front(table)
    return table.sort_values(["macs", "native_macs"], na_position="last")[TABLE_COLUMNS].reset_index(drop=True)


def _millions(x) -> str:
    return "—" if x is None or pd.isna(x) else f"{x / 1e6:,.2f} M"


def format_table(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`zoo_table` as text for display: counts in millions, accuracy ± CI, the front as ★, exact counts kept
    where a reference exists."""
    def acc(r):
        if pd.isna(r["test_accuracy"]):
            return "—"
        ci = "" if pd.isna(r["accuracy_ci95"]) else f" ± {r['accuracy_ci95']:.3f}"
        return f"{r['test_accuracy']:.3f}{ci} (n={int(r['n'])})"

    def ref(r):
        if r["reference"] == "":
            return "—"
        mark = {True: "✓", False: "✗"}.get(r["params_match"], "")
        value = r["reference_params"]
        text = f"{value:,.0f}" if r["reference"].startswith("keras") else f"{value / 1e6:.2g} M"
        return f"{text} {mark} ({r['reference']})"

    return pd.DataFrame({
        "model": table["model"], "form": table["form"], "zoo options": table["zoo_options"],
        "params": table["params"].map(_millions), "MACs": table["macs"].map(_millions),
        "native": table["native_input"], "native params": table["native_params"].map(lambda v: f"{v:,.0f}"),
        "native MACs": table["native_macs"].map(_millions), "reference params": table.apply(ref, axis=1),
        "test accuracy": table.apply(acc, axis=1),
        "images/s": table["images_per_sec"].map(lambda v: "—" if pd.isna(v) else f"{v:,.0f}"),
        "Pareto": table["pareto"].map({True: "★", False: ""}), "note": table["note"]})


def plot_pareto(table: pd.DataFrame, *, ax=None):
    """Accuracy vs MACs (log scale) of the trained models, mean ± 95 % CI, the Pareto front highlighted.

    Raises:
        ValueError: no row has both MACs and a test accuracy.
    """
    from matplotlib.figure import Figure

    data = table[table["macs"].notna() & table["test_accuracy"].notna()].sort_values("macs")
    if data.empty:
        raise ValueError("no trained model with MACs and test accuracy to plot; train some (models=[...])")
    if ax is None:
        fig = Figure(figsize=(7.0, 4.5), layout="constrained")
        ax = fig.add_subplot()
    front = data[data["pareto"]]
    ax.errorbar(data["macs"], data["test_accuracy"], yerr=data["accuracy_ci95"].fillna(0), fmt="o", color="0.55",
                capsize=3, label="model (mean ± 95 % CI)")
    ax.step(front["macs"], front["test_accuracy"], where="post", color="C3", lw=1.5)
    ax.scatter(front["macs"], front["test_accuracy"], s=80, color="C3", zorder=3, label="Pareto front")
    for _, row in data.iterrows():
        ax.annotate(row["model"], (row["macs"], row["test_accuracy"]), textcoords="offset points", xytext=(4, 4),
                    fontsize=8)
    ax.set_xscale("log")
    ax.set(xlabel="multiply–accumulates per image (zoo scale)", ylabel="test accuracy",
           title="accuracy vs cost under one training budget")
    ax.legend(loc="lower right")
    return ax.figure


# --- experiments ---------------------------------------------------------------------------------------

def experiment(p: Params = Params(), *, name: str = "zoo") -> Experiment:
    """Every model in ``p.models`` at the zoo scale (:func:`zoo_options`) × ``p.zoo_seeds``, one shared budget.

    One recipe for every model (``p.recipe``, Adam 1e-3 by default: no per-model tuning, so the
    comparison is of architectures, not of tuning effort); ``name`` is the folder in the results store.
    """
    names = resolve_models(p.models, trainable=True)
    base = base_config(model=names[0], dataset=p.dataset, subset=p.subset, epochs=p.epochs, batch_size=p.batch_size,
                       augment=p.augment, bn_momentum=p.bn_momentum, recipe=p.recipe, eval_subset=p.eval_subset)
    variants = {n: {"model": n, "model_options": zoo_options(n)} for n in names}
    return Experiment(name, base, variants=variants, seeds=p.zoo_seeds)


def tracks(p: Params = Params()) -> list[Track]:
    """``without − full`` validation error over training, judged by the paper's claim at every logged point."""
    drop = ablation_variant(p.drop_layer)
    return [Track(f"{drop} − full, validation error", "full", drop, CLAIMS["drop_layer"], split="val")]


def ablation_variant(drop_layer: int) -> str:
    """The variant name of AlexNet without convolution ``drop_layer``: ``'without-conv2'``."""
    return f"without-conv{drop_layer}"


def ablation_experiment(p: Params = Params(), *, name: str = "alexnet_drop_layer") -> Experiment:
    """:data:`ABLATION_MODEL` full vs without its middle convolution ``p.drop_layer`` × ``p.seeds``
    (Krizhevsky et al. 2012, §4), at ``p.ablation_resolution``, with the zoo's budget and recipe."""
    base = base_config(model=ABLATION_MODEL, dataset=p.dataset, subset=p.subset, epochs=p.epochs,
                       batch_size=p.batch_size, augment=p.augment, bn_momentum=p.bn_momentum, recipe=p.recipe,
                       resolution=p.ablation_resolution, eval_subset=p.eval_subset)
    variants = {"full": {}, ablation_variant(p.drop_layer): {"model_options": {"drop_layer": p.drop_layer}}}
    return Experiment(name, base, variants=variants, seeds=p.seeds)


def run(p: Params, root: str, *, workers: int = WORKERS, **kwargs):
    """Train :func:`experiment` of ``p``; a model that fails to train is a "training failed" note in the table,
    not an error (``require="nothing"``, unless ``kwargs`` say otherwise)."""
    return run_grid(experiment(p), root, workers=workers, **{"require": "nothing", **kwargs})


def run_ablation(p: Params, root: str, *, workers: int = WORKERS, **kwargs):
    """Train :func:`ablation_experiment` of ``p`` (its runs are judged: every one must finish)."""
    return run_grid(ablation_experiment(p), root, workers=workers, **kwargs)


# --- measured vs reference ----------------------------------------------------------------------------

HEADLINE_COUNT = "resnet50"  # keras.applications parity of the best-known ImageNet net


def _count_rows(table: pd.DataFrame) -> list[Row]:
    rows = []
    for _, r in table[table["reference"] != ""].iterrows():
        keras_ref = r["reference"].startswith("keras.applications")
        value = r["native_params"] if keras_ref else r["native_trainable"]
        kind = "parameters" if keras_ref else "trainable parameters"
        ref_text = f"{int(r['reference_params']):,}" if keras_ref else f"{r['reference_params'] / 1e6:.2g} M"
        claim = CLAIMS["keras_params" if keras_ref else "table6_params"]
        rows.append(Row(f"{kind}, {r['model']} ({r['native_input']})", f"{int(value):,}",
                        f"{ref_text} ({r['reference']})", "agrees" if r["params_match"] else "disagrees", "",
                        r["model"] == HEADLINE_COUNT, "exact count" if keras_ref else "count, to the table's rounding",
                        judged_at=claim.judged_at))
    return rows


def summary_rows(runs: pd.DataFrame | None, p: Params = Params(), table: pd.DataFrame | None = None) -> list[Row]:
    """Parameter counts vs the references, AlexNet's depth ablation, the front, accuracies beside the README's.

    Args:
        runs: :meth:`Results.runs` of :func:`ablation_experiment` (``None``: no ablation row).
        p: the parameters the runs used (the layer removed, the data set).
        table: :func:`zoo_table` (``None``: no count, front or accuracy rows).

    Returns:
        One row per model with a reference count (keras.applications: exact; He et al. Table 6: two
        significant digits), the ablation's test error difference (paper: about +2 pp top-1; the
        verdict is its sign, one-sided paired t, on trained nets; a headline), the models on the Pareto
        front and each trained model's accuracy next to the Fashion-MNIST README (not comparable).
    """
    rows = [] if table is None else _count_rows(table)
    drop = ZOO["alexnet_drop_middle_layer"]
    if runs is not None:
        rows.append(diff_row(runs, "full", ablation_variant(p.drop_layer), "test_error",
                             quantity=f"test error, AlexNet without conv{p.drop_layer} − full",
                             reference=f"≈ +{100 * drop.value:.0f} pp top-1 ({drop.source}, ImageNet)",
                             expect=CLAIMS["drop_layer"], headline=True,
                             note="verdict on the sign, runs paired by seed; the size depends on data and budget"))
    return rows if table is None else rows + _table_rows(table, p.dataset)


def _table_rows(table: pd.DataFrame, dataset: str) -> list[Row]:
    """The Pareto front and (Fashion-MNIST) each trained model's accuracy beside the README's: not comparable."""
    rows = []
    front = table[table["pareto"]]
    if len(front):
        rows.append(absolute_row("models on the accuracy-vs-MACs Pareto front",
                                 ", ".join(f"{m} ({a:.3f}, {c / 1e6:.1f} M MACs)" for m, a, c in
                                           zip(front["model"], front["test_accuracy"], front["macs"])),
                                 "— (no paper ranks these models on one budget)",
                                 "a measurement of this budget on this machine"))
    if dataset == "fashion_mnist":
        for _, r in table[table["test_accuracy"].notna() & table["model"].isin(list(FASHION_MNIST_KEYS))].iterrows():
            ref = FASHION_MNIST_ACCURACY[FASHION_MNIST_KEYS[r["model"]]]
            rows.append(absolute_row(f"test accuracy, {r['model']}", f"{r['test_accuracy']:.3f} (n={int(r['n'])})",
                                     f"{ref:.3f} (Fashion-MNIST README, user submission)",
                                     "the README's runs train far longer, on all 60k images"))
    return rows


def differences(p: Params, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """What a run with ``p`` does differently from the papers (with the ablation's ``runs``: how many converged)."""
    res = f"{p.ablation_resolution}x{p.ablation_resolution}" if p.ablation_resolution else "native size"
    rows = [("data", f"{p.dataset} at its native size, {p.subset or 'all'} training images",
             "each paper's own: ImageNet at 224x224 or CIFAR-10 at 32x32, all images"),
            ("budget", f"{p.epochs} epochs × batch {p.batch_size}, the same for every model",
             "each paper's schedule (tens to hundreds of epochs)"),
            ("recipe", f"{p.recipe} for every model, no per-model tuning", "each paper's tuned recipe"),
            ("augmentation", p.augment, "each paper's own (crops, flips, colour)"),
            ("seeds", f"{len(p.zoo_seeds)} per model in the table; {len(p.seeds)}, paired, in the ablation",
             "one run per model"),
            ("AlexNet ablation", f"{ABLATION_MODEL} (three convolutions) without conv{p.drop_layer}, at {res}",
             "AlexNet (five convolutions), any middle one removed, ImageNet top-1")]
    if runs is not None and "converged" in runs:
        done = runs[runs["status"].isin(FINISHED)]
        rows.append(("converged (ablation runs)", f"{int(done['converged'].fillna(False).astype(bool).sum())} "
                     f"of {len(done)}", "trained to the end of the schedule"))
    return pd.DataFrame([(k, str(a), str(b)) for k, a, b in rows], columns=["", "here", "the papers"])
