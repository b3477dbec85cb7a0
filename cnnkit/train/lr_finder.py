"""The learning-rate range test: train briefly while the rate grows, and read a good rate off the loss.

Smith (2017, "Cyclical Learning Rates for Training Neural Networks", §3.3) trains for a few
epochs while the learning rate rises from a low to a high value and picks the range in which
the accuracy improves fastest. The common form of the test (fast.ai; Gugger 2017) raises the
rate *exponentially* over a few hundred iterations and plots the loss against the rate on a
log axis: the loss is flat while the rate is too small, falls, reaches a minimum, then blows
up. Two rules turn the curve into one rate (:func:`suggest_lr`): the rate where the smoothed
loss falls most steeply per decade, or the rate of the minimum divided by 10.

* :func:`range_schedule` is the growing rate as a learning-rate schedule (it runs inside the compiled
  step, on every backend); :class:`LRRangeTest` is the Keras callback that records the loss of every
  iteration and stops the test.
* :func:`lr_range_test` runs it on a :class:`~cnnkit.train.config.RunConfig` (through
  :func:`cnnkit.train.fit`) or on a compiled model and data.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import keras
import numpy as np

from cnnkit._checks import check_choice
from cnnkit._status import FAILED

SUGGEST_METHODS = ("steepest", "min_loss")
FRAME_COLUMNS = ("step", "lr", "loss", "smoothed_loss")


def lr_sequence(min_lr: float, max_lr: float, steps: int) -> np.ndarray:
    """The rates of a range test: ``steps`` values growing geometrically from ``min_lr`` to ``max_lr``.

    ``lr_i = min_lr * (max_lr / min_lr) ** (i / (steps - 1))``; the first value is exactly
    ``min_lr`` and the last exactly ``max_lr``.
    """
    if not (isinstance(steps, (int, np.integer)) and not isinstance(steps, bool) and steps >= 2):
        raise ValueError(f"steps must be an int >= 2 (the rates from min_lr to max_lr), got {steps!r}")
    if not 0 < min_lr < max_lr:
        raise ValueError(f"need 0 < min_lr < max_lr, got min_lr={min_lr!r}, max_lr={max_lr!r}; e.g. 1e-5 and 1.0")
    return np.geomspace(float(min_lr), float(max_lr), int(steps))


def range_schedule(min_lr: float, max_lr: float, steps: int) -> keras.optimizers.schedules.ExponentialDecay:
    """The rate of a range test as a schedule: ``min_lr * (max_lr / min_lr) ** (t / (steps - 1))``.

    An exponential "decay" with ``decay_rate = max_lr / min_lr > 1`` over ``decay_steps = steps − 1``:
    at iteration ``t`` it gives ``lr_sequence(min_lr, max_lr, steps)[t]`` (in float32). A schedule runs
    inside the compiled step on every backend; assigning the rate from a callback does not reach the
    JAX train step in the middle of an epoch.
    """
    lr_sequence(min_lr, max_lr, steps)  # checks the arguments
    return keras.optimizers.schedules.ExponentialDecay(float(min_lr), int(steps) - 1, float(max_lr) / float(min_lr))


class LRRangeTest(keras.callbacks.Callback):
    """Record the loss of every iteration of a range test and stop it (Smith 2017, §3.3).

    The optimizer's rate must follow :func:`range_schedule` from iteration 0 (checked when training
    starts), so iteration ``i`` trains with ``lr_sequence(min_lr, max_lr, steps)[i]``. The loss of each
    iteration is recovered from Keras' running epoch mean; ``smoothed_loss`` is its exponential moving
    average with bias correction (``beta = smoothing``). Training stops after ``steps`` iterations, or
    early when the loss is not finite or the smoothed loss exceeds ``diverge_factor`` times its minimum
    so far (the rest of the curve is divergence). Use ``steps_per_execution=1``: Keras calls batch
    hooks once per execution.

    Args:
        min_lr, max_lr: first and last rate (defaults 1e-5 and 1.0).
        steps: iterations of the test (default 100).
        smoothing: EMA factor of ``smoothed_loss`` in [0, 1) (default 0.9; 0 = no smoothing).
        diverge_factor: stop when ``smoothed_loss > diverge_factor * min`` (default 4; ``None``: never).
    """

    def __init__(self, min_lr: float = 1e-5, max_lr: float = 1.0, steps: int = 100, *, smoothing: float = 0.9,
                 diverge_factor: float | None = 4.0):
        super().__init__()
        if not 0 <= smoothing < 1:
            raise ValueError(f"smoothing must be in [0, 1), got {smoothing!r}")
        if diverge_factor is not None and not diverge_factor > 1:
            raise ValueError(f"diverge_factor must be > 1 or None, got {diverge_factor!r}")
        self.lrs = lr_sequence(min_lr, max_lr, steps)
        self.smoothing, self.diverge_factor = float(smoothing), diverge_factor
        self.records: list[dict[str, float]] = []
        self._avg, self._best, self._last_batch, self._last_mean = 0.0, math.inf, -1, 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        _check_schedule(self.model.optimizer, self.lrs)
        self.records, self._avg, self._best = [], 0.0, math.inf

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._last_batch, self._last_mean = -1, 0.0  # Keras' running means restart every epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if not logs or "loss" not in logs or len(self.records) >= len(self.lrs):
            return
        mean = float(logs["loss"])
        loss = (batch + 1) * mean - (self._last_batch + 1) * self._last_mean  # this batch's own loss
        self._last_batch, self._last_mean = batch, mean
        i = len(self.records)
        self._avg = self.smoothing * self._avg + (1 - self.smoothing) * loss
        smoothed = self._avg / (1 - self.smoothing ** (i + 1))
        self.records.append({"step": i, "lr": float(self.lrs[i]), "loss": loss, "smoothed_loss": smoothed})
        self._best = min(self._best, smoothed) if math.isfinite(smoothed) else self._best
        diverged = not math.isfinite(loss) or (self.diverge_factor is not None and i > 0
                                               and smoothed > self.diverge_factor * self._best)
        if diverged or len(self.records) >= len(self.lrs):
            self.model.stop_training = True

    def frame(self):
        """The recorded curve: a ``pandas.DataFrame`` with :data:`FRAME_COLUMNS`, one row per iteration."""
        import pandas as pd

        return pd.DataFrame(self.records, columns=list(FRAME_COLUMNS))


def _check_schedule(optimizer: keras.optimizers.Optimizer, lrs: np.ndarray) -> None:
    """The optimizer starts at iteration 0 with a rate that follows ``lrs`` (first and last value)."""
    from cnnkit.train.schedules import lr_at

    inner = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer (mixed_float16)
    rate, start = inner._learning_rate, int(keras.ops.convert_to_numpy(optimizer.iterations))
    follows = (isinstance(rate, keras.optimizers.schedules.LearningRateSchedule) and start == 0
               and np.allclose([lr_at(rate, 0), lr_at(rate, len(lrs) - 1)], [lrs[0], lrs[-1]], rtol=1e-4))
    if not follows:
        raise ValueError(f"LRRangeTest needs a fresh optimizer (iteration 0, now {start}) whose learning rate is "
                         f"range_schedule({lrs[0]:g}, {lrs[-1]:g}, {len(lrs)}); got {rate!r}. "
                         "lr_range_test(model, data, ...) sets this up")


def lr_range_test(source: Any, data: Any = None, *, min_lr: float = 1e-5, max_lr: float = 1.0, steps: int = 100,
                  batch_size: int = 32, smoothing: float = 0.9, diverge_factor: float | None = 4.0,
                  verbose: int = 0):
    """Run the LR range test on a config or on a compiled model and data.

    Args:
        source: a :class:`~cnnkit.train.config.RunConfig` (or its dict): trained with
            :func:`cnnkit.train.fit` for ``steps`` iterations with the :func:`range_schedule` (as the
            ``exponential`` schedule; model, data, optimizer, momentum and weight decay are the config's;
            warm-up, test evaluation and the iteration target are switched off); or a compiled
            ``keras.Model``, recompiled for the test with a fresh copy of its optimizer on the range
            schedule and trained on ``data``. Afterwards the model gets back its weights and its own
            compile settings and optimizer.
        data: for a model only: an ``(x, y)`` pair of arrays or a finite dataset of batches.
        min_lr, max_lr, steps: the rates (see :func:`lr_sequence`).
        batch_size: for ``(x, y)`` arrays (a config uses its own ``batch_size``).
        smoothing, diverge_factor: see :class:`LRRangeTest`.
        verbose: passed to ``fit``.

    Returns:
        ``pandas.DataFrame`` with :data:`FRAME_COLUMNS`; fewer than ``steps`` rows if the loss diverged.

    Raises:
        ValueError: bad arguments, or a model that is not compiled.
        RuntimeError: the config's run failed (the message is the run's error).
    """
    finder = LRRangeTest(min_lr, max_lr, steps, smoothing=smoothing, diverge_factor=diverge_factor)
    if isinstance(source, keras.Model):
        _run_on_model(source, data, finder, batch_size, verbose)
    else:
        if data is not None:
            raise ValueError("data is only used with a model; a config loads its own data set")
        _run_on_config(source, finder, verbose)
    return finder.frame()


def _run_on_config(config: Any, finder: LRRangeTest, verbose: int) -> None:
    from cnnkit.train.config import RunConfig
    from cnnkit.train.loop import fit

    if not isinstance(config, (RunConfig, Mapping)):
        raise ValueError(f"lr_range_test needs a RunConfig, a config dict or a compiled keras.Model, "
                         f"got {type(config).__name__}")
    cfg = config if isinstance(config, RunConfig) else RunConfig.from_dict(config)
    lrs = finder.lrs
    cfg = cfg.replace(schedule="exponential", lr=float(lrs[0]), warmup_steps=0, epochs=1, steps_per_epoch=len(lrs),
                      schedule_options={"decay_rate": float(lrs[-1] / lrs[0]), "decay_steps": len(lrs) - 1,
                                        "staircase": False},
                      steps_per_execution=1, eval_test=False, target_train_error=None)
    result = fit(cfg, callbacks=[finder], verbose=verbose)
    if result.status == FAILED:
        raise RuntimeError(f"the LR range test run failed: {result.message}")


def _run_on_model(model: keras.Model, data: Any, finder: LRRangeTest, batch_size: int, verbose: int) -> None:
    compiled = getattr(model, "_compile_config", None) if getattr(model, "compiled", False) else None
    if compiled is None or getattr(model, "optimizer", None) is None:
        raise ValueError("compile the model first, with an optimizer and a loss, e.g. "
                         "model.compile(get_optimizer('momentum', 0.01), 'sparse_categorical_crossentropy')")
    if data is None:
        raise ValueError("lr_range_test(model, data): pass (x, y) arrays or a finite dataset of batches")
    if isinstance(data, tuple):
        x, y = data
        batches, fit_args = math.ceil(len(x) / batch_size), dict(x=x, y=y, batch_size=batch_size)
    else:
        batches, fit_args = len(data), dict(x=data)
    if batches < 1:
        raise ValueError("the data give no batch; pass more examples")
    original, settings, weights = model.optimizer, dict(compiled.config), model.get_weights()
    inner = getattr(original, "inner_optimizer", original)
    schedule = range_schedule(finder.lrs[0], finder.lrs[-1], len(finder.lrs))
    trial = type(inner).from_config({**inner.get_config(), "learning_rate": schedule})
    model.compile(**{**settings, "optimizer": trial, "steps_per_execution": 1})
    try:
        model.fit(**fit_args, epochs=math.ceil(len(finder.lrs) / batches), callbacks=[finder], verbose=verbose)
    finally:
        model.compile(**{**settings, "optimizer": original})
        model.set_weights(weights)


def suggest_lr(frame, method: str = "steepest") -> float:
    """One learning rate read off a range-test curve.

    Args:
        frame: from :func:`lr_range_test` (columns ``lr`` and ``smoothed_loss`` or ``loss``).
        method: ``"steepest"`` (default): the rate where the loss falls fastest per decade of rate,
            ``argmin d loss / d log10(lr)`` (central differences), searched up to the loss minimum;
            ``"min_loss"``: the rate of the lowest loss divided by 10 (the minimum already lies at the
            edge of divergence).

    Returns:
        The suggested rate.

    Raises:
        ValueError: unknown method, missing columns, or fewer than 3 finite points.
    """
    check_choice("method", method, SUGGEST_METHODS)
    column = "smoothed_loss" if "smoothed_loss" in frame.columns else "loss"
    if "lr" not in frame.columns or column not in frame.columns:
        raise ValueError(f"the frame needs columns 'lr' and 'loss' (or 'smoothed_loss'); got {list(frame.columns)}")
    lr = frame["lr"].to_numpy(dtype=float)
    loss = frame[column].to_numpy(dtype=float)
    finite = np.isfinite(loss) & (lr > 0)
    lr, loss = lr[finite], loss[finite]
    if len(lr) < 3:
        raise ValueError(f"need at least 3 finite points on the curve, got {len(lr)}; run more steps")
    lowest = int(np.argmin(loss))
    if method == "min_loss":
        return float(lr[lowest] / 10)
    upto = max(lowest + 1, 3)  # the falling part of the curve (at least 3 points for the slope)
    slope = np.gradient(loss[:upto], np.log10(lr[:upto]))
    return float(lr[int(np.argmin(slope))])


__all__ = ["FRAME_COLUMNS", "LRRangeTest", "SUGGEST_METHODS", "lr_range_test", "lr_sequence", "range_schedule",
           "suggest_lr"]
