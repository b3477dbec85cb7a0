"""ProcessExecutor's workers: threads capped before the libraries load, and no epoch lines in a notebook's report."""

import os
import signal

import pytest

from cnnkit._console import PROGRESS_ENV, progress_writer
from cnnkit.ablation import executors


@pytest.fixture
def clean_env(monkeypatch):
    """The worker's initializer runs in this process: its environment and its SIGINT disposition (ignored) are
    put back afterwards. Left ignored, every process this test worker started later inherited it, and a later
    test's Ctrl-C never reached its grid (three CI runs failed that way, by test order)."""
    monkeypatch.setenv(PROGRESS_ENV, "terminal")  # what `cnnkit run` gives a kernel, and so its workers
    for name in executors.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    handler = signal.getsignal(signal.SIGINT)
    yield monkeypatch
    signal.signal(signal.SIGINT, handler)
    assert signal.getsignal(signal.SIGINT) is handler


def test_a_worker_of_a_notebook_kernel_prints_no_epoch_lines(clean_env):
    executors._init_worker(0, True)  # its stdout is the kernel's captured descriptor: the cell's output
    assert os.environ[PROGRESS_ENV] == "off" and progress_writer() is None
    assert not any(name in os.environ for name in executors.THREAD_VARIABLES)  # 0: the libraries' defaults


def test_a_worker_of_a_script_keeps_its_lines_and_gets_its_threads(clean_env):
    executors._init_worker(1, False)
    assert os.environ[PROGRESS_ENV] == "terminal" and progress_writer() is not None
    assert all(os.environ[name] == "1" for name in executors.THREAD_VARIABLES)


@pytest.mark.parametrize("in_kernel", [True, False])
def test_the_pool_tells_its_workers_where_they_run(in_kernel, monkeypatch):
    seen = {}

    class Pool:  # records what the real pool would pass to each fresh worker
        def __init__(self, workers, *, mp_context, initializer, initargs):
            seen.update(initializer=initializer, initargs=initargs)

        def __enter__(self):
            raise RuntimeError("recorded")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(executors.concurrent.futures, "ProcessPoolExecutor", Pool)
    monkeypatch.setattr(executors, "in_notebook_kernel", lambda: in_kernel)
    with pytest.raises(RuntimeError, match="recorded"):
        list(executors.ProcessExecutor(2, threads=1).map(print, ["run"]))
    assert seen == {"initializer": executors._init_worker, "initargs": (1, in_kernel)}
