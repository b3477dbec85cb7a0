"""A real grid SIGKILLed at >= 20 points, then run by three runners at once: nothing lost, nothing twice,
and a killed run resumes from its epoch backup (the one kill/resume grid of the suite).

``fault_driver.py`` (one subprocess; it forks every runner) kills a grid of tiny real
``cnnkit.train.fit`` runs at hooked fault points (inside an epoch, while saving a checkpoint, while
writing a record or claiming a run, while cleaning up) and at random moments, restarting it each
time; then trains the same grid uninterrupted (reference) and with three concurrent runners.
These tests check what it left on disk.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnnkit.ablation import Results

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fault_driver")]  # one driver run, one worker

DRIVER = Path(__file__).with_name("fault_driver.py")
EPOCHS, BATCHES = 3, 2  # as in fault_driver.py
TIMING_KEYS = {"images_per_sec", "epoch_time"}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    work = tmp_path_factory.mktemp("faults")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, str(DRIVER), str(work / "report.json"), str(work), "0"],
                          capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    data = json.loads((work / "report.json").read_text())
    data["stderr"] = proc.stderr  # the runners' tracebacks, if any: shown by the tests that check exit statuses
    print(f"fault driver: {data['seconds']} s wall, {data['cpu_seconds']} CPU-s of runner processes")
    return data


def _tracebacks(report) -> str:
    """The runners' tracebacks from the driver's stderr (TensorFlow's log lines left out)."""
    lines = [line for line in report.get("stderr", "").splitlines() if line[:5] not in ("I0000", "W0000", "E0000")]
    text = "\n".join(lines)
    return text[text.find("Traceback"):][-4000:] if "Traceback" in text else "no traceback on the driver's stderr"


def _runs(root: str) -> dict[str, dict]:
    results = Results(root, "torture")
    return {rec["run_id"]: rec for rec in results.records()}


def _comparable(record: dict) -> str:
    """History without timings, and final metrics, as canonical JSON (NaN compares equal)."""
    history = [{k: v for k, v in row.items() if k not in TIMING_KEYS} for row in record["history"]]
    return json.dumps({"history": history, "final": record["final"], "config": record["config"]}, sort_keys=True)


def _expected_ids(report) -> list[str]:
    return sorted(f"{v}__s{s}" for v in ("a", "b") for s in report["torture"]["seeds"])


def _epochs_by_execution(report, phase: str) -> dict[tuple[str, int], list[int]]:
    """(run, pid) → the epochs that execution started (0-based), in the order executions started."""
    out: dict[tuple[str, int], list[int]] = {}
    for e in report["epochs"]:
        if e["phase"] == phase:
            out.setdefault((e["run"], e["pid"]), []).append(e["epoch"])
    return out


def _assert_clean_store(root: str, run_ids: list[str]) -> None:
    store = Path(root) / "torture"
    files = sorted(p.relative_to(store).as_posix() for p in store.rglob("*") if not p.is_dir())
    assert files == ["experiment.json", *(f"runs/{r}.json" for r in run_ids)], files  # no tmp, claim, workdir
    assert {p.name for p in store.iterdir()} <= {"experiment.json", "runs", "work", "claims"}


def _assert_complete(runs: dict[str, dict], run_ids: list[str]) -> None:
    assert sorted(runs) == run_ids                                        # every run exactly once
    for run_id, rec in runs.items():
        assert rec["status"] == "done", (run_id, rec.get("error"))
        epochs = [row["epoch"] for row in rec["history"]]
        assert epochs == list(range(1, EPOCHS + 1)), (run_id, epochs)     # continuous, no duplicate
        # the optimizer's iteration count is restored with the weights: a checkpoint whose weights and
        # epoch disagreed would shift every later step
        assert [row["step"] for row in rec["history"]] == [BATCHES * e for e in epochs], run_id


def test_grid_survives_sigkill_at_20_plus_points(report):
    kills = report["torture"]["kills"]
    points = [k["point"] for k in kills]
    assert len(kills) >= 20, points
    assert len({k["pid"] for k in kills}) == len(kills)                   # each kill hit a different process
    hooked = [p for p in points if not p.startswith("timer:")]
    assert [k["point"] for k in report["kill_log"]] == hooked             # each hooked kill fired where planned
    assert {"train:batch", "train:epoch_end"} <= set(points)              # inside an epoch
    assert {"ckpt:torn_tmp", "ckpt_weights:before_rename", "ckpt_meta:before_rename",
            "ckpt_meta:after_rename"} <= set(points)                      # while saving a checkpoint
    assert {"record:before_rename", "record:after_rename", "work_result:before_rename"} <= set(points)  # results
    assert sum(p.startswith("timer:") for p in points) >= 5               # random moments (driver: MIN_TIMED)
    run_ids = _expected_ids(report)
    runs = _runs(report["roots"]["torture"])
    _assert_complete(runs, run_ids)
    _assert_clean_store(report["roots"]["torture"], run_ids)
    # resumed runs compute exactly what uninterrupted ones do: no silently corrupted result
    reference = _runs(report["roots"]["reference"])
    assert {r: _comparable(rec) for r, rec in runs.items()} == {r: _comparable(rec) for r, rec in reference.items()}
    resumed = [e["run"] for e in report["exec"] if e["phase"] == "torture"]
    assert len(resumed) > len(run_ids)                                    # runs really were interrupted


def test_a_killed_run_resumes_from_its_epoch_backup(report):
    """A re-run trains only the epochs the killed run had not backed up, never skipping one."""
    started = _epochs_by_execution(report, "torture")
    assert any(epochs[0] > 0 for epochs in started.values()), started   # resumed mid-run, not from scratch
    seen: dict[str, int] = {}
    for (run, _pid), epochs in started.items():                          # executions in the order they started
        assert epochs == list(range(epochs[0], epochs[-1] + 1)), (run, epochs)
        assert epochs[0] <= seen.get(run, -1) + 1, (run, epochs, seen)      # no epoch skipped on resume
        seen[run] = max(seen.get(run, -1), epochs[-1])


def test_reference_grid_trains_each_run_once(report):
    assert report["reference_status"] == 0
    runs = [e["run"] for e in report["exec"] if e["phase"] == "reference"]
    assert sorted(runs) == _expected_ids(report)
    assert all(epochs == list(range(EPOCHS)) for epochs in _epochs_by_execution(report, "reference").values())
    _assert_complete(_runs(report["roots"]["reference"]), _expected_ids(report))


def test_three_concurrent_runners_split_the_grid_without_duplicates(report):
    assert report["concurrent"]["status"] == [0, 0, 0], _tracebacks(report)
    execs = [e for e in report["exec"] if e["phase"] == "concurrent"]
    assert sorted(e["run"] for e in execs) == _expected_ids(report)        # no run executed twice
    assert len({e["pid"] for e in execs}) >= 2                             # the work was split
    assert {e["pid"] for e in execs} <= set(report["concurrent"]["pids"])
    runs = _runs(report["roots"]["concurrent"])
    _assert_complete(runs, _expected_ids(report))
    _assert_clean_store(report["roots"]["concurrent"], _expected_ids(report))
    reference = _runs(report["roots"]["reference"])
    assert {r: _comparable(rec) for r, rec in runs.items()} == {r: _comparable(rec) for r, rec in reference.items()}
