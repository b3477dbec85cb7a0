"""Optimizers by name, and weight decay the way the papers apply it.

The classic CNN papers (AlexNet, ResNet) train with *coupled* weight decay: the update is
``w -= lr * (grad + wd * w)``, which is PyTorch's ``SGD(weight_decay=wd)`` and equals adding
the L2 penalty ``(wd / 2) * ||w||^2`` to the loss. :func:`apply_weight_decay` attaches that
penalty to the kernels of a built model; AdamW (Loshchilov & Hutter 2019) instead *decouples*
the decay from the gradient and is configured in the optimizer itself.
"""

from __future__ import annotations

from typing import Any

import keras

from cnnkit._checks import check_choice

# name -> (keras class, default learning rate, default momentum or None if it has none).
# Learning rates are the papers' / PyTorch's defaults where Keras differs: Adadelta
# (Zeiler 2012) uses 1.0, Adagrad (Duchi et al. 2011; PyTorch) 0.01, RMSprop (Hinton) 1e-3.
_OPTIMIZERS: dict[str, tuple[type, float, float | None]] = {
    "sgd": (keras.optimizers.SGD, 0.01, 0.0),           # plain SGD (momentum 0 unless given)
    "momentum": (keras.optimizers.SGD, 0.01, 0.9),      # heavy-ball momentum (Polyak 1964)
    "nesterov": (keras.optimizers.SGD, 0.01, 0.9),      # Nesterov momentum (Sutskever et al. 2013)
    "adagrad": (keras.optimizers.Adagrad, 0.01, None),
    "adadelta": (keras.optimizers.Adadelta, 1.0, None),
    "rmsprop": (keras.optimizers.RMSprop, 1e-3, 0.0),
    "adam": (keras.optimizers.Adam, 1e-3, None),        # Kingma & Ba 2015
    "adamw": (keras.optimizers.AdamW, 1e-3, None),      # decoupled weight decay
}
OPTIMIZERS = tuple(_OPTIMIZERS)
DECAY_KINDS = ("l2", "l1")


def _check_name(name: str) -> None:
    check_choice("optimizer", name, OPTIMIZERS)


def default_lr(name: str) -> float:
    """The default learning rate of optimizer ``name`` (used when neither config nor recipe sets one)."""
    _check_name(name)
    return _OPTIMIZERS[name][1]


def default_momentum(name: str) -> float | None:
    """The default momentum of optimizer ``name``; ``None`` if the optimizer has no momentum."""
    _check_name(name)
    return _OPTIMIZERS[name][2]


def get_optimizer(name: str, learning_rate: float | keras.optimizers.schedules.LearningRateSchedule,
                  *, momentum: float | None = None, weight_decay: float = 0.0,
                  **kwargs: Any) -> keras.optimizers.Optimizer:
    """A Keras optimizer by name.

    Args:
        name: one of :data:`OPTIMIZERS`: ``sgd``, ``momentum``, ``nesterov``, ``adagrad``,
            ``adadelta``, ``rmsprop``, ``adam``, ``adamw``.
        learning_rate: a float or a ``LearningRateSchedule`` (see :mod:`cnnkit.train.schedules`).
        momentum: for ``sgd``/``momentum``/``nesterov``/``rmsprop``; ``None`` takes the
            optimizer's default (0, 0.9, 0.9, 0). Other optimizers reject a momentum.
            Keras' SGD keeps ``v = m*v - lr*g`` (PyTorch: ``v = m*v + g``, step ``lr*v``): the
            two agree while the learning rate is constant.
        weight_decay: only used by ``adamw`` (decoupled decay ``w -= lr * wd * w``). For
            every other optimizer coupled L2 decay is added to the model with
            :func:`apply_weight_decay`; passing it here raises, so it cannot be applied twice.
        **kwargs: passed to the Keras optimizer (e.g. ``epsilon``, ``beta_1``, ``clipnorm``).

    Returns:
        A new ``keras.optimizers.Optimizer``.
    """
    _check_name(name)
    cls, _, default_m = _OPTIMIZERS[name]
    if momentum is not None and default_m is None:
        raise ValueError(f"optimizer {name!r} has no momentum (got momentum={momentum!r}); "
                         f"leave it None or use one of {[n for n, v in _OPTIMIZERS.items() if v[2] is not None]}")
    if momentum is not None and not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    if weight_decay and name != "adamw":
        raise ValueError(f"weight_decay={weight_decay!r} is decoupled decay, only for 'adamw'; for "
                         f"{name!r} add coupled L2 decay with apply_weight_decay(model, wd)")
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
    if name in ("sgd", "momentum", "nesterov", "rmsprop"):
        kwargs["momentum"] = default_m if momentum is None else momentum
    if name == "nesterov":
        kwargs["nesterov"] = True
    if name == "adamw":
        kwargs["weight_decay"] = weight_decay
    return cls(learning_rate=learning_rate, **kwargs)


