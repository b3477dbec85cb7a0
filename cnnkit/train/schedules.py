"""Learning-rate schedules by name, as functions of the iteration (optimizer step).

Every schedule is a serializable ``keras.optimizers.schedules.LearningRateSchedule``, so it
runs inside the compiled train step and is saved with the optimizer. Reduce-on-plateau is the
exception: it reacts to validation results, so it is a callback that changes a *float*
learning rate (:func:`plateau_callback`); :func:`get_schedule` returns the float for it.
"""

from __future__ import annotations

from typing import Any, Sequence

import keras
from keras import ops

from cnnkit._checks import check_choice

SCHEDULES = ("constant", "step", "piecewise", "exponential", "cosine", "linear", "cyclic", "plateau")
CYCLIC_MODES = ("triangular", "triangular2", "exp_range")
# Reduce-on-plateau: AlexNet divides by 10 when the validation error stops improving; the paper
# gives no patience, 3 epochs suits runs of tens of epochs.
PLATEAU_DEFAULTS = {"monitor": "val_error", "factor": 0.1, "patience": 3, "min_delta": 1e-4,
                    "min_lr": 0.0}


@keras.saving.register_keras_serializable(package="cnnkit")
class StepDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Piecewise-constant decay: multiply the rate by ``factor`` at each boundary iteration.

    ResNet on CIFAR-10 (He et al. 2016, sec. 4.2): ``StepDecay(0.1, (32000, 48000), 0.1)``
    gives 0.1 until iteration 32k, 0.01 until 48k, then 0.001. A boundary ``b`` means the
    new rate applies from step ``b`` on (``step >= b``).

    Args:
        initial_learning_rate: the rate before the first boundary.
        boundaries: increasing iteration numbers.
        factor: multiplier applied at each boundary (0.1 = "divide by 10").
    """

    def __init__(self, initial_learning_rate: float, boundaries: Sequence[int], factor: float = 0.1):
        boundaries = [int(b) for b in boundaries]
        if any(b2 <= b1 for b1, b2 in zip(boundaries, boundaries[1:])):
            raise ValueError(f"boundaries must be strictly increasing, got {boundaries}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.boundaries = boundaries
        self.factor = float(factor)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        passed = sum((ops.cast(step >= b, "float32") for b in self.boundaries), ops.zeros(()))
        return self.initial_learning_rate * ops.power(self.factor, passed)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "boundaries": list(self.boundaries), "factor": self.factor}


@keras.saving.register_keras_serializable(package="cnnkit")
class CyclicLR(keras.optimizers.schedules.LearningRateSchedule):
    """Cyclical learning rate (Smith 2017, "Cyclical Learning Rates for Training Neural Networks").

    The rate moves linearly from ``min_lr`` up to ``max_lr`` in ``step_size`` iterations and
    back down in another ``step_size``: ``cycle = floor(1 + t / (2 s))``,
    ``x = |t / s - 2 cycle + 1|``, ``lr = min + (max - min) * max(0, 1 - x) * scale``.
    ``mode``: ``"triangular"`` (scale 1), ``"triangular2"`` (amplitude halves every cycle),
    ``"exp_range"`` (scale ``gamma ** t``). Smith suggests ``step_size`` = 2–10 epochs.
    """

    def __init__(self, min_lr: float, max_lr: float, step_size: int, mode: str = "triangular",
                 gamma: float = 1.0):
        check_choice("cyclic mode", mode, CYCLIC_MODES)
        if not 0 <= min_lr <= max_lr:
            raise ValueError(f"need 0 <= min_lr <= max_lr, got min_lr={min_lr!r}, max_lr={max_lr!r}")
        if int(step_size) < 1:
            raise ValueError(f"step_size must be >= 1 iteration, got {step_size!r}")
        self.min_lr, self.max_lr = float(min_lr), float(max_lr)
        self.step_size, self.mode, self.gamma = int(step_size), mode, float(gamma)

    def __call__(self, step):
        t = ops.cast(step, "float32")
        cycle = ops.floor(1.0 + t / (2.0 * self.step_size))
        x = ops.abs(t / self.step_size - 2.0 * cycle + 1.0)
        if self.mode == "triangular2":
            scale = ops.power(2.0, 1.0 - cycle)
        elif self.mode == "exp_range":
            scale = ops.power(self.gamma, t)
        else:
            scale = 1.0
        return self.min_lr + (self.max_lr - self.min_lr) * ops.maximum(0.0, 1.0 - x) * scale

    def get_config(self) -> dict[str, Any]:
        return {"min_lr": self.min_lr, "max_lr": self.max_lr, "step_size": self.step_size,
                "mode": self.mode, "gamma": self.gamma}


@keras.saving.register_keras_serializable(package="cnnkit")
class WarmUp(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up in front of any schedule (Goyal et al. 2017, "Accurate, Large Minibatch SGD").

    For ``step < warmup_steps`` the rate is ``after(step) * (start + (1 - start) * step /
    warmup_steps)``; from ``warmup_steps`` on it is ``after(step)``. ``after`` is a schedule
    or a float.
    """

    def __init__(self, after, warmup_steps: int, start_factor: float = 0.0):
        if int(warmup_steps) < 1:
            raise ValueError(f"warmup_steps must be >= 1, got {warmup_steps!r}")
        if not 0.0 <= start_factor <= 1.0:
            raise ValueError(f"start_factor must be in [0, 1], got {start_factor!r}")
        if isinstance(after, dict):
            after = keras.optimizers.schedules.deserialize(after)
        self.after, self.warmup_steps, self.start_factor = after, int(warmup_steps), float(start_factor)

    def __call__(self, step):
        t = ops.cast(step, "float32")
        base = self.after(step) if callable(self.after) else self.after
        ramp = self.start_factor + (1.0 - self.start_factor) * t / self.warmup_steps
        return ops.cast(base, "float32") * ops.minimum(1.0, ramp)

    def get_config(self) -> dict[str, Any]:
        after = (keras.optimizers.schedules.serialize(self.after)
                 if isinstance(self.after, keras.optimizers.schedules.LearningRateSchedule) else self.after)
        return {"after": after, "warmup_steps": self.warmup_steps, "start_factor": self.start_factor}


