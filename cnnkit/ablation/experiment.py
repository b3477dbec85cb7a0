"""Ablation experiments: a base config, named variants (or a grid) and seeds.

An :class:`Experiment` expands into one :class:`RunSpec` per (variant, seed), each with a
deterministic run id, and checks every resulting config through
:class:`cnnkit.train.config.RunConfig` before anything trains, so a typo in an override fails
at once. :func:`cnnkit.ablation.run_experiment` (in :mod:`cnnkit.ablation.runner`) trains what
is missing into a :class:`~cnnkit.ablation.store.Store`, skipping finished runs and resuming
interrupted ones, and returns :class:`~cnnkit.ablation.results.Results`.

Example::

    exp = Experiment("degradation", base={"model": "resnet_cifar", "epochs": 30},
                     grid={"model_options.depth": [20, 56], "model_options.plain": [True, False]},
                     seeds=(0, 1, 2))
    results = run_experiment(exp, root="runs")
    summarize(results.runs(), "test_error")
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import itertools
import re
from typing import Any, Iterable, Mapping

__all__ = ["Experiment", "RunSpec", "apply_overrides", "slug"]

_SLUG_BAD = re.compile(r"[^A-Za-z0-9._,=+-]+")
_MAX_SLUG = 120  # keeps "<slug>__s<seed>.json" well inside every file system's name limit
SEED_KEY = "seed"  # RunConfig field that receives each run's seed


def slug(text: str) -> str:
    """A file-name-safe form of ``text``: letters, digits and ``. _ , = + -`` are kept.

    Other characters become ``-``; names longer than 120 characters are cut and get a short
    hash so that they stay unique. Example: ``slug("depth=20, plain=True") == "depth=20,-plain=True"``.
    """
    out = _SLUG_BAD.sub("-", str(text)).strip("-") or "-"
    if len(out) > _MAX_SLUG:
        digest = hashlib.sha1(str(text).encode("utf-8")).hexdigest()[:8]
        out = f"{out[:_MAX_SLUG - 9]}-{digest}"
    return out


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One run of an experiment: a variant of the base config trained with one seed.

    Attributes:
        run_id: ``f"{slug(variant)}__s{seed}"``, the run's file name in the store.
        variant: the variant's name.
        seed: the random seed (also written into ``config["seed"]``).
        config: the full config dict (base + overrides + seed), checked by ``RunConfig``.
    """

    run_id: str
    variant: str
    seed: int
    config: dict


def run_config_class():
    """:class:`cnnkit.train.config.RunConfig`, imported on first use (the store and results work without the
    training side, which imports Keras)."""
    from cnnkit.train.config import RunConfig

    return RunConfig


