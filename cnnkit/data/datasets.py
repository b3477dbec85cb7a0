"""Data sets as NumPy arrays: splits, balanced subsets, resolution, and train-set statistics.

``load_arrays`` is the one entry point; :func:`cnnkit.data.load` builds its pipelines on it.
Splits:

* ``"train_full"``: the official training set (CIFAR 50k, Fashion-MNIST 60k);
* ``"val"``: a stratified, seeded ``val_fraction`` of it (0.1 → CIFAR's 45k/5k split of He
  et al. 2016 §4.2);
* ``"train"``: the rest of ``train_full``;
* ``"test"``: the official test set.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from cnnkit._checks import check_choice
from cnnkit.data.sources import raw_data

__all__ = ["DatasetInfo", "SPLITS", "load_arrays", "val_indices", "balanced_subset", "set_resolution"]

SPLITS = ("train", "val", "test", "train_full")


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a model and a pipeline need to know about the arrays they receive.

    Attributes:
        name: the data set name (``cnnkit.data.available()``).
        split: ``train``, ``val``, ``test`` or ``train_full``.
        class_names: one name per class id.
        num_classes: ``len(class_names)``.
        image_shape: ``(height, width, channels)`` after ``resolution``.
        num_examples: examples in this split (after ``subset``).
        mean: per-channel mean of the official train split, pixel values scaled to [0, 1].
        std: per-channel standard deviation, same scale.
        source: where the data came from (folder and search place, or "generated").
        pca: ``(eigenvalues, eigenvectors)`` of the train set's channel covariance ([0, 1]
            scale, eigenvectors as columns, largest first), used by the ``alexnet`` colour jitter.
    """

    name: str
    split: str
    class_names: tuple[str, ...]
    num_classes: int
    image_shape: tuple[int, int, int]
    num_examples: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    source: str
    pca: tuple[tuple[float, ...], tuple[tuple[float, ...], ...]] | None = None


def _check_args(name: str, split: str, subset, val_fraction, resolution, seed) -> None:
    from cnnkit.data.sources import available

    check_choice("data set", name, available(), note="(cnnkit.data.available())")
    check_choice("split", split, SPLITS, lead=f"split={split!r} is not valid")
    if subset is not None and (isinstance(subset, bool) or not isinstance(subset, (int, np.integer)) or subset < 1):
        raise ValueError(f"subset={subset!r}; use a positive number of examples or None for all")
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)) or not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction={val_fraction!r}; use a fraction in (0, 1), e.g. 0.1")
    if resolution is not None and (isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer))
                                   or resolution < 1):
        raise ValueError(f"resolution={resolution!r}; use a positive side length in pixels (e.g. 32) or None")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed={seed!r}; use an integer")


def val_indices(y: np.ndarray, val_fraction: float, seed: int) -> np.ndarray:
    """Sorted indices of a stratified validation split: ``round(n_c * val_fraction)`` per class."""
    rng = np.random.default_rng([seed, 0x5EED])
    picked = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        picked.append(rng.permutation(members)[: int(round(len(members) * val_fraction))])
    return np.sort(np.concatenate(picked))


def balanced_subset(y: np.ndarray, n: int, num_classes: int) -> np.ndarray:
    """Sorted indices of the first ``n // num_classes`` examples of every class (fewer if a class is short)."""
    if n < num_classes:
        raise ValueError(f"subset={n} is smaller than the number of classes ({num_classes}); a balanced "
                         f"subset needs at least one example per class")
    per_class = n // num_classes
    return np.sort(np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(num_classes)]))


def set_resolution(x: np.ndarray, resolution: int | None) -> np.ndarray:
    """Zero-pad symmetrically to ``resolution`` when it is not smaller than the images, else resize.

    Padding puts ``(R - H) // 2`` rows above and the rest below (28 → 32: 2 and 2); resizing
    is bilinear (``keras.ops.image.resize``) and keeps the dtype (uint8 is rounded).
    """
    h, w = x.shape[1:3]
    if resolution is None or (h, w) == (resolution, resolution):
        return x
    if resolution >= h and resolution >= w:
        top, left = (resolution - h) // 2, (resolution - w) // 2
        return np.pad(x, ((0, 0), (top, resolution - h - top), (left, resolution - w - left), (0, 0)))
    import keras

    chunks = []
    for start in range(0, len(x), 4096):
        part = keras.ops.image.resize(x[start:start + 4096].astype("float32"), (resolution, resolution),
                                      interpolation="bilinear")
        chunks.append(keras.ops.convert_to_numpy(part))
    out = np.concatenate(chunks) if chunks else np.zeros((0, resolution, resolution, x.shape[3]), "float32")
    return np.clip(np.round(out), 0, 255).astype(x.dtype) if x.dtype == np.uint8 else out.astype(x.dtype)


