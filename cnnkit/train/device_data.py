"""Training data on the accelerator: the data set is copied there once, batches never cross the bus.

For the small data sets of the classic papers (CIFAR: 180 MB as uint8) the input pipeline, not
the network, can limit a GPU: every step a host pipeline decodes, augments and copies a batch.
The ``device`` data path (``RunConfig(data_path="device")``) instead

1. puts the images of every split (uint8 when they are uint8) into one non-trainable variable
   on the accelerator, once (:class:`DeviceData`);
2. feeds ``model.fit`` only batch *indices* and labels, a few hundred bytes a step, from a seeded
   per-epoch permutation (:class:`IndexBatches`: the order of ``cnnkit.data.load(...,
   format="numpy")``, so both paths see the same batches);
3. gathers, augments (:func:`cnnkit.data.augment_batch`: pad-crop and flip for ``resnet_cifar``)
   and normalises the batch inside the compiled train step (:class:`DeviceDataModel`, a
   ``keras.Model`` that wraps the network), so Keras callbacks, history, ``steps_per_execution``
   and ``jit_compile`` work unchanged, on TensorFlow and on JAX (TensorFlow not needed there).

``data_path="auto"`` takes the device path when all splits together fit in
:data:`AUTO_DEVICE_BYTES` (1 GiB: every built-in data set) and no multi-device ``distribute``
is set; otherwise (large ``folder`` data sets) the ``tf.data`` path of ``cnnkit.data.load``,
which on a TensorFlow GPU prefetches batches to the device (:func:`prefetch_to_gpu`).

This is airbench's recipe (Jordan 2024: data on the GPU, augmentation in the compiled step).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras
import numpy as np
from keras import ops

from cnnkit._checks import check_choice
from cnnkit.data.pipeline import EpochBatches

__all__ = ["AUTO_DEVICE_BYTES", "DATA_PATHS", "DeviceData", "DeviceDataModel", "IndexBatches", "choose_data_path",
           "load_splits", "prefetch_to_gpu", "require_channels_last"]

DATA_PATHS = ("auto", "device", "tfdata")
AUTO_DEVICE_BYTES = 1 << 30  # "auto" keeps a data set on the device up to this size (all splits, as stored)


def choose_data_path(requested: str, nbytes: int, *, distribute: str | None = None) -> str:
    """``"device"`` or ``"tfdata"`` for a requested data path and a data set of ``nbytes``.

    Args:
        requested: one of :data:`DATA_PATHS`; ``"device"`` and ``"tfdata"`` are returned as given.
        nbytes: bytes of all splits' images as they would be stored on the device.
        distribute: ``RunConfig.distribute``; ``"auto"`` chooses ``tfdata`` when it is set.

    Raises:
        ValueError: ``requested`` is not one of :data:`DATA_PATHS`.
    """
    check_choice("data_path", requested, DATA_PATHS, lead=f"data_path={requested!r} is not valid",
                 note="('device': the data set on the accelerator, 'tfdata': a host input pipeline)")
    if requested != "auto":
        return requested
    return "device" if nbytes <= AUTO_DEVICE_BYTES and distribute is None else "tfdata"


class IndexBatches(EpochBatches):
    """Batches of ``(indices int32, labels int32)`` into a :class:`DeviceData` array.

    Epoch ``e`` visits the examples in the order :func:`cnnkit.data.pipeline.epoch_order` gives
    (the rule of :class:`cnnkit.data.NumpyBatches` too); ``offset`` shifts
    the indices to where the split starts in the device array. ``.info`` is the split's
    :class:`cnnkit.data.DatasetInfo`.
    """

    def __init__(self, labels: np.ndarray, info: Any = None, *, offset: int = 0, batch_size: int = 128,
                 shuffle: bool = False, seed: int = 0, drop_remainder: bool = False, **kwargs: Any):
        super().__init__(len(labels), batch_size=batch_size, shuffle=shuffle, seed=seed,
                         drop_remainder=drop_remainder, **kwargs)
        self.labels, self.info, self.offset = np.asarray(labels, "int32"), info, int(offset)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        take = self._take(index)
        return (take + self.offset).astype("int32"), self.labels[take]


class DeviceDataModel(keras.Model):
    """A training wrapper: indices in, ``network(normalise(augment(images[indices])))`` out.

    The images live in one non-trainable variable (on the accelerator); :meth:`preprocess`
    gathers a batch there, scales it to [0, 1], applies ``augment`` when training (random draws
    from a ``keras.random.SeedGenerator(seed)`` that is part of the model state, so the
    augmentation is compiled into the train step) and normalises with ``mean``/``std``.
    ``count_params`` and the saved weights are the network's: checkpoints
    (``BackupAndRestore``) leave the data set out. Save ``.network`` to keep the trained model.

    Args:
        network: the Keras model to train (channels-last images in, predictions out).
        images: NHWC array of every split, uint8 (scaled by 1/255) or float in [0, 1].
        mean, std: per-channel statistics of the training images on the [0, 1] scale.
        augment: a name from ``cnnkit.data.AUGMENTATIONS``.
        pca: ``DatasetInfo.pca`` (for ``alexnet``).
        seed: seeds the augmentation.
        storage_dtype: dtype of the device copy; None = the images' own (float16 keeps uint8
            values exactly, for backends without uint8 gather kernels on the GPU).
    """

    def __init__(self, network: keras.Model, images: np.ndarray, *, mean, std, augment: str = "none",
                 pca=None, seed: int = 0, storage_dtype: str | None = None, **kwargs: Any):
        super().__init__(name=kwargs.pop("name", f"{network.name}_on_device"), **kwargs)
        from cnnkit.data import AUGMENTATIONS

        check_choice("augmentation", augment, AUGMENTATIONS)
        self.network, self.augment, self.pca = network, augment, pca
        self.scale = 1.0 / 255.0 if images.dtype == np.uint8 else 1.0
        dtype = storage_dtype or ("uint8" if images.dtype == np.uint8 else "float32")
        self.images = keras.Variable(images.astype(dtype, copy=False), dtype=dtype, trainable=False,
                                     name="device_images")
        self.mean = np.asarray(mean, "float32").reshape(1, 1, 1, -1)
        self.std = np.asarray(std, "float32").reshape(1, 1, 1, -1)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True  # every variable exists now (the network is built); BackupAndRestore requires it

    def preprocess(self, indices, training=None):
        """The float32 batch the network sees: gathered, scaled, augmented (training only), normalised."""
        x = ops.cast(ops.take(self.images, ops.cast(indices, "int32"), axis=0), "float32") * self.scale
        if training and self.augment != "none":
            from cnnkit.data import augment_batch

            x = augment_batch(x, self.augment, seed=self.seed_generator, pca=self.pca)
        return (x - self.mean) / self.std

    def call(self, indices, training=None):
        return self.network(self.preprocess(indices, training=training), training=training)

    def count_params(self) -> int:
        """The network's parameters (the data set is not a parameter)."""
        return self.network.count_params()

    def save_own_variables(self, store) -> None:
        """Save nothing of the wrapper itself: the data set is not a weight (checkpoints stay small)."""

    def load_own_variables(self, store) -> None:
        """Load nothing of the wrapper itself: the images come from the data set."""


