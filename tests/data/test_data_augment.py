"""Augmentation recipes (keras.ops on NHWC batches): shapes, ranges, crop/flip content, seeds."""

import keras
import numpy as np
import pytest
from data_testing import offline_env  # noqa: F401 (autouse fixture)

from cnnkit.data import AUGMENTATIONS, augment_batch
from cnnkit.data.augment import pad_and_crop, pca_jitter, random_flip

pytestmark = pytest.mark.backend


def batch(n=16, size=8, channels=3, seed=0):
    return np.random.default_rng(seed).uniform(0.05, 1.0, size=(n, size, size, channels)).astype("float32")


_Q = np.linalg.qr(np.array([[1.0, -1.0, 0.5], [1.0, 0.0, -1.0], [1.0, 1.0, 0.5]]))[0]  # orthonormal columns
PCA3 = ((0.2, 0.02, 0.005), tuple(map(tuple, _Q)))


@pytest.mark.parametrize("recipe", AUGMENTATIONS)
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_dtypes_and_ranges(recipe, channels):
    x = batch(channels=channels)
    pca = PCA3 if channels == 3 else ((0.1,), ((1.0,),))
    out = keras.ops.convert_to_numpy(augment_batch(x, recipe, seed=3, pca=pca))
    assert out.shape == x.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    if recipe == "none":
        np.testing.assert_array_equal(out, x)


def test_uint8_input_is_scaled_to_unit_range():
    x = (batch() * 255).astype("uint8")
    out = keras.ops.convert_to_numpy(augment_batch(x, "none", seed=0))
    np.testing.assert_allclose(out, x / 255.0, rtol=1e-6)


def test_resnet_crop_comes_from_the_padded_image_and_flip_is_a_mirror():
    x = batch(n=24)
    out = keras.ops.convert_to_numpy(augment_batch(x, "resnet_cifar", seed=11))
    padded = np.pad(x, ((0, 0), (4, 4), (4, 4), (0, 0)))
    offsets, flips = set(), 0
    for img, src in zip(out, padded):
        matches = [(dy, dx, f) for dy in range(9) for dx in range(9) for f in (False, True)
                   if np.array_equal(img, (lambda c: c[:, ::-1] if f else c)(src[dy:dy + 8, dx:dx + 8]))]
        assert matches, "an augmented image is not a (mirrored) window of the padded image"
        offsets.add(matches[0][:2])
        flips += matches[0][2]
    assert len(offsets) > 5 and 0 < flips < 24  # the windows and flips vary across the batch


def test_random_flip_is_exact():
    x = batch(n=32)
    out = keras.ops.convert_to_numpy(random_flip(x, seed=5))
    flipped = [np.array_equal(o, i[:, ::-1]) for o, i in zip(out, x)]
    kept = [np.array_equal(o, i) for o, i in zip(out, x)]
    assert all(f or k for f, k in zip(flipped, kept)) and 0 < sum(flipped) < 32


def test_pca_jitter_shifts_each_image_along_the_principal_components():
    x = np.full((64, 4, 4, 3), 0.5, "float32")
    out = keras.ops.convert_to_numpy(pca_jitter(x, PCA3, seed=2))
    shift = out[:, 0, 0, :] - 0.5
    per_image = np.broadcast_to(0.5 + shift[:, None, None, :], out.shape)  # one colour shift per image
    np.testing.assert_allclose(out, per_image, atol=1e-6)
    alpha_times_lambda = shift @ np.asarray(PCA3[1])  # orthonormal eigenvectors → coordinates
    alpha = alpha_times_lambda / np.asarray(PCA3[0])
    assert 0.05 < alpha.std() < 0.16  # α ~ N(0, 0.1)


def test_int_seeds_are_reproducible_and_generators_advance():
    x = batch()
    a, b, c = (keras.ops.convert_to_numpy(augment_batch(x, "alexnet", seed=s, pca=PCA3)) for s in (7, 7, 8))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    gen = keras.random.SeedGenerator(7)
    first, second = (keras.ops.convert_to_numpy(pad_and_crop(x, seed=gen)) for _ in range(2))
    assert not np.array_equal(first, second)


def test_bad_recipe_and_missing_pca():
    with pytest.raises(ValueError, match="resnet_cifar"):
        augment_batch(batch(), "cutout", seed=0)
    with pytest.raises(ValueError, match="pca"):
        augment_batch(batch(), "alexnet", seed=0)
    with pytest.raises(ValueError, match="seed"):
        augment_batch(batch(), "resnet_cifar", seed=1.5)
