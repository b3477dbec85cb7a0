"""On-disk store of an ablation: one JSON file per run, written atomically.

Layout under ``root/<experiment>/``::

    experiment.json             name, base config, variants, seeds, schema and cnnkit versions
    runs/<run_id>.json          one record per run: config, status, history, final metrics, ...
    work/<run_id>/              checkpoints and CSV logs of an unfinished run (the train workdir)
    claims/<run_id>.<n>.claim   which runner is training the run (see :mod:`cnnkit.ablation.lease`)

Every write goes to a temporary file in the same folder, is flushed and fsync'ed, and
then renamed over the target with :func:`os.replace`, so a crash leaves either the old
file or the new one, never half of one (:mod:`cnnkit._atomic`). A record that cannot be
parsed or lacks its fields (a truncated file from another tool, a disk error) is reported
with its path as a warning and treated as missing, so the run is simply done again. A
write that fails (disk full, read-only folder) raises :class:`StoreWriteError` naming the
file. :meth:`Store.clean` removes what killed runners leave behind.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

from cnnkit._atomic import HOST, atomic_write_bytes, is_orphan_tmp
from cnnkit._json import json_default
from cnnkit._status import FINISHED, RECORD_STATUSES, RUNNING
from cnnkit.ablation import lease as _lease

__all__ = ["SCHEMA_VERSION", "SchemaError", "Store", "StoreWriteError", "atomic_write_bytes",
           "atomic_write_json", "json_default"]

# Version of the layout and the record fields; bump it when a field changes meaning.
SCHEMA_VERSION = 1
_NO_SPACE = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EEXIST)


class SchemaError(ValueError):
    """A stored file was written with a schema version this cnnkit cannot read."""


class StoreWriteError(OSError):
    """A file of the run store could not be written (disk full, no permission, read-only).

    The message names the file and what to do; ``errno`` is the operating system's error.
    """

    @classmethod
    def about(cls, err: OSError, path: str | os.PathLike, doing: str = "write") -> "StoreWriteError":
        """Wrap ``err`` raised while doing ``doing`` to ``path`` into a clear error."""
        if err.errno in _NO_SPACE:
            hint = ("the disk (or quota) is full: free space or pass another root=; finished runs are kept and "
                    "unfinished ones resume on the next call")
        elif err.errno in _NOT_WRITABLE:
            hint = "the folder is not writable: fix its permissions or pass another root="
        else:
            hint = "check the disk and the folder, then run the experiment again (finished runs are kept)"
        reason = err.strerror or str(err)
        return cls(err.errno, f"cannot {doing} the run store file {path}: {reason}; {hint}")


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Serialise ``obj`` (numpy scalars allowed; NaN kept as ``NaN``) and write it atomically."""
    text = json.dumps(obj, indent=1, default=json_default, allow_nan=True)
    return atomic_write_bytes(path, (text + "\n").encode("utf-8"))


def _schema_advice(found: Any, example: Path, count: int, written_by: str | None) -> str:
    import cnnkit

    folder = example.parent if example.name == "experiment.json" else example.parent.parent
    older = "an older" if found is None or (isinstance(found, int) and found < SCHEMA_VERSION) else "another"
    install = f"pip install cnnkit=={written_by}" if written_by else "the cnnkit version that wrote them"
    more = f" and {count - 1} more files were" if count > 1 else " was"
    return (f"{example}{more} written by {older} cnnkit (store schema version {found!r}); this cnnkit "
            f"{cnnkit.__version__} reads version {SCHEMA_VERSION}. Either read or continue them with {install}, "
            f"or start afresh: pass another root= (or move {folder} away) and run the experiment again.")


def _check_schema(data: dict, path: Path) -> None:
    found = data.get("schema_version")
    if found != SCHEMA_VERSION:
        raise SchemaError(_schema_advice(found, path, 1, data.get("cnnkit_version")))


