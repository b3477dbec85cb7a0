"""The one checked configuration of a training run.

Modelled on nanoGPT's ``train.py``: a dataclass of commented defaults and one override path
(:meth:`RunConfig.from_dict` / :meth:`RunConfig.replace`) that rejects unknown keys and wrong
types. Training settings left ``None`` come from the named recipe; :meth:`RunConfig.resolved`
fills them in, and that resolved config is what is saved with results.

Example:
    >>> cfg = RunConfig.from_dict({"model": "resnet_cifar", "epochs": 3, "lr": 0.05})
    >>> cfg.resolved().optimizer
    'momentum'
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from typing import Any, Mapping

from cnnkit._checks import check_choice
from cnnkit.train import device_data as _device
from cnnkit.train import distribute as _dist
from cnnkit.train import optimizers as _opt
from cnnkit.train import precision as _prec
from cnnkit.train import recipes as _rec
from cnnkit.train import schedules as _sch

MIXED_PRECISION = _prec.MIXED_PRECISION  # "auto", "mixed_bfloat16", "mixed_float16" (None: float32)
DISTRIBUTE = _dist.KINDS
# Optimizers that share a learning-rate scale: a recipe's lr carries over within a family.
_LR_FAMILY = {"sgd": "sgd", "momentum": "sgd", "nesterov": "sgd", "adam": "adam", "adamw": "adam"}


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything that defines a training run; see the comment on each field."""

    # --- model ---------------------------------------------------------------------------
    model: str = "resnet_cifar"           # a name from cnnkit.models.available()
    model_options: dict = dataclasses.field(default_factory=dict)  # passed to models.build, e.g. {"depth": 20}
    # --- data ----------------------------------------------------------------------------
    dataset: str = "fashion_mnist"        # a name from cnnkit.data.available()
    resolution: int | None = None         # resize images to this side length; None = native size
    subset: int | None = None             # use at most this many examples per split; None = all
    eval_subset: int | None = None        # examples of the val and test splits; None = as subset (curves that
                                          # evaluate every few iterations need a small val split, training a large one)
    val_fraction: float = 0.1             # share of the training set held out for validation (ResNet: 5k/50k)
    augment: str = "none"                 # a cnnkit.data augmentation ("resnet_cifar": pad 4, crop, flip)
    data_options: dict = dataclasses.field(default_factory=dict)  # data-set options, e.g. {"path": ...} for "folder"
    data_path: str = "auto"               # "device": data set on the accelerator, augmented in the train step;
                                          # "tfdata": host pipeline; "auto": device up to 1 GiB (train.device_data)
    # --- optimisation: None = take it from the recipe --------------------------------------
    recipe: str = "resnet_cifar"          # a name from cnnkit.train.recipes.RECIPES
    optimizer: str | None = None          # sgd, momentum, nesterov, adagrad, adadelta, rmsprop, adam, adamw
    lr: float | None = None               # base learning rate
    momentum: float | None = None         # for sgd/momentum/nesterov/rmsprop
    weight_decay: float | None = None     # coupled L2 wd (gradient wd*w, PyTorch convention); decoupled for adamw
    weight_decay_kind: str = "l2"         # "l2": (wd/2)·Σw² (gradient wd·w) or "l1": wd·Σ|w| (gradient wd·sign(w))
    schedule: str | None = None           # constant, step, exponential, cosine, cyclic, plateau
    schedule_options: dict = dataclasses.field(default_factory=dict)  # e.g. {"milestones": [0.5, 0.75]}
    warmup_steps: int = 0                 # linear warm-up iterations before the schedule (Goyal et al. 2017)
    lr_scaling: bool = False              # scale the recipe's lr by batch_size / recipe batch size (linear rule)
    batch_size: int = 128                 # images per iteration (all devices together)
    epochs: int = 10                      # passes over the training split
    steps_per_epoch: int | None = None    # iterations per epoch; None = one pass over the training split
    bn_momentum: float = 0.9              # BN moving-average momentum; Keras' 0.99 is too slow for short runs
                                          # (REFERENCE.md "A trap for short runs"); PyTorch's default equals 0.9
    # --- execution -----------------------------------------------------------------------
    seed: int = 0                         # seeds Python, NumPy, the backend and the data order
    deterministic: bool = False           # TF: enable_op_determinism (slower); see cnnkit.train.loop.fit
    mixed_precision: str | None = None    # None (float32), "auto" (bf16 where the hardware has it), "mixed_bfloat16"
    #                                       or "mixed_float16"; layers under 16 channels stay float32 (train.precision)
    jit_compile: bool | str = "auto"      # XLA compile the train step: True, False or "auto"
    steps_per_execution: int = 1          # iterations per compiled call (fewer host round trips)
    distribute: str | None = None         # None or "data_parallel" (MirroredStrategy on TF, DataParallel on JAX)
    distribute_options: dict = dataclasses.field(default_factory=dict)  # e.g. {"devices": 2}; JAX multi-host:
                                          # coordinator_address/num_processes/process_id (docs/distributed.md)
    target_train_error: float | None = None  # record the first iteration with running train error <= this
    eval_test: bool = True                # evaluate the test split at the end

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _coerce(f.name, getattr(self, f.name), hints[f.name]))
        _validate(self)

    # --- construction ------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RunConfig":
        """A config from a mapping (JSON, papermill parameters, CLI ``-p`` overrides).

        Unknown keys raise ``ValueError`` listing the valid ones; values are type-checked and
        safe conversions applied (int → float; ``"3"`` → 3 for int fields, ``"0.1"`` → 0.1 for
        float fields, ``"true"``/``"false"`` for bools; lists → tuples).
        """
        if not isinstance(d, Mapping):
            raise ValueError(f"RunConfig.from_dict expects a mapping, got {type(d).__name__}")
        _check_keys(d)
        return cls(**dict(d))

    def replace(self, **overrides: Any) -> "RunConfig":
        """A copy with ``overrides`` applied, checked like :meth:`from_dict`."""
        _check_keys(overrides)
        return type(self)(**{**{f.name: getattr(self, f.name) for f in dataclasses.fields(self)},
                             **overrides})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (tuples become lists) that :meth:`from_dict` turns back into this config."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    # --- recipe resolution ---------------------------------------------------------------
    def resolved(self) -> "RunConfig":
        """This config with the recipe's optimizer, lr, momentum, weight decay and schedule filled in.

        Rules: ``optimizer``/``schedule``/``weight_decay`` default to the recipe's. ``lr`` comes
        from the recipe when the optimizer is in the recipe's family (SGD variants, Adam
        variants), else from the optimizer's default; with ``lr_scaling`` the recipe's lr is
        multiplied by ``batch_size / recipe.batch_size`` (an explicit ``lr`` is used as given).
        ``momentum`` comes from the recipe only for the recipe's own optimizer. The recipe's
        schedule options apply when the schedule is the recipe's; ``schedule_options`` override
        them. Resolving twice gives the same config.
        """
        recipe = _rec.get_recipe(self.recipe)
        optimizer = self.optimizer or recipe.optimizer
        same_family = _LR_FAMILY.get(optimizer, optimizer) == _LR_FAMILY.get(recipe.optimizer, recipe.optimizer)
        lr = self.lr
        if lr is None:
            lr = recipe.lr if same_family else _opt.default_lr(optimizer)
            if self.lr_scaling and same_family:
                lr = lr * self.batch_size / recipe.batch_size
        momentum = self.momentum
        if momentum is None:
            momentum = recipe.momentum if optimizer == recipe.optimizer else _opt.default_momentum(optimizer)
        schedule = self.schedule or recipe.schedule
        options = dict(recipe.schedule_options) if schedule == recipe.schedule else {}
        options.update(self.schedule_options)
        wd = recipe.weight_decay if self.weight_decay is None else self.weight_decay
        return self.replace(optimizer=optimizer, lr=lr, momentum=momentum, weight_decay=wd,
                            schedule=schedule, schedule_options=options)


