"""An interrupt stops a grid at once: the process pool's workers end without a traceback each, finished runs are
kept, an interrupted run resumes where it stopped, and a notebook cell shows one line (cnnkit.ablation.executors,
cnnkit.ablation.runner.GridInterrupted)."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

HERE = Path(__file__).resolve().parent

GRID = """import sys
sys.path.insert(0, {here!r})
from cnnkit.ablation import Experiment, ProcessExecutor, run_experiment
from fake_train import slow_train
exp = Experiment("slow", base={{"model": "lenet5", "epochs": 12}}, grid={{"lr": [0.1, 0.2]}}, seeds=(0, 1))
run_experiment(exp, root={root!r}, train_fn=slow_train, executor=ProcessExecutor(2),
               train_kwargs={{"epochs": 12, "seconds": {seconds}, "log": {log!r}}})
"""
SCRIPT = 'if __name__ == "__main__":\n' + "\n".join("    " + line for line in GRID.splitlines()) + "\n"


def _calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie is not: it has ended, only its exit status is left)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _epochs_done(root: Path) -> int:
    """Epochs logged by the run that has logged fewest (0 until two runs log): every training run has a backup
    once it logged two (a row is written just before its epoch's backup)."""
    rows = [len(p.read_text().splitlines()) - 1 for p in root.glob("slow/work/*/history.csv")]
    return min(rows) if len(rows) >= 2 else 0


def _terminal_sigint() -> None:
    """In the child before exec: SIGINT as a terminal's shell gives it (a pytest-xdist worker ignores SIGINT, and
    an ignored SIGINT is inherited: the grid would never see the Ctrl-C)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@pytest.mark.slow
def test_sigint_ends_the_workers_and_the_next_call_resumes(tmp_path):
    """Ctrl-C in a terminal (SIGINT to the process group): the grid stops within seconds, no worker prints a
    traceback, none is left; the next call trains each unfinished run once, from where it stopped."""
    root, log = tmp_path / "runs", tmp_path / "calls.jsonl"
    script = tmp_path / "grid.py"
    script.write_text(SCRIPT.format(here=str(HERE), root=str(root), seconds=0.4, log=str(log)))
    proc = subprocess.Popen([sys.executable, str(script)], start_new_session=True, preexec_fn=_terminal_sigint,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: len(_calls(log)) >= 2 and _epochs_done(root) >= 2, 120, "two workers past an epoch backup")
        os.killpg(proc.pid, signal.SIGINT)
        start = time.monotonic()
        _, stderr = proc.communicate(timeout=60)
        assert time.monotonic() - start < 15
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    workers = {c["pid"] for c in _calls(log)}
    assert not [pid for pid in workers if _alive(pid)], "a worker outlived the interrupt"
    # exit 0 here means the interrupt never reached the grid (e.g. SIGINT inherited as ignored): it ran to its end
    assert proc.returncode != 0, f"the grid ended before the interrupt (exit {proc.returncode})"
    assert stderr.count("Traceback") == 1, stderr  # the parent's: the script does not catch GridInterrupted
    assert re.search(r"GridInterrupted: \d of 4 runs of experiment 'slow' finished and kept in", stderr), stderr
    assert "KeyboardInterrupt" not in stderr, stderr

    first = _calls(log)
    assert len(first) == 2, first  # no run started after the interrupt
    subprocess.run([sys.executable, str(script)], check=True, capture_output=True, timeout=300)
    again = _calls(log)[len(first):]
    records = [json.loads(p.read_text()) for p in sorted((root / "slow" / "runs").glob("*.json"))]
    assert [r["status"] for r in records] == ["done"] * 4
    assert sorted(c["run"] for c in again) == sorted(r["run_id"] for r in records)  # each trained once more
    interrupted = {c["run"] for c in first}
    assert all(c["from"] > 0 for c in again if c["run"] in interrupted)  # resumed, not started over


@pytest.mark.slow
def test_kernel_interrupt_ends_the_workers_and_the_cell_says_one_line(tmp_path):
    """Jupyter's "Interrupt kernel" during a grid cell (a notebook executed with nbclient): the workers end, the
    cell's error is one line saying what is kept, and no worker wrote a traceback into the cell."""
    from jupyter_client import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    root, log = tmp_path / "runs", tmp_path / "calls.jsonl"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        GRID.format(here=str(HERE), root=str(root), seconds=0.5, log=str(log)))])
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "CNNKIT_PROGRESS")}
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(tmp_path), env=env)
    errors = []

    def execute():
        try:
            NotebookClient(nb, km=km, timeout=120).execute()
        except CellExecutionError as exc:
            errors.append(exc)

    thread = threading.Thread(target=execute, daemon=True)
    try:
        thread.start()
        _wait_for(lambda: len(_calls(log)) >= 2, 120, "two workers training")
        workers = {c["pid"] for c in _calls(log)}
        km.interrupt_kernel()
        thread.join(60)
        assert not thread.is_alive(), "the cell did not stop"
    finally:
        km.shutdown_kernel(now=True)
    assert not [pid for pid in workers if _alive(pid)], "a worker outlived the interrupt"
    assert len(_calls(log)) == 2, _calls(log)  # no run started after the interrupt, none trained on to its end
    error = next(o for o in nb.cells[0].outputs if o.output_type == "error")
    assert error.ename == "GridInterrupted" and len(error.traceback) == 1, error
    assert re.match(r"GridInterrupted: 0 of 4 runs of experiment 'slow' finished and kept in .*run the cell again",
                    error.traceback[0]), error.traceback  # a run takes 4 s: the two interrupted ones had not ended
    streams = "".join(o.get("text", "") for o in nb.cells[0].outputs if o.output_type == "stream")
    assert "Traceback" not in streams and "KeyboardInterrupt" not in streams, streams
    assert errors and "GridInterrupted" in str(errors[0])
