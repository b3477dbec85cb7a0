"""Where a result came from: library versions and the device, recorded with every run and summary."""

from __future__ import annotations

import importlib.metadata
import os
import platform

import keras
import numpy as np

__all__ = ["device_name", "versions"]


def versions() -> dict[str, str]:
    """Versions of cnnkit, keras, the backend and the numeric libraries."""
    import cnnkit

    out = {"cnnkit": cnnkit.__version__, "keras": keras.__version__, "backend": keras.backend.backend(),
           "python": platform.python_version(), "numpy": np.__version__}
    for dist in ("tensorflow", "jax", "jaxlib"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def device_name() -> str:
    """The first accelerator's name (e.g. ``"NVIDIA H100 80GB HBM3"``), else the CPU's."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        dev = jax.devices()[0]
        if dev.platform != "cpu":
            return f"{dev.device_kind} x{jax.device_count()}"
    elif backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
            return f"{name} x{len(gpus)}"
    return f"CPU {_cpu_model() or platform.machine()} ({os.cpu_count()} cores)"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        return ""
