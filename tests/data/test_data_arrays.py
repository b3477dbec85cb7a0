"""load_arrays: splits, balanced subsets, resolution, statistics, synthetic data, bad input."""

import numpy as np
import pytest
from data_testing import offline_env  # noqa: F401 (autouse fixture)

from cnnkit import data
from cnnkit.data.datasets import val_indices

pytestmark = pytest.mark.backend  # NumPy + keras.ops only: also runs under KERAS_BACKEND=jax


def test_fashion_mnist_splits():
    full_x, full_y, full = data.load_arrays("fashion_mnist", "train_full")
    x, y, info = data.load_arrays("fashion_mnist", "train")
    vx, vy, vinfo = data.load_arrays("fashion_mnist", "val")
    tx, ty, _ = data.load_arrays("fashion_mnist", "test")
    assert (len(x), len(vx), len(tx), len(full_x)) == (54_000, 6_000, 10_000, 60_000)
    assert x.shape[1:] == (28, 28, 1) and x.dtype == np.uint8 and y.dtype == np.int32
    assert np.bincount(vy).tolist() == [600] * 10  # stratified
    assert info.num_examples == 54_000 and vinfo.split == "val" and info.class_names[9] == "Ankle boot"
    held_out = val_indices(full_y, 0.1, 0)
    np.testing.assert_array_equal(vx, full_x[held_out])
    rest = np.setdiff1d(np.arange(60_000), held_out)
    np.testing.assert_array_equal(x, full_x[rest])  # train and val are disjoint and cover train_full
    assert info.mean == full.mean and 0.2 < info.mean[0] < 0.4 and 0.3 < info.std[0] < 0.4


def test_val_split_follows_the_seed_and_cifar_sizes():
    y = np.repeat(np.arange(10), 5000)  # CIFAR-10's 50k labels
    a, b = val_indices(y, 0.1, 0), val_indices(y, 0.1, 1)
    assert len(a) == 5000 and np.bincount(y[a]).tolist() == [500] * 10  # He et al.'s 45k/5k
    assert not np.array_equal(a, b) and np.array_equal(a, val_indices(y, 0.1, 0))


def test_subset_is_balanced_and_takes_the_first_examples():
    full_x, full_y, _ = data.load_arrays("fashion_mnist", "train_full")
    x, y, info = data.load_arrays("fashion_mnist", "train_full", subset=1005)
    assert len(x) == 1000 and np.bincount(y).tolist() == [100] * 10 and info.num_examples == 1000
    first = np.sort(np.concatenate([np.flatnonzero(full_y == c)[:100] for c in range(10)]))
    np.testing.assert_array_equal(x, full_x[first])


def test_resolution_pads_symmetrically_or_resizes():
    x28, _, _ = data.load_arrays("fashion_mnist", "test", subset=20)
    x32, _, info = data.load_arrays("fashion_mnist", "test", subset=20, resolution=32)
    assert x32.shape == (20, 32, 32, 1) and info.image_shape == (32, 32, 1)
    np.testing.assert_array_equal(x32[:, 2:30, 2:30], x28)
    assert x32[:, :2].max() == 0 and x32[:, 30:].max() == 0 and x32[:, :, :2].max() == 0
    x14, _, _ = data.load_arrays("fashion_mnist", "test", subset=20, resolution=14)
    assert x14.shape == (20, 14, 14, 1) and x14.dtype == np.uint8
    blocks = x28.reshape(20, 14, 2, 14, 2, 1).astype(float).mean(axis=(2, 4))  # 2x bilinear = 2x2 mean
    assert np.abs(x14 - blocks).max() <= 1.0


def test_padding_statistics_are_exact():
    opts = dict(image_shape=(6, 6, 2), num_classes=3, train_size=60)
    x, _, info = data.load_arrays("synthetic", "train_full", resolution=10, **opts)
    assert x.shape == (60, 10, 10, 2) and x[:, :2].max() == 0
    np.testing.assert_allclose(info.mean, x.reshape(-1, 2).mean(0), rtol=1e-5)
    np.testing.assert_allclose(info.std, x.reshape(-1, 2).std(0), rtol=1e-4)


def test_synthetic_is_deterministic_balanced_and_learnable():
    opts = dict(image_shape=(8, 8, 3), num_classes=4, train_size=400, test_size=80, noise=0.3)
    x, y, info = data.load_arrays("synthetic", "train_full", **opts)
    x2, y2, _ = data.load_arrays("synthetic", "train_full", **{**opts, "image_shape": [8, 8, 3]})
    assert x.shape == (400, 8, 8, 3) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    np.testing.assert_array_equal(x, x2)
    assert np.bincount(y).tolist() == [100] * 4 and info.class_names == ("class_0", "class_1", "class_2", "class_3")
    tx, ty, _ = data.load_arrays("synthetic", "test", **opts)
    centroids = np.stack([x[y == c].mean(0) for c in range(4)])  # nearest class mean must separate them
    predicted = np.argmin(((tx[:, None] - centroids[None]) ** 2).sum(axis=(2, 3, 4)), axis=1)
    assert (predicted == ty).mean() > 0.9
    other, _, _ = data.load_arrays("synthetic", "train_full", **{**opts, "pattern_seed": 1})
    assert not np.allclose(other, x)


def test_per_channel_statistics_of_synthetic_rgb():
    x, _, info = data.load_arrays("synthetic", "train_full", image_shape=(6, 6, 3), num_classes=3, train_size=90)
    np.testing.assert_allclose(info.mean, x.reshape(-1, 3).mean(0), rtol=1e-5)
    np.testing.assert_allclose(info.std, x.reshape(-1, 3).std(0), rtol=1e-4)
    eigenvalues, eigenvectors = np.asarray(info.pca[0]), np.asarray(info.pca[1])
    cov = np.cov(x.reshape(-1, 3).T.astype("float64"), bias=True)
    np.testing.assert_allclose(eigenvectors @ np.diag(eigenvalues) @ eigenvectors.T, cov, atol=1e-6)
    assert list(eigenvalues) == sorted(eigenvalues, reverse=True)


@pytest.mark.parametrize("kwargs, message", [
    (dict(name="imagenet"), "available"),
    (dict(split="validation"), "split="),
    (dict(subset=0), "subset="),
    (dict(subset=True), "subset="),
    (dict(subset=5), "smaller than the number of classes"),
    (dict(resolution=0), "resolution="),
    (dict(resolution=2.5), "resolution="),
    (dict(val_fraction=1.0), "val_fraction="),
    (dict(seed="0"), "seed="),
    (dict(colour=True), "valid options"),
    (dict(name="folder"), "path="),
    (dict(name="synthetic", num_classes=1), "num_classes="),
])
def test_bad_arguments_raise_clear_value_errors(kwargs, message):
    kwargs = {"name": "fashion_mnist", **kwargs}
    with pytest.raises(ValueError, match=message):
        data.load_arrays(kwargs.pop("name"), **kwargs)


def test_unknown_data_set_lists_the_names():
    with pytest.raises(ValueError) as err:
        data.load_arrays("cifar")
    for name in data.available():
        assert name in str(err.value)
