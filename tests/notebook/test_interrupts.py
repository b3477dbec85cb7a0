"""Ctrl-C during ``cnnkit run`` (cnnkit.notebook.interrupts): SIGINT to the command's process group, as a terminal
sends it, interrupts the kernel; the command ends within seconds with exit 130 and one line on stderr, leaves no
process behind, and the same command again completes every run of the grid once."""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
# The user's environment, not the tests' (as tests/notebook/test_notebooks.py runs cnnkit): ipykernel captures file
# descriptors only outside pytest, so worker output would reach the terminal here and the report there.
_TEST_ONLY_ENV = ("PYTEST_CURRENT_TEST", "MPLBACKEND", "TF_CPP_MIN_LOG_LEVEL", "CNNKIT_PROGRESS")
BAR = re.compile(r"\d+%\|")  # papermill's per-cell bar, also on stderr


def _start(args, out: Path) -> subprocess.Popen:
    """``cnnkit run`` in a process group of its own, as a shell starts a command in a terminal."""
    env = {k: v for k, v in os.environ.items() if k not in _TEST_ONLY_ENV}
    return subprocess.Popen([sys.executable, "-m", "cnnkit.cli", "run", *map(str, args), "--out", str(out)],
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=out.parent)


def _wait_for(predicate, proc: subprocess.Popen, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"cnnkit run ended (exit {proc.returncode}) before {what}:\n{out[-2000:]}\n{err[-3000:]}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture
def reap():
    """Processes to kill at the end of the test, whatever it asserted (a failing test leaves none running)."""
    processes = []
    yield processes
    for p in processes:
        with contextlib.suppress(psutil.Error):
            p.kill()


def _interrupt(proc: subprocess.Popen, reap: list, signals: int = 1, timeout: float = 60) -> tuple[float, str, list]:
    """SIGINT to the group (``signals`` times, 1 s apart); returns (seconds to exit, stderr, its descendants)."""
    family = psutil.Process(proc.pid).children(recursive=True)  # the kernel (a session of its own), its workers
    reap += [psutil.Process(proc.pid), *family]
    start = time.monotonic()
    for k in range(signals):
        time.sleep(1.0 if k else 0)
        os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=timeout)
    return time.monotonic() - start, stderr, family


def _messages(stderr: str) -> list[str]:
    """What stderr says, less papermill's progress bar."""
    return [line for line in re.split(r"[\r\n]", stderr) if line.strip() and not BAR.search(line)]


def _left(family: list, grace: float = 5.0) -> list:
    """The processes of ``family`` still running after ``grace`` seconds (zombies have ended)."""
    deadline = time.monotonic() + grace
    while True:
        left = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def _toy(path: Path, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('out_dir = "."')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


SLEEPER = 'import os, time\nopen("kernel.pid", "w").write(str(os.getpid()))\ntime.sleep(600)'


def test_ctrl_c_interrupts_the_kernel_and_the_command_exits_130(tmp_path, reap):
    out = tmp_path / "reports"
    proc = _start([_toy(tmp_path / "toy.ipynb", SLEEPER)], out)
    _wait_for(lambda: (out / "kernel.pid").exists(), proc, 120, "the cell to run")
    seconds, stderr, family = _interrupt(proc, reap)
    assert proc.returncode == 130 and seconds < 30, (proc.returncode, seconds, stderr)
    assert _messages(stderr) == [f"cnnkit run: interrupted: toy.ipynb: stopped in cell 3; finished runs are kept in "
                                 f"{out / 'runs'}; run the same command again to resume (an interrupted run "
                                 "continues from its last checkpoint)"], stderr  # cell 3: after papermill's parameters
    assert not _left(family), "the kernel outlived the command"
    assert not (out / "toy.failed.json").exists()  # an interrupt is not a failure of the notebook


def test_a_second_ctrl_c_kills_the_kernel_at_once(tmp_path, reap):
    """A cell that does not stop on the first interrupt: the second Ctrl-C ends the command and its kernel."""
    out = tmp_path / "reports"
    deaf = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n" + SLEEPER
    proc = _start([_toy(tmp_path / "toy.ipynb", deaf)], out)
    _wait_for(lambda: (out / "kernel.pid").exists(), proc, 120, "the cell to run")
    seconds, stderr, family = _interrupt(proc, reap, signals=2)
    assert proc.returncode == 130 and seconds < 10, (proc.returncode, seconds, stderr)
    assert [m.split(";")[0] for m in _messages(stderr)] == ["cnnkit: stopped toy.ipynb (kernel killed)"], stderr
    assert not _left(family), "the kernel outlived the command"


def _records(store: Path) -> dict:
    return {p.stem: json.loads(p.read_text()) for p in (store / "runs").glob("*.json")}


@pytest.mark.slow
def test_ctrl_c_stops_a_grid_and_the_same_command_completes_it(tmp_path, reap):
    """Notebook 01's smoke grid (five runs, one seed) in two worker processes: Ctrl-C once an epoch has a checkpoint ends the command within
    30 s with exit 130 and one line, the kernel and its workers end; the same command again trains every run that
    was not finished, once, and keeps those that were."""
    out = tmp_path / "reports"
    args = [ROOT / "notebooks" / "01_depth_degradation.ipynb", "--preset", "smoke", "-p", "workers", "2"]
    proc = _start(args, out)

    def finished_one_and_training_another():  # with an epoch backup: a run to resume
        done = any(json.loads(p.read_text())["status"] == "done" for p in out.glob("runs/*/runs/*.json"))
        return done and any(out.glob("runs/*/work/*/backup/training_metadata.json"))

    _wait_for(finished_one_and_training_another, proc, 600, "a finished run and an epoch of another")
    seconds, stderr, family = _interrupt(proc, reap)
    assert proc.returncode == 130 and seconds <= 30, (proc.returncode, seconds, stderr)
    messages = _messages(stderr)
    assert len(messages) == 1 and "Traceback" not in stderr, stderr
    assert re.fullmatch(r"cnnkit run: interrupted: 01_depth_degradation\.ipynb: \d+ of \d+ runs of experiment "
                        r"'\w+' finished and kept in \S+; run the same command again to resume .*", messages[0])
    assert len(family) >= 3 and not _left(family), "a process of the command outlived it"  # kernel + 2 workers

    store = next(p.parents[2] for p in out.glob("runs/*/work/*/history.csv"))
    before = _records(store)
    kept = {run_id: r["finished"] for run_id, r in before.items() if r["status"] == "done"}
    assert kept and "running" in {r["status"] for r in before.values()}  # one kept, one interrupted in training
    proc = _start(args, out)
    stdout, stderr = proc.communicate(timeout=900)
    assert proc.returncode == 0, stdout[-2000:] + stderr[-3000:]
    meta = json.loads((store / "experiment.json").read_text())
    after = _records(store)
    runs = sorted((r["variant"], r["seed"]) for r in after.values())
    assert runs == sorted((v, s) for v in meta["variants"] for s in meta["seeds"])  # each run once
    assert {r["status"] for r in after.values()} == {"done"}
    assert {run_id: after[run_id]["finished"] for run_id in kept} == kept  # finished runs were not trained again
    assert all([h["epoch"] for h in r["history"]] == list(range(1, len(r["history"]) + 1)) for r in after.values())
    assert not list(store.glob("claims/*.claim")) and not list(store.glob("work/*"))
