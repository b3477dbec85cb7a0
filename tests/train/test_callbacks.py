import math

import keras
import numpy as np
import pytest

from cnnkit.train.callbacks import (EpochLogs, IterationsToTarget, ProgressLogger, TerminateOnNaN,
                                    ThroughputRecorder, current_lr, run_callbacks)
from cnnkit.train.schedules import StepDecay


class _Model:
    """Just what the callbacks touch: optimizer and stop_training."""

    def __init__(self, optimizer=None):
        self.optimizer, self.stop_training = optimizer, False


def feed(cb, epoch, batch_accuracies):
    """Send Keras-style batch logs: the accuracy averaged since the start of the epoch."""
    cb.on_epoch_begin(epoch)
    for batch, _ in enumerate(batch_accuracies):
        cb.on_train_batch_end(batch, {"accuracy": sum(batch_accuracies[:batch + 1]) / (batch + 1)})


def test_iterations_to_target_uses_a_window_across_epochs():
    cb = IterationsToTarget(0.25, window=3)
    cb.set_params({"steps": 3})
    feed(cb, 0, [0.5, 0.6, 0.7])                 # recent mean 0.6 -> error 0.4
    logs = {}
    cb.on_epoch_end(0, logs)
    assert math.isnan(logs["iterations_to_target"])
    # a lucky first batch of epoch 1 (0.9) alone would read as error 0.1; the window says 0.267
    feed(cb, 1, [0.9])
    assert cb.iteration is None
    cb.on_train_batch_end(1, {"accuracy": (0.9 + 0.8) / 2})   # window (0.7, 0.9, 0.8): error 0.2
    cb.on_epoch_end(1, logs)
    assert cb.iteration == 3 + 2 and logs["iterations_to_target"] == 5
    with pytest.raises(ValueError, match="target_error"):
        IterationsToTarget(25)
    with pytest.raises(ValueError, match="window"):
        IterationsToTarget(0.25, window=0)


def test_throughput_skips_the_first_step_of_the_first_epoch():
    cb = ThroughputRecorder(batch_size=100)
    for epoch in range(2):
        cb.on_epoch_begin(epoch)
        for batch in range(5):
            cb.on_train_batch_end(batch, {"loss": 1.0})
        cb.on_test_begin()
        logs = {}
        cb.on_epoch_end(epoch, logs)
        assert logs["epoch_time"] >= 0 and logs["images_per_sec"] > 0
    assert (cb._first_step, cb._last_step) == (-1, 4)  # later epochs count all 5 steps


def test_terminate_on_nan_sets_flag_and_stops():
    cb = TerminateOnNaN()
    cb.set_model(_Model())
    cb.on_epoch_begin(2)
    cb.on_batch_end(0, {"loss": 1.0})
    assert not cb.diverged
    cb.on_batch_end(3, {"loss": float("inf")})
    assert cb.diverged and cb.where == {"epoch": 3, "batch": 3} and cb.model.stop_training


def test_epoch_logs_adds_step_lr_and_errors():
    opt = keras.optimizers.SGD(StepDecay(0.1, [5]))
    opt.build([keras.Variable(np.zeros(2, "float32"))])
    opt.iterations.assign(5)
    cb = EpochLogs()
    cb.set_model(_Model(opt))
    logs = {"accuracy": 0.75, "val_accuracy": 0.5}
    cb.on_epoch_end(0, logs)
    assert logs["step"] == 5 and logs["lr"] == pytest.approx(0.1)  # step 4 was the epoch's last: 0.1
    assert logs["error"] == pytest.approx(0.25) and logs["val_error"] == pytest.approx(0.5)
    assert current_lr(opt, 5) == pytest.approx(0.01)


def test_progress_logger_prints_one_compact_line_per_epoch():
    lines = []
    cb = ProgressLogger(print_fn=lines.append)
    cb.set_params({"epochs": 10, "steps": 4})
    cb.on_epoch_begin(2)
    for batch in range(4):
        cb.on_train_batch_end(batch, {"loss": 1.0, "accuracy": 0.5})
    cb.on_epoch_end(2, {"step": 12, "loss": 0.41234, "accuracy": 0.851, "val_loss": 0.5, "val_accuracy": 0.8,
                        "lr": 0.1, "images_per_sec": 5123.4, "epoch_time": 12.06})
    assert lines == ["epoch  3/10  step 12  loss 0.4123  acc 0.8510  val_loss 0.5000  val_acc 0.8000  "
                     "lr 0.1  5123 img/s  12.1 s"]
    timed = ProgressLogger(every_seconds=0.0, print_fn=lines.append)
    timed.set_params({"epochs": 1, "steps": 4})
    timed.on_epoch_begin(0)
    timed.on_train_batch_end(1, {"loss": 1.0, "accuracy": 0.5})
    assert lines[-1] == "epoch 1/1  batch 2/4  loss 1.0000  acc 0.5000"


def test_run_callbacks_order(tmp_path):
    user = keras.callbacks.Callback()
    cbs = run_callbacks(batch_size=8, workdir=tmp_path, target_error=0.25, plateau={"patience": 2},
                        extra=[user])
    names = [type(c).__name__ for c in cbs]
    assert names == ["EpochLogs", "ThroughputRecorder", "TerminateOnNaN", "IterationsToTarget",
                     "ReduceLROnPlateau", "Callback", "DurableCSVLogger", "ProgressLogger", "AtomicBackupAndRestore"]
    assert [type(c).__name__ for c in run_callbacks(batch_size=8, verbose=0)] == [
        "EpochLogs", "ThroughputRecorder", "TerminateOnNaN"]


def test_backups_wait_min_seconds_but_the_last_epoch_is_always_backed_up(tmp_path, monkeypatch):
    import json

    from cnnkit.train.callbacks import AtomicBackupAndRestore

    saved = []
    real = keras.Model.save_weights
    monkeypatch.setattr(keras.Model, "save_weights", lambda self, path, **kw: (saved.append(path), real(self, path, **kw)))
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    x, y = np.zeros((8, 3), "float32"), np.zeros((8, 2), "float32")
    for min_seconds, writes in ((1e9, 1), (0.0, 4)):
        saved.clear()
        folder = tmp_path / f"backup{writes}"
        model.fit(x, y, epochs=4, batch_size=4, verbose=0,
                  callbacks=[AtomicBackupAndRestore(str(folder), min_seconds=min_seconds, delete_checkpoint=False)])
        assert len(saved) == writes and json.loads((folder / "training_metadata.json").read_text())["epoch"] == 4


@pytest.mark.parametrize("value", ["soon", "-1", "nan"])
def test_a_bad_backup_interval_names_the_variable(monkeypatch, value):
    from cnnkit.train.callbacks import BACKUP_ENV

    monkeypatch.setenv(BACKUP_ENV, value)
    with pytest.raises(ValueError, match=f"CNNKIT_BACKUP_SECONDS='{value}' is not a number of seconds >= 0"):
        run_callbacks(batch_size=8, workdir="unused", verbose=0)
