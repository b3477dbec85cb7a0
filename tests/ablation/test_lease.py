"""Lease files: exclusive, stale claims taken over, heartbeats, no two holders at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from cnnkit._atomic import HOST
from cnnkit.ablation import lease as claims
from cnnkit.ablation.lease import Lease, Holder, acquire


def _fake_claim(folder, run_id, *, pid, host=HOST, generation=0, age=0.0):
    """A claim file as another runner would leave it."""
    path = folder / f"{run_id}.{generation}.claim"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": pid, "host": host, "boot": claims.BOOT, "start": None, "token": "other"}))
    if age:
        os.utime(path, (time.time() - age, time.time() - age))
    return path


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_claim_is_exclusive_and_released(tmp_path):
    claim = acquire(tmp_path, "r__s0")
    assert isinstance(claim, Lease) and claim.path.name == "r__s0.0.claim"
    other = acquire(tmp_path, "r__s0")
    assert isinstance(other, Holder) and other.pid == os.getpid() and "heartbeat" in other.describe()
    assert isinstance(acquire(tmp_path, "r__s1"), Lease)  # another run is free
    with claim:
        assert claim.held()
    assert not claim.path.exists() and isinstance(acquire(tmp_path, "r__s0"), Lease)


def test_claim_of_a_dead_process_is_taken_over(tmp_path):
    old = _fake_claim(tmp_path, "r__s0", pid=_dead_pid())
    claim = acquire(tmp_path, "r__s0")
    assert isinstance(claim, Lease) and claim.path.name == "r__s0.1.claim"  # next generation
    assert not old.exists()


def test_claim_of_a_live_process_is_respected(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _fake_claim(tmp_path, "r__s0", pid=holder.pid)
        got = acquire(tmp_path, "r__s0", timeout=60)
        assert isinstance(got, Holder) and got.pid == holder.pid
        holder.kill()
        holder.wait()
        assert isinstance(acquire(tmp_path, "r__s0", timeout=60), Lease)  # dead now: taken over at once
    finally:
        holder.kill()


def test_claims_of_other_hosts_go_stale_by_heartbeat(tmp_path):
    _fake_claim(tmp_path, "r__s0", pid=1, host="elsewhere", age=5)
    assert isinstance(acquire(tmp_path, "r__s0", timeout=60), Holder)   # recent heartbeat: alive
    _fake_claim(tmp_path, "r__s1", pid=1, host="elsewhere", age=120)
    assert isinstance(acquire(tmp_path, "r__s1", timeout=60), Lease)    # silent for 2 min: stale
    (tmp_path / "r__s2.0.claim").write_text("")                          # being written (O_EXCL fallback)
    assert isinstance(acquire(tmp_path, "r__s2", timeout=60), Holder)


def test_heartbeat_refreshes_and_a_taken_over_claim_is_lost(tmp_path):
    claim = acquire(tmp_path, "r__s0", timeout=0.5)
    with claim:
        os.utime(claim.path, (time.time() - 100, time.time() - 100))
        time.sleep(0.3)  # the heartbeat thread beats every 0.05 s
        assert time.time() - claim.path.stat().st_mtime < 1
    claim = acquire(tmp_path, "r__s0", timeout=0.5)
    os.utime(claim.path, (time.time() - 100, time.time() - 100))   # as if this process hung
    newer = acquire(tmp_path, "r__s0", timeout=0.5)
    assert isinstance(newer, Lease) and not claim.held() and not claim.beat() and claim.lost
    claim.release()                                                  # must not delete the new holder's file
    assert newer.path.exists() and newer.held()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="uses fork")
def test_racing_processes_never_hold_a_run_together(tmp_path):
    """Four processes claim the same run 40 times each; while holding, each creates a marker
    exclusively: a second simultaneous holder would find it and report."""
    marker, errors = tmp_path / "holding", tmp_path / "errors"
    pids = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                for _ in range(40):
                    got = acquire(tmp_path / "claims", "r__s0", timeout=60)
                    if isinstance(got, Lease):
                        try:
                            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                        except FileExistsError:
                            errors.write_text(f"two holders at once ({os.getpid()})")
                            raise
                        os.close(fd)
                        time.sleep(0.001)
                        os.unlink(marker)
                        got.release()
            except BaseException:  # noqa: BLE001
                code = 1
            os._exit(code)
        pids.append(pid)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    assert not errors.exists() and codes == [0, 0, 0, 0]
    assert list((tmp_path / "claims").iterdir()) == []                # every claim released
