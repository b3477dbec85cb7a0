"""``fit``: one training run from a :class:`~cnnkit.train.config.RunConfig` to a :class:`RunResult`.

The run is resumable: given a ``workdir``, a re-invocation after a kill continues from the
last backup and the history (rebuilt from the CSV log) is continuous. Failures do not raise:
they come back as ``status="failed"`` with the traceback, so a grid of runs keeps going.

Its parts: :mod:`~cnnkit.train.splits` (the data a run trains on), :mod:`~cnnkit.train.history`
(workdir and CSV history), :mod:`~cnnkit.train.provenance` (versions and device).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import keras
import numpy as np

from cnnkit._atomic import atomic_write_text
from cnnkit._json import json_default
from cnnkit._status import DIVERGED, DONE, FAILED
from cnnkit.train import callbacks as _cb
from cnnkit.train import config as _config
from cnnkit.train import distribute as _dist
from cnnkit.train import optimizers as _opt
from cnnkit.train import precision as _prec
from cnnkit.train import schedules as _sch
from cnnkit.train.convergence import convergence
from cnnkit.train.history import HISTORY_KEYS, from_keras, prepare_workdir, read_csv
from cnnkit.train.provenance import device_name, versions
from cnnkit.train.splits import batch_arg, load_splits, num_batches, repeated, user_splits, xy



@dataclasses.dataclass
class RunResult:
    """What a run produced.

    Attributes:
        status: ``"done"``, ``"diverged"`` (NaN/inf loss; training stopped early) or
            ``"failed"`` (an exception; see ``message`` and ``traceback``).
        config: the resolved config (``RunConfig.to_dict()``).
        history: one dict per epoch with :data:`HISTORY_KEYS` (epoch is 1-based, step counts
            iterations so far; ``iterations_to_target`` too when a target was set).
        final: ``train_loss/accuracy/error`` (running means over the last epoch), ``val_*``
            (last epoch), ``test_*`` (NaN unless evaluated), ``params``,
            ``iterations_to_target``, ``best_val_error``, ``best_val_epoch``.
        wall_time: seconds for the whole call.
        versions: cnnkit, keras, backend, tensorflow/jax/numpy/python versions.
        device: the accelerator (or CPU) name.
        precision: the dtype policy the run computed in (``"float32"``, ``"mixed_bfloat16"``,
            ``"mixed_float16"``; ``RunConfig.mixed_precision="auto"`` resolved on this machine) and
            why, e.g. ``"mixed_bfloat16 (auto: CPU with AMX-BF16 and AVX-512 BF16 (oneDNN))"``.
        message: why a run failed or diverged ("" otherwise).
        traceback: the formatted exception of a failed run.
    """

    status: str
    config: dict
    history: list[dict] = dataclasses.field(default_factory=list)
    final: dict = dataclasses.field(default_factory=dict)
    wall_time: float = 0.0
    versions: dict = dataclasses.field(default_factory=dict)
    device: str = ""
    precision: str = ""
    message: str = ""
    traceback: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (NaN stays NaN: ``json.dumps`` writes it as ``NaN``)."""
        return dataclasses.asdict(self)


