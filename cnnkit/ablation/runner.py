"""Training an experiment's grid into a store, safely under kills, parallel runners and full disks.

:func:`run_experiment` trains every run of an :class:`~cnnkit.ablation.experiment.Experiment`
that the store does not hold yet. It is written to be left alone overnight:

* **Kills and power cuts.** Every file is replaced atomically; an interrupted run is resumed
  from its workdir (``cnnkit.train.fit`` keeps epoch checkpoints and a CSV history there); the
  leftovers of killed processes are removed (:meth:`~cnnkit.ablation.store.Store.clean`).
  An interrupt (Ctrl-C, Jupyter's "Interrupt kernel") ends the workers at once and raises
  :class:`GridInterrupted`, one line saying what is kept.
* **Several runners on one store** (a second terminal, one process per GPU, Ray tasks on several
  machines): each run is claimed before it trains (:mod:`cnnkit.ablation.lease`), so no run is
  trained twice; a runner that dies leaves a stale claim that the others take over.
* **Bad runs.** An exception becomes a ``failed`` record (out-of-memory errors get a hint) and a
  NaN loss a ``diverged`` one; the grid goes on. At the end, failures are reported where the user
  looks ("k of n runs failed", each distinct error once with the runs it hit); when some variant
  has no finished run, :class:`RunsFailedError` stops the caller (a notebook stops at its run cell
  with the cause's own message). The next call trains failed runs again and keeps finished ones.
  A corrupt record is reported with its path and the run trained again.
* **The store itself.** An unwritable folder fails before anything trains, a full disk at the
  failing write, both with :class:`~cnnkit.ablation.store.StoreWriteError` naming the file; a store
  written by another schema version raises one :class:`~cnnkit.ablation.store.SchemaError`
  saying what to do. Nothing is ever silently missing.

Runs are executed by an *executor* (:mod:`cnnkit.ablation.executors`): in this process
(default), in a process pool, or as Ray tasks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
import re
import sys
import time
import traceback
from typing import Any, Callable, Mapping

from cnnkit._checks import check_choice
from cnnkit._json import plain as _plain
from cnnkit._status import DONE, FAILED, FINISHED, RUN_STATUSES, RUNNING
from cnnkit.ablation import lease as _lease
from cnnkit.ablation.executors import get_executor
from cnnkit.ablation.experiment import Experiment, RunSpec, run_config_class
from cnnkit.ablation.progress import GridProgress
from cnnkit.ablation.results import Results
from cnnkit.ablation.store import StoreWriteError, Store

__all__ = ["FINISHED", "REQUIRE", "GridInterrupted", "Job", "Outcome", "RunsFailedError", "is_out_of_memory",
           "run_experiment", "run_one"]

REQUIRE = ("all-variants", "all-runs", "nothing")  # run_experiment(require=...): which failures raise
_SHOWN_ERRORS = 5      # distinct errors spelled out in a failure report
_SHOWN_LINES = 12      # lines of each


class GridInterrupted(KeyboardInterrupt):
    """An interrupt (Ctrl-C, Jupyter's "Interrupt kernel") stopped :func:`run_experiment`: its workers were
    ended, finished runs are kept, an interrupted run resumes from its last checkpoint on the next call.

    Shown in a notebook as one line, not a traceback (IPython calls ``_render_traceback_``).

    Attributes:
        finished: runs of the call that are finished (done or diverged) in the store.
        total: runs of the call.
        store: the experiment's folder.
    """

    def __init__(self, message: str, finished: int = 0, total: int = 0, store: str = ""):
        super().__init__(message)
        self.finished, self.total, self.store = finished, total, store

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}; run the cell again to resume (an interrupted run continues from its "
                "last checkpoint)"]


class RunsFailedError(RuntimeError):
    """Runs of an experiment failed, more than ``run_experiment(require=...)`` allows.

    The message leads with the failures' own errors (each distinct one once, with the runs it
    hit) and says where the records are.

    Attributes:
        failed: ``[(variant, seed, run_id, error)]`` of the failed runs.
        variants: the variants none of whose runs finished.
        records: the folder of the run records (with tracebacks).
    """

    def __init__(self, message: str, failed: list[tuple], variants: list[str], records: str):
        super().__init__(message)
        self.failed, self.variants, self.records = failed, variants, records

_RESULT_FIELDS = ("status", "error", "history", "final", "wall_time", "versions", "device", "precision")
_OOM_TYPES = {"ResourceExhaustedError", "OutOfMemoryError", "MemoryError"}
_OOM_TEXT = re.compile(r"RESOURCE_EXHAUSTED|out of memory|OOM when allocating|ResourceExhaustedError|"
                       r"OutOfMemoryError|MemoryError|CUDA_ERROR_OUT_OF_MEMORY", re.IGNORECASE)
_DISK_TEXT = re.compile(r"Errno 28\]|No space left on device|Errno 122\]|Disk quota exceeded|"
                        r"Errno 30\]|Read-only file system")


@dataclasses.dataclass
class Outcome:
    """What happened to one run in one pass.

    Attributes:
        kind: ``"ran"`` (trained now; see ``record``), ``"finished"`` (already done, diverged or
            failed), ``"held"`` (another live runner has it), ``"lost"`` (trained, but its claim was
            taken over meanwhile, so the result was not written) or ``"store_error"``.
        run_id: the run.
        record: the run's record (``"ran"``/``"finished"``).
        note: the holder (``"held"``) or the error text (``"store_error"``).
        exception: the exception of a failed run or the store error (not sent back by remote executors,
            except store errors).
    """

    kind: str
    run_id: str
    record: dict | None = None
    note: str = ""
    exception: BaseException | None = None


@dataclasses.dataclass
class Job:
    """Everything needed to train one run of an experiment; picklable for process pools and Ray
    (``train_fn`` must then be a module-level function)."""

    root: str
    name: str
    train_fn: Callable[..., Any]
    train_kwargs: dict
    retry_failed: bool = True
    keep_workdir: bool = False
    claim_timeout: float = _lease.DEFAULT_TIMEOUT

    def __call__(self, spec: RunSpec) -> Outcome:
        return run_one(self, spec)


def run_experiment(experiment: Experiment, *, root: str | os.PathLike = "runs", shard: tuple[int, int] = (0, 1),
                   train_fn: Callable[..., Any] | None = None, progress: bool = True,
                   on_error: str = "continue", retry_failed: bool = True, keep_workdir: bool = False,
                   train_kwargs: Mapping[str, Any] | None = None, executor: Any = "local",
                   workers: int | None = None, claim_timeout: float = _lease.DEFAULT_TIMEOUT,
                   wait: bool = True, require: str = "all-variants") -> Results:
    """Train every run of ``experiment`` that the store under ``root`` does not hold yet.

    Runs whose record says ``done`` or ``diverged`` are skipped. Any other run (new, interrupted,
    failed in an earlier call, corrupt record) is claimed and trained with
    ``train_fn(config, workdir=root/<experiment>/work/<run_id>, **train_kwargs)``; the same
    workdir lets the train function resume an interrupted run. A run that raises is recorded
    as ``failed`` with the error (out of memory: with a hint) and the grid goes on.

    When runs failed, a report goes to stderr at the end: "k of n runs failed", each distinct
    error once with the runs it hit, and where the records are
    (:meth:`~cnnkit.ablation.results.Results.failed_runs` gives the same as a frame). Then,
    unless ``require="nothing"``, :class:`RunsFailedError` raises with that report when a
    variant has no finished run (``"all-variants"``, the default: there is nothing to show
    for it) or when any run failed (``"all-runs"``).

    Args:
        experiment: what to run; all its configs are checked before anything trains.
        root: folder of the store (see :mod:`cnnkit.ablation.store`). Default ``"runs"``.
        shard: ``(i, n)``: this process takes the runs whose index ``% n == i``. Claims already
            keep runners from training a run twice; shards split a grid statically. Default ``(0, 1)``.
        train_fn: ``f(config: RunConfig, *, workdir, **train_kwargs) -> RunResult`` (a dataclass
            or a dict with ``status``, ``error``, ``history``, ``final``, ...). Default
            ``cnnkit.train.fit``, imported when first needed.
        progress: print one line per run (``[3/12] depth=56 seed 1: done, test error 0.123, 41 s``) and, in a
            notebook kernel, show a live bar (runs done, the runs training with their epoch, time left;
            :mod:`cnnkit.ablation.progress`: in the cell, or on the terminal under ``cnnkit run``).
        on_error: ``"continue"`` (default) or ``"raise"`` (record the failure, then raise).
        retry_failed: train runs recorded as ``failed`` (by an earlier call) again, so that a
            re-run after fixing the cause completes the grid. Default ``True``; ``False`` keeps them.
        keep_workdir: keep ``work/<run_id>`` after a run finished. Default ``False`` (deleted).
        train_kwargs: extra keyword arguments for ``train_fn`` (e.g. ``{"verbose": 0}``).
        executor: ``"local"`` (default: one run after another in this process), ``"process"``
            (a pool of ``workers`` processes), ``"ray"`` (one Ray task per run, see
            :class:`~cnnkit.ablation.executors.RayExecutor`) or an executor object.
        workers: processes of ``executor="process"`` (default: the number of CPUs).
        claim_timeout: seconds without a heartbeat after which another machine's claim on a
            run is considered dead and taken over. Default 300.
        wait: when other live runners hold some of these runs, wait until they finish them
            (taking them over if they die). Default ``True``.
        require: ``"all-variants"`` (default), ``"all-runs"`` or ``"nothing"``: which failures
            raise :class:`RunsFailedError` after the grid has run (see above).

    Returns:
        :class:`~cnnkit.ablation.results.Results` over the whole store of this experiment.

    Raises:
        ValueError: bad ``shard``/``on_error``/``executor``, invalid configs, or a store that holds
            this experiment name with another base config.
        SchemaError: the store was written by a cnnkit with another store schema.
        StoreWriteError: the store cannot be written (checked before training) or a write failed
            (disk full); the message names the file. Finished runs are kept.
        RuntimeError: a run failed and ``on_error="raise"``.
        RunsFailedError: runs failed beyond ``require`` (all the grid's runs are recorded first).
        GridInterrupted: an interrupt (Ctrl-C, Jupyter's "Interrupt kernel"; a ``KeyboardInterrupt``) stopped
            the grid: the executor's workers have ended, finished runs are kept, the next call resumes.
    """
    index, count = _check_shard(shard)
    if on_error not in ("continue", "raise"):
        raise ValueError(f"on_error={on_error!r}; use 'continue' (record and go on) or 'raise'")
    check_choice("require", require, REQUIRE, lead=f"require={require!r} is not valid",
                 note="(which failed runs raise RunsFailedError)")
    runner = get_executor(executor, workers)
    specs = experiment.runs()
    store = Store(root, experiment.name)
    store.check_writable()
    store.check_schema()
    _write_experiment(store, experiment)
    _report_cleaning(progress, store.clean(max_age=claim_timeout, keep_workdir=keep_workdir))
    if train_fn is None:
        from cnnkit.train import fit as train_fn
    job = Job(str(root), experiment.name, train_fn, dict(train_kwargs or {}), retry_failed, keep_workdir,
              float(claim_timeout))
    mine = [spec for i, spec in enumerate(specs) if i % count == index]
    try:
        with GridProgress(store, mine, enabled=progress) as bar:
            _run_all(job, store, mine, runner, progress=progress, on_error=on_error, wait=wait, bar=bar)
    except KeyboardInterrupt as exc:
        raise _interrupted(exc, store, mine) from None
    store.clean(max_age=claim_timeout, keep_workdir=keep_workdir)
    _report_failures(store, specs, mine, require)
    return Results(root, experiment.name)


def _interrupted(exc: KeyboardInterrupt, store: Store, mine: list[RunSpec]) -> GridInterrupted:
    """The interrupt as a :class:`GridInterrupted` saying what is kept (the executor has ended its workers)."""
    if isinstance(exc, GridInterrupted):
        return exc
    try:
        finished = sum((store.read_run(s.run_id) or {}).get("status") in FINISHED for s in mine)
    except Exception:  # noqa: BLE001 - the message must not fail; the store's own errors show on the next call
        finished = 0
    return GridInterrupted(f"{finished} of {len(mine)} runs of experiment {store.name!r} finished and kept in "
                           f"{store.path}", finished, len(mine), str(store.path))


def _closing(outcomes):
    """Close an executor's iterator however the loop over it ends (an interrupt: its workers end now)."""
    return contextlib.closing(outcomes) if hasattr(outcomes, "close") else contextlib.nullcontext(outcomes)


def _report_failures(store: Store, specs: list[RunSpec], mine: list[RunSpec], require: str) -> None:
    """Print the failures of this call's runs to stderr; raise RunsFailedError when ``require`` says so."""
    records = {spec.run_id: store.read_run(spec.run_id) or {} for spec in specs}
    failed = [(s.variant, s.seed, s.run_id, records[s.run_id].get("error") or "") for s in mine
              if records[s.run_id].get("status") == FAILED]
    if not failed:
        return
    empty = [v for v in dict.fromkeys(s.variant for s in mine)
             if all(records[s.run_id].get("status") == FAILED for s in specs if s.variant == v)]
    header = f"{len(failed)} of {len(mine)} runs of experiment {store.name!r} failed"
    if empty:
        header += f"; no run of variant(s) {empty} finished"
    message = _failure_message(header, failed, store)
    if require == "all-runs" or (require == "all-variants" and empty):
        raise RunsFailedError(message, failed, empty, str(store.runs_dir))
    print(f"warning: {message}", file=sys.stderr, flush=True)


def _failure_message(header: str, failed: list[tuple], store: Store) -> str:
    """The header, each distinct error once (its first lines) with the runs it hit, and where the records are."""
    hits: dict[str, list[str]] = {}
    for variant, seed, _, error in failed:
        hits.setdefault(error.strip() or "(no message)", []).append(f"{variant} seed {seed}")
    lines = []
    for k, (error, runs) in enumerate(list(hits.items())[:_SHOWN_ERRORS]):
        text = error.splitlines()
        more = [f"  ... ({len(text) - _SHOWN_LINES} more lines in the record)"] if len(text) > _SHOWN_LINES else []
        lines.append(f"{header}: {text[0]}" if k == 0 else f"Also: {text[0]}")
        lines += [f"  {line}" for line in text[1:_SHOWN_LINES]] + more + [f"  (runs: {', '.join(runs)})"]
    if len(hits) > _SHOWN_ERRORS:
        lines.append(f"... and {len(hits) - _SHOWN_ERRORS} more distinct errors")
    lines.append(f"Run records, with tracebacks: {store.runs_dir}/<run_id>.json "
                 f"(Results(root, {store.name!r}).failed_runs() lists them).")
    lines.append("Fix the cause and run again: failed runs are trained again, finished runs are kept.")
    return "\n".join(lines)


def _run_all(job: Job, store: Store, mine: list[RunSpec], runner, *, progress: bool, on_error: str,
             wait: bool, bar: GridProgress | None = None) -> None:
    position = {spec.run_id: f"[{k}/{len(mine)}] {spec.variant} seed {spec.seed}" for k, spec in enumerate(mine, 1)}
    pending, first = mine, True
    poll = min(max(job.claim_timeout / 10.0, 0.1), 10.0)
    bar = bar or GridProgress(store, mine, enabled=False)
    while pending:
        todo = []
        for spec in pending:
            status = (store.read_run(spec.run_id) or {}).get("status")
            if status in FINISHED or (status == FAILED and not job.retry_failed):
                _say(progress and first, f"{position[spec.run_id]}: already {status}, skipped")
                bar.skipped(spec.run_id)
            else:
                todo.append(spec)
        held = []
        bar.start()
        with _closing(runner.map(job, todo)) as outcomes:
            for spec, outcome in outcomes:
                _say(progress, f"{position[spec.run_id]}: {_describe_outcome(outcome)}")
                if outcome.kind == "store_error":
                    err = outcome.exception
                    raise err if isinstance(err, StoreWriteError) else StoreWriteError(None, outcome.note)
                if outcome.kind in ("held", "lost"):
                    held.append(spec)
                else:
                    bar.finished(spec.run_id)
                failed = outcome.kind == "ran" and outcome.record["status"] == FAILED
                if failed and on_error == "raise":
                    raise RuntimeError(f"run {spec.run_id!r} failed: {outcome.record['error']}") from outcome.exception
        if held and not wait:
            _say(progress, f"{len(held)} runs are held by other runners; not waiting for them (wait=False)")
        if not held or not wait:
            return
        time.sleep(poll)
        # A run waited for that its runner recorded as failed is a result of this call, not retried.
        pending, first, job = held, False, dataclasses.replace(job, retry_failed=False)


def run_one(job: Job, spec: RunSpec) -> Outcome:
    """Claim ``spec``'s run, train it unless it is finished, write its record and release the claim.

    This is what every executor runs for each pending run, in whatever process or machine.
    """
    store = Store(job.root, job.name)
    try:
        got = _lease.acquire(store.claims_dir, spec.run_id, timeout=job.claim_timeout)
    except OSError as err:
        return Outcome("store_error", spec.run_id, note=str(err),
                       exception=StoreWriteError.about(err, store.claims_dir / spec.run_id, "claim"))
    if isinstance(got, _lease.Holder):
        return Outcome("held", spec.run_id, note=got.describe())
    try:
        with got as claim:
            record = store.read_run(spec.run_id)
            status = (record or {}).get("status")
            if status in FINISHED or (status == FAILED and not job.retry_failed):
                if status in FINISHED and not job.keep_workdir:
                    store.remove_work_dir(spec.run_id)
                return Outcome("finished", spec.run_id, record)
            return _train_one(store, job, spec, claim)
    except StoreWriteError as err:
        return Outcome("store_error", spec.run_id, note=str(err), exception=err)


def _check_shard(shard: tuple[int, int]) -> tuple[int, int]:
    try:
        index, count = (int(v) for v in shard)
    except (TypeError, ValueError):
        raise ValueError(f"shard={shard!r} must be a pair (i, n) of ints") from None
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard={shard!r} needs n >= 1 and 0 <= i < n, e.g. (0, 2) and (1, 2)")
    return index, count


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
        if meta == {k: v for k, v in old.items() if k in meta}:
            return  # unchanged: a second runner need not rewrite it
    store.write_experiment({**meta, "cnnkit_version": cnnkit.__version__})


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _result_fields(result: Any) -> dict:
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        result = dataclasses.asdict(result)
    if not isinstance(result, Mapping):
        raise TypeError(f"train_fn returned {type(result).__name__}; expected a RunResult dataclass or a dict")
    fields = {k: _plain(result[k]) for k in _RESULT_FIELDS if k in result and result[k] is not None}
    if fields.get("status") not in RUN_STATUSES:
        raise ValueError(f"train_fn returned status {fields.get('status')!r}; expected one of {list(RUN_STATUSES)}")
    # cnnkit.train.RunResult calls the error "message" ("" when there is none) and adds a traceback.
    fields["error"] = fields.get("error") or result.get("message") or None
    if result.get("traceback"):
        fields["traceback"] = str(result["traceback"])
    if fields["status"] == FAILED and not fields["error"]:
        fields["error"] = f"train_fn reported status {FAILED!r} without a message"
    return fields


def is_out_of_memory(error: BaseException | None, message: str | None = None) -> bool:
    """Whether an exception (by its class names) or an error message is an out-of-memory error.

    Recognises TF's ``ResourceExhaustedError``, JAX/XLA ``RESOURCE_EXHAUSTED``, PyTorch's
    ``OutOfMemoryError``, CUDA's ``CUDA_ERROR_OUT_OF_MEMORY`` and Python's ``MemoryError``
    without importing any framework.
    """
    names = {cls.__name__ for cls in type(error).__mro__} if error is not None else set()
    return bool(names & _OOM_TYPES) or bool(_OOM_TEXT.search(f"{error or ''} {message or ''}"))


def _disk_full(error: BaseException | None, record: dict) -> str | None:
    if isinstance(error, StoreWriteError):
        return str(error)
    if isinstance(error, OSError) and _DISK_TEXT.search(str(error)):
        return f"{type(error).__name__}: {error}"
    text = record.get("error") or ""
    return text if record.get("status") == FAILED and _DISK_TEXT.search(text) else None


def _train_one(store: Store, job: Job, spec: RunSpec, claim: _lease.Lease) -> Outcome:
    record = {"run_id": spec.run_id, "experiment": job.name, "variant": spec.variant, "seed": spec.seed,
              "config": spec.config, "status": RUNNING, "error": None, "history": [], "final": {},
              "wall_time": None, "versions": {}, "device": None, "precision": None, "started": _now(), "finished": None}
    start, err, config = time.perf_counter(), None, None
    try:
        config = run_config_class().from_dict(spec.config)
        resolved = config.resolved() if hasattr(config, "resolved") else config
        record["config"] = _plain(resolved.to_dict() if hasattr(resolved, "to_dict") else spec.config)
    except Exception as exc:  # noqa: BLE001 - recorded as a failed run
        err = exc
        record.update(status=FAILED, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    if err is None:
        store.write_run(record)  # an interrupted run shows up as "running" and is resumed
        workdir = store.work_dir(spec.run_id)
        try:
            workdir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreWriteError.about(exc, workdir, "create") from exc
        try:
            record.update(_result_fields(job.train_fn(config, workdir=str(workdir), **job.train_kwargs)))
        except Exception as exc:  # noqa: BLE001 - any failure of one run is recorded; the grid goes on
            err = exc
            record.update(status=FAILED, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    disk = _disk_full(err, record)
    if disk:
        raise StoreWriteError(getattr(err, "errno", None) or 28, f"run {spec.run_id!r} stopped on a disk error: "
                              f"{disk}. Free space (or fix the folder) and run the experiment again: the run "
                              "is left unfinished and resumes; finished runs are kept")
    if record["status"] == FAILED and is_out_of_memory(err, record.get("error")):
        batch = getattr(config, "batch_size", None)
        record["hint"] = (f"out of memory: try a smaller batch_size (this run used {batch}), a smaller model "
                          "or resolution, or mixed_precision='mixed_float16'")
        record["error"] = f"{record['error']} [hint: {record['hint']}]"
    if record["wall_time"] is None:
        record["wall_time"] = time.perf_counter() - start
    record["finished"] = _now()
    if not claim.held():
        return Outcome("lost", spec.run_id, note="its claim was taken over while it trained (no heartbeat for "
                       f"{job.claim_timeout:.0f} s); the new holder writes the result")
    store.write_run(record)
    if not job.keep_workdir and record["status"] in FINISHED:
        store.remove_work_dir(spec.run_id)
    return Outcome("ran", spec.run_id, record, exception=err)


def _describe_outcome(outcome: Outcome) -> str:
    if outcome.kind == "finished":
        return f"already {outcome.record['status']}, skipped"
    if outcome.kind == "held":
        return f"held by another runner ({outcome.note})"
    if outcome.kind in ("lost", "store_error"):
        return f"{outcome.kind.replace('_', ' ')}: {outcome.note}"
    return _describe(outcome.record)


def _describe(record: dict) -> str:
    parts = [record["status"]]
    if record["status"] != DONE and record.get("error"):
        parts[0] += f" ({record['error']})"
    final = record.get("final") or {}
    for key in ("test_error", "val_error", "train_error"):
        if isinstance(final.get(key), (int, float)):
            parts.append(f"{key.replace('_', ' ')} {final[key]:.3f}")
            break
    parts.append(f"{record['wall_time']:.0f} s")
    return ", ".join(parts)


def _report_cleaning(enabled: bool, removed: list) -> None:
    if removed:
        _say(enabled, f"removed {len(removed)} leftovers of interrupted runners: "
                      f"{', '.join(p.name for p in removed[:5])}{' ...' if len(removed) > 5 else ''}")


def _say(enabled: bool, line: str) -> None:
    if enabled:
        print(line, flush=True)
