"""Where the runs of a grid execute: this process, a process pool, or Ray tasks.

An executor has one method, ``map(job, specs)``, that runs ``job(spec)`` (a
:class:`~cnnkit.ablation.runner.Job`: claim the run, train it, write its record, release the claim)
for every spec and yields ``(spec, outcome)`` pairs as they complete. Every executor writes into
the same store through the same claim protocol, so they can be mixed: a local runner and a Ray
job on one store never train a run twice.

* :class:`LocalExecutor` (``executor="local"``, the default): one run after another in this
  process; simplest, and what notebooks use.
* :class:`ProcessExecutor` (``executor="process", workers=N``): N fresh Python processes
  (``spawn``); ``train_fn`` and ``train_kwargs`` must be picklable (module-level functions).
* :class:`RayExecutor` (``executor="ray"``): one Ray task per run, with one GPU each where the
  cluster has GPUs (else one CPU); connects to ``address`` / ``$RAY_ADDRESS`` or starts a local
  Ray. Needs ``pip install "cnnkit[ray]"``. See ``docs/scale-out.md``.

An interrupt (Ctrl-C, Jupyter's "Interrupt kernel") or a caller that stops iterating ends the
executor's work at once: a process pool's workers are terminated (they ignore SIGINT themselves,
so none prints a traceback), pending Ray tasks are cancelled. Finished runs stay in the store and
an interrupted run resumes from its last checkpoint.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import signal
from typing import Any, Iterable, Iterator

from cnnkit._console import PROGRESS_ENV, in_notebook_kernel

__all__ = ["LocalExecutor", "ProcessExecutor", "RayExecutor", "get_executor"]


class LocalExecutor:
    """Runs one run after another in this process."""

    def map(self, job, specs: Iterable) -> Iterator[tuple[Any, Any]]:
        for spec in specs:
            yield spec, job(spec)


def _remote_call(job, spec):
    """Run ``job(spec)`` in a worker and drop exceptions that may not pickle (store errors stay)."""
    from cnnkit.ablation.store import StoreWriteError

    outcome = job(spec)
    if not isinstance(outcome.exception, StoreWriteError):
        outcome.exception = None
    return outcome


THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")  # read at start-up


def _init_worker(threads: int, quiet: bool) -> None:
    """Pool initializer: cap the math libraries of a fresh worker at ``threads`` (0: leave them) before any
    of them loads; ``quiet``: no per-epoch lines (a worker of a notebook kernel writes into the kernel's
    captured descriptors, so its lines would land in the cell's output and the report)."""
    if threads:
        for name in THREAD_VARIABLES:
            os.environ[name] = str(threads)
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")
    if quiet:
        os.environ[PROGRESS_ENV] = "off"
    # Ctrl-C in a terminal and Jupyter's "Interrupt kernel" signal the whole process group, workers included: the
    # parent stops the grid and ends its workers (ProcessExecutor.map), which must not each print a traceback.
    # They started with SIGINT blocked (_sigint_blocked); ignored from here on, a pending one is dropped.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextlib.contextmanager
def _sigint_blocked():
    """SIGINT blocked in this thread: processes it starts inherit the mask (it survives exec), so an interrupt
    cannot reach a worker before its initializer ignores it (imports take seconds). The parent is still
    interrupted: by another of its threads, or when the block ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _stop_pool(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """End a pool now: cancel the runs not started and terminate the workers (their runs resume from their
    last checkpoint; their claims name dead processes, which the next runner takes over at once)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)


