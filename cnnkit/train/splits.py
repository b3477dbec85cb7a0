"""The splits a run trains on: loaded from ``cnnkit.data`` (or the device copy) or given by the caller.

:func:`load_splits` and :func:`user_splits` return ``{"train", "val", "test", "info"}`` (and ``"device"``
for the accelerator path); a split is a batched dataset or an ``(x, y)`` NumPy pair, and
:func:`xy`, :func:`batch_arg`, :func:`num_batches` hand either kind to Keras.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping

import keras
import numpy as np

__all__ = ["batch_arg", "load_splits", "num_batches", "repeated", "user_splits", "xy"]


def load_splits(cfg) -> dict[str, Any]:
    """train/val/test: on the device (``cfg.data_path``, see device_data), else tf.data or NumPy batches."""
    from cnnkit import data
    from cnnkit.train import device_data

    common = dict(batch_size=cfg.batch_size, resolution=cfg.resolution, val_fraction=cfg.val_fraction,
                  seed=cfg.seed, **cfg.data_options)
    # Full batches only: a partial last batch would compile the XLA step a second time and skew images/s;
    # reshuffling every epoch still visits every example.
    splits = device_data.load_splits(cfg)
    if splits is None:
        train = data.load(cfg.dataset, "train", augment=cfg.augment, shuffle=True, drop_remainder=True,
                          subset=cfg.subset, **common)
        splits = {"train": train, "info": train.info}
        for split in ("val", "test"):
            splits[split] = data.load(cfg.dataset, split, augment="none", shuffle=False,
                                      subset=device_data.split_subset(cfg, split), **common)
    train = splits["train"]
    if cfg.steps_per_epoch:  # epochs of steps_per_epoch iterations must not run dry
        train = repeated(train)
    splits["train"] = device_data.prefetch_to_gpu(train)  # tf.data on a TF GPU; otherwise unchanged
    return splits


def repeated(train):
    """``train`` without end: tf.data's ``repeat()``, or :class:`_Repeated` for a PyDataset / NumPy batches."""
    return train.repeat() if hasattr(train, "repeat") else _Repeated(train)


class _Repeated(keras.utils.PyDataset):
    """An endless PyDataset over successive passes of ``base`` (tf.data's ``repeat()`` for NumPy batches).

    Keras keeps one iterator across epochs when ``steps_per_epoch`` is set and asks for
    batches 0, 1, 2, ...; each completed pass calls ``base.on_epoch_end()`` (new shuffle order).
    """

    def __init__(self, base):
        super().__init__()
        self.base, self.info, self._pass = base, getattr(base, "info", None), 0

    @property
    def num_batches(self) -> None:
        return None

    def __getitem__(self, index: int):
        n = len(self.base)
        while index // n > self._pass:
            self.base.on_epoch_end()
            self._pass += 1
        return self.base[index % n]


def user_splits(data: Mapping[str, Any]) -> dict[str, Any]:
    missing = [k for k in ("train", "val") if k not in data]
    if missing:
        raise ValueError(f"data must map 'train' and 'val' (and optionally 'test', 'info') to datasets "
                         f"or (x, y) arrays; missing {missing}")
    splits = {k: data.get(k) for k in ("train", "val", "test")}
    info = data.get("info") or getattr(splits["train"], "info", None)
    if info is None:
        if not isinstance(splits["train"], tuple):
            raise ValueError("pass data['info'] (num_classes, image_shape) when 'train' is not an (x, y) pair")
        x, y = splits["train"]
        info = _ArrayInfo(num_classes=int(np.max(y)) + 1, image_shape=tuple(x.shape[1:]))
    for name, split in splits.items():  # the model is built for info.image_shape: every split must match it
        if isinstance(split, tuple) and tuple(np.shape(split[0])[1:]) != tuple(info.image_shape):
            raise ValueError(f"data[{name!r}] holds images of shape {tuple(np.shape(split[0])[1:])}, but the model "
                             f"is built for {tuple(info.image_shape)} (data['info'] or the train images); "
                             "give every split the same (height, width, channels)")
    splits["info"] = info
    return splits


@dataclasses.dataclass
class _ArrayInfo:
    num_classes: int
    image_shape: tuple


def xy(split) -> tuple:
    return (split[0], split[1]) if isinstance(split, tuple) else (split, None)


def batch_arg(split, cfg) -> int | None:
    return cfg.batch_size if isinstance(split, tuple) else None


def num_batches(split, batch_size: int) -> int:
    if isinstance(split, tuple):
        return math.ceil(len(split[0]) / batch_size)
    try:
        n = len(split)
    except TypeError:  # tf.data with unknown cardinality
        n = 0
    if n <= 0:
        raise ValueError(f"the training split gives no full batch of {batch_size} (or has unknown length); "
                         "lower batch_size, raise subset, or set steps_per_epoch")
    return n
