"""cnnkit: see for yourself why modern CNNs are built the way they are.

Keras 3 builders (``cnnkit.layers``, ``cnnkit.blocks``, ``cnnkit.models``), data pipelines
(``cnnkit.data``), training recipes (``cnnkit.train``), ablation utilities
(``cnnkit.ablation``) and the papermill notebook runner (``cnnkit.notebook``).
Submodules are imported on first use, so ``import cnnkit`` stays cheap.
"""

from __future__ import annotations

import importlib

from cnnkit._console import install_tensorflow_import_filter

install_tensorflow_import_filter()  # TensorFlow's start-up log lines stay out of terminals and reports

__version__ = "0.1.0"

_SUBMODULES = ("ablation", "blocks", "data", "layers", "models", "notebook", "stats", "teach", "train")


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"cnnkit.{name}")
    if name in ("build", "available"):
        return getattr(importlib.import_module("cnnkit.models"), name)
    raise AttributeError(f"module 'cnnkit' has no attribute {name!r}")


__all__ = ["__version__", "available", "build", *_SUBMODULES]