def step_boundaries(total_steps: int, milestones: Sequence[float] = (0.5, 0.75)) -> list[int]:
    """Iterations at fractions ``milestones`` of ``total_steps`` (ResNet: 50 %/75 % → 32k/48k of 64k).

    Boundaries stay strictly increasing on very short runs (3 steps → ``[2, 3]``, not ``[2, 2]``).
    """
    if any(not 0 < m < 1 for m in milestones) or list(milestones) != sorted(milestones):
        raise ValueError(f"milestones are increasing fractions of the run in (0, 1), got {list(milestones)}")
    out: list[int] = []
    for m in milestones:
        out.append(max(int(round(m * total_steps)), out[-1] + 1 if out else 1))
    return out


def get_schedule(name: str, base_lr: float, total_steps: int, *, warmup_steps: int = 0,
                 **kwargs: Any):
    """A learning-rate schedule by name.

    Args:
        name: one of :data:`SCHEDULES`:
            ``constant`` — ``base_lr`` throughout;
            ``step`` / ``piecewise`` — :class:`StepDecay`; ``milestones`` (fractions of
            ``total_steps``, default ``(0.5, 0.75)``) or absolute ``boundaries``, ``factor`` 0.1;
            ``exponential`` — ``base_lr * decay_rate ** (t / decay_steps)``, default a 100x
            decay over the run (``decay_rate=0.01``, ``decay_steps=total_steps``), ``staircase``;
            ``cosine`` — cosine decay to ``alpha * base_lr`` (default 0) at ``total_steps``
            (Loshchilov & Hutter 2017, without restarts);
            ``linear`` — linear decay to ``end * base_lr`` (default 0) at ``total_steps``: the
            budget-aware schedule of Li, Yumer & Ramanan 2020 (*Budgeted Training*), best for a fixed budget;
            ``cyclic`` — :class:`CyclicLR` with peak ``max_lr`` (default ``base_lr``) and trough
            ``min_lr`` (default ``base_lr / 6``, Smith's CIFAR-10 range 0.001–0.006),
            ``step_size`` (default ``total_steps // 8``: four cycles), ``mode``;
            ``plateau`` — returns the float ``base_lr``; the options (:data:`PLATEAU_DEFAULTS`)
            are checked here and belong to :func:`plateau_callback`, which ``fit`` adds.
        base_lr: the reference learning rate.
        total_steps: iterations of the whole run.
        warmup_steps: if > 0, wrap the schedule in :class:`WarmUp` (not with ``plateau``).
        **kwargs: options of the chosen schedule (unknown ones raise ``ValueError``).

    Returns:
        A float (``constant``, ``plateau``) or a ``LearningRateSchedule``.
    """
    check_choice("schedule", name, SCHEDULES)
    if not base_lr > 0:
        raise ValueError(f"base_lr must be > 0, got {base_lr!r}")
    if int(total_steps) < 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps!r}")
    if name == "plateau" and warmup_steps:
        raise ValueError("reduce-on-plateau changes a float learning rate from a callback and cannot "
                         "be combined with warmup_steps; use warmup_steps=0 or another schedule")
    schedule = _BUILDERS[name](float(base_lr), int(total_steps), dict(kwargs))
    return WarmUp(schedule, warmup_steps) if warmup_steps else schedule