def _record_problem(data: dict, path: Path) -> str | None:
    """Why a parsed record cannot be used, or None."""
    if data.get("run_id") != path.stem:
        return f"its run_id {data.get('run_id')!r} does not match the file name"
    if data.get("status") not in RECORD_STATUSES:
        return f"status {data.get('status')!r} is not one of {RECORD_STATUSES}"
    if not isinstance(data.get("history", []), list) or not isinstance(data.get("final", {}), dict):
        return "its history is not a list or its final metrics not a dict"
    return None


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
        self.claims_dir = self.path / "claims"

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
        """Write ``experiment.json`` (``schema_version`` is added).

        Raises:
            StoreWriteError: the file could not be written.
        """
        return self._write(self.experiment_file, {**meta, "schema_version": SCHEMA_VERSION})

    # -- checks before training ----------------------------------------------------------
    def check_writable(self) -> None:
        """Create the store's folders and write and delete a probe file of this process.

        The probe is named after the process (pid and host): runners that start together on one
        store each write and delete their own (a shared name let one runner delete another's probe
        before that one did, and the second runner failed with "No such file").

        Raises:
            StoreWriteError: the folder cannot be created or written (names it and says why).
        """
        probe = self.path / f".write-probe.{os.getpid()}@{HOST}"
        try:
            for folder in (self.runs_dir, self.work_root, self.claims_dir):
                folder.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(probe, b"cnnkit write probe\n")
            probe.unlink()
        except OSError as err:
            raise StoreWriteError.about(err, probe, "create") from err

    def check_schema(self) -> None:
        """Raise one :class:`SchemaError` if any stored file has another schema version.

        The message counts the files, names one and says what to do (use the cnnkit version
        that wrote them, or start in another root).
        """
        meta = self.read_experiment_raw()
        old = []
        for run_id in self.run_ids():
            path = self.run_file(run_id)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # corrupt records are reported when they are read
                data = self._load(path)
            if data is not None and data.get("schema_version") != SCHEMA_VERSION:
                old.append((path, data))
        if meta is not None and meta.get("schema_version") != SCHEMA_VERSION:
            old.insert(0, (self.experiment_file, meta))
        if old:
            path, data = old[0]
            written_by = (meta or {}).get("cnnkit_version") or data.get("cnnkit_version")
            raise SchemaError(_schema_advice(data.get("schema_version"), path, len(old), written_by))

    def read_experiment_raw(self) -> dict | None:
        """``experiment.json`` as stored, without the schema check (None if missing or corrupt)."""
        return self._load(self.experiment_file) if self.exists() else None

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
        problem = _record_problem(data, path)
        if problem:
            warnings.warn(f"corrupt run store file {path} ({problem}); it is treated as missing and the "
                          "run will be done again", RuntimeWarning, stacklevel=2)
            return None
        return data

    def read_runs(self) -> list[dict]:
        """Every readable record (corrupt ones are reported and left out)."""
        records = (self.read_run(run_id) for run_id in self.run_ids())
        return [r for r in records if r is not None]

    def write_run(self, record: dict) -> Path:
        """Write the record of ``record["run_id"]`` (``schema_version`` is added).

        Raises:
            StoreWriteError: the file could not be written (disk full, ...); the old record stays.
        """
        return self._write(self.run_file(record["run_id"]), {**record, "schema_version": SCHEMA_VERSION})

    def remove_work_dir(self, run_id: str) -> None:
        """Delete the working folder of a finished run, if any."""
        shutil.rmtree(self.work_dir(run_id), ignore_errors=True)

    # -- leftovers of killed runners -----------------------------------------------------
    def clean(self, *, max_age: float = _lease.DEFAULT_TIMEOUT, keep_workdir: bool = False) -> list[Path]:
        """Remove what killed or crashed runners left behind; return the removed paths.

        * temporary files (``.*.tmp``) of writers that are gone: a dead process of this host, or
          older than ``max_age`` seconds when written on another host;
        * stale claim files (see :mod:`cnnkit.ablation.lease`);
        * work folders of finished (``done``/``diverged``) runs that no live runner claims,
          unless ``keep_workdir``.

        Live runners' files are left alone, so this is safe while other runners work.
        """
        removed: list[Path] = []
        if not self.path.is_dir():
            return removed
        for folder, _, files in os.walk(self.path):
            for name in files:
                path = Path(folder) / name
                if is_orphan_tmp(path, max_age=max_age):
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                        removed.append(path)
        for run_id in self._claimed_run_ids():
            for holder in _lease.holders(self.claims_dir, run_id):
                if holder.stale(max_age):
                    with contextlib.suppress(FileNotFoundError):
                        holder.path.unlink()
                        removed.append(holder.path)
        if not keep_workdir and self.work_root.is_dir():
            for work in sorted(p for p in self.work_root.iterdir() if p.is_dir()):
                if self._finished_and_free(work.name, max_age):
                    shutil.rmtree(work, ignore_errors=True)
                    removed.append(work)
        return removed

    def _claimed_run_ids(self) -> set[str]:
        if not self.claims_dir.is_dir():
            return set()
        return {name.rsplit(".", 2)[0] for name in os.listdir(self.claims_dir) if name.endswith(".claim")}

    def _finished_and_free(self, run_id: str, max_age: float) -> bool:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            record = self._load(self.run_file(run_id)) if self.run_file(run_id).is_file() else None
        if (record or {}).get("status") not in FINISHED:
            return False
        return all(h.stale(max_age) for h in _lease.holders(self.claims_dir, run_id))

    # -- file access ---------------------------------------------------------------------
    @staticmethod
    def _write(path: Path, obj: Any) -> Path:
        try:
            return atomic_write_json(path, obj)
        except OSError as err:
            raise StoreWriteError.about(err, path) from err

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
