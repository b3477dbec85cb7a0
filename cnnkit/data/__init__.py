"""Data sets and input pipelines (issue 3).

* :func:`load_arrays` → ``(x, y, info)`` NumPy arrays of one split (``train``/``val``/``test``/
  ``train_full``) with a :class:`DatasetInfo` (class names, shape, train-set mean/std/PCA).
* :func:`load` → a batched, normalised, optionally augmented ``tf.data.Dataset`` (or a Keras
  ``PyDataset`` without TensorFlow); its metadata is ``ds.info``.
* :func:`augment_batch` → the augmentation recipes (:data:`AUGMENTATIONS`) on any NHWC batch.
* :func:`available` / :func:`describe` → the data set names and where each one is.

Data sets: ``fashion_mnist`` (embedded in the repository's ``data/``, the default), ``mnist``,
``cifar10``, ``cifar100`` (original file formats), ``synthetic`` (generated) and ``folder``
(``path/<class>/<image>``). Files are searched in ``$CNNKIT_DATA_DIR``, the repository's
``data/``, the Keras cache, then downloaded with ``keras.datasets`` unless ``CNNKIT_OFFLINE=1``.
"""

from __future__ import annotations

import importlib

# Public name -> the submodule defining it. Imported on first use, so that the file search
# (cnnkit.data.sources: ``cnnkit data``, the CLI's data check) runs without Keras or TensorFlow.
_EXPORTS = {"AUGMENTATIONS": "augment", "augment_batch": "augment", "SPLITS": "datasets", "DatasetInfo": "datasets",
            "load_arrays": "datasets", "DataFormatError": "formats", "read_cifar_batch": "formats",
            "read_idx": "formats", "read_image_folder": "formats", "FORMATS": "pipeline", "NumpyBatches": "pipeline",
            "load": "pipeline", "prepare_batch": "pipeline", "available": "sources", "describe": "sources",
            "search_dirs": "sources", "make_synthetic": "synthetic"}
_SUBMODULES = ("augment", "datasets", "formats", "pipeline", "sources", "synthetic")


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"cnnkit.data.{_EXPORTS[name]}"), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"cnnkit.data.{name}")
    raise AttributeError(f"module 'cnnkit.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS, *_SUBMODULES})


def image_folder(path, *, image_size=None, color_mode: str = "rgb"):
    """Read ``path/<class_name>/*.png|jpg|...`` → ``(x uint8 NHWC, y int32, class_names)``.

    Thin alias of :func:`cnnkit.data.formats.read_image_folder`; ``load("folder", path=...)``
    gives the same images with splits and normalisation.
    """
    from cnnkit.data.formats import read_image_folder

    return read_image_folder(path, image_size=image_size, color_mode=color_mode)


__all__ = ["AUGMENTATIONS", "SPLITS", "FORMATS", "DatasetInfo", "DataFormatError", "NumpyBatches",
           "augment_batch", "available", "describe", "image_folder", "load", "load_arrays", "make_synthetic",
           "prepare_batch", "read_cifar_batch", "read_idx", "search_dirs"]
