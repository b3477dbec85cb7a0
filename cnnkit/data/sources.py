"""Where data sets come from: the catalogue of names, the search order, and the raw arrays.

Search order for a file-based data set (the first place holding every file wins):

1. ``$CNNKIT_DATA_DIR``;
2. the repository's ``data/`` folder (``Path(cnnkit.__file__).parents[1] / "data"``), which
   embeds Fashion-MNIST, or, in an installed wheel, the package's copy of it (``cnnkit/_suite/data``);
3. the Keras cache ``$KERAS_HOME/datasets`` (default ``~/.keras/datasets``);
4. a download through ``keras.datasets`` (into the Keras cache), unless ``CNNKIT_OFFLINE=1``.

Raw arrays are read once per process (``functools.lru_cache``) and logged once on the
``cnnkit.data`` logger.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

import cnnkit
from cnnkit._checks import check_choice
from cnnkit.data import formats
from cnnkit.data.synthetic import make_synthetic

__all__ = ["RawData", "available", "check_available", "describe", "search_dirs", "locate", "raw_data", "offline"]

logger = logging.getLogger("cnnkit.data")

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                   "Bag", "Ankle boot")
_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
              "t10k-labels-idx1-ubyte")
_CIFAR10_FILES = (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta")
_CIFAR100_FILES = ("train", "test", "meta")


@dataclasses.dataclass(frozen=True)
class _Layout:
    """Folders (relative to a search dir) that may hold a data set, and the files each must hold."""

    folders: tuple[str, ...]
    files: tuple[str, ...]
    gz_optional: bool = False  # IDX files may be stored raw or as .gz
    keras_module: str = ""     # keras.datasets.<module> downloads it
    how_to_get: str = ""


_LAYOUTS: dict[str, tuple[_Layout, ...]] = {
    "fashion_mnist": (_Layout(("fashion-mnist", "fashion_mnist"), _IDX_FILES, True, "fashion_mnist",
                              "the 4 gzip IDX files from https://github.com/zalandoresearch/fashion-mnist"),),
    "mnist": (_Layout(("mnist",), _IDX_FILES, True, "mnist",
                      "the 4 IDX files from http://yann.lecun.com/exdb/mnist/"),
              _Layout((".", "mnist"), ("mnist.npz",), False, "mnist",
                      "or keras' https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz")),
    "cifar10": (_Layout(("cifar-10-batches-py", "cifar-10-batches-py-target/cifar-10-batches-py"),
                        _CIFAR10_FILES, False, "cifar10",
                        "extract https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"),),
    "cifar100": (_Layout(("cifar-100-python", "cifar-100-python-target/cifar-100-python"),
                         _CIFAR100_FILES, False, "cifar100",
                         "extract https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"),),
}
_GENERATED = ("synthetic", "folder")
_OPTIONS: dict[str, dict[str, Any]] = {  # the options each data set accepts, with defaults
    "cifar100": {"label_mode": "fine"},
    "synthetic": {"image_shape": (28, 28, 1), "num_classes": 10, "train_size": 2000, "test_size": 500,
                  "noise": 0.25, "pattern_seed": 0},
    "folder": {"path": None, "image_size": None, "color_mode": "rgb"},
}


@dataclasses.dataclass
class RawData:
    """The official splits of one data set as read from disk (or generated)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    class_names: tuple[str, ...]
    source: str
    moments: tuple[np.ndarray, np.ndarray] | None = None  # train-set statistics, filled on first use


def available() -> list[str]:
    """Names accepted by :func:`cnnkit.data.load` and :func:`cnnkit.data.load_arrays`."""
    return [*_LAYOUTS, *_GENERATED]


