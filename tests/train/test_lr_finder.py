"""The LR range test: its rate sequence, the callback on a tiny model, a real run from a config, suggest_lr."""

import math

import keras
import numpy as np
import pandas as pd
import pytest

from cnnkit.train.config import RunConfig
from cnnkit.train import get_optimizer
from cnnkit.train.lr_finder import LRRangeTest, lr_range_test, lr_sequence, range_schedule, suggest_lr
from cnnkit.train.schedules import StepDecay, lr_at


# --- the rate sequence ---------------------------------------------------------------------------

def test_lr_sequence_is_geometric_with_exact_endpoints():
    lrs = lr_sequence(1e-5, 1.0, 11)
    assert len(lrs) == 11 and lrs[0] == 1e-5 and lrs[-1] == 1.0
    np.testing.assert_allclose(lrs[1:] / lrs[:-1], 10 ** 0.5, rtol=1e-12)  # 5 decades in 10 equal ratios
    np.testing.assert_allclose(lrs, [1e-5 * 10 ** (i / 2) for i in range(11)], rtol=1e-12)
    odd = lr_sequence(3e-4, 0.7, 7)
    assert odd[0] == 3e-4 and odd[-1] == 0.7


@pytest.mark.parametrize("args, match", [((1e-3, 1e-4, 10), "min_lr < max_lr"), ((0.0, 1.0, 10), "0 < min_lr"),
                                         ((1e-4, 1.0, 1), "steps must be an int >= 2"),
                                         ((1e-4, 1.0, 2.5), "2.5")])
def test_lr_sequence_rejects_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        lr_sequence(*args)


# --- the callback on a tiny model ----------------------------------------------------------------

def _tiny_model(lr=1e-3):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="fc")(inputs))
    model.compile(get_optimizer("momentum", lr), "sparse_categorical_crossentropy")
    return model


def _arrays(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x[:, 0] > 0).astype("int32") + (x[:, 1] > 1).astype("int32")


class _Batches(keras.utils.PyDataset):
    """Fixed batches in a fixed order (no shuffling), so each iteration's loss can be recomputed."""

    def __init__(self, x, y, size):
        super().__init__()
        self.x, self.y, self.size = x, y, size

    def __len__(self):
        return len(self.x) // self.size

    def __getitem__(self, i):
        return self.x[i * self.size:(i + 1) * self.size], self.y[i * self.size:(i + 1) * self.size]


class _LrSpy(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_begin(self, batch, logs=None):
        self.seen.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))


def test_range_schedule_follows_the_sequence():
    schedule = range_schedule(1e-4, 1.0, 9)
    np.testing.assert_allclose([lr_at(schedule, t) for t in range(9)], lr_sequence(1e-4, 1.0, 9), rtol=1e-5)


def test_callback_records_each_rate_and_recovers_each_batch_loss():
    x, y = _arrays(32)
    model = _tiny_model(range_schedule(1e-9, 1e-8, 10))
    spy, finder = _LrSpy(), LRRangeTest(1e-9, 1e-8, 10, smoothing=0.5, diverge_factor=None)
    # rates ~1e-9 leave the weights unchanged, so iteration i's loss is batch (i mod 4)'s loss at the start
    expected = [float(model.compute_loss(x=x[i * 8:(i + 1) * 8], y=y[i * 8:(i + 1) * 8],
                                         y_pred=model(x[i * 8:(i + 1) * 8]))) for i in range(4)]
    model.fit(_Batches(x, y, 8), epochs=3, shuffle=False, callbacks=[finder, spy], verbose=0)
    frame = finder.frame()
    assert list(frame.columns) == ["step", "lr", "loss", "smoothed_loss"] and len(frame) == 10
    np.testing.assert_allclose(frame["lr"], lr_sequence(1e-9, 1e-8, 10), rtol=1e-12)
    np.testing.assert_allclose(spy.seen, lr_sequence(1e-9, 1e-8, 10), rtol=1e-5)  # what the optimizer applied
    np.testing.assert_allclose(frame["loss"], [expected[i % 4] for i in range(10)], rtol=1e-4)
    # bias-corrected EMA with beta = 0.5
    avg, smoothed = 0.0, []
    for i, loss in enumerate(frame["loss"]):
        avg = 0.5 * avg + 0.5 * loss
        smoothed.append(avg / (1 - 0.5 ** (i + 1)))
    np.testing.assert_allclose(frame["smoothed_loss"], smoothed, rtol=1e-9)