def fit(config: _config.RunConfig | Mapping[str, Any], *, workdir: str | os.PathLike | None = None,
        callbacks: Sequence[keras.callbacks.Callback] = (), verbose: int = 1,
        data: Mapping[str, Any] | None = None, loss: str | keras.losses.Loss | None = None,
        metrics: Sequence[Any] | None = None,
        evaluate_fn: Callable[[keras.Model], Mapping[str, Any]] | None = None) -> RunResult:
    """Train the model a config describes and report what happened.

    Steps: resolve the config against its recipe; seed everything; load train/val/test;
    build the model with ``bn_momentum``; add coupled L2 weight decay to the kernels (AdamW:
    decoupled); compile (``loss``/``metrics``, ``jit_compile``, ``steps_per_execution``,
    mixed-precision policy set for the run and restored after); ``model.fit`` with
    :func:`cnnkit.train.callbacks.run_callbacks`; evaluate the test split; ``evaluate_fn``.

    Args:
        config: a :class:`~cnnkit.train.config.RunConfig` or a dict for ``RunConfig.from_dict``.
        workdir: if given, the run writes ``config.json`` (resolved), ``history.csv``,
            ``backup/`` (until the result is written) and ``result.json``. Re-invoking with the same
            workdir after a kill resumes from the last epoch backup; without a backup the run
            starts afresh. A backup made with a different config raises ``ValueError``.
        callbacks: extra Keras callbacks (they run before the CSV log and the backup).
        verbose: 0 silent, 1 one line per epoch, 2 also a line every 30 s inside epochs.
        data: instead of ``cnnkit.data``: a mapping with ``"train"``, ``"val"`` and optionally
            ``"test"``, each a batched dataset or an ``(x, y)`` NumPy pair, and optionally
            ``"info"`` (``num_classes``, ``image_shape``); without it they come from the arrays.
            A ``keras.utils.PyDataset`` may draw new examples in its ``on_epoch_end`` (the
            metric-learning study's fresh pairs); with ``steps_per_epoch`` a batched train split
            is repeated, and each pass ends with ``on_epoch_end``.
        loss: the training loss (default ``"sparse_categorical_crossentropy"``), e.g.
            :class:`~cnnkit.train.losses.ContrastiveLoss` for a Siamese model.
        metrics: compiled metrics (default ``["accuracy"]`` with the default loss, none with
            another); without ``"accuracy"``, ``final`` holds only the losses and ``params``.
        evaluate_fn: called with the trained model unless the run diverged; the numbers it
            returns are added to ``final`` (and so to ``result.json``).

    Returns:
        A :class:`RunResult`; exceptions while loading data, building or training are caught
        into ``status="failed"``.

    Raises:
        ValueError: an invalid config, or a workdir whose backup belongs to another config.

    Determinism: the same seed gives the same history on CPU (tested). On GPU, cuDNN picks
    convolution algorithms and uses atomic adds (weight gradients, ``segment_sum``) whose order
    varies, XLA autotuning may choose different kernels, and multi-threaded tf.data
    augmentation draws random numbers in varying order; ``deterministic=True`` calls
    ``tf.config.experimental.enable_op_determinism()`` (TF only, slower, process-wide and not
    undone afterwards). On JAX set ``XLA_FLAGS=--xla_gpu_deterministic_ops=true``. A resumed
    run is not bit-identical to an uninterrupted one (the data order restarts).
    """
    start = time.perf_counter()
    cfg = (config if isinstance(config, _config.RunConfig) else _config.RunConfig.from_dict(config)).resolved()
    work = prepare_workdir(workdir, cfg)
    result = RunResult(FAILED, config=cfg.to_dict(), versions=versions(), device=device_name())
    try:
        precision = _prec.resolve(cfg.mixed_precision)
        result.precision = f"{precision.policy} ({precision.reason})"
        with _prec.policy_scope(precision), \
                _dist.data_parallel(cfg.distribute, cfg.distribute_options, batch_size=cfg.batch_size) as replicas:
            _train(cfg, result, work, callbacks, verbose, data, replicas,
                   _Compile(loss, metrics), evaluate_fn)
    except Exception as exc:  # noqa: BLE001 - a failed run is a result, not a crash
        result.status, result.message = FAILED, f"{type(exc).__name__}: {exc}"
        result.traceback = traceback.format_exc()
    result.wall_time = time.perf_counter() - start
    if work is not None:
        atomic_write_text(work / "result.json", json.dumps(result.to_dict(), indent=1, default=json_default))
        # The backup outlives training until the result is written: an interrupt during the final evaluation
        # resumes after the last epoch, it does not train the run again.
        shutil.rmtree(work / "backup", ignore_errors=True)
    return result


@dataclasses.dataclass
class _Compile:
    """What ``model.compile`` gets besides the optimizer: a classifier's defaults unless given."""

    loss: Any = None
    metrics: Sequence[Any] | None = None

    def kwargs(self) -> dict[str, Any]:
        if self.loss is None:
            return {"loss": "sparse_categorical_crossentropy",
                    "metrics": ["accuracy"] if self.metrics is None else list(self.metrics)}
        return {"loss": self.loss, "metrics": list(self.metrics or [])}


def _train(cfg, result: RunResult, work: Path | None, user_callbacks, verbose: int, data,
           replicas: _dist.Replicas, compile_with: _Compile, evaluate_fn) -> None:
    keras.utils.set_random_seed(cfg.seed)
    if cfg.deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    splits = load_splits(cfg) if data is None else user_splits(data)
    if data is not None and cfg.steps_per_epoch and not isinstance(splits["train"], tuple):
        splits["train"] = repeated(splits["train"])  # epochs of steps_per_epoch batches must not run dry
    splits = _dist.split_evenly(splits, cfg.batch_size, replicas)  # no replica may get an empty batch
    steps = cfg.steps_per_epoch or num_batches(splits["train"], cfg.batch_size)
    with replicas.scope():  # MirroredStrategy on TF (cnnkit.train.distribute)
        model = _build_and_compile(cfg, splits["info"], total_steps=steps * cfg.epochs, device=splits.get("device"),
                                   compile_with=compile_with)
        _build_training_state(model, splits["train"])
    schedule_opts = dict(cfg.schedule_options) if cfg.schedule == "plateau" else None
    cbs = _cb.run_callbacks(batch_size=cfg.batch_size, workdir=work, target_error=cfg.target_train_error,
                            plateau=schedule_opts, verbose=verbose, extra=user_callbacks, keep_backup=True)
    nan_guard = next(c for c in cbs if isinstance(c, _cb.TerminateOnNaN))
    history = model.fit(*xy(splits["train"]), validation_data=splits["val"], epochs=cfg.epochs,
                        steps_per_epoch=cfg.steps_per_epoch, batch_size=batch_arg(splits["train"], cfg),
                        shuffle=isinstance(splits["train"], tuple), callbacks=cbs, verbose=0)
    csv_log = None if work is None else work / "history.csv"
    result.history = read_csv(csv_log) if csv_log and csv_log.exists() else from_keras(history.history)
    last = result.history[-1] if result.history else {}
    diverged = nan_guard.diverged or not math.isfinite(last.get("loss", math.nan))
    result.final = _final(cfg, model, result.history, splits, evaluate_test=cfg.eval_test and not diverged,
                          accuracy="accuracy" in compile_with.kwargs()["metrics"])
    if evaluate_fn is not None and not diverged:
        result.final.update(evaluate_fn(model))
    result.status = DIVERGED if diverged else DONE
    if diverged:
        where = f" at epoch {nan_guard.where['epoch']}, batch {nan_guard.where['batch']}" if nan_guard.where else ""
        result.message = f"loss became NaN/inf{where}; training stopped (lr={cfg.lr})"


