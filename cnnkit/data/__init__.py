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

from cnnkit.data.augment import AUGMENTATIONS, augment_batch
from cnnkit.data.datasets import SPLITS, DatasetInfo, load_arrays
from cnnkit.data.formats import DataFormatError, read_cifar_batch, read_idx, read_image_folder
from cnnkit.data.pipeline import FORMATS, NumpyBatches, load, prepare_batch
from cnnkit.data.sources import available, describe, search_dirs
from cnnkit.data.synthetic import make_synthetic


def image_folder(path, *, image_size=None, color_mode: str = "rgb"):
    """Read ``path/<class_name>/*.png|jpg|...`` → ``(x uint8 NHWC, y int32, class_names)``.

    Thin alias of :func:`cnnkit.data.formats.read_image_folder`; ``load("folder", path=...)``
    gives the same images with splits and normalisation.
    """
    return read_image_folder(path, image_size=image_size, color_mode=color_mode)


__all__ = ["AUGMENTATIONS", "SPLITS", "FORMATS", "DatasetInfo", "DataFormatError", "NumpyBatches",
           "augment_batch", "available", "describe", "image_folder", "load", "load_arrays", "make_synthetic",
           "prepare_batch", "read_cifar_batch", "read_idx", "search_dirs"]
