"""13 · Metric learning: Siamese (contrastive loss) and triplet networks on Fashion-MNIST.

A Siamese network (Hadsell, Chopra & LeCun 2006) learns an embedding in which same-class pairs
are close and other pairs at least a margin apart; a triplet network (Schroff et al. 2015,
"FaceNet") asks each anchor to be closer to a positive than to a negative by a margin. Both are
judged here the way face verification and retrieval are: *verification accuracy* (same class
iff distance ≤ a threshold chosen on validation pairs, applied to test pairs) and *recall@k*
(a same-class example among the k nearest test embeddings), against raw-pixel distances.

Pairs and triplets train through the one training path, ``cnnkit.train.fit`` (the recipe's
optimizer and weight decay, mixed precision, callbacks, CSV history, resume, divergence): the
study gives it a loss, a :class:`FreshSamples` data set that draws new balanced pairs/triplets
every epoch, and an ``evaluate_fn`` for the retrieval numbers. :func:`fit_metric` returns fit's
``RunResult``, so ``run_experiment(exp, train_fn=fit_metric)`` stores, resumes and summarises
it like any grid.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from cnnkit.ablation import Experiment
from cnnkit.models.metric import make_pairs, make_triplets, recall_at_k, verification_accuracy
from cnnkit.notebook.report import Row
from cnnkit.reference import FASHION_MNIST_ACCURACY, METRIC
from cnnkit.ablation.verdicts import Claim
from cnnkit.studies._common import absolute_row, base_config, by_seed, judged_row, mean_text

MODELS = ("siamese", "triplet")
KS = (1, 5)
EVAL_SEEDS = {"val": 10_001, "test": 10_002}  # the same evaluation pairs for every run and model


def _check_models(models: Sequence[str]) -> list[str]:
    models = list(models)
    if not models or len(set(models)) != len(models) or any(m not in MODELS for m in models):
        raise ValueError(f"models must name each of {list(MODELS)} at most once (at least one); got {models!r}")
    return models


# --- data and evaluation ----------------------------------------------------------------------

def load_splits(dataset: str = "fashion_mnist", *, subset: int | None = 2000, resolution: int | None = None,
                val_fraction: float = 0.1, seed: int = 0, **options: Any) -> dict[str, Any]:
    """``{"train": (x, y), "val": ..., "test": ..., "info": DatasetInfo}``, x float32 standardised
    with the train statistics (as :func:`cnnkit.data.prepare_batch`)."""
    from cnnkit.data import load_arrays
    from cnnkit.data.pipeline import prepare_batch

    out: dict[str, Any] = {}
    for split in ("train", "val", "test"):
        x, y, info = load_arrays(dataset, split, subset=subset, resolution=resolution, val_fraction=val_fraction,
                                 seed=seed, **options)
        out[split] = (np.asarray(prepare_batch(x, info), dtype="float32"), y)
        out.setdefault("info", info)
    return out


def pca(x, components: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Principal components by NumPy SVD (no scikit-learn needed).

    Args:
        x: ``(n, dim)`` data (images are flattened).
        components: how many to keep.

    Returns:
        ``(projected (n, components), explained_variance_ratio (components,))``.
    """
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    if not 1 <= components <= min(x.shape):
        raise ValueError(f"components must be in [1, {min(x.shape)}] for data of shape {x.shape}, got {components!r}")
    centred = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    var = s**2
    return centred @ vt[:components].T, var[:components] / var.sum()


def tsne(x, seed: int = 0) -> np.ndarray | None:
    """A 2-D t-SNE of ``x`` with scikit-learn, or ``None`` (and a printed note) when it is not installed."""
    if importlib.util.find_spec("sklearn") is None:
        print("t-SNE skipped: scikit-learn is not installed (cnnkit does not depend on it); PCA is shown instead.")
        return None
    from sklearn.manifold import TSNE

    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    return TSNE(n_components=2, random_state=seed, init="pca", perplexity=min(30.0, (len(x) - 1) / 3)).fit_transform(x)


