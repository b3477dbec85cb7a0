"""Helpers and fixtures shared by the data tests.

A module of its own, imported by each test file, rather than tests/data/conftest.py: test
files elsewhere do ``from conftest import ...``, which a second conftest module would shadow.
``offline_env`` (autouse where imported) keeps every test off the network and out of the
user's Keras cache.
"""

import importlib.util
import pickle

import numpy as np
import pytest


def requires_tf_data():
    """Skip a test that builds tf.data pipelines where TensorFlow is not installed (any Keras backend)."""
    return pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="needs TensorFlow installed")


def cifar_rows(n: int, seed: int) -> np.ndarray:
    """n images in CIFAR's row layout: 1024 red, 1024 green, 1024 blue values per row."""
    return np.random.default_rng(seed).integers(0, 256, size=(n, 3072), dtype=np.uint8)


@pytest.fixture(autouse=True)
def offline_env(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("CNNKIT_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("keras_home")))
    monkeypatch.delenv("CNNKIT_DATA_DIR", raising=False)


def _dump(path, obj) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f)


@pytest.fixture
def cifar_dir(tmp_path, monkeypatch):
    """$CNNKIT_DATA_DIR with tiny CIFAR-10 (5x20 train, 10 test) and CIFAR-100 (200 train, 100 test) files."""
    c10 = tmp_path / "cifar-10-batches-py"
    c10.mkdir()
    for i in range(1, 6):  # keys as bytes, like the original (Python 2) pickles
        _dump(c10 / f"data_batch_{i}", {b"data": cifar_rows(20, i), b"labels": [j % 10 for j in range(20)]})
    _dump(c10 / "test_batch", {b"data": cifar_rows(10, 9), b"labels": list(range(10))})
    _dump(c10 / "batches.meta", {b"label_names": [f"c{i}".encode() for i in range(10)]})
    c100 = tmp_path / "cifar-100-python"
    c100.mkdir()
    for name, n in (("train", 200), ("test", 100)):
        _dump(c100 / name, {"data": cifar_rows(n, n), "fine_labels": [j % 100 for j in range(n)],
                            "coarse_labels": [j % 20 for j in range(n)]})
    _dump(c100 / "meta", {"fine_label_names": [f"f{i}" for i in range(100)],
                          "coarse_label_names": [f"k{i}" for i in range(20)]})
    monkeypatch.setenv("CNNKIT_DATA_DIR", str(tmp_path))
    return tmp_path
