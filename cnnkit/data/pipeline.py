"""Batched input pipelines: ``tf.data`` where TensorFlow is installed, a Keras ``PyDataset`` otherwise.

``tf.data`` order: ``from_tensor_slices → cache → shuffle (seeded, reshuffled every epoch) →
batch → augment + normalise (on whole batches) → prefetch(AUTOTUNE)``. The same ``seed`` gives
the same batches in the same order, epoch after epoch; a different seed gives different ones.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
from keras import ops

from cnnkit._checks import check_choice
from cnnkit.data.augment import AUGMENTATIONS, augment_batch
from cnnkit.data.datasets import DatasetInfo, load_arrays

__all__ = ["load", "EpochBatches", "NumpyBatches", "FORMATS", "epoch_order", "prepare_batch"]

FORMATS = ("auto", "tf", "numpy")


def prepare_batch(x, info: DatasetInfo, *, augment: str = "none", seed: Any = 0, normalize: bool = True):
    """uint8/float NHWC batch → float32: scale to [0, 1], augment, then ``(x - mean) / std``.

    Args:
        x: a batch as returned by :func:`cnnkit.data.load_arrays` (uint8, or float in [0, 1]).
        info: its :class:`DatasetInfo` (mean, std, pca of the train split).
        augment: a name from ``AUGMENTATIONS``.
        seed: int or ``keras.random.SeedGenerator`` for the augmentation.
        normalize: subtract the train mean and divide by the train std per channel.
    """
    x = augment_batch(x, augment, seed=seed, pca=info.pca)
    if normalize:
        x = (x - np.asarray(info.mean, "float32")) / np.asarray(info.std, "float32")
    return x


def _has_tensorflow() -> bool:
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        return False
    return True


def epoch_order(seed: int, epoch: int, n: int, shuffle: bool = True) -> np.ndarray:
    """The order in which epoch ``epoch`` visits ``n`` examples: ``default_rng([seed, epoch]).permutation(n)``.

    The one rule of every batch source (host arrays here, device-resident indices in
    :mod:`cnnkit.train.device_data`): runs paired by seed see the same data order in every arm.
    """
    return np.random.default_rng([seed, epoch]).permutation(n) if shuffle else np.arange(n)


def _batch_seed(seed: int, epoch: int, index: int) -> int:
    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, epoch, index]).generate_state(1)[0] & 0x7FFFFFFF)


class EpochBatches(keras.utils.PyDataset):
    """Batches over ``size`` examples in the seeded order :func:`epoch_order` of each epoch (the one rule of
    :class:`NumpyBatches` and :class:`cnnkit.train.device_data.IndexBatches`, so seed pairing holds across data
    paths). Subclasses read :meth:`_take` in ``__getitem__``; Keras calls :meth:`on_epoch_end` after each epoch."""

    def __init__(self, size: int, *, batch_size: int, shuffle: bool, seed: int, drop_remainder: bool, **kwargs: Any):
        super().__init__(**kwargs)
        self.size, self.batch_size, self.shuffle, self.seed = int(size), batch_size, shuffle, seed
        self.drop_remainder, self.epoch, self._order = drop_remainder, 0, None

    def __len__(self) -> int:
        n = self.size / self.batch_size
        return int(n) if self.drop_remainder else math.ceil(n)

    def _take(self, index: int) -> np.ndarray:
        """The example indices of batch ``index`` of this epoch."""
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range: this {type(self).__name__} has {len(self)} batches")
        if self._order is None:
            self._order = epoch_order(self.seed, self.epoch, self.size, self.shuffle)
        return self._order[index * self.batch_size:(index + 1) * self.batch_size]

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = None


class NumpyBatches(EpochBatches):
    """Batches of NumPy arrays for ``model.fit`` without TensorFlow; ``.info`` holds the DatasetInfo.

    Epoch ``e`` uses the permutation :func:`epoch_order` and batch ``i`` of it the
    augmentation seed derived from ``(seed, e, i)``, so results do not depend on workers or
    on the order in which batches are requested. Keras calls :meth:`on_epoch_end` after each
    epoch; iterate with ``for x, y in ds`` for one epoch.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, info: DatasetInfo, *, batch_size: int = 128,
                 shuffle: bool = False, seed: int = 0, augment: str = "none", normalize: bool = True,
                 drop_remainder: bool = False, **kwargs: Any):
        super().__init__(len(x), batch_size=batch_size, shuffle=shuffle, seed=seed, drop_remainder=drop_remainder,
                         **kwargs)
        self.x, self.y, self.info = x, y, info
        self.augment, self.normalize = augment, normalize

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        take = self._take(index)
        x = prepare_batch(self.x[take], self.info, augment=self.augment,
                          seed=_batch_seed(self.seed, self.epoch, index), normalize=self.normalize)
        return ops.convert_to_numpy(x), self.y[take]


