"""A deterministic synthetic image-classification data set for tests and smoke runs.

Each class has a fixed random pattern: a coarse 4x4 grid of values in [0, 1] per channel,
blown up to the image size (so neighbouring pixels agree, as in real images). An example is
its class pattern plus Gaussian noise, clipped to [0, 1]. A small CNN separates the classes in
a few dozen steps; raising ``noise`` makes it harder.
"""

from __future__ import annotations

import numpy as np

__all__ = ["make_synthetic"]


def _check(image_shape, num_classes, train_size, test_size, noise) -> None:
    if len(image_shape) != 3 or any(int(d) < 1 for d in image_shape):
        raise ValueError(f"image_shape={image_shape!r}; use (height, width, channels), e.g. (28, 28, 1)")
    if int(num_classes) < 2:
        raise ValueError(f"num_classes={num_classes!r}; use at least 2")
    if int(train_size) < num_classes or int(test_size) < num_classes:
        raise ValueError(f"train_size={train_size!r}, test_size={test_size!r}; each must be >= num_classes "
                         f"({num_classes}) so that every class appears")
    if not noise >= 0:
        raise ValueError(f"noise={noise!r}; use a standard deviation >= 0 (e.g. 0.25)")


def make_synthetic(image_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 10,
                   train_size: int = 2000, test_size: int = 500, noise: float = 0.25,
                   pattern_seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Generate ``(x_train, y_train, x_test, y_test)``; x float32 NHWC in [0, 1], y int32.

    Args:
        image_shape: ``(height, width, channels)``; default (28, 28, 1).
        num_classes: number of classes (patterns); default 10.
        train_size: examples in the official train split; default 2000.
        test_size: examples in the test split; default 500.
        noise: standard deviation of the Gaussian noise added to the pattern; default 0.25.
        pattern_seed: seeds the class patterns and the noise; the same arguments always give
            the same arrays.

    Labels cycle through the classes (balanced: sizes that are multiples of ``num_classes``
    give exactly equal counts) in a shuffled order.
    """
    _check(image_shape, num_classes, train_size, test_size, noise)
    h, w, c = (int(d) for d in image_shape)
    rng = np.random.default_rng([pattern_seed, 0])
    coarse = rng.uniform(0.0, 1.0, size=(num_classes, 4, 4, c))
    rows, cols = (np.arange(h) * 4) // h, (np.arange(w) * 4) // w
    patterns = coarse[:, rows][:, :, cols]  # (classes, h, w, c)

    def split(n: int, stream: int) -> tuple[np.ndarray, np.ndarray]:
        r = np.random.default_rng([pattern_seed, stream])
        y = r.permutation(np.arange(n) % num_classes).astype("int32")
        x = patterns[y] + r.normal(0.0, noise, size=(n, h, w, c))
        return np.clip(x, 0.0, 1.0).astype("float32"), y

    return (*split(int(train_size), 1), *split(int(test_size), 2))