def apply_overrides(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict:
    """Return a deep copy of ``base`` with ``overrides`` applied.

    A plain key replaces the value (``{"model_options": {...}}`` replaces the whole dict);
    a dotted key sets one entry inside a dict-valued field (``{"model_options.depth": 56}``),
    creating the dict when the base has ``None`` there.

    Raises:
        ValueError: a dotted key goes through a value that is not a dict.
    """
    out = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        *parents, leaf = str(key).split(".")
        node = out
        for i, part in enumerate(parents):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                where = ".".join(parents[:i + 1])
                raise ValueError(f"override {key!r}: {where!r} holds {child!r}, not a dict, so it has no "
                                 f"entry {parents[i + 1] if i + 1 < len(parents) else leaf!r}; "
                                 f"override {where!r} itself instead")
            node = child
        node[leaf] = copy.deepcopy(value)
    return out


def _format_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "x".join(_format_value(v) for v in value)
    return str(value)


def _grid_variants(grid: Mapping[str, Iterable[Any]]) -> dict[str, dict]:
    keys = list(grid)
    values = []
    for key in keys:
        options = grid[key]
        if isinstance(options, (str, bytes)) or not isinstance(options, Iterable):
            raise ValueError(f"grid[{key!r}] must be a list of values, got {options!r}; "
                             f"write grid={{{key!r}: [{options!r}]}} for a single value")
        options = list(options)
        if not options:
            raise ValueError(f"grid[{key!r}] is empty; give at least one value or drop the key")
        values.append(options)
    short = [k.rsplit(".", 1)[-1] for k in keys]
    labels = short if len(set(short)) == len(short) else keys
    return {",".join(f"{label}={_format_value(v)}" for label, v in zip(labels, combo)): dict(zip(keys, combo))
            for combo in itertools.product(*values)}


class Experiment:
    """A base config, variants of it and seeds; every (variant, seed) pair is one run.

    Args:
        name: experiment name, used as its folder in the store (letters, digits, ``._,=+-``).
        base: the base config, a dict or a ``RunConfig``.
        variants: named override dicts, e.g. ``{"plain-20": {"model_options.plain": True}}``.
        grid: ``{key: [values]}``; its cartesian product becomes variants named like
            ``"depth=20,plain=True"`` (the last part of a dotted key is the label). When
            ``variants`` is also given, each named variant is crossed with each grid point
            (``"name,depth=20"``). With neither, the single variant is ``"base"``.
        seeds: the seeds every variant is trained with. Default ``(0, 1, 2)``.

    Raises:
        ValueError: bad name, empty/duplicate seeds, or overrides that are not dicts.
    """

    def __init__(self, name: str, base: Mapping[str, Any] | Any, variants: Mapping[str, Mapping] | None = None,
                 grid: Mapping[str, Iterable[Any]] | None = None, seeds: Iterable[int] = (0, 1, 2)):
        if not name or slug(name) != name:
            raise ValueError(f"experiment name {name!r} is not usable as a folder name; "
                             f"use letters, digits and '._,=+-', e.g. {slug(name)!r}")
        self.name = name
        self.base = dict(base.to_dict() if hasattr(base, "to_dict") else base)
        self.seeds = self._check_seeds(seeds)
        self.variants = self._expand(variants, grid)
        self.grid = {k: list(v) for k, v in (grid or {}).items()}

    @staticmethod
    def _check_seeds(seeds: Iterable[int]) -> tuple[int, ...]:
        seeds = tuple(seeds)
        if not seeds or any(isinstance(s, bool) or not isinstance(s, int) for s in seeds):
            raise ValueError(f"seeds must be a non-empty sequence of ints, got {seeds!r}")
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds {seeds!r} repeat a value; each seed must appear once")
        return seeds

    @staticmethod
    def _expand(variants: Mapping[str, Mapping] | None, grid: Mapping | None) -> dict[str, dict]:
        named = {str(k): v for k, v in (variants or {}).items()}
        for key, overrides in named.items():
            if not isinstance(overrides, Mapping):
                raise ValueError(f"variant {key!r} must map config keys to values, got {overrides!r}")
        points = _grid_variants(grid) if grid else {}
        if named and points:
            return {f"{n},{g}": {**dict(o), **p} for n, o in named.items() for g, p in points.items()}
        return {k: dict(v) for k, v in (named or points or {"base": {}}).items()}

    def __repr__(self) -> str:
        return (f"Experiment({self.name!r}, {len(self.variants)} variants x {len(self.seeds)} seeds "
                f"= {len(self.variants) * len(self.seeds)} runs)")

    def config(self, variant: str, seed: int) -> dict:
        """The full config dict of ``variant`` trained with ``seed`` (not validated)."""
        if variant not in self.variants:
            raise ValueError(f"unknown variant {variant!r}; this experiment has {list(self.variants)}")
        return apply_overrides(self.base, {**self.variants[variant], SEED_KEY: seed})

    def runs(self) -> list[RunSpec]:
        """Every run, variant-major then seed, after checking all configs through ``RunConfig``.

        Raises:
            ValueError: an override names an unknown config key or gives a bad value, or two
                variant names map to the same run id.
        """
        specs = [RunSpec(f"{slug(v)}__s{s}", v, s, self.config(v, s)) for v in self.variants for s in self.seeds]
        ids = [s.run_id for s in specs]
        if len(set(ids)) != len(ids):
            clash = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"variant names collide after making them file-safe: {clash}; rename the variants")
        self._validate(specs)
        return specs

    def _validate(self, specs: list[RunSpec]) -> None:
        config_cls = run_config_class()
        fields = {f.name for f in dataclasses.fields(config_cls)} if dataclasses.is_dataclass(config_cls) else None
        for variant, overrides in self.variants.items():
            for key in overrides:
                head = str(key).split(".", 1)[0]
                if fields is not None and head not in fields:
                    close = difflib.get_close_matches(head, sorted(fields), n=3)
                    hint = f" Did you mean {close}?" if close else ""
                    raise ValueError(f"variant {variant!r} overrides unknown config key {key!r}.{hint} "
                                     f"RunConfig fields: {', '.join(sorted(fields))}")
        for spec in specs:
            try:
                config_cls.from_dict(spec.config)
            except (TypeError, ValueError, KeyError) as err:
                raise ValueError(f"run {spec.run_id!r} (variant {spec.variant!r}) has an invalid config: "
                                 f"{err}") from err

    def to_dict(self) -> dict:
        """JSON-ready description (stored as ``experiment.json``)."""
        return {"name": self.name, "base": self.base, "variants": self.variants, "grid": self.grid,
                "seeds": list(self.seeds)}