# --- checking ------------------------------------------------------------------------------
def _field_names() -> list[str]:
    return [f.name for f in dataclasses.fields(RunConfig)]


def _check_keys(d: Mapping[str, Any]) -> None:
    valid = _field_names()
    unknown = [k for k in d if k not in valid]
    if unknown:
        hints = {k: difflib.get_close_matches(str(k), valid, n=1) for k in unknown}
        did_you_mean = "; ".join(f"{k!r} -> did you mean {v[0]!r}?" for k, v in hints.items() if v)
        raise ValueError(f"unknown RunConfig key(s) {unknown}. {did_you_mean + ' ' if did_you_mean else ''}"
                         f"Valid keys: {', '.join(valid)}")


class _Mismatch(Exception):
    pass


_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _coerce(key: str, value: Any, hint: Any) -> Any:
    """Check ``value`` against the field type ``hint``; apply the safe conversions."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce_one(value, arg)
            except _Mismatch:
                continue
    else:
        try:
            return _coerce_one(value, hint)
        except _Mismatch:
            pass
    expected = " or ".join("None" if a is type(None) else a.__name__ for a in (args or (hint,)))
    raise ValueError(f"RunConfig.{key}={value!r} has type {type(value).__name__}; expected {expected}")


def _coerce_one(value: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INT.match(value.strip()):
            return int(value)
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and _FLOAT.match(value.strip()):
            return float(value)
    elif kind is str:
        if isinstance(value, str):
            return value
    elif kind is dict:
        if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
            return {k: _tuplify(v) for k, v in value.items()}
    raise _Mismatch


def _tuplify(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_tuplify(v) for v in value)
    if isinstance(value, Mapping):
        return {k: _tuplify(v) for k, v in value.items()}
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _one_of(key: str, value: Any, choices) -> None:
    check_choice(key, value, choices, lead=f"RunConfig.{key}={value!r} is not valid")


def _validate(c: RunConfig) -> None:
    """Range and name checks; each message names the field, the value and what is allowed."""
    from cnnkit import data, models

    _one_of("model", c.model, models.available())
    valid_opts = models.options(c.model)
    unknown = sorted(set(c.model_options) - set(valid_opts))
    _require(not unknown, f"RunConfig.model_options has unknown option(s) {unknown} for model "
                          f"{c.model!r}; valid options: {sorted(valid_opts)}")
    _one_of("dataset", c.dataset, data.available())
    _one_of("augment", c.augment, data.AUGMENTATIONS)
    _one_of("data_path", c.data_path, _device.DATA_PATHS)
    try:
        data.sources.check_options(c.dataset, dict(c.data_options))
    except ValueError as exc:
        raise ValueError(f"RunConfig.data_options={c.data_options!r}: {exc}") from None
    _one_of("recipe", c.recipe, _rec.RECIPES)
    if c.optimizer is not None:
        _one_of("optimizer", c.optimizer, _opt.OPTIMIZERS)
    if c.schedule is not None:
        _one_of("schedule", c.schedule, _sch.SCHEDULES)
    if c.mixed_precision is not None:
        _one_of("mixed_precision", c.mixed_precision, MIXED_PRECISION)
    try:  # also rejects unknown kinds, with a pointer for multi-worker names
        _dist.check_options(c.distribute, dict(c.distribute_options))
    except ValueError as exc:
        raise ValueError(f"RunConfig.{exc}") from None
    if isinstance(c.jit_compile, str):
        _one_of("jit_compile", c.jit_compile, ("auto",))
    positive = {"batch_size": c.batch_size, "epochs": c.epochs, "steps_per_epoch": c.steps_per_epoch,
                "subset": c.subset, "eval_subset": c.eval_subset, "resolution": c.resolution, "steps_per_execution": c.steps_per_execution}
    for key, v in positive.items():
        _require(v is None or v >= 1, f"RunConfig.{key} must be >= 1, got {v!r}")
    _require(0 < c.val_fraction < 1, f"RunConfig.val_fraction must be in (0, 1), got {c.val_fraction!r}")
    _require(0 <= c.bn_momentum < 1, f"RunConfig.bn_momentum must be in [0, 1), got {c.bn_momentum!r} "
                                     "(0.9 for short runs, Keras' default 0.99 for long ones)")
    _require(c.lr is None or c.lr > 0, f"RunConfig.lr must be > 0, got {c.lr!r}")
    _require(c.momentum is None or 0 <= c.momentum < 1, f"RunConfig.momentum must be in [0, 1), got {c.momentum!r}")
    _require(c.weight_decay is None or c.weight_decay >= 0,
             f"RunConfig.weight_decay must be >= 0, got {c.weight_decay!r}")
    _one_of("weight_decay_kind", c.weight_decay_kind, _opt.DECAY_KINDS)
    _require(c.weight_decay_kind == "l2" or c.optimizer != "adamw",
             f"RunConfig.weight_decay_kind={c.weight_decay_kind!r} is a penalty in the loss; adamw decays "
             "decoupled (L2-like) in the optimizer. Use weight_decay_kind='l2' with adamw, or another optimizer")
    _require(c.warmup_steps >= 0, f"RunConfig.warmup_steps must be >= 0, got {c.warmup_steps!r}")
    _require(c.seed >= 0, f"RunConfig.seed must be >= 0, got {c.seed!r}")
    _require(c.target_train_error is None or 0 < c.target_train_error < 1,
             f"RunConfig.target_train_error must be in (0, 1), e.g. 0.25, got {c.target_train_error!r}")
    _validate_training(c)


def _validate_training(c: RunConfig) -> None:
    """Checks that need the recipe: momentum fits the optimizer, schedule options are known."""
    recipe = _rec.get_recipe(c.recipe)
    optimizer = c.optimizer or recipe.optimizer
    if c.momentum is not None and _opt.default_momentum(optimizer) is None:
        raise ValueError(f"RunConfig.momentum={c.momentum!r} but optimizer {optimizer!r} has no momentum; "
                         "set momentum=None or choose sgd/momentum/nesterov/rmsprop")
    schedule = c.schedule or recipe.schedule
    options = dict(recipe.schedule_options) if schedule == recipe.schedule else {}
    options.update(c.schedule_options)
    try:
        _sch.get_schedule(schedule, 1.0, 1000, warmup_steps=c.warmup_steps, **options)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"RunConfig schedule {schedule!r} with schedule_options={options}: {exc}") from None


__all__ = ["DISTRIBUTE", "MIXED_PRECISION", "RunConfig"]