@pytest.mark.parametrize("lr", [0.05, StepDecay(0.05, [5])])
def test_range_test_on_a_model_restores_weights_and_optimizer(lr):
    x, y = _arrays(32)
    model = _tiny_model(lr=lr)
    optimizer, before = model.optimizer, [w.copy() for w in model.get_weights()]
    spy = _LrSpy()
    frame = lr_range_test(model, (x, y), min_lr=1e-3, max_lr=1.0, steps=12, batch_size=8)
    assert len(frame) == 12 and frame["lr"].iloc[-1] == 1.0
    for w0, w1 in zip(before, model.get_weights()):
        np.testing.assert_array_equal(w0, w1)
    assert model.optimizer is optimizer and int(keras.ops.convert_to_numpy(optimizer.iterations)) == 0
    model.fit(x, y, batch_size=8, epochs=1, callbacks=[spy], verbose=0)  # still trains with its own rate
    assert spy.seen[0] == pytest.approx(0.05)


def test_callback_refuses_an_optimizer_without_the_range_schedule():
    x, y = _arrays(16)
    with pytest.raises(ValueError, match=r"range_schedule\(0.001, 1, 8\)"):
        _tiny_model(0.01).fit(x, y, epochs=1, callbacks=[LRRangeTest(1e-3, 1.0, 8)], verbose=0)


def test_range_test_stops_when_the_loss_diverges():
    x, _ = _arrays(64, seed=1)
    inputs = keras.Input((4,))
    regression = keras.Model(inputs, keras.layers.Dense(1)(inputs))  # least squares: diverges once lr > 2 / λmax
    regression.compile(get_optimizer("sgd", 1e-3), "mse")
    frame = lr_range_test(regression, (x, x.sum(axis=1)), min_lr=1e-3, max_lr=1e3, steps=40, batch_size=8)
    assert len(frame) < 40
    last = frame.iloc[-1]
    assert not math.isfinite(last["loss"]) or last["smoothed_loss"] > 4 * frame["smoothed_loss"].iloc[:-1].min()


def test_range_test_rejects_unusable_models():
    x, y = _arrays(16)
    bare = keras.Model(*(lambda i: (i, keras.layers.Dense(3)(i)))(keras.Input((4,))))
    with pytest.raises(ValueError, match="compile the model first"):
        lr_range_test(bare, (x, y), steps=4)
    with pytest.raises(ValueError, match="pass \\(x, y\\) arrays"):
        lr_range_test(_tiny_model(), steps=4)
    with pytest.raises(ValueError, match="RunConfig, a config dict or a compiled keras.Model"):
        lr_range_test("resnet20", steps=4)


def test_a_real_range_test_from_a_config_runs():
    cfg = RunConfig(model="lenet5", model_options={"activation": "relu", "pooling": "max"}, subset=40,
                    batch_size=8, recipe="alexnet", schedule="step", warmup_steps=2, epochs=5)
    frame = lr_range_test(cfg, min_lr=1e-3, max_lr=0.5, steps=6)
    assert len(frame) == 6 and frame["lr"].iloc[0] == 1e-3 and frame["lr"].iloc[-1] == 0.5
    assert np.isfinite(frame["loss"]).all() and (frame["loss"] > 0).all()
    assert suggest_lr(frame, "min_loss") == pytest.approx(frame["lr"][frame["smoothed_loss"].idxmin()] / 10)


# --- suggest_lr --------------------------------------------------------------------------------

def _hand_made_curve():
    """Loss over 1e-5 … 1 (10 points a decade): falls fastest at 1e-3, lowest at 1e-1, then blows up."""
    lr = np.geomspace(1e-5, 1.0, 51)
    x = np.log10(lr)
    loss = 1.0 - np.tanh(x + 3) + 10 * np.maximum(0.0, x + 1) ** 2
    return pd.DataFrame({"step": range(51), "lr": lr, "loss": loss})


def test_suggest_lr_on_a_hand_made_curve():
    curve = _hand_made_curve()
    assert suggest_lr(curve) == pytest.approx(1e-3)
    assert suggest_lr(curve, "steepest") == pytest.approx(1e-3)
    assert suggest_lr(curve, "min_loss") == pytest.approx(1e-2)  # minimum at 0.1, divided by 10
    smoothed = curve.assign(smoothed_loss=curve["loss"], loss=np.nan)  # the smoothed column is preferred
    assert suggest_lr(smoothed, "min_loss") == pytest.approx(1e-2)
    # points past a NaN (divergence) are ignored
    assert suggest_lr(curve.assign(loss=curve["loss"].where(curve["lr"] < 0.5)), "min_loss") == pytest.approx(1e-2)


@pytest.mark.parametrize("frame, method, match", [
    (pd.DataFrame({"lr": [1e-3, 1e-2, 1e-1], "loss": [1.0, 0.5, 0.7]}), "valley", "unknown method 'valley'"),
    (pd.DataFrame({"lr": [1e-3, 1e-2], "loss": [1.0, 0.5]}), "steepest", "at least 3 finite points"),
    (pd.DataFrame({"rate": [1e-3, 1e-2, 1e-1], "loss": [1.0, 0.5, 0.7]}), "steepest", "needs columns 'lr'"),
])
def test_suggest_lr_rejects_bad_input(frame, method, match):
    with pytest.raises(ValueError, match=match):
        suggest_lr(frame, method)
