"""On-disk store of an ablation: one JSON file per run, written atomically.

Layout under ``root/<experiment>/``::

    experiment.json        name, base config, variants, seeds, schema and cnnkit versions
    runs/<run_id>.json     one record per run: config, status, history, final metrics, ...
    work/<run_id>/         checkpoints and CSV logs of an unfinished run (the train workdir)

Every write goes to a temporary file in the same folder, is flushed and fsync'ed, and
then renamed over the target with :func:`os.replace`, so a crash leaves either the old
file or the new one, never half of one. A record that cannot be parsed (a truncated
file from another tool, a disk error) is reported with its path as a warning and
treated as missing, so the run is simply done again.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

__all__ = ["SCHEMA_VERSION", "SchemaError", "Store", "atomic_write_bytes", "atomic_write_json", "json_default"]

# Version of the layout and the record fields; bump it when a field changes meaning.
SCHEMA_VERSION = 1


class SchemaError(ValueError):
    """A stored file was written with a schema version this cnnkit cannot read."""


def json_default(obj: Any) -> Any:
    """``json.dumps`` fallback for numpy scalars/arrays, paths and sets."""
    # numpy scalars and arrays, paths, tuples inside dataclasses: make them plain JSON.
    if hasattr(obj, "item") and getattr(obj, "ndim", 0) == 0:
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, (Path, set, frozenset)):
        return str(obj) if isinstance(obj, Path) else sorted(obj)
    raise TypeError(f"cannot store a value of type {type(obj).__name__} in JSON: {obj!r}")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Serialise ``obj`` (numpy scalars allowed; NaN kept as ``NaN``) and write it atomically."""
    text = json.dumps(obj, indent=1, default=json_default, allow_nan=True)
    return atomic_write_bytes(path, (text + "\n").encode("utf-8"))


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; not possible (nor needed) on Windows.
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _check_schema(data: dict, path: Path) -> None:
    found = data.get("schema_version")
    if found != SCHEMA_VERSION:
        raise SchemaError(
            f"{path} was written with schema version {found!r}, but this cnnkit reads version "
            f"{SCHEMA_VERSION}. Use a cnnkit version that matches it, or run the experiment "
            "into a new root (or delete that folder) to produce fresh records.")


class Store:
    """Files of one experiment under ``root/<experiment_name>/``.

    Args:
        root: folder that holds experiments (created on the first write).
        experiment_name: the experiment's folder name.
    """

    def __init__(self, root: str | os.PathLike, experiment_name: str):
        self.root = Path(root)
        self.name = experiment_name
        self.path = self.root / experiment_name
        self.runs_dir = self.path / "runs"
        self.work_root = self.path / "work"

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r}, {self.name!r})"

    # -- experiment metadata -------------------------------------------------------------
    @property
    def experiment_file(self) -> Path:
        return self.path / "experiment.json"

    def exists(self) -> bool:
        """True when this experiment has an ``experiment.json``."""
        return self.experiment_file.is_file()

    def read_experiment(self) -> dict | None:
        """The experiment metadata, or ``None`` if it was never written.

        Raises:
            SchemaError: the file has another schema version.
            ValueError: the file is not valid JSON (it cannot be re-derived, so this is fatal).
        """
        if not self.exists():
            return None
        data = self._load(self.experiment_file)
        if data is None:
            raise ValueError(f"{self.experiment_file} is corrupt (not valid JSON); write it again by "
                             f"running the experiment, or delete the folder {self.path}")
        _check_schema(data, self.experiment_file)
        return data

    def write_experiment(self, meta: dict) -> Path:
        """Write ``experiment.json`` (``schema_version`` is added)."""
        return atomic_write_json(self.experiment_file, {**meta, "schema_version": SCHEMA_VERSION})

    # -- run records ---------------------------------------------------------------------
    def run_file(self, run_id: str) -> Path:
        return self.runs_dir / f"{run_id}.json"

    def work_dir(self, run_id: str) -> Path:
        """Working folder handed to the train function (not created here)."""
        return self.work_root / run_id

    def run_ids(self) -> list[str]:
        """Ids of every stored record, sorted."""
        if not self.runs_dir.is_dir():
            return []
        return sorted(p.stem for p in self.runs_dir.glob("*.json") if not p.name.startswith("."))

    def read_run(self, run_id: str) -> dict | None:
        """The record of ``run_id``; ``None`` if missing or corrupt (corrupt → warning with path).

        Raises:
            SchemaError: the record was written with another schema version.
        """
        path = self.run_file(run_id)
        if not path.is_file():
            return None
        data = self._load(path)
        if data is None:
            return None
        _check_schema(data, path)
        return data

    def read_runs(self) -> list[dict]:
        """Every readable record (corrupt ones are reported and left out)."""
        records = (self.read_run(run_id) for run_id in self.run_ids())
        return [r for r in records if r is not None]

    def write_run(self, record: dict) -> Path:
        """Write the record of ``record["run_id"]`` (``schema_version`` is added)."""
        return atomic_write_json(self.run_file(record["run_id"]), {**record, "schema_version": SCHEMA_VERSION})

    def remove_work_dir(self, run_id: str) -> None:
        """Delete the working folder of a finished run, if any."""
        shutil.rmtree(self.work_dir(run_id), ignore_errors=True)

    @staticmethod
    def _load(path: Path) -> dict | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            warnings.warn(f"corrupt run store file {path} ({err}); it is treated as missing "
                          "and the run will be done again", RuntimeWarning, stacklevel=3)
            return None
        if not isinstance(data, dict):
            warnings.warn(f"corrupt run store file {path} (a JSON {type(data).__name__}, "
                          "expected an object); it is treated as missing", RuntimeWarning, stacklevel=3)
            return None
        return data