@dataclasses.dataclass
class DeviceData:
    """Every split of a data set, concatenated, ready to become a :class:`DeviceDataModel`.

    Attributes:
        images: NHWC images of all splits, train first (uint8 or float32).
        labels: split name → int32 labels.
        offsets: split name → index of its first image in ``images``.
        info: the training split's :class:`cnnkit.data.DatasetInfo`.
        augment: the training augmentation.
        seed: seeds the batch order and the augmentation.
    """

    images: np.ndarray
    labels: dict[str, np.ndarray]
    offsets: dict[str, int]
    info: Any
    augment: str = "none"
    seed: int = 0

    @classmethod
    def from_arrays(cls, splits: dict[str, tuple[np.ndarray, np.ndarray]], info: Any, *, augment: str = "none",
                    seed: int = 0) -> "DeviceData":
        """From ``{split: (x, y)}`` (``cnnkit.data.load_arrays`` output); ``info`` of the training split."""
        offsets, start = {}, 0
        for name, (x, _) in splits.items():
            offsets[name], start = start, start + len(x)
        images = np.concatenate([x for x, _ in splits.values()])
        labels = {name: np.asarray(y, "int32") for name, (_, y) in splits.items()}
        return cls(images, labels, offsets, info, augment=augment, seed=seed)

    def batches(self, split: str, *, batch_size: int, shuffle: bool = False,
                drop_remainder: bool = False) -> IndexBatches:
        """The :class:`IndexBatches` of one split."""
        return IndexBatches(self.labels[split], self.info, offset=self.offsets[split], batch_size=batch_size,
                            shuffle=shuffle, seed=self.seed, drop_remainder=drop_remainder)

    def wrap(self, network: keras.Model) -> DeviceDataModel:
        """``network`` behind a :class:`DeviceDataModel` that holds these images (compile and fit that)."""
        return DeviceDataModel(network, self.images, mean=self.info.mean, std=self.info.std, augment=self.augment,
                               pca=self.info.pca, seed=self.seed, storage_dtype=_storage_dtype(self.images))


