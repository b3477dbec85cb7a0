"""Argument checks and a noise helper shared by the cnnkit layers."""

from __future__ import annotations

import math
import numbers

import keras
from keras import ops


def to_pair(value, what: str) -> tuple[int, int]:
    """``(h, w)`` from a positive int or a pair of positive ints; anything else raises ``ValueError``."""
    if isinstance(value, numbers.Integral):
        pair = (value, value)
    else:
        pair = tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(pair) != 2 or not all(isinstance(v, numbers.Integral) and v >= 1 for v in pair):
        raise ValueError(f"{what} must be a positive int or a pair of positive ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def positive_int(value, what: str) -> int:
    """``value`` as an int if it is a positive integer; otherwise ``ValueError`` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return int(value)


def flat_uniform(like, minval: float, maxval: float, seed, dtype: str | None = None):
    """Uniform noise shaped like ``like`` (of ``dtype``, default ``like``'s), drawn flat and reshaped.

    Same distribution as drawing in the final shape; JAX on CPU compiles its (partitionable)
    threefry generator several times faster for a 1-D shape than for a 4- or 5-D one.
    """
    shape = ops.shape(like)
    size = ops.prod(ops.convert_to_tensor(shape)) if None in like.shape else math.prod(shape)
    noise = keras.random.uniform((size,), minval=minval, maxval=maxval, dtype=dtype or like.dtype, seed=seed)
    return ops.reshape(noise, shape)

