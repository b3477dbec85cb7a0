"""Readers for the original file formats: IDX (MNIST, Fashion-MNIST), CIFAR pickles, mnist.npz,
and folders of images.

Every reader checks what it reads (magic numbers, dimensions, exact lengths, keys, shapes)
and raises :class:`DataFormatError` naming the file and what is wrong, so a truncated download
fails with a sentence instead of a reshape error three functions later.
"""

from __future__ import annotations

import gzip
import math
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["DataFormatError", "read_idx", "read_cifar_batch", "read_cifar_meta", "read_mnist_npz",
           "read_image_folder", "IMAGE_EXTENSIONS"]

# IDX type byte → big-endian NumPy dtype (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT").
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


class DataFormatError(ValueError):
    """A data file exists but is not what its format promises (corrupt, truncated, wrong kind)."""


def _read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] != b"\x1f\x8b":  # not gzip: a raw (already decompressed) file
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as exc:
        raise DataFormatError(f"{path}: corrupt or truncated gzip stream ({exc}); "
                              "delete the file and download it again") from exc


def read_idx(path: str | Path, *, ndim: int | None = None) -> np.ndarray:
    """Read one IDX file (gzip-compressed or raw) into a native-endian NumPy array.

    Args:
        path: the file, e.g. ``train-images-idx3-ubyte.gz``.
        ndim: the number of dimensions the caller expects (3 for images, 1 for labels);
            None accepts any.

    Returns:
        The array with the shape stored in the header, e.g. ``(60000, 28, 28)`` uint8.

    Raises:
        DataFormatError: bad magic number or type byte, unexpected number of dimensions, or
            a length that differs from what the header announces (truncated or trailing data).
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataFormatError(f"{path}: {len(raw)} bytes, shorter than the 4-byte IDX magic number")
    if raw[:2] != b"\0\0" or raw[2] not in _IDX_DTYPES:
        raise DataFormatError(f"{path}: not an IDX file: magic number 0x{raw[:4].hex()}, expected "
                              "0x0000TTDD with type byte TT in 08/09/0b/0c/0d/0e (e.g. 0x00000801 for "
                              "labels, 0x00000803 for images)")
    dims_count = raw[3]
    if ndim is not None and dims_count != ndim:
        raise DataFormatError(f"{path}: IDX header has {dims_count} dimension(s), expected {ndim}")
    header = 4 + 4 * dims_count
    if len(raw) < header:
        raise DataFormatError(f"{path}: truncated IDX header ({len(raw)} bytes, need {header})")
    dims = struct.unpack(f">{dims_count}I", raw[4:header])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = header + math.prod(dims) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "trailing bytes after the data"
        raise DataFormatError(f"{path}: {what}: the header announces shape {dims} ({expected} bytes) "
                              f"but the file holds {len(raw)} bytes")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            obj = pickle.load(f, encoding="bytes")
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError,
            ValueError) as exc:
        raise DataFormatError(f"{path}: corrupt or truncated CIFAR pickle ({type(exc).__name__}: {exc}); "
                              "delete the folder and extract the archive again") from exc
    if not isinstance(obj, dict):
        raise DataFormatError(f"{path}: a CIFAR pickle holds a dict, this one holds {type(obj).__name__}")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}


def read_cifar_batch(path: str | Path, *, label_key: str = "labels") -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR batch in the original python-pickle format (``data_batch_1``, ``test``, ...).

    Args:
        path: the pickle file.
        label_key: ``"labels"`` (CIFAR-10), ``"fine_labels"`` or ``"coarse_labels"`` (CIFAR-100).

    Returns:
        ``(x, y)``: x uint8 ``(N, 32, 32, 3)`` (NHWC), y int32 ``(N,)``.

    Raises:
        DataFormatError: not a pickle, truncated, or without the expected keys and shapes.
    """
    path = Path(path)
    batch = _unpickle(path)
    if "data" not in batch or label_key not in batch:
        raise DataFormatError(f"{path}: CIFAR batch lacks key(s) {[k for k in ('data', label_key) if k not in batch]}"
                              f"; keys present: {sorted(map(str, batch))}")
    data, labels = np.asarray(batch["data"]), np.asarray(batch[label_key])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataFormatError(f"{path}: 'data' should be uint8 of shape (N, 3072), got {data.dtype} {data.shape}")
    if labels.shape != (data.shape[0],):
        raise DataFormatError(f"{path}: {data.shape[0]} images but {labels.shape} labels under {label_key!r}")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), labels.astype("int32")


