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
``RunResult``; :func:`run` trains the grid with it, so the runs are stored, resumed and summarised
like any grid's.

The claims are about *trained* embeddings: a row is judged only where every run converged
(:mod:`cnnkit.train.convergence`). Without an error metric the measure is the training loss: the rate has decayed
(the adam recipe's cosine, written for the run's own iterations, reaches zero at the last one: budget-aware) and
the loss changed by less than ``FLAT_LOSS`` (relative) between the halves of the last quarter, so a run logs at
least six points (``epochs``). The loss of fresh pairs/triplets is a noisy mean (a few per cent from one epoch
to the next at the quick budget): only far more pairs per epoch (preset long) make a flat loss measurable. No
linear floor: an embedding has no linear-classifier counterpart, the raw-pixel baseline is its yardstick. No
verdict over training either: verification accuracy and recall are measured once, on the trained net.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import pandas as pd

from cnnkit._status import FINISHED
from cnnkit.ablation import Experiment
from cnnkit.ablation.verdicts import Claim
from cnnkit.models.metric import make_pairs, make_triplets, recall_at_k, verification_accuracy
from cnnkit.notebook.report import Row
from cnnkit.reference import FASHION_MNIST_ACCURACY, METRIC
from cnnkit.studies._common import absolute_row, base_config, by_seed, judged_row, mean_text, run_grid, runs_converged
from cnnkit.studies._spec import StudyParams
from cnnkit.train.convergence import FLAT_LOSS
from cnnkit.train.recipes import get_recipe

MODELS = ("siamese", "triplet")
KS = (1, 5)
EVAL_SEEDS = {"val": 10_001, "test": 10_002}  # the same evaluation pairs for every run and model

NOTEBOOK = "13_metric_learning"
WORKERS = 2  # training processes of the grid

# The premise of metric learning, declared before any run: a learned embedding beats raw-pixel distances
# (b − a = model − pixels, per seed). Both are about trained nets: judged only where the runs converged.
CLAIMS = {
    "verification": Claim("positive", judged_at="trained"),  # test verification accuracy − pixels > 0
    "recall_at_1": Claim("positive", judged_at="trained"),   # test recall@1 − pixels > 0
}


def _check_models(models: Sequence[str]) -> list[str]:
    models = list(models)
    if not models or len(set(models)) != len(models) or any(m not in MODELS for m in models):
        raise ValueError(f"models must name each of {list(MODELS)} at most once (at least one); got {models!r}")
    return models


@dataclass(frozen=True)
class Params(StudyParams):
    """Notebook 13's parameters; the defaults are the quick preset."""

    dataset: str = "fashion_mnist"  # FaceNet: faces, verified on LFW
    models: tuple[str, ...] = ("siamese", "triplet")  # contrastive loss (margin 1) / triplet loss (margin 0.2)
    backbone: str | None = "lenet5"  # shared embedding network: a registered model, or None (a small conv net)
    embedding_dim: int = 32  # size of the L2-normalised embedding
    seeds: tuple[int, ...] = (0, 1, 2)  # each row is a mean over seeds against the (deterministic) pixel baseline
    subset: int | None = 2000  # examples per split, class-balanced (None: all)
    epochs: int = 6  # fresh balanced pairs / triplets every epoch; one logged point each (at least 6)
    batch_size: int = 64  # pairs / triplets per batch
    steps_per_epoch: int | None = 16  # batches per epoch (None: one pair / triplet per training image)
    bn_momentum: float = 0.9  # Keras' 0.99 barely moves in a few hundred steps (REFERENCE.md)
    recipe: str = "adam"  # Adam 1e-3 with cosine decay
    resolution: int | None = None  # images resized to resolution x resolution (None: native)
    data_options: dict = field(default_factory=dict)  # data-set options, e.g. image_shape of "synthetic"

    def __post_init__(self):
        super().__post_init__()
        _check_models(self.models)


# The notebook's presets: only what each changes from Params (cnnkit.studies._spec.COMMON adds the shared ones).
PRESETS = {
    # A smaller embedding on smoke's subset, one epoch and seed: every code path, no verdict.
    "smoke": {"embedding_dim": 8},
    # The quick design with far more pairs per epoch on 10k images per split, so that the noise of fresh pairs in
    # the loss of the last quarter's halves falls below what the convergence measure allows (2-core CPU: < 1 h).
    "long": {"subset": 10000, "epochs": 8, "steps_per_epoch": 2000},
    # Full Fashion-MNIST, the small conv net as embedding network, 30 epochs of fresh pairs/triplets.
    "paper": {"backbone": None, "embedding_dim": 64, "epochs": 30, "steps_per_epoch": None},
}


# --- data and evaluation ----------------------------------------------------------------------