def offline() -> bool:
    """True when ``CNNKIT_OFFLINE`` is set to 1/true/yes: never download."""
    return os.environ.get("CNNKIT_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def search_dirs() -> list[tuple[str, Path | None]]:
    """The places searched, in order, as ``(label, folder)``; folder None when unset."""
    env = os.environ.get("CNNKIT_DATA_DIR")
    keras_home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()
    package = Path(cnnkit.__file__).resolve().parent
    repository, packaged = package.parent / "data", (package / "_suite" / "data").resolve()
    embedded = [("repository data/", repository)]
    if packaged != repository.resolve():  # an installed wheel: not the checkout's data/ through the link
        embedded.append(("package data", packaged))
    return [("$CNNKIT_DATA_DIR", Path(env).expanduser() if env else None), *embedded,
            ("Keras cache", keras_home / "datasets")]


def _find_file(folder: Path, name: str, gz_optional: bool) -> Path | None:
    for candidate in ((name + ".gz", name) if gz_optional else (name,)):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


def locate(name: str) -> tuple[dict[str, Path], str] | None:
    """The files of data set ``name`` at the first place that holds all of them, or None.

    Returns:
        ``({file_name: path}, label_of_the_place)``.
    """
    for label, base in search_dirs():
        if base is None:
            continue
        for layout in _LAYOUTS[name]:
            for rel in layout.folders:
                found = {f: _find_file(base / rel, f, layout.gz_optional) for f in layout.files}
                if all(found.values()):
                    return found, label
    return None


def _not_found_message(name: str) -> str:
    folders = ", ".join(dict.fromkeys(f"{rel}/" for layout in _LAYOUTS[name] for rel in layout.folders))
    places = [f"  {i}. {label}: " + (f"{base} (looked in {folders})" if base else "not set")
              for i, (label, base) in enumerate(search_dirs(), 1)]
    places.append(f"  {len(places) + 1}. keras.datasets download: "
                  + ("disabled by CNNKIT_OFFLINE=1" if offline() else "failed"))
    needs = "\n".join(f"  {', '.join(l.files)} ({l.how_to_get})" for l in _LAYOUTS[name])
    return (f"data set {name!r} not found. Searched, in order:\n" + "\n".join(places)
            + f"\nOne of those folders must hold:\n{needs}\n"
            "To get it: put the files into such a folder under $CNNKIT_DATA_DIR (or the repository's data/), "
            "or unset CNNKIT_OFFLINE so that keras.datasets downloads it.")


def describe() -> list[dict[str, str]]:
    """One row per data set: ``name``, ``status`` (found/download/missing/generated/path) and ``location``."""
    rows = []
    for name in available():
        if name == "synthetic":
            rows.append(dict(name=name, status="generated", location="in memory, deterministic (options: "
                             + ", ".join(_OPTIONS[name]) + ")"))
        elif name == "folder":
            rows.append(dict(name=name, status="path", location="load('folder', path='<dir>/<class>/<image>')"))
        elif (hit := locate(name)) is not None:
            files, label = hit
            rows.append(dict(name=name, status="found", location=f"{next(iter(files.values())).parent} ({label})"))
        elif not offline():
            rows.append(dict(name=name, status="download",
                             location=f"keras.datasets.{_LAYOUTS[name][0].keras_module} on first use"))
        else:
            rows.append(dict(name=name, status="missing", location=f"not found and CNNKIT_OFFLINE=1; put "
                             f"{_LAYOUTS[name][0].folders[0]}/ under $CNNKIT_DATA_DIR or allow the download"))
    return rows


def check_available(name: str) -> str:
    """Where data set ``name`` will come from, found without reading it (a few file checks).

    Returns:
        The folder and search place (``"<dir> (Keras cache)"``), ``"download"`` when
        ``keras.datasets`` may fetch it, ``"generated"`` for ``synthetic`` or ``"path"`` for ``folder``.

    Raises:
        ValueError: an unknown name (the message lists the names).
        FileNotFoundError: not on disk and ``CNNKIT_OFFLINE=1``; the message is :func:`raw_data`'s
            own, listing every place searched and how to get the files.
    """
    check_choice("data set", name, available(), note="(cnnkit.data.available())")
    if name in _GENERATED:
        return "generated" if name == "synthetic" else "path"
    hit = locate(name)
    if hit is not None:
        files, label = hit
        return f"{next(iter(files.values())).parent} ({label})"
    if offline():
        raise FileNotFoundError(_not_found_message(name))
    return "download"


def check_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` completed with the defaults of ``name``; unknown options raise ValueError."""
    allowed = _OPTIONS.get(name, {})
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"data set {name!r} does not accept option(s) {unknown}; "
                         f"valid options: {sorted(allowed) or 'none'}")
    merged = {**allowed, **options}
    if name == "folder" and merged["path"] is None:
        raise ValueError("data set 'folder' needs path=..., a folder with one sub-folder per class")
    if name == "cifar100" and merged["label_mode"] not in ("fine", "coarse"):
        raise ValueError(f"label_mode={merged['label_mode']!r}; use 'fine' (100 classes) or 'coarse' (20)")
    return merged


def raw_data(name: str, **options: Any) -> RawData:
    """The official train/test arrays of ``name`` (cached per process)."""
    check_choice("data set", name, available(), note="(cnnkit.data.available())")
    options = check_options(name, options)
    if name == "synthetic":
        return _synthetic(**{k: tuple(v) if isinstance(v, list) else v for k, v in options.items()})
    if name == "folder":
        return _folder(str(Path(options["path"]).resolve()),
                       tuple(options["image_size"]) if options["image_size"] else None, options["color_mode"])
    hit = locate(name)
    if hit is None:
        _download(name)
        hit = locate(name)
        if hit is None:
            raise FileNotFoundError(_not_found_message(name))
    files, label = hit
    return _read_files(name, tuple(sorted(files.items())), label, tuple(sorted(options.items())))


@functools.lru_cache(maxsize=8)
def _read_files(name: str, files: tuple, label: str, options: tuple) -> RawData:
    files, options = dict(files), dict(options)
    raw = _READERS[name](files, **options)
    folder = next(iter(files.values())).parent
    raw.source = f"{folder} ({label})"
    logger.info("%s: found at %s (%s)", name, folder, label)
    return raw


def _download(name: str) -> None:
    if offline():
        raise FileNotFoundError(_not_found_message(name))
    import importlib

    module = importlib.import_module(f"keras.datasets.{_LAYOUTS[name][0].keras_module}")
    logger.info("%s: not found locally, downloading with keras.datasets into the Keras cache", name)
    try:
        module.load_data()
    except Exception as exc:  # network errors come in many types; report them with the search list
        raise FileNotFoundError(_not_found_message(name) + f"\nDownload error: {exc}") from exc


def _read_idx_set(files: dict[str, Path]) -> tuple[np.ndarray, ...]:
    x_train, y_train, x_test, y_test = (formats.read_idx(files[f], ndim=3 if "images" in f else 1)
                                        for f in _IDX_FILES)
    for x, y, f in ((x_train, y_train, _IDX_FILES[0]), (x_test, y_test, _IDX_FILES[2])):
        if len(x) != len(y):
            raise formats.DataFormatError(f"{files[f]}: {len(x)} images but {len(y)} labels in its label file")
    return x_train[..., None], y_train.astype("int32"), x_test[..., None], y_test.astype("int32")


def _fashion(files: dict[str, Path]) -> RawData:
    return RawData(*_read_idx_set(files), class_names=FASHION_CLASSES, source="")


def _mnist(files: dict[str, Path]) -> RawData:
    if "mnist.npz" in files:
        x_train, y_train, x_test, y_test = formats.read_mnist_npz(files["mnist.npz"])
        arrays = (x_train[..., None], y_train.astype("int32"), x_test[..., None], y_test.astype("int32"))
    else:
        arrays = _read_idx_set(files)
    return RawData(*arrays, class_names=tuple(str(i) for i in range(10)), source="")


def _cifar10(files: dict[str, Path]) -> RawData:
    parts = [formats.read_cifar_batch(files[f"data_batch_{i}"]) for i in range(1, 6)]
    x_test, y_test = formats.read_cifar_batch(files["test_batch"])
    names = formats.read_cifar_meta(files["batches.meta"], key="label_names")
    return RawData(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                   x_test, y_test, names, source="")


def _cifar100(files: dict[str, Path], label_mode: str = "fine") -> RawData:
    key = f"{label_mode}_labels"
    x_train, y_train = formats.read_cifar_batch(files["train"], label_key=key)
    x_test, y_test = formats.read_cifar_batch(files["test"], label_key=key)
    names = formats.read_cifar_meta(files["meta"], key=f"{label_mode}_label_names")
    return RawData(x_train, y_train, x_test, y_test, names, source="")


_READERS: dict[str, Callable[..., RawData]] = {"fashion_mnist": _fashion, "mnist": _mnist,
                                               "cifar10": _cifar10, "cifar100": _cifar100}


@functools.lru_cache(maxsize=8)
def _synthetic(**options: Any) -> RawData:
    x_train, y_train, x_test, y_test = make_synthetic(**options)
    n = options["num_classes"]
    return RawData(x_train, y_train, x_test, y_test, tuple(f"class_{i}" for i in range(n)),
                   source="generated (cnnkit.data.synthetic)")


@functools.lru_cache(maxsize=4)
def _folder(path: str, image_size: tuple[int, int] | None, color_mode: str) -> RawData:
    root = Path(path)
    split_dirs = {s: root / s for s in ("train", "test") if (root / s).is_dir()}
    train_dir = split_dirs.get("train", root)
    x_train, y_train, names = formats.read_image_folder(train_dir, image_size=image_size, color_mode=color_mode)
    x_test = y_test = None
    if "test" in split_dirs:
        size = x_train.shape[1:3]
        x_test, y_test, test_names = formats.read_image_folder(split_dirs["test"], image_size=size,
                                                               color_mode=color_mode)
        if test_names != names:
            raise formats.DataFormatError(f"{root}: train classes {names} differ from test classes {test_names}")
    logger.info("folder: read %d images of %d classes from %s", len(x_train), len(names), root)
    return RawData(x_train, y_train, x_test, y_test, names, source=str(root))
