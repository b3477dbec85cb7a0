"""cnnkit.notebook.lanes: notebooks N at a time, each a ``cnnkit run --lane`` training in its kernel on one thread;
Ctrl-C to the command's process group stops every lane within seconds, exit 130, one line, no process left."""

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from test_interrupts import _TEST_ONLY_ENV, SLEEPER, _left, _messages, _toy, _wait_for, reap  # noqa: F401

from cnnkit.notebook.lanes import order_longest_first

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's per-test ``clear_session``: nothing here builds a model in this process."""
    yield


def _start(paths, out: Path, *extra) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in _TEST_ONLY_ENV}
    return subprocess.Popen([sys.executable, "-m", "cnnkit.cli", "run", *map(str, paths), "--out", str(out),
                             "--jobs", "2", *extra], start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=out.parent)


def test_lanes_run_two_notebooks_at_once_on_one_thread_each(tmp_path):
    out = tmp_path / "reports"
    body = ('import os, threading\nopen(f"{os.environ.get(\'TF_NUM_INTRAOP_THREADS\')}-{os.getpid()}.lane", "w")'
            '\nimport time; time.sleep(3)')
    paths = [_toy(tmp_path / f"toy{i}.ipynb", body) for i in range(3)]
    proc = _start(paths, out)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stdout[-2000:] + stderr[-2000:]
    lanes = sorted(p.name.split("-")[0] for p in out.glob("*.lane"))
    assert lanes == ["1", "1", "1"]  # each kernel on one thread
    assert "2 at a time" in stdout and all((out / f"toy{i}.html").exists() for i in range(3))
    assert "index.html" in stdout and "command" in stdout


def test_ctrl_c_stops_every_lane_and_exits_130(tmp_path, reap):
    out = tmp_path / "reports"
    paths = [_toy(tmp_path / f"toy{i}.ipynb", SLEEPER.replace("kernel.pid", f"kernel{i}.pid")) for i in range(3)]
    proc = _start(paths, out)
    _wait_for(lambda: len(list(out.glob("kernel*.pid"))) == 2, proc, 180, "two lanes to run a cell")
    family = psutil.Process(proc.pid).children(recursive=True)
    reap += [psutil.Process(proc.pid), *family]
    start = time.monotonic()
    os.killpg(proc.pid, 2)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and time.monotonic() - start < 30, (proc.returncode, stderr)
    assert len(list(out.glob("kernel*.pid"))) == 2  # the third notebook never started
    assert "Traceback" not in stderr and _messages(stderr)[-1].startswith("cnnkit run: interrupted"), stderr
    assert not _left(family), "a lane or its kernel outlived the command"


def test_the_longest_notebook_goes_first(tmp_path):
    paths = [tmp_path / f"{n}.ipynb" for n in ("00_a", "01_b", "02_c")]
    order = order_longest_first(paths, tmp_path, trains=lambda p: p.stem != "00_a")
    assert [p.stem for p in order][0] in ("01_b", "02_c") and order[-1].stem == "00_a"