def _storage_dtype(images: np.ndarray) -> str | None:
    """uint8 stays uint8, except on a TensorFlow GPU (its gather has no uint8 kernel): float16 there."""
    if images.dtype != np.uint8 or keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    return "float16" if tf.config.list_physical_devices("GPU") else None


def _stored_bytes(splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> int:
    images = next(iter(splits.values()))[0]
    factor = 2 if _storage_dtype(images) == "float16" else 1
    return factor * sum(x.nbytes for x, _ in splits.values())


def split_subset(cfg, split: str) -> int | None:
    """Examples of ``split`` a run uses: ``cfg.subset`` for training, ``cfg.eval_subset`` (if set) for val/test."""
    eval_subset = getattr(cfg, "eval_subset", None)
    return cfg.subset if split == "train" or eval_subset is None else eval_subset


def load_splits(cfg) -> dict[str, Any] | None:
    """train/val/test as :class:`IndexBatches` over one :class:`DeviceData`, or None for the tf.data path.

    Args:
        cfg: a resolved :class:`cnnkit.train.config.RunConfig`; its ``data_path``, ``dataset``,
            ``subset``, ``eval_subset``, ``resolution``, ``val_fraction``, ``seed``, ``augment``, ``batch_size``
            and ``data_options`` are used.

    Returns:
        ``{"train", "val", "test", "info", "device"}`` (``device``: the :class:`DeviceData`), or
        None when :func:`choose_data_path` picks ``tfdata``.
    """
    if getattr(cfg, "data_path", "auto") == "tfdata":
        return None
    from cnnkit import data

    common = dict(resolution=cfg.resolution, val_fraction=cfg.val_fraction, seed=cfg.seed, **cfg.data_options)
    arrays = {split: data.load_arrays(cfg.dataset, split, subset=split_subset(cfg, split), **common)
              for split in ("train", "val", "test")}
    splits = {split: (x, y) for split, (x, y, _) in arrays.items()}
    if choose_data_path(cfg.data_path, _stored_bytes(splits), distribute=cfg.distribute) != "device":
        return None
    device = DeviceData.from_arrays(splits, arrays["train"][2], augment=cfg.augment, seed=cfg.seed)
    evaluation = {split: device.batches(split, batch_size=cfg.batch_size) if len(splits[split][1]) else None
                  for split in ("val", "test")}  # an empty split is skipped, not an error
    return {"train": device.batches("train", batch_size=cfg.batch_size, shuffle=True, drop_remainder=True),
            **evaluation, "info": device.info, "device": device}


def require_channels_last() -> None:
    """Raise unless Keras' image data format is channels-last, the layout of every cnnkit model and data set.

    NHWC is also the layout in which cuDNN and XLA run bf16/fp16 convolutions on tensor cores
    (a channels-first graph gets transposed around every convolution).
    """
    fmt = keras.config.image_data_format()
    if fmt != "channels_last":
        raise ValueError(f"keras.config.image_data_format() is {fmt!r}, but cnnkit models and data are "
                         "channels-last (NHWC); call keras.config.set_image_data_format('channels_last') "
                         "or remove image_data_format from ~/.keras/keras.json")


def prefetch_to_gpu(dataset):
    """``dataset`` with its batches copied to the first GPU ahead of time (TensorFlow, one GPU).

    A no-op on other backends, without a GPU, for several GPUs (a distribution strategy places
    batches itself) and for anything that is not a ``tf.data.Dataset``.
    """
    if keras.backend.backend() != "tensorflow":
        return dataset
    import tensorflow as tf

    if not isinstance(dataset, tf.data.Dataset) or len(tf.config.list_logical_devices("GPU")) != 1:
        return dataset
    return dataset.apply(tf.data.experimental.prefetch_to_device("/gpu:0"))
