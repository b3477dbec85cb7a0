"""Model registry: every cnnkit model is found by name.

Modelled on timm's ``register_model`` / ``create_model``: a variant is a small
function decorated with :func:`register_model`; :func:`build` checks the options
against that function's signature before anything is constructed, so a typo in
an option name fails with the list of valid ones.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import inspect
from typing import Any, Callable

import keras

from cnnkit._checks import check_choice
from cnnkit.layers.normalization import bn_defaults

_MODELS: dict[str, Callable[..., keras.Model]] = {}

# Arguments every builder takes; they are passed through ``build`` explicitly.
_COMMON = ("input_shape", "num_classes")


def register_model(fn: Callable[..., keras.Model] | None = None, *, name: str | None = None):
    """Register a model builder under ``name`` (default: the function's name).

    The builder must accept ``input_shape`` and ``num_classes`` keyword arguments.
    Registering a name twice is an error.
    """

    def deco(f: Callable[..., keras.Model]) -> Callable[..., keras.Model]:
        key = name or f.__name__
        if key in _MODELS:
            raise ValueError(f"model {key!r} is already registered (by {_MODELS[key].__module__}); "
                             "choose another name")
        params = inspect.signature(f).parameters
        missing = [a for a in _COMMON if a not in params]
        if missing:
            raise TypeError(f"builder {key!r} must accept {missing} as keyword arguments")
        _MODELS[key] = f
        return f

    return deco(fn) if fn is not None else deco


def variant_of(base: Callable[..., keras.Model], **fixed: Any):
    """Decorator: the decorated (empty, documented) function becomes ``base`` with ``fixed`` options.

    The variant's signature is ``base``'s without the fixed options, so ``cnnkit.models.build``
    validates the remaining options against it.
    """
    def deco(fn: Callable) -> Callable[..., keras.Model]:
        @functools.wraps(fn)
        def variant(**options: Any) -> keras.Model:
            return base(**fixed, **options)

        sig = inspect.signature(base)
        variant.__signature__ = sig.replace(parameters=[p for n, p in sig.parameters.items() if n not in fixed])
        return variant

    return deco


def _ensure_loaded() -> None:
    # Importing the package imports every family module, which registers its models.
    import cnnkit.models  # noqa: F401


def available(pattern: str = "*") -> list[str]:
    """Sorted names of the registered models matching a shell-style ``pattern``."""
    _ensure_loaded()
    return sorted(n for n in _MODELS if fnmatch.fnmatch(n, pattern))


def get_builder(name: str) -> Callable[..., keras.Model]:
    """The builder function registered as ``name``; unknown names raise ``ValueError``."""
    _ensure_loaded()
    check_choice("model", name, sorted(_MODELS))
    return _MODELS[name]


def options(name: str) -> dict[str, Any]:
    """The options ``name`` accepts with their defaults (``inspect.Parameter.empty`` if required)."""
    params = inspect.signature(get_builder(name)).parameters
    return {k: p.default for k, p in params.items() if k not in _COMMON}


def build(name: str, *, input_shape: tuple[int, ...] = (32, 32, 3), num_classes: int = 10,
          bn_momentum: float | None = None, **opts: Any) -> keras.Model:
    """Build the registered model ``name``.

    Args:
        name: a name from :func:`available`.
        input_shape: ``(height, width, channels)`` of one image (channels-last).
        num_classes: size of the classifier output.
        bn_momentum: if given, the momentum of every ``BatchNormalization`` layer
            the model creates (Keras' default 0.99 suits long runs; short runs need
            about 0.9, see REFERENCE.md "A trap for short runs").
        **opts: options of that model; unknown names raise ``ValueError``.

    Returns:
        A ``keras.Model``.
    """
    builder = get_builder(name)
    valid = options(name)
    unknown = sorted(set(opts) - set(valid))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for model {name!r}; "
                         f"valid options: {', '.join(sorted(valid)) or '(none)'}")
    if not (isinstance(num_classes, int) and num_classes >= 1):
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    shape = tuple(input_shape)
    if len(shape) != 3 or not all(isinstance(d, int) and d > 0 for d in shape):
        raise ValueError(f"input_shape must be (height, width, channels) of positive ints, got {input_shape!r}")
    ctx = bn_defaults(momentum=bn_momentum) if bn_momentum is not None else contextlib.nullcontext()
    with ctx:
        return builder(input_shape=shape, num_classes=num_classes, **opts)