def pair_distances(embeddings, labels, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Distances of ``n`` balanced pairs (half same-class) drawn by :func:`make_pairs` with ``seed``."""
    e = np.asarray(embeddings, dtype=np.float64).reshape(len(embeddings), -1)
    ia, ib, same = make_pairs(np.arange(len(e)), labels, n, seed=seed)
    return np.linalg.norm(e[ia] - e[ib], axis=1), same


def evaluate(val: tuple, test: tuple, *, pairs: int | None = None, ks: Sequence[int] = KS) -> dict[str, float]:
    """Verification accuracy (threshold picked on val pairs, applied to test pairs) and test recall@k.

    Args:
        val, test: ``(embeddings, labels)`` of the validation and test images (any array is
            flattened per example, so raw images give the pixel baseline).
        pairs: pairs per split (default: as many as examples); drawn with :data:`EVAL_SEEDS`.
        ks: the k of recall@k.

    Returns:
        ``val_verification_accuracy``, ``threshold``, ``test_verification_accuracy`` and
        ``recall_at_{k}`` for each k.
    """
    (ev, yv), (et, yt) = val, test
    dv, sv = pair_distances(ev, yv, pairs or len(ev), EVAL_SEEDS["val"])
    dt, st = pair_distances(et, yt, pairs or len(et), EVAL_SEEDS["test"])
    val_acc, threshold = verification_accuracy(dv, sv)
    test_acc, _ = verification_accuracy(dt, st, threshold=threshold)
    flat = np.asarray(et, dtype=np.float64).reshape(len(et), -1)
    out = {"val_verification_accuracy": val_acc, "threshold": threshold, "test_verification_accuracy": test_acc}
    out.update({f"recall_at_{k}": recall_at_k(flat, yt, k) for k in ks})
    return out


def pixel_baseline(splits: dict[str, Any], *, pairs: int | None = None) -> dict[str, float]:
    """:func:`evaluate` on raw (standardised) pixels of :func:`load_splits`' val and test splits: what
    a learned metric must beat to have learned anything."""
    return evaluate(splits["val"], splits["test"], pairs=pairs)


# --- training ---------------------------------------------------------------------------------

def sample_inputs(model: str, x, y, n: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """``(inputs, targets)`` for ``model.fit``: balanced pairs with 1/0 targets (Siamese) or
    triplets with dummy zero targets (triplet), drawn with ``seed``."""
    if model == "siamese":
        xa, xb, same = make_pairs(x, y, n, seed=seed)
        return [xa, xb], same
    if model == "triplet":
        return list(make_triplets(x, y, n, seed=seed)), np.zeros(n, dtype="float32")
    raise ValueError(f"model must be one of {list(MODELS)}, got {model!r}")


class FreshSamples(keras.utils.PyDataset):
    """Batches of ``n`` pairs/triplets (:func:`sample_inputs`), drawn anew for every epoch.

    Epoch ``e`` (counted by ``on_epoch_end``, which Keras calls after each pass) draws with
    ``seed_of(e)``; a constant ``seed_of`` keeps the same examples (validation). A PyDataset
    rather than a callback or a per-epoch ``fit``: ``cnnkit.train.fit`` takes it as data, and
    with ``steps_per_epoch`` repeats it, each pass ending with ``on_epoch_end``.

    Args:
        model: ``"siamese"`` or ``"triplet"``.
        x, y: the images and labels to draw from.
        n: examples per epoch.
        batch_size: examples per batch (the last batch may be smaller).
        seed_of: epoch (0-based) → sampling seed.
    """

    def __init__(self, model: str, x, y, n: int, batch_size: int, seed_of):
        super().__init__()
        self.kind, self.x, self.y, self.n, self.batch_size, self.seed_of = model, x, y, n, batch_size, seed_of
        self.epoch, self._seed = 0, None
        self._draw()

    def _draw(self) -> None:
        seed = self.seed_of(self.epoch)
        if seed != self._seed:
            self._inputs, self._targets = sample_inputs(self.kind, self.x, self.y, self.n, seed)
            self._seed = seed

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def __getitem__(self, index: int):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return tuple(a[rows] for a in self._inputs), self._targets[rows]

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._draw()


def _embedding_scores(splits, *, name: str, embeddings_dir: str | None):
    """``evaluate_fn`` for ``fit``: :func:`evaluate` on the trained embedding net (and save test embeddings)."""
    def scores(model) -> dict[str, float]:
        embed = model.get_layer("embedding")
        emb = {s: embed.predict(splits[s][0], batch_size=256, verbose=0) for s in ("val", "test")}
        if embeddings_dir is not None:
            Path(embeddings_dir).mkdir(parents=True, exist_ok=True)
            np.savez_compressed(Path(embeddings_dir) / f"{name}.npz", embeddings=emb["test"], labels=splits["test"][1])
        return evaluate((emb["val"], splits["val"][1]), (emb["test"], splits["test"][1]))
    return scores


def fit_metric(config, *, workdir: str | None = None, verbose: int = 0, embeddings_dir: str | None = None,
               callbacks: Sequence[keras.callbacks.Callback] = ()):
    """Train a ``siamese`` or ``triplet`` model from a RunConfig with ``cnnkit.train.fit``; a ``train_fn``
    for ``run_experiment``.

    Steps: resolve the config; load the standardised splits; hand ``fit`` the loss
    (:class:`~cnnkit.train.losses.ContrastiveLoss`, margin 1, or
    :class:`~cnnkit.train.losses.TripletLoss`, margin 0.2, FaceNet's), a :class:`FreshSamples`
    train set (new pairs/triplets every epoch, seed ``seed·1000 + epoch``; ``steps_per_epoch ·
    batch_size`` of them, default one per training image) and fixed validation pairs/triplets
    (:data:`EVAL_SEEDS`); ``fit`` builds, compiles and trains as for any model (optimizer,
    schedule and weight decay of the recipe, AdamW decoupled; mixed precision; resume from
    ``workdir``); then the val/test embeddings are scored with :func:`evaluate`. A resumed run
    draws its remaining epochs' samples from the first epoch's seed on (as ``fit``'s data order
    restarts).

    Args:
        config: a :class:`~cnnkit.config.RunConfig` (or dict) whose model is ``siamese``/``triplet``.
        workdir: the run's folder (``fit``'s backup, CSV history and result; its name names
            the embeddings file).
        verbose: 1 prints one line per epoch.
        embeddings_dir: if given, the test embeddings and labels go to
            ``<embeddings_dir>/<run id>.npz`` (``embeddings``, ``labels``) for plots.
        callbacks: extra Keras callbacks for ``fit``.

    Returns:
        ``fit``'s :class:`~cnnkit.train.RunResult`: ``history`` (``loss``, ``val_loss`` per
        epoch), ``final`` with ``train_loss``, ``val_loss``, ``test_loss`` (NaN: no test pairs),
        ``params`` and :func:`evaluate`'s numbers.
    """
    from cnnkit.config import RunConfig
    from cnnkit.train import ContrastiveLoss, TripletLoss, fit

    cfg = (config if isinstance(config, RunConfig) else RunConfig.from_dict(config)).resolved()
    _check_models([cfg.model])
    splits = load_splits(cfg.dataset, subset=cfg.subset, resolution=cfg.resolution, val_fraction=cfg.val_fraction,
                         seed=cfg.seed, **cfg.data_options)
    n = cfg.steps_per_epoch * cfg.batch_size if cfg.steps_per_epoch else len(splits["train"][0])
    data = {"train": FreshSamples(cfg.model, *splits["train"], n, cfg.batch_size, lambda e: cfg.seed * 1000 + e),
            "val": FreshSamples(cfg.model, *splits["val"], len(splits["val"][0]), cfg.batch_size,
                                lambda e: EVAL_SEEDS["val"]),
            "info": splits["info"]}
    name = Path(workdir).name if workdir else f"{cfg.model}__s{cfg.seed}"
    return fit(cfg, workdir=workdir, callbacks=callbacks, verbose=verbose, data=data,
               loss=ContrastiveLoss() if cfg.model == "siamese" else TripletLoss(),
               evaluate_fn=_embedding_scores(splits, name=name, embeddings_dir=embeddings_dir))


def load_embeddings(embeddings_dir: str, run_id: str) -> tuple[np.ndarray, np.ndarray]:
    """``(embeddings, labels)`` that :func:`fit_metric` saved for ``run_id``."""
    path = Path(embeddings_dir) / f"{run_id}.npz"
    if not path.exists():
        raise ValueError(f"no embeddings for run {run_id!r} at {path}; run run_experiment with "
                         f"train_kwargs={{'embeddings_dir': {str(embeddings_dir)!r}}} first")
    with np.load(path) as data:
        return data["embeddings"], data["labels"]


def experiment(*, models: Sequence[str] = MODELS, seeds: Sequence[int] = (0, 1), embedding_dim: int = 32,
               dataset: str = "fashion_mnist", subset: int | None = 3000, epochs: int = 8, batch_size: int = 64,
               steps_per_epoch: int | None = None, bn_momentum: float = 0.9, recipe: str = "adam",
               resolution: int | None = None, backbone: str | None = "lenet5", data_options: dict | None = None,
               name: str = "metric") -> Experiment:
    """A Siamese and a triplet network (variants named as the models) × seeds; train with
    ``run_experiment(exp, train_fn=fit_metric)``.

    Args:
        models: ``"siamese"`` and/or ``"triplet"`` (the built-in small conv net as the shared
            embedding network).
        embedding_dim: size of the L2-normalised embedding.
        backbone: the shared embedding network: a registered model name (default ``"lenet5"``,
            cheap on a CPU) or ``None`` (a small conv net), see
            :func:`cnnkit.models.metric.embedding_network`.
        data_options: data-set options (e.g. ``image_shape`` of ``"synthetic"``).
        steps_per_epoch: batches of fresh pairs/triplets per epoch (None: one per training image).
        seeds, dataset, subset, epochs, batch_size, bn_momentum, recipe, resolution: see
            :class:`cnnkit.config.RunConfig` (recipe ``"adam"``: Adam 1e-3, cosine decay).
        name: the experiment's name (its folder in the results store).
    """
    base = base_config(model="siamese", dataset=dataset, subset=subset, epochs=epochs, batch_size=batch_size,
                       augment="none", bn_momentum=bn_momentum, recipe=recipe, resolution=resolution,
                       steps_per_epoch=steps_per_epoch, data_options=dict(data_options or {}),
                       model_options={"embedding_dim": embedding_dim, "backbone": backbone})
    variants = {m: {"model": m} for m in _check_models(models)}
    return Experiment(name, base, variants=variants, seeds=tuple(seeds))


# --- summary ----------------------------------------------------------------------------------

def _vs_baseline_row(runs: pd.DataFrame, variant: str, metric: str, baseline: float, *, quantity: str,
                     reference: str, note: str = "", headline: bool = False) -> Row:
    """``metric − baseline`` per seed, one-sided t (the pixel baseline is deterministic: the same for every seed)."""
    values = by_seed(runs, variant, metric)
    claim = Claim("positive")
    if values.empty:
        return Row(quantity, f"no finished run of {variant}", reference, "inconclusive", note, headline,
                   claim.describe(True))
    return judged_row(quantity, np.full(len(values), baseline), values.to_numpy(), claim, reference=reference,
                      headline=headline, note=note)


def _mean_pct(runs: pd.DataFrame, variant: str, metric: str) -> str:
    return mean_text(runs, variant, metric) if metric in runs.columns else "no finished run"


def summary_rows(runs: pd.DataFrame, baseline: dict[str, float]) -> list[Row]:
    """Measured vs the premise of metric learning: learned embeddings against raw pixels.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment` trained with :func:`fit_metric`.
        baseline: :func:`pixel_baseline` on the same data.

    Returns:
        Per model: test verification accuracy (a headline: the losses shape pair distances) and
        recall@1 minus the pixel baseline (one-sided t over seeds; the premise: positive); then the
        absolute numbers beside the papers' (not comparable: faces, another benchmark).
    """
    premise = "> 0: a learned metric beats pixel distance (Hadsell et al. 2006; Schroff et al. 2015)"
    variants = list(dict.fromkeys(runs["variant"]))
    rows = []
    for v in variants:
        rows.append(_vs_baseline_row(runs, v, "test_verification_accuracy", baseline["test_verification_accuracy"],
                                     quantity=f"verification accuracy, {v} − pixels", reference=premise,
                                     note="threshold chosen on validation pairs", headline=True))
        rows.append(_vs_baseline_row(runs, v, "recall_at_1", baseline["recall_at_1"],
                                     quantity=f"recall@1, {v} − pixels", reference=premise, note="test split"))
    lfw, fm = METRIC["facenet_lfw"], FASHION_MNIST_ACCURACY["alexnet_triplet"]
    for v in variants:
        rows += [absolute_row(f"verification accuracy, {v}", _mean_pct(runs, v, "test_verification_accuracy"),
                              lfw.text(), "faces vs Fashion-MNIST"),
                 absolute_row(f"recall@1, {v}", _mean_pct(runs, v, "recall_at_1"),
                              f"{100 * fm:.1f} % (Fashion-MNIST benchmark, AlexNet + triplet loss, accuracy)",
                              "recall@1 is leave-one-out 1-NN accuracy; the benchmark entry is unverified"),
                 absolute_row(f"recall@5, {v}", _mean_pct(runs, v, "recall_at_5"), "—", "no reference")]
    rows += [absolute_row(f"{label}, pixels", f"{100 * baseline[key]:.2f} %", "—", "deterministic baseline")
             for label, key in (("recall@1", "recall_at_1"), ("verification accuracy", "test_verification_accuracy"))]
    return rows


def embedding_panels(runs: pd.DataFrame, embeddings_dir: str, *, pixels: tuple | None = None,
                     method: str = "pca") -> dict[str, tuple] | None:
    """2-D projections of each model's first-seed test embeddings, for :func:`plot_embeddings`.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of runs trained with ``embeddings_dir``.
        embeddings_dir: where :func:`fit_metric` saved the embeddings.
        pixels: ``(images, labels)`` of the test split to add a raw-pixel panel first, or ``None``.
        method: ``"pca"`` (title gives the share of variance kept) or ``"tsne"``.

    Returns:
        ``{title: (points, labels)}``, or ``None`` for ``"tsne"`` without scikit-learn.
    """
    if method not in ("pca", "tsne"):
        raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}")
    sources = [] if pixels is None else [("raw pixels", *pixels)]
    done = runs[runs["status"] == "done"].sort_values("seed").drop_duplicates("variant")
    sources += [(v, *load_embeddings(embeddings_dir, r)) for v, r in zip(done["variant"], done["run_id"])]
    panels = {}
    for name, x, labels in sources:
        if method == "tsne":
            points = tsne(x)
            if points is None:
                return None
            panels[f"{name} (t-SNE)"] = (points, labels)
        else:
            points, ratio = pca(x)
            panels[f"{name} (PCA, {100 * ratio.sum():.0f} % of variance)"] = (points, labels)
    return panels


def plot_embeddings(panels: dict[str, tuple], class_names: Sequence[str] | None = None):
    """One scatter panel per entry ``title → (points (n, 2), labels (n,))``, coloured by class.

    Returns:
        A matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt

    if not panels:
        raise ValueError("plot_embeddings needs at least one panel: {'title': (points, labels)}")
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4.3), squeeze=False)
    cmap = plt.get_cmap("tab10")
    for ax, (title, (points, labels)) in zip(axes[0], panels.items()):
        points, labels = np.asarray(points), np.asarray(labels).reshape(-1)
        for c in np.unique(labels):
            sel = labels == c
            name = class_names[int(c)] if class_names is not None else str(c)
            ax.scatter(points[sel, 0], points[sel, 1], s=6, color=cmap(int(c) % 10), label=name, alpha=0.7)
        ax.set_title(title)
        ax.set_xticks([]), ax.set_yticks([])
    axes[0][-1].legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, markerscale=2)
    fig.tight_layout()
    return fig