def _moments(raw) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and second-moment matrix E[v vᵀ] of the train images in [0, 1] (computed once)."""
    if raw.moments is None:
        raw.moments = _compute_moments(raw.x_train)
    return raw.moments


def _compute_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = 1 / 255 if x.dtype == np.uint8 else 1.0
    channels = x.shape[-1]
    total, outer, count = np.zeros(channels), np.zeros((channels, channels)), 0
    for start in range(0, len(x), 8192):
        v = x[start:start + 8192].reshape(-1, channels).astype("float64") * scale
        total += v.sum(0)
        outer += v.T @ v
        count += len(v)
    return total / count, outer / count


def _train_statistics(raw, resolution: int | None):
    """mean, std, pca of the official train split at ``resolution``.

    Zero padding is accounted for exactly (the padded fraction of pixels is 0); a bilinear
    resize is assumed to keep the statistics (it averages neighbouring pixels).
    """
    mean, second = _moments(raw)
    h, w = raw.x_train.shape[1:3]
    if resolution is not None and resolution >= h and resolution >= w:
        kept = h * w / resolution ** 2
        mean, second = mean * kept, second * kept
    cov = second - np.outer(mean, mean)
    eigenvalues, eigenvectors = np.linalg.eigh(cov)
    order = np.argsort(eigenvalues)[::-1]
    pca = (tuple(float(v) for v in np.maximum(eigenvalues[order], 0)),
           tuple(tuple(float(v) for v in row) for row in eigenvectors[:, order]))
    std = np.sqrt(np.maximum(np.diag(cov), 1e-12))
    return tuple(float(v) for v in mean), tuple(float(v) for v in std), pca


def _split(raw, split: str, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if split == "test":
        if raw.x_test is None:
            raise ValueError(f"{raw.source} has no test split; give the folder train/ and test/ sub-folders "
                             "(each with one folder per class) or use split='val'")
        return raw.x_test, raw.y_test
    if split == "train_full":
        return raw.x_train, raw.y_train
    val = val_indices(raw.y_train, val_fraction, seed)
    if split == "val":
        return raw.x_train[val], raw.y_train[val]
    keep = np.ones(len(raw.y_train), bool)
    keep[val] = False
    return raw.x_train[keep], raw.y_train[keep]


def load_arrays(name: str, split: str = "train", *, subset: int | None = None, val_fraction: float = 0.1,
                resolution: int | None = None, seed: int = 0,
                **options: Any) -> tuple[np.ndarray, np.ndarray, DatasetInfo]:
    """Load one split of a data set as NumPy arrays.

    Args:
        name: a name from ``cnnkit.data.available()`` (``fashion_mnist``, ``mnist``, ``cifar10``,
            ``cifar100``, ``synthetic``, ``folder``).
        split: ``"train"`` (default), ``"val"``, ``"test"`` or ``"train_full"``.
        subset: keep the first ``subset // num_classes`` examples of each class; None = all.
        val_fraction: share of the official train split held out as ``"val"``; default 0.1.
        resolution: side length; zero-pad when not smaller than the images (28 → 32 adds 2
            pixels per side), else bilinear resize; None = native size.
        seed: seeds the validation split.
        **options: data-set options, e.g. ``path=`` for ``folder``, ``label_mode=`` for
            ``cifar100``, ``image_shape=``/``num_classes=``/``train_size=`` for ``synthetic``.

    Returns:
        ``(x, y, info)``: x NHWC uint8 (float32 in [0, 1] for ``synthetic``), y int32,
        info a :class:`DatasetInfo`.

    Raises:
        ValueError: unknown name, split, option, or a bad subset/resolution/val_fraction.
        FileNotFoundError: the files are nowhere (the message lists every place searched).
        cnnkit.data.DataFormatError: a file is corrupt or truncated (the message names it).
    """
    _check_args(name, split, subset, val_fraction, resolution, seed)
    raw = raw_data(name, **options)
    x, y = _split(raw, split, val_fraction, int(seed))
    num_classes = len(raw.class_names)
    if subset is not None:
        keep = balanced_subset(y, int(subset), num_classes)
        x, y = x[keep], y[keep]
    x = set_resolution(x, resolution)
    if x is raw.x_train or x is raw.x_test:  # never hand out the cached arrays themselves
        x = x.copy()
    mean, std, pca = _train_statistics(raw, resolution)
    info = DatasetInfo(name=name, split=split, class_names=raw.class_names, num_classes=num_classes,
                       image_shape=tuple(int(d) for d in x.shape[1:]), num_examples=int(len(x)),
                       mean=mean, std=std, source=raw.source, pca=pca)
    return x, y.astype("int32", copy=True), info