class ProcessExecutor:
    """Runs the runs in a pool of ``workers`` fresh processes (``multiprocessing`` ``spawn``).

    Small networks use a CPU core badly from two threads (per-op overhead, small convolutions),
    so on a CPU two one-thread workers train more runs per minute than one two-thread process
    (measured: ResNet-20, width 8, 16x16, batch 64: 1.4x the images per CPU-second).

    Args:
        workers: number of processes. Default: ``os.cpu_count()``.
        threads: math-library threads of each worker (TensorFlow intra/inter-op, OpenMP).
            Default ``None``: the CPUs shared out, ``max(1, cpu_count // workers)``; ``0``: leave
            the libraries' own defaults.
    """

    def __init__(self, workers: int | None = None, threads: int | None = None):
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers={workers!r} must be a positive int (processes of executor='process')")
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 0):
            raise ValueError(f"threads={threads!r} must be an int >= 0 (0: the libraries' defaults)")
        self.workers = workers or os.cpu_count() or 1
        self.threads = max(1, (os.cpu_count() or 1) // self.workers) if threads is None else threads

    def map(self, job, specs: Iterable) -> Iterator[tuple[Any, Any]]:
        specs = list(specs)
        if not specs:
            return
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(min(self.workers, len(specs)), mp_context=context,
                                                    initializer=_init_worker,
                                                    initargs=(self.threads, in_notebook_kernel())) as pool:
            try:
                with _sigint_blocked():  # the workers start here
                    futures = {pool.submit(_remote_call, job, spec): spec for spec in specs}
                for future in concurrent.futures.as_completed(futures):
                    yield futures[future], future.result()
            except BaseException:  # an interrupt, or the caller stopped early: no worker goes on training
                _stop_pool(pool)
                raise


class RayExecutor:
    """Submits one Ray task per run; each task claims its run and writes into the shared store.

    The store's ``root`` must be a folder every Ray node sees at the same path (a shared file
    system), since tasks write their records and checkpoints there themselves.

    Args:
        address: Ray cluster to join when Ray is not initialised yet: ``"auto"``, ``"ray://host:10001"``
            or ``None`` (default: ``$RAY_ADDRESS`` if set, else a new local Ray).
        num_gpus: GPUs per task. Default ``None``: 1 if the cluster has GPUs, else 0.
        num_cpus: CPUs per task. Default ``None``: 1 when no GPU is used, else Ray's default.
        init_kwargs: extra arguments of ``ray.init`` when this executor starts Ray.
    """

    def __init__(self, address: str | None = None, num_gpus: float | None = None, num_cpus: float | None = None,
                 **init_kwargs: Any):
        self.address, self.num_gpus, self.num_cpus, self.init_kwargs = address, num_gpus, num_cpus, init_kwargs

    def _ray(self):
        try:
            import ray
        except ImportError:
            raise ImportError('executor="ray" needs Ray: pip install "cnnkit[ray]" (or pip install ray)') from None
        if not ray.is_initialized():
            address = self.address or os.environ.get("RAY_ADDRESS") or None
            ray.init(address=address, **self.init_kwargs)
        return ray

    def task_options(self, ray) -> dict:
        """Resources of one task: ``num_gpus=1`` where the cluster has GPUs, else ``num_cpus=1``."""
        gpus = self.num_gpus
        if gpus is None:
            gpus = 1 if ray.cluster_resources().get("GPU", 0) > 0 else 0
        options = {"num_gpus": gpus} if gpus else {}
        if self.num_cpus is not None or not gpus:
            options["num_cpus"] = 1 if self.num_cpus is None else self.num_cpus
        return options

    def map(self, job, specs: Iterable) -> Iterator[tuple[Any, Any]]:
        specs = list(specs)
        if not specs:
            return
        ray = self._ray()
        task = ray.remote(_remote_call).options(**self.task_options(ray))
        pending = {task.remote(job, spec): spec for spec in specs}
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                spec = pending.pop(done[0])
                try:
                    outcome = ray.get(done[0])
                except ray.exceptions.RayError as err:  # the task itself broke (the run's own errors are outcomes)
                    raise RuntimeError(f"the Ray task of run {spec.run_id!r} failed: {err}. If the worker cannot "
                                       "import train_fn, define it in a module installed on every node (or ship it "
                                       "with ray.init(runtime_env=...)); runs already finished stay in the store"
                                       ) from err
                yield spec, outcome
        except BaseException:  # an interrupt, or the caller stopped early: cancel the tasks still pending
            for ref in pending:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            raise


def get_executor(executor: Any = "local", workers: int | None = None):
    """The executor for ``run_experiment(executor=..., workers=...)``.

    Raises:
        ValueError: an unknown name, or ``workers`` given for an executor that has none.
    """
    if not isinstance(executor, str):
        if not callable(getattr(executor, "map", None)):
            raise ValueError(f"executor={executor!r} has no map(job, specs) method; use 'local', 'process', "
                             "'ray' or an executor object from cnnkit.ablation.executors")
        return executor
    if workers is not None and executor != "process":
        raise ValueError(f"workers={workers!r} applies to executor='process' only, not {executor!r}")
    if executor == "local":
        return LocalExecutor()
    if executor == "process":
        return ProcessExecutor(workers)
    if executor == "ray":
        return RayExecutor()
    raise ValueError(f"executor={executor!r} is unknown; use 'local' (default), 'process' (with workers=N) or "
                     "'ray' (pip install 'cnnkit[ray]')")