def _build_and_compile(cfg, info, *, total_steps: int, device=None,
                       compile_with: _Compile = _Compile()) -> keras.Model:
    from cnnkit import models
    from cnnkit.train.device_data import require_channels_last

    require_channels_last()
    model = models.build(cfg.model, input_shape=tuple(info.image_shape), num_classes=int(info.num_classes),
                         bn_momentum=cfg.bn_momentum, **cfg.model_options)
    lr = _sch.get_schedule(cfg.schedule, cfg.lr, total_steps, warmup_steps=cfg.warmup_steps,
                           **({} if cfg.schedule == "plateau" else cfg.schedule_options))
    adamw = cfg.optimizer == "adamw"
    optimizer = _opt.get_optimizer(cfg.optimizer, lr, momentum=cfg.momentum,
                                   weight_decay=cfg.weight_decay if adamw else 0.0)
    if adamw:
        _opt.exclude_from_decoupled_decay(optimizer, model)
    else:
        _opt.apply_weight_decay(model, cfg.weight_decay, kind=cfg.weight_decay_kind)
    _prec.keep_narrow_layers_in_float32(model)
    if device is not None:  # the data set on the accelerator, augmented inside the train step
        model = device.wrap(model)
    model.compile(optimizer=optimizer, jit_compile=cfg.jit_compile, steps_per_execution=cfg.steps_per_execution,
                  **compile_with.kwargs())
    return model


def _build_training_state(model: keras.Model, train) -> bool:
    """Create the optimizer's and the compiled metrics' variables before ``fit`` on TensorFlow; True if done.

    Keras 3 on TensorFlow defers them to the first train step (unless a distribution strategy is
    set), and a ``tf.function`` that creates variables is traced twice: a plain-56 (width 8)
    took 9.8 s to its first step, 4.9 s with this. Keras' own ``_symbolic_build`` (what it runs
    under a strategy) builds them from the shapes of one batch without computing anything; no
    public API does, so this guards the private call and leaves Keras' path where it is missing.
    """
    build = getattr(model, "_symbolic_build", None)
    if keras.backend.backend() != "tensorflow" or build is None:
        return False
    # shapes with an unknown batch size: tf.data's element spec, else those of arrays or of a PyDataset's first batch
    batch = getattr(train, "element_spec", None) or keras.tree.map_structure(
        lambda a: keras.KerasTensor((None, *np.shape(a)[1:]), dtype=keras.backend.standardize_dtype(a.dtype)),
        tuple(train) if isinstance(train, tuple) else train[0])
    build(data_batch=batch)
    return True


def _final(cfg, model: keras.Model, history: list[dict], splits: dict, *, evaluate_test: bool,
           accuracy: bool = True) -> dict:
    last = history[-1] if history else {}
    final = {f"train_{k}": last.get(k, math.nan) for k in ("loss", "accuracy", "error")}
    final.update({k: last.get(k, math.nan) for k in ("val_loss", "val_accuracy", "val_error")})
    final.update(test_loss=math.nan, test_accuracy=math.nan, test_error=math.nan)
    if evaluate_test and splits.get("test") is not None:
        x, y = xy(splits["test"])
        scores = model.evaluate(x, y, batch_size=batch_arg(splits["test"], cfg), verbose=0, return_dict=True)
        accuracy = float(scores.get("accuracy", math.nan))
        final.update(test_loss=float(scores["loss"]), test_accuracy=accuracy, test_error=1.0 - accuracy)
    final["params"] = int(model.count_params())
    reached = [h["iterations_to_target"] for h in history if math.isfinite(h.get("iterations_to_target", math.nan))]
    final["iterations_to_target"] = int(reached[0]) if reached else None
    val = [(h["val_error"], h["epoch"]) for h in history if math.isfinite(h.get("val_error", math.nan))]
    best = min(val) if val else (math.nan, None)
    final["best_val_error"], final["best_val_epoch"] = best
    if not accuracy:  # no accuracy metric (a contrastive or triplet loss): no error columns
        final = {k: final[k] for k in ("train_loss", "val_loss", "test_loss", "params")}
    final.update(convergence(history, cfg.batch_size))  # converged and its measure (cnnkit.train.convergence)
    return final


__all__ = ["HISTORY_KEYS", "RunResult", "device_name", "fit", "versions"]
