"""Moved to :mod:`cnnkit.train.config` (the layer that runs the config); this name stays importable.

``from cnnkit.config import RunConfig`` keeps working; new code imports from ``cnnkit.train.config``.
"""

from cnnkit.train.config import DISTRIBUTE, MIXED_PRECISION, RunConfig

__all__ = ["DISTRIBUTE", "MIXED_PRECISION", "RunConfig"]
