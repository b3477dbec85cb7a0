"""A run's workdir and its per-epoch history: ``config.json``, ``history.csv`` (the CSV log the
callbacks write) and the rows of :attr:`~cnnkit.train.loop.RunResult.history`.

The CSV survives a kill: :func:`prepare_workdir` keeps the rows the epoch backup covers (a resumed
run trains the rest again) and :func:`read_csv` drops torn or repeated rows.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from pathlib import Path

from cnnkit._json import json_default
from cnnkit._atomic import atomic_write_text

__all__ = ["HISTORY_KEYS", "from_keras", "prepare_workdir", "read_csv"]

HISTORY_KEYS = ("epoch", "step", "loss", "accuracy", "error", "val_loss", "val_accuracy", "val_error",
                "lr", "images_per_sec", "epoch_time")


def prepare_workdir(workdir, cfg) -> Path | None:
    """Create the workdir; keep history rows the backup covers, or start afresh without a backup."""
    if workdir is None:
        return None
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    meta, csv_path, cfg_path = work / "backup" / "training_metadata.json", work / "history.csv", work / "config.json"
    if meta.exists():
        saved = json.loads(cfg_path.read_text()) if cfg_path.exists() else None
        if saved != cfg.to_dict():
            raise ValueError(f"{work} holds a backup of a different run config; resume with the same config "
                             f"or use a fresh workdir (or delete {work / 'backup'})")
        epoch = json.loads(meta.read_text())["epoch"]
        _truncate_csv(csv_path, keep_before=epoch)
    else:
        for stale in (csv_path, work / "result.json"):
            stale.unlink(missing_ok=True)
        shutil.rmtree(work / "backup", ignore_errors=True)
    atomic_write_text(cfg_path, json.dumps(cfg.to_dict(), indent=1, default=json_default))  # all writes here survive a kill
    return work


def _truncate_csv(path: Path, *, keep_before: int) -> None:
    """Drop CSV rows of epochs (0-based) >= ``keep_before`` (they will be trained again) and torn rows."""
    if not path.exists():
        return
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return
    whole = [r for r in rows[1:] if len(r) == len(rows[0]) and r[0].isdigit()]
    kept = [rows[0]] + [r for r in whole if int(r[0]) < keep_before]
    out = io.StringIO()
    csv.writer(out).writerows(kept)
    atomic_write_text(path, out.getvalue())


def read_csv(path: Path) -> list[dict]:
    """The history rows of a CSV log (one per epoch, 1-based; a torn or repeated row is dropped)."""
    with path.open(newline="") as f:
        rows = [dict(r) for r in csv.DictReader(f)]
    rows = [r for r in rows if None not in r.values() and str(r.get("epoch")).isdigit()]  # no torn rows
    by_epoch = {int(r["epoch"]): r for r in rows}  # a row written twice (kill between CSV and backup): keep the last
    return [_row(epoch + 1, {k: _number(v) for k, v in r.items() if k != "epoch"})
            for epoch, r in sorted(by_epoch.items())]


def from_keras(history: dict[str, list]) -> list[dict]:
    """The history rows of ``keras.callbacks.History.history`` (a run without a workdir)."""
    n = len(history.get("loss", []))
    return [_row(i + 1, {k: float(v[i]) for k, v in history.items() if i < len(v)}) for i in range(n)]


def _row(epoch: int, values: dict) -> dict:
    row = {"epoch": epoch}
    row.update({k: values.get(k, math.nan) for k in HISTORY_KEYS[1:]})
    row.update({k: v for k, v in values.items() if k not in row})
    if math.isfinite(row["step"]):
        row["step"] = int(row["step"])
    return row


def _number(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan
