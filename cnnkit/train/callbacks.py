"""Callbacks that turn ``model.fit`` into a recorded experiment.

Everything a run measures is written into the epoch ``logs``, so it lands in Keras' History
and in the CSV log (which is how a resumed run gets its earlier epochs back). Order matters:
callbacks run in list order and share one ``logs`` dict, so :func:`run_callbacks` puts the
recorders first, then whatever reads their keys (reduce-on-plateau, CSV log, progress lines),
and ``BackupAndRestore`` last.
"""

from __future__ import annotations

import collections
import glob
import json
import math
import os
import time
from typing import Any, Sequence

import keras
import numpy as np

from cnnkit._json import json_default
from cnnkit._atomic import atomic_write_text, fsync_dir, fsync_file, tmp_path
from cnnkit._console import progress_writer
from cnnkit.train.schedules import lr_at, plateau_callback

ACCURACY_KEYS = ("accuracy", "acc", "sparse_categorical_accuracy")


def _accuracy(logs: dict, prefix: str = "") -> float | None:
    for key in ACCURACY_KEYS:
        if prefix + key in logs:
            return float(logs[prefix + key])
    return None


def current_lr(optimizer: keras.optimizers.Optimizer, step: int) -> float:
    """The learning rate ``optimizer`` applied at iteration ``step`` (schedule or float rate)."""
    inner = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer (mixed_float16)
    rate = inner._learning_rate
    if isinstance(rate, keras.optimizers.schedules.LearningRateSchedule):
        return lr_at(rate, step)
    return float(keras.ops.convert_to_numpy(rate))


class EpochLogs(keras.callbacks.Callback):
    """Adds ``step`` (iterations so far), ``lr`` (rate of the epoch's last iteration),
    ``error = 1 - accuracy`` and ``val_error`` to each epoch's logs."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is None:
            return
        step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        logs["step"] = step
        logs["lr"] = current_lr(self.model.optimizer, max(step - 1, 0))
        for prefix in ("", "val_"):
            acc = _accuracy(logs, prefix)
            if acc is not None:
                logs[prefix + "error"] = 1.0 - acc


class ThroughputRecorder(keras.callbacks.Callback):
    """Records ``images_per_sec`` (training images per second) and ``epoch_time`` (seconds).

    ``epoch_time`` is the wall time of the whole epoch, validation included. ``images_per_sec``
    counts training steps only (the clock stops when validation starts) and, in the first
    epoch of each ``fit`` call, starts after the first step, so that tracing/XLA compilation
    is not counted. The step count assumes full batches of ``batch_size``. On GPUs the host
    clock is only meaningful over many steps (kernels run asynchronously).

    Args:
        batch_size: images per step (the global batch).
    """

    def __init__(self, batch_size: int):
        super().__init__()
        self.batch_size = int(batch_size)
        self._first_epoch = True

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = time.perf_counter()
        self._clock_start = None if self._first_epoch else self._epoch_start
        self._first_step = -1  # steps up to and including this index are not timed
        self._last_step = -1
        self._train_seconds = None

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._clock_start is None:  # first step of the first epoch: compile; start the clock now
            if logs and "loss" in logs:
                float(logs["loss"])  # wait for the step to finish
            self._clock_start, self._first_step = time.perf_counter(), batch
        self._last_step = batch

    def on_test_begin(self, logs: dict | None = None) -> None:
        if self._train_seconds is None and self._clock_start is not None:
            self._train_seconds = time.perf_counter() - self._clock_start

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        now = time.perf_counter()
        self.on_test_begin()
        images = (self._last_step - self._first_step) * self.batch_size
        rate = images / self._train_seconds if self._train_seconds and images > 0 else math.nan
        self._first_epoch = False
        if logs is not None:
            logs["images_per_sec"] = rate
            logs["epoch_time"] = now - self._epoch_start


class IterationsToTarget(keras.callbacks.Callback):
    """The first iteration at which the recent training error is ``<= target``.

    "Recent" is the mean over the last ``window`` iterations (fewer at the very start), carried
    across epoch boundaries: Keras' batch logs hold the accuracy averaged since the start of the
    *epoch*, which after each reset is a single noisy batch, so the per-batch accuracies are
    recovered from those running means. This is the "iterations to reach X % training error" of
    AlexNet's ReLU-vs-tanh figure (25 %). The value (NaN until reached) is written to
    ``logs["iterations_to_target"]`` every epoch. Reading the batch accuracy synchronises host and
    device every step (every ``steps_per_execution`` steps), so add it only when the number is wanted.

    Args:
        target_error: the training error to reach, in (0, 1).
        window: iterations averaged (default 50).
    """

    def __init__(self, target_error: float, window: int = 50):
        super().__init__()
        if not 0 < target_error < 1:
            raise ValueError(f"target_error must be in (0, 1), e.g. 0.25, got {target_error!r}")
        if not (isinstance(window, int) and window >= 1):
            raise ValueError(f"window must be a positive number of iterations, got {window!r}")
        self.target_error, self.window = float(target_error), window
        self.iteration: int | None = None
        self._epoch, self._last_batch, self._last_mean = 0, -1, 0.0
        self._recent: collections.deque = collections.deque()  # (iterations, summed accuracy)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch, self._last_batch, self._last_mean = epoch, -1, 0.0

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        acc = _accuracy(logs or {})
        if self.iteration is not None or acc is None:
            return
        n = batch - self._last_batch  # > 1 with steps_per_execution
        summed = (batch + 1) * acc - (self._last_batch + 1) * self._last_mean
        self._last_batch, self._last_mean = batch, acc
        self._recent.append((n, summed))
        while sum(k for k, _ in self._recent) - self._recent[0][0] >= self.window:
            self._recent.popleft()
        seen = sum(k for k, _ in self._recent)
        if 1.0 - sum(v for _, v in self._recent) / seen <= self.target_error:
            steps = self.params.get("steps") or 0
            self.iteration = self._epoch * steps + batch + 1

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["iterations_to_target"] = math.nan if self.iteration is None else self.iteration


class TerminateOnNaN(keras.callbacks.TerminateOnNaN):
    """Keras' TerminateOnNaN that also remembers that it fired.

    Keras' callback only sets ``model.stop_training``: ``fit`` then ends *normally* (the
    remaining callbacks' ``on_train_end`` runs, BackupAndRestore deletes its backup) and
    nothing in the History says why. ``diverged`` and ``where`` (1-based epoch and batch
    index) tell a diverged run apart from a finished one.
    """

    def __init__(self):
        super().__init__()
        self.diverged = False
        self.where: dict[str, int] | None = None
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not self.diverged and not np.isfinite(float(loss)):
            self.diverged = True
            self.where = {"epoch": self._epoch + 1, "batch": int(batch)}
        super().on_batch_end(batch, logs)


class ProgressLogger(keras.callbacks.Callback):
    """Compact progress for the terminal: one line per epoch, never a per-step bar.

    ``epoch  3/10  step 1053  loss 0.4123  acc 0.8510  val_loss 0.4410  val_acc 0.8402  lr 0.1  5123 img/s  12.1 s``

    Args:
        every_seconds: if given, also print the running loss/accuracy inside an epoch at most
            this often (for long epochs); ``None`` prints only at epoch ends.
        print_fn: where lines go. Default :func:`cnnkit._console.progress_writer`: printed in a script;
            in a notebook kernel the terminal behind it when ``CNNKIT_PROGRESS=terminal`` (``cnnkit run``
            sets it), else nowhere, so reports keep only the table of runs (the run store has every epoch).
    """

    def __init__(self, every_seconds: float | None = None, print_fn=None):
        super().__init__()
        self.every_seconds = every_seconds
        self.print_fn = print_fn or progress_writer() or (lambda line: None)
        self._last_print = time.perf_counter()

    def _epoch_label(self, epoch: int) -> str:
        total = self.params.get("epochs") if self.params else None
        width = len(str(total)) if total else 1
        return f"epoch {epoch + 1:>{width}}/{total}" if total else f"epoch {epoch + 1}"

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.every_seconds is None or time.perf_counter() - self._last_print < self.every_seconds:
            return
        steps = self.params.get("steps") if self.params else None
        acc = _accuracy(logs or {})
        parts = [self._epoch_label(self._epoch), f"batch {batch + 1}/{steps or '?'}"]
        parts += [f"loss {float(logs['loss']):.4f}"] if logs and "loss" in logs else []
        parts += [f"acc {acc:.4f}"] if acc is not None else []
        self._emit(parts)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        parts = [self._epoch_label(epoch)]
        if "step" in logs:
            parts.append(f"step {int(logs['step'])}")
        for key, label in (("loss", "loss"), ("accuracy", "acc"), ("val_loss", "val_loss"),
                           ("val_accuracy", "val_acc")):
            if key in logs:
                parts.append(f"{label} {float(logs[key]):.4f}")
        if "lr" in logs:
            parts.append(f"lr {float(logs['lr']):.3g}")
        if math.isfinite(logs.get("images_per_sec", math.nan)):
            parts.append(f"{logs['images_per_sec']:.0f} img/s")
        if "epoch_time" in logs:
            parts.append(f"{logs['epoch_time']:.1f} s")
        self._emit(parts)

    def _emit(self, parts: Sequence[str]) -> None:
        self.print_fn("  ".join(parts))
        self._last_print = time.perf_counter()


class DurableCSVLogger(keras.callbacks.CSVLogger):
    """Keras' CSVLogger that fsyncs every row, so that a power cut cannot lose a row whose epoch
    the (later, fsync'ed) backup already covers: a resumed run's history would miss that epoch."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        super().on_epoch_end(epoch, logs)
        if getattr(self, "csv_file", None) is not None:
            os.fsync(self.csv_file.fileno())


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' BackupAndRestore whose backups survive a kill or power cut at any instant.

    Keras overwrites ``latest.weights.h5`` in place and then ``training_metadata.json``: a kill
    inside either write leaves a truncated file (the resume fails), and a kill between them
    leaves the weights of epoch k+1 with the metadata of epoch k, so the resumed run trains one
    epoch twice without any sign. Here each backup writes its weights to a new file (temporary
    name, fsync, rename), then atomically replaces the metadata, which names that file, then
    deletes older weight files; at the end of training the metadata goes first. Whatever
    instant a kill hits, the metadata on disk names complete weights of the same epoch.

    ``min_seconds``: a backup is skipped when the last one (or the start of training) is more recent
    than this, except at the last epoch: an interrupted run then trains at most that long again,
    and a short run no longer spends a tenth of its time writing weights it never reads (measured:
    9 % of notebook 02's run time at one backup per logged point). The rows of the CSV log past the
    backup are dropped on resume (:func:`cnnkit.train.history.prepare_workdir`).
    """

    def __init__(self, backup_dir: str, *args, min_seconds: float = 0.0, **kwargs):
        super().__init__(backup_dir, *args, **kwargs)
        self.min_seconds = float(min_seconds)
        self._saved_at = time.perf_counter()

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        self._saved_at = time.perf_counter()

    def _due(self) -> bool:
        last_epoch = self._current_epoch >= (self.params or {}).get("epochs", math.inf)
        return last_epoch or time.perf_counter() - self._saved_at >= self.min_seconds

    def _metadata(self) -> dict | None:
        if not os.path.exists(self._training_metadata_path):
            return None
        with open(self._training_metadata_path) as fh:
            return json.load(fh)

    def _load_model(self) -> None:
        meta = self._metadata()
        if meta and meta.get("weights"):
            self._weights_path = os.path.join(self.backup_dir, meta["weights"])
            if not os.path.exists(self._weights_path):
                raise FileNotFoundError(f"backup {self._training_metadata_path} names weights {self._weights_path} "
                                        f"that do not exist; delete {self.backup_dir} to start the run afresh")
        super()._load_model()

    def _save_model(self) -> None:
        if not self._due():
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        name = f"epoch{self._current_epoch}-batch{self._last_batch_seen}.weights.h5"
        final, tmp = os.path.join(self.backup_dir, name), tmp_path(os.path.join(self.backup_dir, name),
                                                                   ".tmp.weights.h5")
        try:
            self.model.save_weights(str(tmp), overwrite=True)
            fsync_file(tmp)
            os.replace(tmp, final)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        fsync_dir(self.backup_dir)
        meta = {"epoch": self._current_epoch, "batch": self._last_batch_seen, "weights": name}
        atomic_write_text(self._training_metadata_path, json.dumps(meta, default=json_default))
        self._weights_path = final
        self._saved_at = time.perf_counter()
        for old in glob.glob(os.path.join(glob.escape(self.backup_dir), "*.weights.h5")):
            if os.path.basename(old) != name:
                os.unlink(old)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.delete_checkpoint and os.path.exists(self._training_metadata_path):
            os.unlink(self._training_metadata_path)  # no metadata = no backup, even if the rest survives a kill
        super().on_train_end(logs)


BACKUP_SECONDS = 30.0  # an interrupted run trains at most this long again (plus the epoch it was in)
BACKUP_ENV = "CNNKIT_BACKUP_SECONDS"  # another bound; 0: a backup at every epoch end (the interrupt tests)


def _backup_seconds() -> float:
    text = os.environ.get(BACKUP_ENV, "")
    try:
        value = float(text) if text.strip() else BACKUP_SECONDS
    except ValueError:
        value = math.nan
    if not value >= 0:
        raise ValueError(f"{BACKUP_ENV}={text!r} is not a number of seconds >= 0; set it to e.g. 30, or 0 for a "
                         "backup at every epoch end, or unset it")
    return value


def run_callbacks(*, batch_size: int, workdir: str | os.PathLike | None = None,
                  target_error: float | None = None, plateau: dict[str, Any] | None = None,
                  backup_freq: str | int = "epoch", verbose: int = 1,
                  extra: Sequence[keras.callbacks.Callback] = (),
                  keep_backup: bool = False, backup_seconds: float | None = None) -> list[keras.callbacks.Callback]:
    """The callbacks of a cnnkit run, in the order they must run.

    Args:
        batch_size: global batch size (for images/s).
        workdir: if given, ``workdir/history.csv`` (:class:`DurableCSVLogger`, appending: a resumed
            run appends) and ``workdir/backup`` (:class:`AtomicBackupAndRestore`: a re-run after a
            kill resumes from the last backup; it *deletes that folder* when training ends normally,
            including after a NaN stop).
        target_error: if given, add :class:`IterationsToTarget`.
        plateau: if given, options of :func:`cnnkit.train.schedules.plateau_callback`.
        backup_freq: ``"epoch"`` or a number of steps between backups (a run resumed from a
            mid-epoch backup restarts that epoch from its beginning with the saved weights).
        verbose: 0 silent, 1 one line per epoch, 2 also a line every 30 s inside epochs (where the
            lines go: :class:`ProgressLogger`; in a notebook kernel, not into the notebook).
        extra: user callbacks; they run after the recorders and before the CSV log.
        keep_backup: keep ``workdir/backup`` when training ends, for the caller to delete once the run's
            result is safe (:func:`cnnkit.train.fit`: an interrupt during the final evaluation then resumes
            after the last epoch instead of training the run again).
        backup_seconds: the least time between two backups (the last epoch is always backed up); default
            ``$CNNKIT_BACKUP_SECONDS`` or :data:`BACKUP_SECONDS`.

    Returns:
        The list; the :class:`TerminateOnNaN` in it tells whether the run diverged.
    """
    cbs: list[keras.callbacks.Callback] = [EpochLogs(), ThroughputRecorder(batch_size), TerminateOnNaN()]
    if target_error is not None:
        cbs.append(IterationsToTarget(target_error))
    if plateau is not None:
        cbs.append(plateau_callback(**plateau))
    cbs.extend(extra)
    if workdir is not None:
        cbs.append(DurableCSVLogger(os.path.join(workdir, "history.csv"), append=True))
    writer = progress_writer() if verbose else None
    if writer is not None:
        cbs.append(ProgressLogger(every_seconds=30.0 if verbose >= 2 else None, print_fn=writer))
    if workdir is not None:
        if backup_seconds is None:
            backup_seconds = _backup_seconds()
        cbs.append(AtomicBackupAndRestore(os.path.join(workdir, "backup"), save_freq=backup_freq,
                                          delete_checkpoint=not keep_backup, min_seconds=backup_seconds))
    return cbs


__all__ = ["BACKUP_ENV", "BACKUP_SECONDS", "AtomicBackupAndRestore", "DurableCSVLogger", "EpochLogs",
           "IterationsToTarget", "ProgressLogger", "TerminateOnNaN", "ThroughputRecorder", "current_lr", "run_callbacks"]