def _take(name: str, kwargs: dict, defaults: dict) -> dict:
    unknown = sorted(set(kwargs) - set(defaults))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for schedule {name!r}; "
                         f"valid options: {sorted(defaults) or '(none)'}")
    return {**defaults, **kwargs}


def _constant(lr, total, kw):
    _take("constant", kw, {})
    return lr


def _plateau(lr, total, kw):
    _take("plateau", kw, PLATEAU_DEFAULTS)  # the options go to plateau_callback
    return lr


def _step(lr, total, kw):
    o = _take("step", kw, {"milestones": (0.5, 0.75), "boundaries": None, "factor": 0.1})
    boundaries = o["boundaries"] if o["boundaries"] is not None else step_boundaries(total, o["milestones"])
    return StepDecay(lr, boundaries, o["factor"])


def _exponential(lr, total, kw):
    o = _take("exponential", kw, {"decay_rate": 0.01, "decay_steps": total, "staircase": False})
    return keras.optimizers.schedules.ExponentialDecay(lr, o["decay_steps"], o["decay_rate"],
                                                       staircase=o["staircase"])


def _cosine(lr, total, kw):
    o = _take("cosine", kw, {"alpha": 0.0})
    return keras.optimizers.schedules.CosineDecay(lr, total, alpha=o["alpha"])


def _linear(lr, total, kw):
    o = _take("linear", kw, {"end": 0.0})
    return keras.optimizers.schedules.PolynomialDecay(lr, total, end_learning_rate=lr * o["end"], power=1.0)


