"""Mixed precision: which dtype policy a run uses, and where bf16 pays.

``RunConfig.mixed_precision`` is ``None`` (float32), ``"mixed_bfloat16"``, ``"mixed_float16"`` or
``"auto"``. ``"auto"`` takes ``mixed_bfloat16`` where the hardware computes bf16 natively and fp32
elsewhere (:func:`bf16_hardware`):

* a GPU with bf16 tensor cores (NVIDIA compute capability 8.0 or newer);
* on TensorFlow, a CPU with AMX-BF16 or AVX-512 BF16 (oneDNN uses them; measured on a 2-core
  Xeon with AMX: ResNet-20 at 32x32 trains 1.4x faster than in fp32). On JAX and PyTorch CPUs,
  ``"auto"`` stays fp32 (not measured faster).

Under a mixed policy, :func:`keep_narrow_layers_in_float32` gives every layer whose output has
fewer than :data:`MIN_BF16_CHANNELS` channels a float32 policy. Two reasons, both measured on
that CPU: on 8-channel tensors oneDNN's bf16 BN backward is 10x and its filter gradient 2.6x
slower than in fp32 (a width-8 ResNet-20 at 16x16 trained at 825 images/s in bf16 throughout
against 2,049 in fp32 and 3,026 with the narrow layers in fp32); and the classifier's
logits (10 channels) and softmax stay float32, as the Keras mixed-precision guide advises.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
from pathlib import Path

import keras

from cnnkit._checks import check_choice

__all__ = ["MIN_BF16_CHANNELS", "MIXED_PRECISION", "Precision", "bf16_hardware", "cpu_info",
           "keep_narrow_layers_in_float32", "policy_scope", "resolve"]

MIXED_PRECISION = ("auto", "mixed_bfloat16", "mixed_float16")
MIN_BF16_CHANNELS = 16  # narrower layers compute in float32 under a mixed policy


@dataclasses.dataclass(frozen=True)
class Precision:
    """What a run computes in: ``policy`` (``"float32"``, ``"mixed_bfloat16"``, ``"mixed_float16"``) and why."""

    policy: str
    reason: str


@functools.lru_cache(maxsize=None)
def cpu_info(cpuinfo: str = "/proc/cpuinfo") -> tuple[str, frozenset[str]]:
    """The CPU's model name and feature flags from the first processor in ``cpuinfo`` (Linux; elsewhere
    ``("unknown", frozenset())``)."""
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return "unknown", frozenset()
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    return fields.get("model name", "unknown"), frozenset(fields.get("flags", "").split())


def _gpu_bf16(backend: str) -> str | None:
    """``"GPU <name> (compute capability X.Y)"`` when the backend's first GPU has bf16 tensor cores."""
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if not gpus:
            return None
        details = tf.config.experimental.get_device_details(gpus[0])
        capability = details.get("compute_capability") or (0, 0)
        name = details.get("device_name", "GPU")
    elif backend == "jax":
        import jax

        device = jax.devices()[0]
        if device.platform != "gpu":
            return None
        capability = tuple(int(p) for p in str(getattr(device, "compute_capability", "0.0")).split("."))
        name = device.device_kind
    elif backend == "torch":
        import torch

        if not torch.cuda.is_available():
            return None
        capability, name = torch.cuda.get_device_capability(0), torch.cuda.get_device_name(0)
    else:
        return None
    major, minor = (tuple(capability) + (0, 0))[:2]
    return f"GPU {name} (compute capability {major}.{minor})" if (major, minor) >= (8, 0) else None


def bf16_hardware(backend: str | None = None, *, cpu_flags: frozenset[str] | None = None) -> str | None:
    """What computes bf16 natively for ``backend`` (default: Keras' backend), or None.

    A GPU with compute capability >= 8.0; else, on TensorFlow with oneDNN on (the default on
    x86; ``TF_ENABLE_ONEDNN_OPTS=0`` turns it off), a CPU flagged ``amx_bf16`` or ``avx512_bf16``.
    """
    backend = backend or keras.backend.backend()
    gpu = _gpu_bf16(backend)
    if gpu:
        return gpu
    flags = cpu_info()[1] if cpu_flags is None else cpu_flags
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") not in ("0", "false", "False")
    found = [name for flag, name in (("amx_bf16", "AMX-BF16"), ("avx512_bf16", "AVX-512 BF16")) if flag in flags]
    if backend == "tensorflow" and onednn and found:
        return f"CPU with {' and '.join(found)} (oneDNN)"
    return None


def resolve(requested: str | None, *, backend: str | None = None,
            cpu_flags: frozenset[str] | None = None) -> Precision:
    """The policy a run uses for ``RunConfig.mixed_precision = requested``.

    Raises:
        ValueError: ``requested`` is not None or one of :data:`MIXED_PRECISION`.
    """
    if requested is None:
        return Precision("float32", "mixed_precision=None")
    check_choice("mixed_precision", requested, MIXED_PRECISION,
                 note="(or None for float32; 'auto' picks mixed_bfloat16 where the hardware has bf16)")
    if requested != "auto":
        return Precision(requested, f"mixed_precision={requested!r}")
    hardware = bf16_hardware(backend, cpu_flags=cpu_flags)
    if hardware:
        return Precision("mixed_bfloat16", f"auto: {hardware}")
    return Precision("float32", "auto: no bf16 hardware for this backend")


def keep_narrow_layers_in_float32(model: keras.Model, min_channels: int = MIN_BF16_CHANNELS) -> int:
    """Give layers whose output has fewer than ``min_channels`` channels a float32 policy; return how many.

    Only under a mixed global policy; a layer with an explicit non-mixed dtype and nested
    models' own layers are left as they are. Variables are float32 under both policies, so only
    the compute dtype changes (the next layer casts its input).
    """
    if keras.mixed_precision.global_policy().compute_dtype == "float32":
        return 0
    changed = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer) or layer.dtype_policy.compute_dtype == "float32":
            continue
        try:
            channels = layer.output.shape[-1]
        except (AttributeError, ValueError):  # a layer called more than once, or not built
            continue
        if channels is not None and channels < min_channels:
            layer.dtype_policy = keras.DTypePolicy("float32")
            changed += 1
    return changed


@contextlib.contextmanager
def policy_scope(precision: Precision):
    """Set Keras' global dtype policy for the run and restore the previous one."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision.policy)
    try:
        yield precision
    finally:
        keras.mixed_precision.set_global_policy(previous)