def read_cifar_meta(path: str | Path, *, key: str = "label_names") -> tuple[str, ...]:
    """Class names from ``batches.meta`` (key ``label_names``) or CIFAR-100 ``meta`` (``fine_label_names``)."""
    path = Path(path)
    meta = _unpickle(path)
    if key not in meta:
        raise DataFormatError(f"{path}: meta file lacks {key!r}; keys present: {sorted(map(str, meta))}")
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in meta[key])


def read_mnist_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read keras' ``mnist.npz`` → ``(x_train, y_train, x_test, y_test)``, images ``(N, 28, 28)`` uint8."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = tuple(np.asarray(f[k]) for k in ("x_train", "y_train", "x_test", "y_test"))
    except (KeyError, OSError, ValueError, EOFError, zlib.error) as exc:
        raise DataFormatError(f"{path}: not a readable mnist.npz with x_train/y_train/x_test/y_test ({exc})") from exc
    for x, y in (arrays[:2], arrays[2:]):
        if x.ndim != 3 or y.shape != (x.shape[0],):
            raise DataFormatError(f"{path}: images {x.shape} and labels {y.shape} do not match (N, H, W) / (N,)")
    return arrays


def _class_dirs(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)


def read_image_folder(path: str | Path, *, image_size: tuple[int, int] | None = None,
                      color_mode: str = "rgb") -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Read ``path/<class_name>/*.png|jpg|...`` into arrays.

    Uses ``keras.utils.image_dataset_from_directory`` when TensorFlow is installed, and
    ``keras.utils.load_img`` (PIL) otherwise; class ids follow the sorted folder names.

    Args:
        path: a folder with one sub-folder per class.
        image_size: ``(height, width)`` every image is resized to (bilinear); None = the size
            of the first image.
        color_mode: ``"rgb"`` (3 channels) or ``"grayscale"`` (1 channel).

    Returns:
        ``(x, y, class_names)``: x uint8 NHWC, y int32.

    Raises:
        FileNotFoundError: ``path`` is not a folder.
        DataFormatError: no class sub-folders or no images in them.
    """
    import keras

    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"image folder {path} does not exist (expected {path}/<class_name>/<image>)")
    if color_mode not in ("rgb", "grayscale"):
        raise ValueError(f"color_mode={color_mode!r}; use 'rgb' or 'grayscale'")
    classes = _class_dirs(path)
    files = [f for c in classes for f in _image_files(c)]
    if not files:
        raise DataFormatError(f"{path}: no images found; expected one sub-folder per class holding "
                              f"{'/'.join(IMAGE_EXTENSIONS)} files, e.g. {path}/cat/001.png "
                              f"(sub-folders seen: {[c.name for c in classes]})")
    if image_size is None:
        width, height = keras.utils.load_img(files[0]).size
        image_size = (height, width)
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        return _read_with_pil(classes, image_size, color_mode)
    ds = keras.utils.image_dataset_from_directory(
        path, labels="inferred", label_mode="int", color_mode=color_mode, batch_size=256,
        image_size=tuple(image_size), shuffle=False, verbose=False)
    xs, ys = zip(*((np.asarray(x), np.asarray(y)) for x, y in ds))
    x = np.clip(np.round(np.concatenate(xs)), 0, 255).astype("uint8")
    return x, np.concatenate(ys).astype("int32"), tuple(ds.class_names)


def _read_with_pil(classes: list[Path], image_size, color_mode: str):
    import keras

    xs, ys = [], []
    for label, folder in enumerate(classes):
        for f in _image_files(folder):
            img = keras.utils.load_img(f, color_mode=color_mode, target_size=tuple(image_size),
                                       interpolation="bilinear")
            xs.append(np.asarray(img, dtype="uint8").reshape(*image_size, -1))
            ys.append(label)
    return np.stack(xs), np.asarray(ys, dtype="int32"), tuple(c.name for c in classes)