def _cyclic(lr, total, kw):
    o = _take("cyclic", kw, {"min_lr": lr / 6.0, "max_lr": lr, "step_size": max(1, total // 8),
                             "mode": "triangular", "gamma": 1.0})
    return CyclicLR(o["min_lr"], o["max_lr"], o["step_size"], o["mode"], o["gamma"])


_BUILDERS = {"constant": _constant, "plateau": _plateau, "step": _step, "piecewise": _step,
             "exponential": _exponential, "cosine": _cosine, "linear": _linear,
             "cyclic": _cyclic}


def lr_at(learning_rate, step: int) -> float:
    """The learning rate a float or schedule gives at iteration ``step``, as a Python float."""
    if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        return float(keras.ops.convert_to_numpy(learning_rate(step)))
    return float(learning_rate)


def lr_curve(schedule, total_steps: int, *, base_lr: float | None = None, warmup_steps: int = 0,
             **options: Any):
    """The learning rate of every iteration ``0 … total_steps − 1`` of a schedule, as a DataFrame.

    Args:
        schedule: a name from :data:`SCHEDULES` (built with :func:`get_schedule` from ``base_lr``,
            ``total_steps``, ``warmup_steps`` and ``options``), a ``LearningRateSchedule`` or a float.
            ``"plateau"`` is rejected: its rate depends on the validation error, so it exists only in
            a run's history (the ``lr`` column; ``cnnkit.studies.optimizers.schedule_lrs`` reads it).
        total_steps: iterations of the run.
        base_lr: the reference rate; required with a schedule name.
        warmup_steps, **options: as for :func:`get_schedule` (only with a schedule name).

    Returns:
        ``pandas.DataFrame`` with columns ``step`` (int) and ``lr`` (float), one row per iteration.
    """
    import numpy as np
    import pandas as pd

    if int(total_steps) < 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps!r}")
    if isinstance(schedule, str):
        if schedule == "plateau":
            raise ValueError("reduce-on-plateau's rate depends on the validation error, so no curve exists before "
                             "training; read it from the run's history (its 'lr' per epoch)")
        if base_lr is None:
            raise ValueError(f"lr_curve({schedule!r}, ...) needs base_lr, e.g. base_lr=0.1")
        schedule = get_schedule(schedule, base_lr, total_steps, warmup_steps=warmup_steps, **options)
    elif options or warmup_steps:
        raise ValueError("warmup_steps and schedule options only apply to a schedule given by name; "
                         f"got {sorted(options) + (['warmup_steps'] if warmup_steps else [])} with {schedule!r}")
    steps = np.arange(int(total_steps))
    if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        lrs = _evaluate(schedule, steps)
    else:
        lrs = np.full(len(steps), float(schedule))
    return pd.DataFrame({"step": steps, "lr": lrs.astype("float64")})


def _evaluate(schedule, steps):
    """A schedule at every step: one vectorised call, or step by step if the schedule is scalar-only."""
    import numpy as np

    try:
        values = np.asarray(keras.ops.convert_to_numpy(schedule(keras.ops.convert_to_tensor(steps))))
    except Exception:  # noqa: BLE001 - e.g. a ``cond`` on the step; the loop below is always correct
        values = None
    if values is None or values.shape != steps.shape:
        values = np.array([lr_at(schedule, int(t)) for t in steps])
    return values


def plateau_callback(*, monitor: str = "val_error", factor: float = 0.1, patience: int = 3,
                     min_delta: float = 1e-4, min_lr: float = 0.0,
                     verbose: int = 0) -> keras.callbacks.ReduceLROnPlateau:
    """``keras.callbacks.ReduceLROnPlateau`` set up for AlexNet's rule: divide by 10 when the
    validation error stops improving (Krizhevsky et al. 2012).

    The callback assigns a new value to the optimizer's learning rate, so the optimizer must
    have been built with a *float* rate (``get_schedule("plateau", ...)`` gives one); with a
    ``LearningRateSchedule`` Keras raises. ``val_error`` is added to the logs by
    :class:`cnnkit.train.callbacks.ErrorMetrics`, which must run before this callback.
    """
    if not 0 < factor < 1:
        raise ValueError(f"factor must be in (0, 1), got {factor!r}")
    if patience < 0:
        raise ValueError(f"patience must be >= 0 epochs, got {patience!r}")
    mode = "max" if "acc" in monitor else "min"
    return keras.callbacks.ReduceLROnPlateau(monitor=monitor, factor=factor, patience=patience,
                                             min_delta=min_delta, min_lr=min_lr, mode=mode,
                                             verbose=verbose)


__all__ = ["CYCLIC_MODES", "PLATEAU_DEFAULTS", "SCHEDULES", "CyclicLR", "StepDecay", "WarmUp", "get_schedule", "lr_at",
           "lr_curve", "plateau_callback", "step_boundaries"]
