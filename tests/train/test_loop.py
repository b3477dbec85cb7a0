"""End-to-end runs of cnnkit.train.fit on tiny synthetic data (a few steps each)."""

import json
import math

import keras
import numpy as np
import pytest
from testutil import CountEpochs, InterruptAtEpoch, requires_tensorflow

from cnnkit.train.config import RunConfig
from cnnkit.train import HISTORY_KEYS, fit

# resnet_cifar has BatchNormalization (its moving statistics must survive a resume); lenet5 is cheaper.
TINY = dict(model="resnet_cifar", model_options={"depth": 8, "width": 4}, dataset="synthetic",
            data_options={"image_shape": [12, 12, 1], "num_classes": 4, "train_size": 160, "test_size": 32},
            batch_size=32, epochs=2, jit_compile=False)
LENET = {**TINY, "model": "lenet5", "model_options": {"norm": "batch"}}


def _arrays(n=64, nan=False):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 12, 12, 1)).astype("float32")
    if nan:
        x[:] = np.nan
    return x, (np.arange(n) % 4).astype("int32")


def test_tiny_fit_returns_done_with_history(tmp_path, capsys):
    result = fit({**TINY, "target_train_error": 0.7}, workdir=tmp_path, verbose=1)
    assert result.status == "done", result.traceback
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    assert len(lines) == 2 and lines[1].startswith("epoch 2/2  step 8  loss")  # one line per epoch
    assert [h["epoch"] for h in result.history] == [1, 2]
    assert set(HISTORY_KEYS) <= set(result.history[0])
    steps = result.history[0]["step"]
    assert steps == 4 and result.history[1]["step"] == 2 * steps  # 144 train images: 4 full batches of 32
    assert result.history[0]["lr"] == pytest.approx(0.1) and result.history[1]["lr"] == pytest.approx(0.001)
    assert result.history[1]["error"] == pytest.approx(1 - result.history[1]["accuracy"])
    assert math.isfinite(result.history[1]["images_per_sec"]) and result.history[1]["epoch_time"] > 0
    final = result.final
    assert 0 <= final["test_error"] <= 1 and final["params"] > 0 and final["best_val_epoch"] in (1, 2)
    assert final["iterations_to_target"] is not None and 1 <= final["iterations_to_target"] <= 8
    assert result.config["optimizer"] == "momentum" and result.versions["backend"] == keras.backend.backend()
    saved = json.loads((tmp_path / "result.json").read_text())
    assert saved["status"] == "done" and json.loads((tmp_path / "config.json").read_text()) == result.config
    assert not (tmp_path / "backup").exists()  # BackupAndRestore removes it at the end


def test_nan_loss_is_diverged():
    x, y = _arrays(nan=True)
    cfg = RunConfig(**{**LENET, "epochs": 3, "eval_test": True})
    result = fit(cfg, data={"train": (x, y), "val": (x, y), "test": (x, y)}, verbose=0)
    assert result.status == "diverged" and "NaN" in result.message
    assert len(result.history) == 1  # TerminateOnNaN stopped in the first epoch
    assert math.isnan(result.final["test_loss"])  # no test evaluation of a diverged run


def test_exception_is_failed_with_traceback():
    class Boom(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            raise RuntimeError("boom")

    x, y = _arrays()
    result = fit(LENET, data={"train": (x, y), "val": (x, y)}, callbacks=[Boom()], verbose=0)
    assert result.status == "failed" and "RuntimeError: boom" in result.message
    assert "Traceback" in result.traceback


def test_resume_continues_with_continuous_history(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        fit(LENET, workdir=tmp_path, callbacks=[InterruptAtEpoch(1)], verbose=0)
    assert (tmp_path / "backup" / "training_metadata.json").exists()
    with pytest.raises(ValueError, match="different run config"):
        fit({**LENET, "lr": 0.05}, workdir=tmp_path, verbose=0)
    counter = CountEpochs()
    result = fit(LENET, workdir=tmp_path, callbacks=[counter], verbose=0)
    assert result.status == "done", result.traceback
    assert counter.epochs == [1]  # only the second epoch was trained again
    assert [h["epoch"] for h in result.history] == [1, 2]
    assert [h["step"] for h in result.history] == [4, 8]  # optimizer iterations were restored
    assert result.history[1]["lr"] == pytest.approx(0.001)


def test_an_interrupt_after_the_last_epoch_resumes_without_training_again(tmp_path, monkeypatch):
    """Killed during the final evaluation (the run's record not written yet): the backup is still there, so the
    next call restores the last epoch and only evaluates; the backup goes once the result is written."""
    from cnnkit.train import loop

    real = loop._final

    def interrupted(*args, **kwargs):
        monkeypatch.setattr(loop, "_final", real)
        raise KeyboardInterrupt("killed while evaluating")

    monkeypatch.setattr(loop, "_final", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fit(LENET, workdir=tmp_path, verbose=0)
    assert json.loads((tmp_path / "backup" / "training_metadata.json").read_text())["epoch"] == 2
    counter = CountEpochs()
    result = fit(LENET, workdir=tmp_path, callbacks=[counter], verbose=0)
    assert result.status == "done", result.traceback
    assert counter.epochs == [] and [h["epoch"] for h in result.history] == [1, 2]
    assert not (tmp_path / "backup").exists() and (tmp_path / "result.json").exists()


def test_same_seed_gives_identical_history():
    x, y = _arrays()
    data = {"train": (x, y), "val": (x[:32], y[:32])}
    runs = [fit({**LENET, "seed": 3}, data=data, verbose=0) for _ in range(2)]
    timing = {"images_per_sec", "epoch_time"}
    strip = [[{k: v for k, v in h.items() if k not in timing} for h in r.history] for r in runs]
    assert len(strip[0]) == 2 and strip[0] == strip[1]


def test_alexnet_recipe_reduces_lr_on_plateau():
    x, y = _arrays()
    cfg = {**LENET, "recipe": "alexnet", "epochs": 3, "schedule_options": {"patience": 0, "min_delta": 1.0}}
    result = fit(cfg, data={"train": (x, y), "val": (x[:32], y[:32])}, verbose=0)
    assert result.status == "done", result.traceback
    # min_delta 1.0: no epoch after the first counts as an improvement -> divide by 10 after epoch 2
    assert [h["lr"] for h in result.history] == pytest.approx([0.01, 0.01, 0.001])


@requires_tensorflow()
@pytest.mark.parametrize("data_path", ["device", "tfdata", "arrays"])
def test_the_train_step_is_traced_once(data_path, monkeypatch):
    """Optimizer and metric variables exist before the first step, so tf.function traces the step once
    (Keras on TF would otherwise create them inside the first trace, and trace again)."""
    traces = []
    real = keras.Model.train_step
    monkeypatch.setattr(keras.Model, "train_step", lambda self, data: traces.append(1) or real(self, data))
    if data_path == "arrays":
        result = fit(dict(TINY, epochs=2), data={"train": _arrays(), "val": _arrays(32)}, verbose=0)
    else:
        result = fit(dict(TINY, data_path=data_path, epochs=2), verbose=0)
    assert result.status == "done", result.message
    assert len(traces) == 1
