"""File formats and the search order: IDX, CIFAR pickles, mnist.npz, missing data, describe()."""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
from data_testing import cifar_dir, cifar_rows, offline_env  # noqa: F401 (fixtures)

from cnnkit import cli, data
from cnnkit.data import DataFormatError, read_idx

FASHION = Path(data.__file__).resolve().parents[2] / "data" / "fashion-mnist"


@pytest.mark.parametrize("prefix, count", [("train", 60_000), ("t10k", 10_000)])
def test_idx_reader_on_the_embedded_fashion_mnist(prefix, count):
    images = read_idx(FASHION / f"{prefix}-images-idx3-ubyte.gz", ndim=3)
    labels = read_idx(FASHION / f"{prefix}-labels-idx1-ubyte.gz", ndim=1)
    assert images.shape == (count, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [count // 10] * 10
    assert 0 < images.mean() < 255


def _labels_bytes() -> bytes:
    return gzip.decompress((FASHION / "t10k-labels-idx1-ubyte.gz").read_bytes())


@pytest.mark.parametrize("damage, message", [
    (lambda b: b[:-10], "truncated"),
    (lambda b: b + b"\0\0", "trailing bytes"),
    (lambda b: b"\x00\x00\x07\x01" + b[4:], "magic number"),
    (lambda b: b[:6], "truncated IDX header"),
    (lambda b: b"\x00", "shorter than"),
])
def test_broken_raw_idx_names_the_file_and_the_problem(tmp_path, damage, message):
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(damage(_labels_bytes()))
    with pytest.raises(DataFormatError, match=message) as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_idx_reader_checks_dimensions_and_reads_raw_files(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(_labels_bytes())
    assert read_idx(path, ndim=1).shape == (10_000,)
    with pytest.raises(DataFormatError, match="1 dimension"):
        read_idx(path, ndim=3)


def test_truncated_gzip_is_reported(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    blob = (FASHION / path.name).read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataFormatError, match="gzip") as err:
        read_idx(path)
    assert path.name in str(err.value)


def test_corrupt_copy_in_data_dir_fails_with_the_file_name(tmp_path, monkeypatch):
    folder = tmp_path / "fashion-mnist"
    shutil.copytree(FASHION, folder)
    bad = folder / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(gzip.compress(gzip.decompress(bad.read_bytes())[:-784], compresslevel=1))  # one image short
    monkeypatch.setenv("CNNKIT_DATA_DIR", str(tmp_path))
    with pytest.raises(DataFormatError, match="truncated") as err:
        data.load_arrays("fashion_mnist", "test")
    assert str(bad) in str(err.value)


def test_cifar10_pickles(cifar_dir):
    x, y, info = data.load_arrays("cifar10", "train_full")
    assert x.shape == (100, 32, 32, 3) and x.dtype == np.uint8 and y.dtype == np.int32
    rows = cifar_rows(20, 1)  # data_batch_1: planes R, G, B of 32x32 each → NHWC
    np.testing.assert_array_equal(x[0, :, :, 1], rows[0, 1024:2048].reshape(32, 32))
    np.testing.assert_array_equal(x[19, :, :, 2], rows[19, 2048:].reshape(32, 32))
    assert info.class_names == tuple(f"c{i}" for i in range(10)) and info.num_classes == 10
    assert str(cifar_dir) in info.source and "CNNKIT_DATA_DIR" in info.source
    xt, yt, _ = data.load_arrays("cifar10", "test")
    assert xt.shape == (10, 32, 32, 3) and yt.tolist() == list(range(10))


def test_cifar100_fine_and_coarse_labels(cifar_dir):
    x, y, info = data.load_arrays("cifar100", "train_full")
    assert x.shape == (200, 32, 32, 3) and info.num_classes == 100 and y.max() == 99
    assert info.class_names[:2] == ("f0", "f1")
    _, yc, coarse = data.load_arrays("cifar100", "test", label_mode="coarse")
    assert coarse.num_classes == 20 and yc.max() == 19


def test_corrupt_cifar_pickle_names_the_file(cifar_dir):
    bad = cifar_dir / "cifar-10-batches-py" / "data_batch_3"
    bad.write_bytes(bad.read_bytes()[:500])
    with pytest.raises(DataFormatError, match="data_batch_3"):
        data.load_arrays("cifar10")


def test_cifar_pickle_with_wrong_content(cifar_dir):
    import pickle

    bad = cifar_dir / "cifar-100-python" / "test"
    bad.write_bytes(pickle.dumps({"data": np.zeros((4, 100), np.uint8), "fine_labels": [0] * 4}))
    with pytest.raises(DataFormatError, match=r"\(N, 3072\)"):
        data.load_arrays("cifar100", "test")


def test_mnist_npz(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "mnist.npz", x_train=rng.integers(0, 255, (30, 28, 28), dtype=np.uint8),
             y_train=np.arange(30) % 10, x_test=np.zeros((10, 28, 28), np.uint8), y_test=np.arange(10))
    monkeypatch.setenv("CNNKIT_DATA_DIR", str(tmp_path))
    x, y, info = data.load_arrays("mnist", "train_full")
    assert x.shape == (30, 28, 28, 1) and info.class_names[3] == "3" and np.bincount(y).tolist() == [3] * 10


def test_missing_data_lists_every_place_searched(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNKIT_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError) as err:
        data.load_arrays("cifar10")
    message = str(err.value)
    for expected in (str(tmp_path), "repository data/", "Keras cache", "CNNKIT_OFFLINE", "cifar-10-python.tar.gz"):
        assert expected in message


def test_found_data_is_logged_once(caplog, tmp_path, monkeypatch):
    shutil.copytree(FASHION, tmp_path / "fashion-mnist")  # a new place: not in the process cache yet
    monkeypatch.setenv("CNNKIT_DATA_DIR", str(tmp_path))
    with caplog.at_level("INFO", logger="cnnkit.data"):
        data.load_arrays("fashion_mnist", "test", subset=10)
        data.load_arrays("fashion_mnist", "test", subset=10)
    found = [r.getMessage() for r in caplog.records if "found at" in r.getMessage()]
    assert len(found) == 1 and str(tmp_path) in found[0] and "CNNKIT_DATA_DIR" in found[0]


def test_describe_and_cli(capsys):
    rows = {r["name"]: r for r in data.describe()}
    assert set(rows) == set(data.available())
    assert rows["fashion_mnist"]["status"] == "found" and "repository data/" in rows["fashion_mnist"]["location"]
    assert rows["cifar10"]["status"] == "missing" and rows["synthetic"]["status"] == "generated"
    assert cli.main(["data"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(rows) and lines[0].split()[:2] == ["fashion_mnist", "found"]
