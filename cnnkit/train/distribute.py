"""Data-parallel training of one run over several devices (``RunConfig(distribute="data_parallel")``).

Every device holds a full copy of the weights and takes a slice of each global batch
(``RunConfig.batch_size`` counts images over all devices together); gradients are averaged
over the devices before every update, so the replicas stay in lock-step and the result equals
a one-device run with the same global batch up to float rounding (and up to BatchNormalization:
each replica normalises with the statistics of its own slice; Keras has no synchronised BN on JAX).

* TensorFlow backend: ``tf.distribute.MirroredStrategy`` over the local GPUs (else the logical
  CPUs). Keras 3 does not support ``MultiWorkerMirroredStrategy``
  (https://github.com/keras-team/keras/issues/20585): several hosts need the JAX backend.
* JAX backend: ``keras.distribution.DataParallel`` over all devices. Several hosts join through
  ``keras.distribution.initialize`` (``jax.distributed.initialize``) when ``distribute_options``
  name a coordinator, or the launcher sets ``KERAS_DISTRIBUTION_JOB_ADDRESSES`` /
  ``KERAS_DISTRIBUTION_NUM_PROCESSES`` / ``KERAS_DISTRIBUTION_PROCESS_ID`` or
  ``JAX_COORDINATOR_ADDRESS``, or ``multi_host=True`` asks JAX to detect the cluster
  (SLURM, Open MPI, Cloud TPU, Kubernetes).

See docs/distributed.md.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from typing import Any, Callable, ContextManager, Iterator, Mapping

import keras

from cnnkit._checks import check_choice

__all__ = ["KINDS", "OPTIONS", "Replicas", "check_options", "data_parallel", "initialize", "split_evenly",
           "wants_multi_host"]

KINDS = ("data_parallel",)
OPTIONS: dict[str, Any] = {  # distribute_options keys and their defaults
    "devices": None,              # None = all GPUs (else all CPUs); an int n = the first n; or a list of names
    "coordinator_address": None,  # JAX multi-host: "host:port" of process 0
    "num_processes": None,        # JAX multi-host: how many processes take part
    "process_id": None,           # JAX multi-host: this process, 0 .. num_processes - 1
    "multi_host": None,           # None = only when an address or the env vars say so; True = let JAX detect
}
_MULTI_HOST_KEYS = ("coordinator_address", "num_processes", "process_id", "multi_host")
_MULTI_HOST_ENV = ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
                   "KERAS_DISTRIBUTION_PROCESS_ID", "JAX_COORDINATOR_ADDRESS")
_MULTI_WORKER_HINT = ("Keras 3 does not support tf.distribute.MultiWorkerMirroredStrategy "
                      "(https://github.com/keras-team/keras/issues/20585). For several hosts use the JAX "
                      "backend (KERAS_BACKEND=jax) with distribute='data_parallel' and a coordinator "
                      "(docs/distributed.md); on one host distribute='data_parallel' mirrors over its devices")
_initialized = False  # jax.distributed.initialize may run once per process


@dataclasses.dataclass(frozen=True)
class Replicas:
    """The devices one run trains on.

    Attributes:
        kind: ``None`` (one device) or ``"data_parallel"``.
        devices: the device names holding a replica (on JAX multi-host: all hosts' devices).
        num_processes: hosts (processes) taking part; 1 on one host.
        scope: a no-argument callable returning the context to build and compile the model in
            (``MirroredStrategy.scope`` on TensorFlow; a null context elsewhere).
    """

    kind: str | None
    devices: tuple[str, ...]
    num_processes: int
    scope: Callable[[], ContextManager]

    @property
    def num_replicas(self) -> int:
        """How many copies of the model train in lock-step."""
        return len(self.devices)


def check_options(kind: str | None, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``options`` completed with :data:`OPTIONS`' defaults; bad kinds, keys and values raise ValueError."""
    options = dict(options or {})
    if kind is None:
        if options:
            raise ValueError(f"distribute_options={options!r} but distribute=None; "
                             "set distribute='data_parallel' or drop the options")
        return {}
    if str(kind).lower().replace("_", "").replace("-", "") in ("multiworker", "multiworkermirrored",
                                                                "multiworkermirroredstrategy"):
        raise ValueError(f"distribute={kind!r}: {_MULTI_WORKER_HINT}")
    check_choice("distribute", kind, KINDS, lead=f"distribute={kind!r} is not valid", note="(or None: one device)")
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(f"distribute_options has unknown key(s) {unknown}; valid keys: {sorted(OPTIONS)}")
    merged = {**OPTIONS, **options}
    devices = merged["devices"]
    if not (devices is None or (isinstance(devices, int) and not isinstance(devices, bool) and devices >= 1)
            or (isinstance(devices, (list, tuple)) and devices and all(isinstance(d, str) for d in devices))):
        raise ValueError(f"distribute_options devices={devices!r}; use None (all), a count >= 1, "
                         "or a list of device names such as ['gpu:0', 'gpu:1']")
    for key in ("num_processes", "process_id"):
        value = merged[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"distribute_options {key}={value!r}; use a non-negative int or None")
    if merged["multi_host"] not in (None, True, False):
        raise ValueError(f"distribute_options multi_host={merged['multi_host']!r}; use None (auto), True or False")
    return merged


def wants_multi_host(options: Mapping[str, Any] | None = None) -> bool:
    """True when the options or the environment ask for a multi-host run."""
    options = {**OPTIONS, **(options or {})}
    if options["multi_host"] is not None:
        return bool(options["multi_host"])
    given = any(options[k] is not None for k in ("coordinator_address", "num_processes", "process_id"))
    return given or any(os.environ.get(k) for k in _MULTI_HOST_ENV)


def initialize(options: Mapping[str, Any] | None = None) -> bool:
    """Join a multi-host JAX run (once per process); True if this process is part of one.

    Calls ``keras.distribution.initialize`` (which calls ``jax.distributed.initialize``) with
    the coordinator address, process count and id from ``options``, else from the
    ``KERAS_DISTRIBUTION_*`` / ``JAX_*`` environment variables or JAX's cluster detection.
    It must run before any JAX computation in the process: call it at the top of a script
    when something computes before :func:`cnnkit.train.fit`.

    Raises:
        ValueError: asked on the TensorFlow backend (Keras 3 has no multi-worker strategy), or
            JAX refused because it already computed something.
    """
    global _initialized
    options = {**OPTIONS, **(options or {})}
    if not wants_multi_host(options):
        return False
    if keras.backend.backend() != "jax":
        raise ValueError(f"a multi-host run was requested ({_describe_request(options)}) on the "
                         f"{keras.backend.backend()!r} backend. {_MULTI_WORKER_HINT}")
    if _initialized:
        return True
    address = options["coordinator_address"] or os.environ.get("JAX_COORDINATOR_ADDRESS")
    try:
        keras.distribution.initialize(address, options["num_processes"], options["process_id"])
    except RuntimeError as exc:
        raise ValueError(f"jax.distributed.initialize failed: {exc}. It must run before any JAX computation: "
                         "call cnnkit.train.distribute.initialize(options) at the top of the script") from exc
    _initialized = True
    return True


def _describe_request(options: Mapping[str, Any]) -> str:
    given = [f"{k}={options[k]!r}" for k in _MULTI_HOST_KEYS if options.get(k) is not None]
    given += [f"${k}" for k in _MULTI_HOST_ENV if os.environ.get(k)]
    return ", ".join(given)


@contextlib.contextmanager
def data_parallel(kind: str | None, options: Mapping[str, Any] | None = None, *,
                  batch_size: int | None = None) -> Iterator[Replicas]:
    """Set up the devices for one run and yield its :class:`Replicas`.

    Args:
        kind: ``None`` (one device: nothing changes) or ``"data_parallel"``.
        options: ``distribute_options`` (see :data:`OPTIONS`).
        batch_size: the global batch; it must split evenly over the replicas.

    Yields:
        The replicas; build and compile the model inside ``replicas.scope()``. On JAX the
        ``DataParallel`` distribution stays set until the block ends (fit and evaluate run
        inside it) and the previous one is restored.

    Raises:
        ValueError: bad options, a multi-worker request on TensorFlow, unknown device names, an
            uneven batch, or a backend other than TensorFlow and JAX.
    """
    options = check_options(kind, options)
    if kind is None:
        yield Replicas(None, ("default",), 1, contextlib.nullcontext)
        return
    backend = keras.backend.backend()
    if backend == "tensorflow":
        replicas = _mirrored(options)
        _check_batch(batch_size, replicas)
        yield replicas
    elif backend == "jax":
        with _jax_data_parallel(options) as replicas:
            _check_batch(batch_size, replicas)
            yield replicas
    else:
        raise ValueError(f"distribute={kind!r} needs the tensorflow or jax backend, not {backend!r}; "
                         "set KERAS_BACKEND=jax or KERAS_BACKEND=tensorflow")


def split_evenly(splits: dict[str, Any], batch_size: int, replicas: Replicas) -> dict[str, Any]:
    """``splits`` with every ``(x, y)`` array pair cut so that each batch splits evenly over the replicas.

    Only the last, partial batch can be uneven: its size is rounded down to a multiple of
    ``replicas.num_replicas``, dropping at most ``num_replicas - 1`` examples (MirroredStrategy
    fails on a replica with an empty batch, DataParallel on any uneven one). Batched data sets
    (tf.data, PyDataset) are passed through unchanged. Nothing changes for one replica.
    """
    n = replicas.num_replicas
    if n == 1:
        return splits
    out = dict(splits)
    for name in ("train", "val", "test"):
        split = splits.get(name)
        if isinstance(split, tuple) and len(split) == 2:
            size = len(split[0])
            keep = size - (size % batch_size) % n
            out[name] = (split[0][:keep], split[1][:keep]) if keep < size else split
    return out


def _check_batch(batch_size: int | None, replicas: Replicas) -> None:
    if batch_size is not None and batch_size % replicas.num_replicas:
        raise ValueError(f"batch_size={batch_size} does not split evenly over {replicas.num_replicas} replicas "
                         f"({', '.join(replicas.devices)}); use a multiple of {replicas.num_replicas}")


def _pick(available: list[str], wanted: Any) -> list[str]:
    if wanted is None:
        return available
    if isinstance(wanted, int):
        if wanted > len(available):
            raise ValueError(f"distribute_options devices={wanted} but only {len(available)} device(s) exist: "
                             f"{available}")
        return available[:wanted]
    normal = {_short(d): d for d in available}
    missing = [d for d in wanted if _short(d) not in normal]
    if missing:
        raise ValueError(f"distribute_options devices: unknown device(s) {missing}; available: {available}")
    return [normal[_short(d)] for d in wanted]


def _short(name: str) -> str:
    """``"/job:localhost/replica:0/task:0/device:CPU:1"`` and ``"cpu:1"`` → ``"cpu:1"``."""
    return name.lower().rsplit("/", 1)[-1].removeprefix("device:")


def _mirrored(options: dict[str, Any]) -> Replicas:
    import tensorflow as tf

    if wants_multi_host(options) or _tf_config_workers() > 1:
        raise ValueError(f"a multi-host run was requested ({_describe_request(options) or '$TF_CONFIG'}) "
                         f"on the TensorFlow backend. {_MULTI_WORKER_HINT}")
    local = [d.name for d in tf.config.list_logical_devices("GPU")] or \
            [d.name for d in tf.config.list_logical_devices("CPU")]
    devices = _pick(local, options["devices"])
    strategy = tf.distribute.MirroredStrategy(devices=devices)
    return Replicas("data_parallel", tuple(devices), 1, strategy.scope)


def _tf_config_workers() -> int:
    try:
        cluster = json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {})
    except (json.JSONDecodeError, AttributeError):
        return 0
    return sum(len(cluster.get(job, [])) for job in ("chief", "worker"))


@contextlib.contextmanager
def _jax_data_parallel(options: dict[str, Any]) -> Iterator[Replicas]:
    initialize(options)
    import jax

    available = [f"{d.platform}:{d.id}" for d in jax.devices()]
    devices = _pick(available, options["devices"])
    previous = keras.distribution.distribution()
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    try:
        yield Replicas("data_parallel", tuple(devices), jax.process_count(), contextlib.nullcontext)
    except Exception as exc:
        if type(exc).__name__ != "IndivisibleError":
            raise
        raise ValueError(f"a batch does not split evenly over the {len(devices)} devices of DataParallel "
                         f"({exc}). On JAX every batch, also the last, partial one of the val/test split, must "
                         f"hold a multiple of {len(devices)} examples: choose split sizes (subset, "
                         f"val_fraction) and batch_size accordingly") from exc
    finally:
        keras.distribution.set_distribution(previous)
