"""The one JSON fallback for run records, results and configs: NumPy values, paths and sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["json_default", "plain"]


def json_default(obj: Any) -> Any:
    """``json.dumps(..., default=json_default)``: NumPy scalars and arrays, paths and sets as plain JSON.

    Raises:
        TypeError: any other type (naming it), as ``json.dumps`` does without a fallback.
    """
    if hasattr(obj, "item") and getattr(obj, "ndim", 0) == 0:  # NumPy scalars (also 0-d arrays)
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"cannot store a value of type {type(obj).__name__} in JSON: {obj!r}")


def plain(obj: Any) -> Any:
    """``obj`` as it reads back from JSON: NumPy scalars become numbers, tuples lists (NaN kept)."""
    return json.loads(json.dumps(obj, default=json_default))