_KERNEL_ATTRS = ("kernel", "depthwise_kernel", "pointwise_kernel")


def _kernels(model: keras.Model):
    """Yield ``(layer, attribute, variable)`` for every trainable conv/dense kernel."""
    for layer in model._flatten_layers(include_self=False):
        for attr in _KERNEL_ATTRS:
            try:  # some layers (quantized Dense) make `kernel` a property that may raise
                var = getattr(layer, attr, None)
            except (AttributeError, ValueError):
                continue
            if isinstance(var, keras.Variable) and var.trainable:
                yield layer, attr, var


def decay_variables(model: keras.Model) -> list:
    """The variables weight decay applies to: kernels of conv and dense layers.

    Biases, BatchNormalization's gamma/beta, PReLU slopes and other per-channel parameters are
    left out, as in the ResNet/AlexNet reference implementations.
    """
    return [var for _, _, var in _kernels(model)]


def apply_weight_decay(model: keras.Model, weight_decay: float, *, kind: str = "l2") -> int:
    """Add coupled weight decay to the conv/dense kernels of a built model.

    Keras 3 collects regularization losses from ``variable.regularizer`` of every trainable
    weight (``Layer.losses`` → ``_get_regularization_losses``), so setting it after the model is
    built works; the layer's ``kernel_regularizer`` attribute is set too so that
    ``get_config`` records it.

    Args:
        model: a built Keras model.
        weight_decay: the decay ``wd``. ``kind="l2"`` adds ``(wd / 2) * sum(w**2)`` per kernel,
            whose gradient is ``wd * w`` — PyTorch's ``SGD(weight_decay=wd)`` and the papers'
            convention. ``kind="l1"`` adds ``wd * sum(|w|)`` (gradient ``wd * sign(w)``).
        kind: ``"l2"`` or ``"l1"``.

    Returns:
        The number of kernels that received the penalty (0 when ``weight_decay`` is 0).

    Note:
        The penalty is part of the loss Keras reports (``loss`` in the history), unlike
        PyTorch, whose reported loss excludes the decay.
    """
    check_choice("weight decay kind", kind, DECAY_KINDS)
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
    if not model.built:
        raise ValueError("apply_weight_decay needs a built model; call it after building "
                         "(functional models are built on construction)")
    if weight_decay == 0:
        return 0
    reg = (keras.regularizers.L2(weight_decay / 2.0) if kind == "l2"
           else keras.regularizers.L1(weight_decay))
    count = 0
    for layer, attr, var in _kernels(model):
        var.regularizer = reg
        if hasattr(layer, f"{attr}_regularizer"):
            setattr(layer, f"{attr}_regularizer", reg)
        count += 1
    return count


def exclude_from_decoupled_decay(optimizer: keras.optimizers.Optimizer, model: keras.Model) -> None:
    """Restrict AdamW's decoupled decay to the kernels (no BN parameters, no biases)."""
    kernels = {id(v) for v in decay_variables(model)}
    others = [v for v in model.trainable_variables if id(v) not in kernels]
    if others:
        optimizer.exclude_from_weight_decay(var_list=others)


__all__ = ["DECAY_KINDS", "OPTIMIZERS", "apply_weight_decay", "decay_variables", "default_lr",
           "default_momentum", "exclude_from_decoupled_decay", "get_optimizer"]