def load_splits(dataset: str, *, subset: int | None, resolution: int | None = None,
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


def data_splits(p: Params) -> dict[str, Any]:
    """:func:`load_splits` of the data the runs of ``p`` see (seed 0): for the pixel baseline and the plots."""
    return load_splits(p.dataset, subset=p.subset, resolution=p.resolution, **p.data_options)


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
    (:data:`EVAL_SEEDS`; as many as an epoch's training ones, at most one per validation image); ``fit`` builds, compiles and trains as for any model (optimizer,
    schedule and weight decay of the recipe, AdamW decoupled; mixed precision; resume from
    ``workdir``); then the val/test embeddings are scored with :func:`evaluate`. A resumed run
    draws its remaining epochs' samples from the first epoch's seed on (as ``fit``'s data order
    restarts).

    Args:
        config: a :class:`~cnnkit.train.config.RunConfig` (or dict) whose model is ``siamese``/``triplet``.
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
    from cnnkit.train.config import RunConfig
    from cnnkit.train import ContrastiveLoss, TripletLoss, fit

    cfg = (config if isinstance(config, RunConfig) else RunConfig.from_dict(config)).resolved()
    _check_models([cfg.model])
    splits = load_splits(cfg.dataset, subset=cfg.subset, resolution=cfg.resolution, val_fraction=cfg.val_fraction,
                         seed=cfg.seed, **cfg.data_options)
    n = cfg.steps_per_epoch * cfg.batch_size if cfg.steps_per_epoch else len(splits["train"][0])
    data = {"train": FreshSamples(cfg.model, *splits["train"], n, cfg.batch_size, lambda e: cfg.seed * 1000 + e),
            "val": FreshSamples(cfg.model, *splits["val"], min(n, len(splits["val"][0])), cfg.batch_size,
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
        raise ValueError(f"no embeddings for run {run_id!r} at {path}; train it with "
                         f"metric.run(p, root, embeddings_dir={str(embeddings_dir)!r}) first")
    with np.load(path) as data:
        return data["embeddings"], data["labels"]


def experiment(p: Params = Params(), *, name: str = "metric") -> Experiment:
    """A Siamese and a triplet network (variants named as the models) × seeds, from the notebook's parameters.

    Both share the embedding network ``p.backbone`` (a registered model, or ``None``: a small conv
    net, see :func:`cnnkit.models.metric.embedding_network`); :func:`run` trains them with :func:`fit_metric`.
    """
    base = base_config(model="siamese", dataset=p.dataset, subset=p.subset, epochs=p.epochs, batch_size=p.batch_size,
                       augment="none", bn_momentum=p.bn_momentum, recipe=p.recipe, resolution=p.resolution,
                       steps_per_epoch=p.steps_per_epoch, data_options=dict(p.data_options),
                       model_options={"embedding_dim": p.embedding_dim, "backbone": p.backbone})
    variants = {m: {"model": m} for m in p.models}
    return Experiment(name, base, variants=variants, seeds=p.seeds)


def run(p: Params, root: str, *, workers: int = WORKERS, embeddings_dir: str | None = None, **kwargs):
    """Train :func:`experiment` of ``p`` with :func:`fit_metric` in ``workers`` processes.

    Finished runs are kept; an interrupted run resumes (and draws its remaining epochs' pairs from the
    first epoch's seed on, see :func:`fit_metric`). ``embeddings_dir``: where each run's test embeddings
    go (for :func:`embedding_panels`; None: not saved). ``kwargs`` go to :func:`~cnnkit.studies.run_grid`.

    Raises:
        ValueError: a ``train_fn`` in ``kwargs``: this study trains with :func:`fit_metric` only.
    """
    if "train_fn" in kwargs:
        raise ValueError(f"metric.run trains with metric.fit_metric (pairs/triplets, their losses); got "
                         f"train_fn={kwargs['train_fn']!r}: leave it out")
    train_kwargs = {**kwargs.pop("train_kwargs", {}), "embeddings_dir": embeddings_dir}
    return run_grid(experiment(p), root, workers=workers, train_fn=fit_metric, train_kwargs=train_kwargs, **kwargs)


# --- summary ----------------------------------------------------------------------------------

def _vs_baseline_row(runs: pd.DataFrame, variant: str, metric: str, baseline: float, claim: Claim, *,
                     quantity: str, reference: str, note: str = "", headline: bool = False) -> Row:
    """``metric − baseline`` per seed, one-sided t (the pixel baseline is deterministic: the same for every seed)."""
    values = by_seed(runs, variant, metric)
    if values.empty:
        return Row(quantity, f"no finished run of {variant}", reference, "inconclusive", note, headline,
                   claim.describe(True), judged_at=claim.judged_at)
    return judged_row(quantity, np.full(len(values), baseline), values.to_numpy(), claim, reference=reference,
                      headline=headline, note=note, converged=runs_converged(runs, [variant], list(values.index)))


def _mean_pct(runs: pd.DataFrame, variant: str, metric: str) -> str:
    return mean_text(runs, variant, metric) if metric in runs.columns else "no finished run"


def summary_rows(runs: pd.DataFrame, p: Params = Params(), baseline: dict[str, float] | None = None) -> list[Row]:
    """Measured vs the premise of metric learning: learned embeddings against raw pixels.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment` trained by :func:`run`.
        p: the parameters the runs used (its models).
        baseline: :func:`pixel_baseline` on the same data (default: computed from :func:`data_splits` of ``p``).

    Returns:
        Per model: test verification accuracy (a headline: the losses shape pair distances) and
        recall@1 minus the pixel baseline (one-sided t over seeds; the premise: positive; judged on
        converged runs only, :data:`CLAIMS`); then the absolute numbers beside the papers' (not
        comparable: faces, another benchmark).
    """
    baseline = pixel_baseline(data_splits(p)) if baseline is None else baseline
    premise = "> 0: a learned metric beats pixel distance (Hadsell et al. 2006; Schroff et al. 2015)"
    variants = list(p.models)
    rows = []
    for v in variants:
        rows.append(_vs_baseline_row(runs, v, "test_verification_accuracy", baseline["test_verification_accuracy"],
                                     CLAIMS["verification"], quantity=f"verification accuracy, {v} − pixels",
                                     reference=premise, note="threshold chosen on validation pairs", headline=True))
        rows.append(_vs_baseline_row(runs, v, "recall_at_1", baseline["recall_at_1"], CLAIMS["recall_at_1"],
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


def differences(p: Params, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """What a run with the parameters ``p`` does differently from the papers (a table for the report).

    With the ``runs`` frame, a row says how many finished runs converged (:mod:`cnnkit.train.convergence`).
    """
    from cnnkit.train import ContrastiveLoss, TripletLoss

    steps = p.steps_per_epoch or "one per training image"
    rows = [("data", f"{p.dataset}, {p.subset or 'all'} examples per split",
             "FaceNet: 100–200 M face images of about 8 M people; verified on LFW"),
            ("embedding network", p.backbone or "a small conv net (cnnkit.models.metric)",
             "FaceNet: deep conv nets (Zeiler & Fergus and Inception types)"),
            ("embedding", f"{p.embedding_dim}-d, L2-normalised", "FaceNet: 128-d, L2-normalised"),
            ("margins", f"contrastive {ContrastiveLoss().margin:g}, triplet {TripletLoss().margin:g}",
             "contrastive: a margin m (Hadsell et al.); triplet: α = 0.2 (FaceNet)"),
            ("pairs and triplets", "fresh random balanced ones every epoch (seed·1000 + epoch); a resumed run "
             "redraws its remaining epochs from the first epoch's seed on", "FaceNet: online semi-hard negatives"),
            ("training", f"{p.epochs} epochs × {steps} batches of {p.batch_size}, recipe {p.recipe}",
             "FaceNet: SGD with AdaGrad on a CPU cluster, far longer"),
            ("learning-rate schedule", f"the {p.recipe} recipe's {get_recipe(p.recipe).schedule} decay over the run's own iterations: "
             "the rate reaches zero at the last one, so a run can converge", "FaceNet: AdaGrad from 0.05, lowered to finish"),
            ("floor", "the raw-pixel baseline (no linear model: an embedding has no linear-classifier counterpart)",
             "— (FaceNet: other face-verification systems)"),
            ("evaluation", "verification (threshold from validation pairs) and recall@k on test images",
             "LFW verification accuracy (10 folds, threshold from the other folds)"),
            ("seeds", f"{len(p.seeds)}, against a deterministic pixel baseline", "one model")]
    if runs is not None and "converged" in runs:
        done = runs[runs["status"].isin(FINISHED)]
        n = int(done["converged"].fillna(False).astype(bool).sum())
        rows.append(("convergence", f"{n} of {len(done)} runs converged (final rate ≤ 10 % of the peak, training "
                     f"loss changing < {100 * FLAT_LOSS:g} % between the halves of the last quarter)",
                     "trained to convergence"))
    return pd.DataFrame([(k, str(a), str(b)) for k, a, b in rows],
                        columns=["", "here", "Hadsell et al. 2006; Schroff et al. 2015"])


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
    saved = runs["run_id"].map(lambda r: (Path(embeddings_dir) / f"{r}.npz").exists())  # a diverged run saved none
    first = runs[runs["status"].isin(FINISHED) & saved].sort_values("seed").drop_duplicates("variant")
    sources += [(v, *load_embeddings(embeddings_dir, r)) for v, r in zip(first["variant"], first["run_id"])]
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
