"""Training-set augmentation recipes, written once with ``keras.ops`` on NHWC batches.

The same functions run inside a ``tf.data`` map (TensorFlow backend, with a
``keras.random.SeedGenerator``), on NumPy/JAX arrays (integer seeds), and inside a compiled
train step on the GPU. Images are float, pixel values in [0, 1].

Recipes:

* ``none``: the batch unchanged.
* ``resnet_cifar`` (He et al. 2016 §4.2): zero-pad 4 pixels per side, take a random crop of
  the input size, flip horizontally with probability 1/2.
* ``alexnet`` (Krizhevsky et al. 2012 §4.1): a random crop of 7/8 of each side (the paper's
  224 of 256) resized back to the input size, a horizontal flip, and PCA colour jitter: add
  ``[p1 p2 p3] [α1 λ1, α2 λ2, α3 λ3]ᵀ`` to every pixel, ``αi ~ N(0, 0.1)`` drawn once per image,
  ``λi, pi`` the eigenvalues/vectors of the train set's RGB covariance ([0, 1] scale, as
  ``DatasetInfo.pca`` holds them). On 1-channel data the PCA reduces to intensity jitter (λ is
  the pixel variance, p = 1). Results are clipped to [0, 1].
* ``alexnet_no_pca``: ``alexnet`` without the colour jitter (crops and flips only), the baseline
  of the paper's "PCA jitter lowers top-1 error by over 1 %".
"""

from __future__ import annotations

from typing import Any, Sequence

import keras
import numpy as np
from keras import ops

from cnnkit._checks import check_choice

__all__ = ["AUGMENTATIONS", "augment_batch", "random_flip", "pad_and_crop", "random_resized_crop",
           "pca_jitter"]

AUGMENTATIONS = ("none", "resnet_cifar", "alexnet", "alexnet_no_pca")


def _seeds(seed: Any, count: int) -> list:
    """``count`` seeds for independent draws: a SeedGenerator advances itself, an int is split."""
    if isinstance(seed, keras.random.SeedGenerator):
        return [seed] * count
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed={seed!r}; use an int or a keras.random.SeedGenerator")
    states = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, 0xA06]).generate_state(count)
    return [int(s) & 0x7FFFFFFF for s in states]


def _crop(x, top, left, height: int, width: int):
    """Per-image crops ``x[b, top[b]:top[b]+height, left[b]:left[b]+width]``: one gather of pixels.

    The flat pixel index ``(b * H + row) * W + col`` selects whole channel vectors; on TensorFlow
    this is 6x faster than two ``take_along_axis`` (120 → 19 ms for 128 CIFAR images on a CPU).
    """
    batch, padded_h, padded_w, channels = ops.shape(x)
    rows = ops.expand_dims(top, 1) + ops.arange(height, dtype="int32")
    cols = ops.expand_dims(left, 1) + ops.arange(width, dtype="int32")
    image = ops.arange(batch, dtype="int32")[:, None, None] * (padded_h * padded_w)
    index = image + rows[:, :, None] * padded_w + cols[:, None, :]
    pixels = ops.take(ops.reshape(x, (-1, channels)), ops.reshape(index, (-1,)), axis=0)
    return ops.reshape(pixels, (-1, height, width, channels))


def random_flip(x, *, seed: Any):
    """Mirror each image left-right with probability 1/2."""
    flip = keras.random.uniform(ops.shape(x)[:1], seed=_seeds(seed, 1)[0]) < 0.5
    return ops.where(flip[:, None, None, None], ops.flip(x, axis=2), x)


def pad_and_crop(x, *, pad: int = 4, seed: Any):
    """Zero-pad ``pad`` pixels per side, then crop a random window of the original size per image."""
    height, width = x.shape[1], x.shape[2]
    padded = ops.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    offsets = keras.random.randint((ops.shape(x)[0], 2), 0, 2 * pad + 1, seed=_seeds(seed, 1)[0], dtype="int32")
    return _crop(padded, offsets[:, 0], offsets[:, 1], height, width)


def random_resized_crop(x, *, fraction: float = 0.875, seed: Any):
    """Crop a random ``fraction`` of each side per image, resize it back (bilinear) to the input size."""
    height, width = x.shape[1], x.shape[2]
    crop_h, crop_w = max(1, round(height * fraction)), max(1, round(width * fraction))
    top_seed, left_seed = _seeds(seed, 2)
    batch = ops.shape(x)[:1]
    top = keras.random.randint(batch, 0, height - crop_h + 1, seed=top_seed, dtype="int32")
    left = keras.random.randint(batch, 0, width - crop_w + 1, seed=left_seed, dtype="int32")
    return ops.image.resize(_crop(x, top, left, crop_h, crop_w), (height, width), interpolation="bilinear")


def pca_jitter(x, pca: tuple[Sequence[float], Sequence[Sequence[float]]], *, std: float = 0.1, seed: Any):
    """Krizhevsky's colour jitter: add ``P (α ∘ λ)`` per image, ``α ~ N(0, std)``; clip to [0, 1].

    Args:
        x: float NHWC batch in [0, 1].
        pca: ``(eigenvalues, eigenvectors)`` of the channel covariance, eigenvectors as columns
            (``DatasetInfo.pca``).
        std: standard deviation of α; the paper's 0.1.
        seed: int or ``keras.random.SeedGenerator``.
    """
    eigenvalues = ops.convert_to_tensor(np.asarray(pca[0], "float32"))
    eigenvectors = ops.convert_to_tensor(np.asarray(pca[1], "float32"))
    alpha = keras.random.normal((ops.shape(x)[0], x.shape[-1]), stddev=std, seed=_seeds(seed, 1)[0])
    shift = ops.matmul(alpha * eigenvalues, ops.transpose(eigenvectors))
    return ops.clip(x + shift[:, None, None, :], 0.0, 1.0)


def augment_batch(x, recipe: str, *, seed: Any, pca=None, pad: int = 4):
    """Apply augmentation ``recipe`` to a float NHWC batch with pixel values in [0, 1].

    Args:
        x: the batch (NumPy, JAX or TF tensor; uint8 input is cast and scaled to [0, 1]).
        recipe: one of :data:`AUGMENTATIONS`.
        seed: an int (stateless: the same int gives the same result) or a
            ``keras.random.SeedGenerator`` (advances on every call: use it in loops and pipelines).
        pca: ``DatasetInfo.pca``; required by ``alexnet``.
        pad: padding of ``resnet_cifar``; default 4 (the paper's).

    Returns:
        The augmented float32 batch, same shape.

    Raises:
        ValueError: unknown recipe, or ``alexnet`` without ``pca``.
    """
    check_choice("augmentation", recipe, AUGMENTATIONS)
    if keras.backend.standardize_dtype(x.dtype) == "uint8":
        x = ops.cast(x, "float32") / 255.0
    x = ops.cast(x, "float32")
    if recipe == "none":
        return x
    crop_seed, flip_seed, colour_seed = _seeds(seed, 3)
    if recipe == "resnet_cifar":
        return random_flip(pad_and_crop(x, pad=pad, seed=crop_seed), seed=flip_seed)
    if recipe == "alexnet_no_pca":
        return random_flip(random_resized_crop(x, seed=crop_seed), seed=flip_seed)
    if pca is None:
        raise ValueError("augment 'alexnet' needs pca=(eigenvalues, eigenvectors); pass pca=info.pca "
                         "from cnnkit.data.load_arrays")
    x = random_flip(random_resized_crop(x, seed=crop_seed), seed=flip_seed)
    return pca_jitter(x, pca, seed=colour_seed)
