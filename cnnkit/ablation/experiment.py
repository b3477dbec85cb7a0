"""Ablation experiments: a base config, named variants (or a grid) and seeds.

An :class:`Experiment` expands into one :class:`RunSpec` per (variant, seed), each with a
deterministic run id, and checks every resulting config through
:class:`cnnkit.config.RunConfig` before anything trains, so a typo in an override fails
at once. :func:`run_experiment` trains what is missing into a :class:`~cnnkit.ablation.store.Store`,
skipping finished runs and resuming interrupted ones, and returns
:class:`~cnnkit.ablation.results.Results`.

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
import datetime
import difflib
import hashlib
import itertools
import json
import os
import re
import time
import traceback
from typing import Any, Callable, Iterable, Mapping

from cnnkit.ablation.results import Results
from cnnkit.ablation.store import Store, json_default

__all__ = ["Experiment", "RunSpec", "apply_overrides", "run_experiment", "slug"]

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


def _run_config_cls():
    from cnnkit.config import RunConfig  # resolved lazily: the training side is optional here

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
        config_cls = _run_config_cls()
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


# ---------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------
FINISHED = ("done", "diverged")  # a diverged run is a result; it is not trained again
_RESULT_FIELDS = ("status", "error", "history", "final", "wall_time", "versions", "device")


def run_experiment(experiment: Experiment, *, root: str | os.PathLike = "runs", shard: tuple[int, int] = (0, 1),
                   train_fn: Callable[..., Any] | None = None, progress: bool = True,
                   on_error: str = "continue", retry_failed: bool = False, keep_workdir: bool = False,
                   train_kwargs: Mapping[str, Any] | None = None) -> Results:
    """Train every run of ``experiment`` that the store under ``root`` does not hold yet.

    Runs whose record says ``done`` or ``diverged`` are skipped; ``failed`` ones too unless
    ``retry_failed``. Any other run (new, interrupted, corrupt record) is trained with
    ``train_fn(config, workdir=root/<experiment>/work/<run_id>, **train_kwargs)``; the same
    workdir lets the train function resume an interrupted run. A run that raises is recorded
    as ``failed`` with the error and the grid goes on.

    Args:
        experiment: what to run; all its configs are checked before anything trains.
        root: folder of the store (see :mod:`cnnkit.ablation.store`). Default ``"runs"``.
        shard: ``(i, n)``: this process takes the runs whose index ``% n == i``, so ``n``
            machines can split one grid into the same store. Default ``(0, 1)`` (all runs).
        train_fn: ``f(config: RunConfig, *, workdir, **train_kwargs) -> RunResult`` (a dataclass
            or a dict with ``status``, ``error``, ``history``, ``final``, ...). Default
            ``cnnkit.train.fit``, imported when first needed.
        progress: print one line per run (``[3/12] depth=56 seed 1: done, test error 0.123, 41 s``).
        on_error: ``"continue"`` (default) or ``"raise"`` (record the failure, then raise).
        retry_failed: train runs recorded as ``failed`` again. Default ``False``.
        keep_workdir: keep ``work/<run_id>`` after a run finished. Default ``False`` (deleted).
        train_kwargs: extra keyword arguments for ``train_fn`` (e.g. ``{"verbose": 0}``).

    Returns:
        :class:`~cnnkit.ablation.results.Results` over the whole store of this experiment.

    Raises:
        ValueError: bad ``shard``/``on_error``, invalid configs, or a store that holds this
            experiment name with another base config.
        RuntimeError: a run failed and ``on_error="raise"``.
    """
    index, count = _check_shard(shard)
    if on_error not in ("continue", "raise"):
        raise ValueError(f"on_error={on_error!r}; use 'continue' (record and go on) or 'raise'")
    specs = experiment.runs()
    store = Store(root, experiment.name)
    _write_experiment(store, experiment)
    if train_fn is None:
        from cnnkit.train import fit as train_fn
    mine = [spec for i, spec in enumerate(specs) if i % count == index]
    for k, spec in enumerate(mine, 1):
        prefix = f"[{k}/{len(mine)}] {spec.variant} seed {spec.seed}"
        record = store.read_run(spec.run_id)
        status = (record or {}).get("status")
        if status in FINISHED or (status == "failed" and not retry_failed):
            _say(progress, f"{prefix}: already {status}, skipped")
            continue
        record, err = _train_one(store, experiment.name, spec, train_fn, dict(train_kwargs or {}))
        if not keep_workdir and record["status"] in FINISHED:
            store.remove_work_dir(spec.run_id)
        _say(progress, f"{prefix}: {_describe(record)}")
        if record["status"] == "failed" and on_error == "raise":
            raise RuntimeError(f"run {spec.run_id!r} failed: {record['error']}") from err
    return Results(root, experiment.name)


def _check_shard(shard: tuple[int, int]) -> tuple[int, int]:
    try:
        index, count = (int(v) for v in shard)
    except (TypeError, ValueError):
        raise ValueError(f"shard={shard!r} must be a pair (i, n) of ints") from None
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard={shard!r} needs n >= 1 and 0 <= i < n, e.g. (0, 2) and (1, 2)")
    return index, count


def _plain(obj: Any) -> Any:
    # JSON round trip: numpy scalars become numbers, tuples lists (as they will read back).
    return json.loads(json.dumps(obj, default=json_default))


def _write_experiment(store: Store, experiment: Experiment) -> None:
    import cnnkit

    meta = _plain(experiment.to_dict())
    old = store.read_experiment()
    if old is not None:
        if old.get("base") != meta["base"]:
            raise ValueError(f"{store.experiment_file} holds experiment {experiment.name!r} with another base "
                             "config, so its runs are not comparable; choose a new experiment name or root, "
                             "or delete that folder")
        changed = [v for v, o in meta["variants"].items() if v in old.get("variants", {}) and old["variants"][v] != o]
        if changed:
            raise ValueError(f"variants {changed} of {experiment.name!r} were stored with other overrides in "
                             f"{store.experiment_file}; rename them or use a new experiment name")
        meta["variants"] = {**old.get("variants", {}), **meta["variants"]}
        meta["seeds"] = list(dict.fromkeys([*old.get("seeds", []), *meta["seeds"]]))
    store.write_experiment({**meta, "cnnkit_version": cnnkit.__version__})


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _result_fields(result: Any) -> dict:
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        result = dataclasses.asdict(result)
    if not isinstance(result, Mapping):
        raise TypeError(f"train_fn returned {type(result).__name__}; expected a RunResult dataclass or a dict")
    fields = {k: _plain(result[k]) for k in _RESULT_FIELDS if k in result and result[k] is not None}
    if fields.get("status") not in ("done", "diverged", "failed"):
        raise ValueError(f"train_fn returned status {fields.get('status')!r}; expected 'done', 'diverged' or 'failed'")
    # cnnkit.train.RunResult calls the error "message" ("" when there is none) and adds a traceback.
    fields["error"] = fields.get("error") or result.get("message") or None
    if result.get("traceback"):
        fields["traceback"] = str(result["traceback"])
    if fields["status"] == "failed" and not fields["error"]:
        fields["error"] = "train_fn reported status 'failed' without a message"
    return fields


def _train_one(store: Store, name: str, spec: RunSpec, train_fn: Callable[..., Any],
               train_kwargs: dict) -> tuple[dict, BaseException | None]:
    record = {"run_id": spec.run_id, "experiment": name, "variant": spec.variant, "seed": spec.seed,
              "config": spec.config, "status": "running", "error": None, "history": [], "final": {},
              "wall_time": None, "versions": {}, "device": None, "started": _now(), "finished": None}
    start, err = time.perf_counter(), None
    try:
        config = _run_config_cls().from_dict(spec.config)
        resolved = config.resolved() if hasattr(config, "resolved") else config
        record["config"] = _plain(resolved.to_dict() if hasattr(resolved, "to_dict") else spec.config)
        store.write_run(record)  # an interrupted run shows up as "running" and is resumed
        workdir = store.work_dir(spec.run_id)
        workdir.mkdir(parents=True, exist_ok=True)
        record.update(_result_fields(train_fn(config, workdir=str(workdir), **train_kwargs)))
    except Exception as exc:  # noqa: BLE001 - any failure of one run is recorded; the grid goes on
        err = exc
        record.update(status="failed", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    if record["wall_time"] is None:
        record["wall_time"] = time.perf_counter() - start
    record["finished"] = _now()
    store.write_run(record)
    return record, err


def _describe(record: dict) -> str:
    parts = [record["status"]]
    if record["status"] != "done" and record.get("error"):
        parts[0] += f" ({record['error']})"
    final = record.get("final") or {}
    for key in ("test_error", "val_error", "train_error"):
        if isinstance(final.get(key), (int, float)):
            parts.append(f"{key.replace('_', ' ')} {final[key]:.3f}")
            break
    parts.append(f"{record['wall_time']:.0f} s")
    return ", ".join(parts)


def _say(enabled: bool, line: str) -> None:
    if enabled:
        print(line, flush=True)