def _tf_dataset(x: np.ndarray, y: np.ndarray, info: DatasetInfo, *, batch_size: int, shuffle: bool, seed: int,
                augment: str, normalize: bool, drop_remainder: bool, cache: bool):
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if keras.backend.backend() == "tensorflow":
        generator = keras.random.SeedGenerator(seed)  # advances once per batch: new draws every epoch

        def transform(xb, yb):
            return prepare_batch(xb, info, augment=augment, seed=generator, normalize=normalize), yb

        ds = ds.map(transform)  # sequential: the generator's state advances in batch order
    else:
        ds = _bridge_other_backend(ds, info, augment=augment, seed=seed, normalize=normalize)
    return ds.prefetch(tf.data.AUTOTUNE)


def _bridge_other_backend(ds, info: DatasetInfo, *, augment: str, seed: int, normalize: bool):
    """On JAX/PyTorch backends keras.ops cannot run in a tf.data graph: call it through numpy_function.

    Each batch gets an integer seed from ``tf.data.Dataset.random(seed)``, redrawn every epoch.
    """
    import tensorflow as tf

    def run(xb, batch_seed):
        out = prepare_batch(xb, info, augment=augment, seed=int(batch_seed) & 0x7FFFFFFF, normalize=normalize)
        return ops.convert_to_numpy(out).astype("float32")

    def transform(batch, batch_seed):
        xb, yb = batch
        out = tf.numpy_function(run, [xb, batch_seed], tf.float32, stateful=False)
        out.set_shape(xb.shape)
        return out, yb

    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    return tf.data.Dataset.zip(ds, seeds).map(transform)


def _resolve_format(fmt: str) -> str:
    check_choice("format", fmt, FORMATS, lead=f"format={fmt!r} is not valid")
    if fmt == "auto":
        return "tf" if _has_tensorflow() else "numpy"
    if fmt == "tf" and not _has_tensorflow():
        raise ValueError("format='tf' needs TensorFlow, which is not installed; use format='numpy' or 'auto'")
    return fmt


def load(name: str, split: str = "train", *, batch_size: int = 128, augment: str = "none",
         subset: int | None = None, resolution: int | None = None, val_fraction: float = 0.1, seed: int = 0,
         shuffle: bool | None = None, normalize: bool = True, drop_remainder: bool = False, cache: bool = True,
         format: str = "auto", **options: Any):
    """A batched, normalised, optionally augmented dataset of ``(x float32, y int32)``.

    Args:
        name: a name from ``cnnkit.data.available()``.
        split: ``"train"``, ``"val"``, ``"test"`` or ``"train_full"``.
        batch_size: images per batch; default 128.
        augment: ``"none"`` (default), ``"resnet_cifar"`` or ``"alexnet"`` (see ``cnnkit.data.augment``).
        subset, resolution, val_fraction, seed, **options: as in :func:`cnnkit.data.load_arrays`;
            ``seed`` also seeds the shuffle and the augmentation.
        shuffle: reshuffle every epoch; None = True for ``train``/``train_full``, False otherwise.
        normalize: ``(x / 255 - mean) / std`` per channel with the train split's statistics.
        drop_remainder: drop the last incomplete batch.
        cache: cache the decoded examples in the ``tf.data`` pipeline.
        format: ``"tf"`` (``tf.data.Dataset``), ``"numpy"`` (:class:`NumpyBatches`, a
            ``keras.utils.PyDataset``), or ``"auto"`` (default: tf when TensorFlow is installed).

    Returns:
        The dataset; its :class:`DatasetInfo` is ``ds.info``.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}; use a positive integer, e.g. 128")
    check_choice("augmentation", augment, AUGMENTATIONS)
    fmt = _resolve_format(format)
    x, y, info = load_arrays(name, split, subset=subset, resolution=resolution, val_fraction=val_fraction,
                             seed=seed, **options)
    shuffle = split in ("train", "train_full") if shuffle is None else bool(shuffle)
    settings = dict(batch_size=int(batch_size), shuffle=shuffle, seed=int(seed), augment=augment,
                    normalize=normalize, drop_remainder=drop_remainder)
    if fmt == "numpy":
        return NumpyBatches(x, y, info, **settings)
    ds = _tf_dataset(x, y, info, cache=cache, **settings)
    ds.info = info
    return ds
