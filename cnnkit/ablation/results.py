"""Tidy pandas views of a stored experiment.

:meth:`Results.runs` has one row per run; :meth:`Results.history` one row per
run × epoch × metric. In the history frame every numeric entry of an epoch's log row is a
metric: ``val_``/``test_`` prefixed keys get split ``"val"``/``"test"``, all others split
``"train"``, so ``lr``, ``images_per_sec`` and ``epoch_time`` are ``"train"`` metrics too and
can be plotted with the same functions as ``loss``, ``accuracy`` and ``error``.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

import pandas as pd

from cnnkit._status import FAILED
from cnnkit.ablation.store import Store

__all__ = ["FAILED_COLUMNS", "HISTORY_COLUMNS", "RUN_COLUMNS", "Results", "split_metric"]

RUN_COLUMNS = ["experiment", "run_id", "variant", "seed", "status", "error", "wall_time", "precision"]
HISTORY_COLUMNS = ["experiment", "run_id", "variant", "seed", "epoch", "step", "split", "metric", "value"]
FAILED_COLUMNS = ["variant", "seed", "run_id", "error"]
_SPLITS = (("val_", "val"), ("test_", "test"))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (int, float, str, bool))


def split_metric(key: str) -> tuple[str, str]:
    """Split a history key: ``"val_loss"`` → ``("val", "loss")``, ``"lr"`` → ``("train", "lr")``."""
    for prefix, split in _SPLITS:
        if key.startswith(prefix):
            return split, key[len(prefix):]
    return "train", key


def _flatten(mapping: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in mapping.items():
        if isinstance(value, dict) and value:
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _lookup(config: dict, dotted: str) -> tuple[bool, Any]:
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _model_default(config: dict, key: str) -> Any:
    """The builder's default for a ``model_options.<name>`` key the config leaves out (else None)."""
    prefix = "model_options."
    if not key.startswith(prefix) or "model" not in config:
        return None
    try:
        from cnnkit.models import options
        default = options(config["model"]).get(key[len(prefix):])
    except (ImportError, ValueError):
        return None
    return None if default is inspect.Parameter.empty else default


class Results:
    """Read-only view of ``root/<experiment_name>/`` written by :func:`run_experiment`.

    Args:
        root: the store's root folder.
        experiment_name: the experiment's name.

    Raises:
        FileNotFoundError: nothing is stored under that name (the message lists what is).
    """

    def __init__(self, root: str | os.PathLike, experiment_name: str):
        self.store = Store(root, experiment_name)
        if not self.store.exists() and not self.store.run_ids():
            found = sorted(p.parent.name for p in self.store.root.glob("*/experiment.json"))
            raise FileNotFoundError(f"no experiment {experiment_name!r} under {self.store.root}; "
                                    f"stored experiments: {found or 'none'}")
        self.name = experiment_name
        self.meta = self.store.read_experiment() or {}

    def __repr__(self) -> str:
        return f"Results({str(self.store.root)!r}, {self.name!r}: {len(self.store.run_ids())} run records)"

    def records(self) -> list[dict]:
        """Every readable run record, in experiment order (variant, then seed)."""
        order = {v: i for i, v in enumerate(self.meta.get("variants", {}))}
        return sorted(self.store.read_runs(),
                      key=lambda r: (order.get(r.get("variant"), len(order)), str(r.get("variant")), r.get("seed", 0)))

    def varied_keys(self) -> list[str]:
        """Config keys that some variant overrides (dotted; whole-dict overrides are expanded)."""
        keys: dict[str, None] = {}
        for overrides in self.meta.get("variants", {}).values():
            keys.update(dict.fromkeys(_flatten(overrides)))
        return list(keys)

    def runs(self) -> pd.DataFrame:
        """One row per run: experiment, run_id, variant, seed, status, error, wall_time, precision (what
        ``fit`` computed in, e.g. ``"mixed_bfloat16 (auto: ...)"``; None for a ``train_fn`` that does not say),
        every scalar ``final`` metric (``test_error``, ``params``, ...) and the varied config keys
        (a ``model_options.*`` key the run left at its default shows the builder's default)."""
        variants = {v: _flatten(o) for v, o in self.meta.get("variants", {}).items()}
        varied = self.varied_keys()
        rows = []
        for rec in self.records():
            row = {c: rec.get(c) for c in RUN_COLUMNS}
            for key, value in (rec.get("final") or {}).items():
                if _is_scalar(value):
                    row[f"final.{key}" if key in RUN_COLUMNS else key] = value
            config = rec.get("config") or {}
            for key in varied:
                found, value = _lookup(config, key)
                if not found:
                    value = variants.get(rec.get("variant"), {}).get(key, _model_default(config, key))
                row[f"config.{key}" if key in row else key] = value
            rows.append(row)
        return pd.DataFrame(rows, columns=None if rows else RUN_COLUMNS + varied)

    def failed_runs(self) -> pd.DataFrame:
        """One row per ``failed`` run (diverged runs are results, not failures), columns
        :data:`FAILED_COLUMNS`: variant, seed, run_id and the first line of its error. The whole
        error and its traceback are in the run's record, ``self.store.run_file(run_id)``; an
        empty frame means no run failed."""
        rows = []
        for rec in self.records():
            if rec.get("status") == FAILED:
                lines = [line for line in str(rec.get("error") or "").splitlines() if line.strip()]
                rows.append((rec.get("variant"), rec.get("seed"), rec.get("run_id"), lines[0] if lines else ""))
        return pd.DataFrame(rows, columns=FAILED_COLUMNS)

    def history(self) -> pd.DataFrame:
        """Tidy learning curves: one row per run × epoch × (split, metric), columns
        :data:`HISTORY_COLUMNS`. Non-numeric and missing entries are left out; NaN is kept."""
        rows = []
        for rec in self.records():
            head = (self.name, rec["run_id"], rec.get("variant"), rec.get("seed"))
            for entry in rec.get("history") or []:
                epoch, step = entry.get("epoch"), entry.get("step")
                for key, value in entry.items():
                    if key in ("epoch", "step") or not _is_number(value):
                        continue
                    rows.append((*head, epoch, step, *split_metric(key), float(value)))
        frame = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
        return frame.astype({"value": float})

    def config(self, run_id: str) -> dict:
        """The resolved config stored with ``run_id``.

        Raises:
            ValueError: no readable record has that id (the message lists the ids).
        """
        record = self.store.read_run(run_id)
        if record is None:
            raise ValueError(f"no readable run {run_id!r} in {self.store.path}; runs: {self.store.run_ids()}")
        return record.get("config", {})
