"""The runner under bad conditions: unwritable or full disks, old stores, corrupt records, OOM,
runs held by other runners, leftovers of killed processes, process-pool execution."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
import time

import pytest
from fake_train import numpy_train

import cnnkit.ablation.store as store_mod
from cnnkit._atomic import HOST
from cnnkit._atomic import tmp_path as temp_file_of_this_process
from cnnkit.ablation import (Experiment, Results, SchemaError, Store, StoreWriteError, is_out_of_memory,
                             run_experiment, summarize)
from cnnkit.ablation import lease as claims

BASE = {"model": "resnet_cifar", "model_options": {"depth": 20}, "epochs": 1}


def grid(seeds=(0, 1)):
    return Experiment("rel", BASE, variants={"a": {}, "b": {"lr": 0.01}}, seeds=seeds)


def calls_of(log) -> list[str]:
    return [json.loads(line)["run"] for line in log.read_text().splitlines()] if log.exists() else []


def train_with(log):
    return lambda config, *, workdir: numpy_train(config, workdir=workdir, log=log)


def test_unwritable_root_fails_before_training(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the results folder should be")
    log = tmp_path / "calls.log"
    with pytest.raises(StoreWriteError, match="not-a-folder.*not writable"):
        run_experiment(grid(), root=blocker, train_fn=train_with(log), progress=False)
    assert calls_of(log) == []


def test_disk_full_at_a_record_write_names_the_file_and_loses_nothing(tmp_path, monkeypatch):
    log, real_write = tmp_path / "calls.log", store_mod.atomic_write_bytes
    writes = []

    def fills_up(path, data):
        writes.append(path.name)
        if writes.count("b__s0.json") == 2:  # b__s0's final record: the disk is full now
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(path, data)

    monkeypatch.setattr(store_mod, "atomic_write_bytes", fills_up)
    with pytest.raises(StoreWriteError, match=r"b__s0\.json: No space left on device; the disk .* is full"):
        run_experiment(grid(), root=tmp_path / "runs", train_fn=train_with(log), progress=False)
    monkeypatch.setattr(store_mod, "atomic_write_bytes", real_write)  # space freed
    store = Store(tmp_path / "runs", "rel")
    assert [store.read_run(r)["status"] for r in ("a__s0", "a__s1", "b__s0")] == ["done", "done", "running"]
    run_experiment(grid(), root=tmp_path / "runs", train_fn=train_with(log), progress=False)
    assert calls_of(log) == ["a__s0", "a__s1", "b__s0", "b__s0", "b__s1"]  # only the unwritten run again
    assert set(Results(tmp_path / "runs", "rel").runs()["status"]) == {"done"}


def test_disk_full_inside_training_stops_the_grid_and_resumes_later(tmp_path):
    def full(config, *, workdir):  # what cnnkit.train.fit returns when its checkpoint write fails
        return {"status": "failed", "message": f"OSError: [Errno 28] No space left on device: '{workdir}/backup'"}

    with pytest.raises(StoreWriteError, match="a__s0.*No space left on device.*resumes"):
        run_experiment(grid(), root=tmp_path, train_fn=full, progress=False)
    assert Store(tmp_path, "rel").read_run("a__s0")["status"] == "running"  # not "failed": it will be retried
    run_experiment(grid(), root=tmp_path, train_fn=train_with(tmp_path / "log"), progress=False)
    assert set(Results(tmp_path, "rel").runs()["status"]) == {"done"}


def test_store_of_an_older_schema_is_one_clear_error_before_training(tmp_path):
    run_experiment(grid(), root=tmp_path, train_fn=train_with(tmp_path / "first"), progress=False)
    for path in (tmp_path / "rel").rglob("*.json"):
        data = json.loads(path.read_text())
        data.pop("schema_version")
        path.write_text(json.dumps(data))
    log = tmp_path / "second"
    with pytest.raises(SchemaError) as info:
        run_experiment(grid(seeds=(0, 1, 2)), root=tmp_path, train_fn=train_with(log), progress=False)
    text = str(info.value)
    assert "experiment.json and 4 more files were written by an older cnnkit" in text
    assert "pip install cnnkit==0.1.0" in text and "another root=" in text and str(tmp_path / "rel") in text
    assert calls_of(log) == []


def test_record_with_bad_fields_is_reported_and_rerun(tmp_path):
    run_experiment(grid(), root=tmp_path, train_fn=train_with(tmp_path / "log"), progress=False)
    path = tmp_path / "rel" / "runs" / "b__s1.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "status": "exploded"}))
    with pytest.warns(RuntimeWarning, match=r"b__s1\.json \(status 'exploded'"):
        run_experiment(grid(), root=tmp_path, train_fn=train_with(tmp_path / "log"), progress=False)
    assert calls_of(tmp_path / "log")[-1] == "b__s1" and len(calls_of(tmp_path / "log")) == 5


class ResourceExhaustedError(Exception):
    """Named like tf.errors.ResourceExhaustedError."""


class XlaRuntimeError(Exception):
    """Named like jax's XlaRuntimeError."""


class OutOfMemoryError(RuntimeError):
    """Named like torch.cuda.OutOfMemoryError."""


OOMS = {"a__s0": ResourceExhaustedError("OOM when allocating tensor with shape[128,64,32,32]"),
        "a__s1": XlaRuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 2.1GiB"),
        "b__s0": OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 MiB"),
        "b__s1": MemoryError()}


def test_out_of_memory_runs_fail_with_a_hint_and_the_grid_goes_on(tmp_path, capsys):
    def train(config, *, workdir):
        raise OOMS[os.path.basename(workdir)]

    runs = run_experiment(grid(), root=tmp_path, train_fn=train, progress=True, require="nothing").runs()
    assert list(runs["status"]) == ["failed"] * 4
    assert runs["error"].str.contains(r"hint: out of memory: try a smaller batch_size \(this run used 128\)").all()
    assert "ResourceExhaustedError: OOM when allocating" in runs.loc[0, "error"]
    assert capsys.readouterr().out.count("try a smaller batch_size") == 4
    record = Store(tmp_path, "rel").read_run("b__s1")
    assert record["hint"].startswith("out of memory") and "MemoryError" in record["traceback"]
    assert is_out_of_memory(None, "ResourceExhaustedError: OOM when allocating tensor")  # fit's message form
    assert not is_out_of_memory(ValueError("bad shape"), "ValueError: bad shape")


def test_failed_and_diverged_runs_show_in_runs_and_summaries(tmp_path):
    def train(config, *, workdir):
        result = numpy_train(config, workdir=workdir)
        if config.seed == 1 and config.lr == 0.01:
            raise ResourceExhaustedError("OOM")
        if config.seed == 1:
            result["status"] = "diverged"
        return result

    runs = run_experiment(grid(), root=tmp_path, train_fn=train, progress=False).runs()
    assert list(runs["status"]) == ["done", "diverged", "done", "failed"]
    summary = summarize(runs, "test_error").set_index("variant")
    assert summary.loc["a", "n"] == 2 and summary.loc["a", "excluded"] == 0
    assert summary.loc["b", "n"] == 1 and summary.loc["b", "excluded"] == 1


def test_run_held_by_a_live_runner_is_waited_for_and_taken_over_when_it_dies(tmp_path, capsys):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    store = Store(tmp_path, "rel")
    store.claims_dir.mkdir(parents=True)
    (store.claims_dir / "a__s1.0.claim").write_text(json.dumps(
        {"pid": holder.pid, "host": HOST, "boot": claims.BOOT, "start": None, "token": "t"}))
    log = tmp_path / "log"
    try:
        run_experiment(grid(), root=tmp_path, train_fn=train_with(log), progress=True, wait=False)
        assert "a__s1" not in calls_of(log) and "held by another runner (pid" in capsys.readouterr().out
        threading.Timer(0.5, holder.kill).start()
        start = time.perf_counter()
        run_experiment(grid(), root=tmp_path, train_fn=train_with(log), progress=False, claim_timeout=2.0)
        assert time.perf_counter() - start < 10
    finally:
        holder.kill()
    assert sorted(calls_of(log)) == ["a__s0", "a__s1", "b__s0", "b__s1"]
    assert list(store.claims_dir.iterdir()) == []


def test_clean_removes_leftovers_of_dead_writers_only(tmp_path):
    run_experiment(grid(), root=tmp_path, train_fn=train_with(tmp_path / "log"), progress=False, keep_workdir=True)
    store = Store(tmp_path, "rel")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = store.runs_dir / f".a__s0.json.{dead.pid}@{HOST}.abc123.tmp"
    remote_old = store.runs_dir / ".a__s1.json.77@otherhost.abc123.tmp"
    remote_new = store.runs_dir / ".b__s0.json.78@otherhost.abc123.tmp"
    for path in (orphan, remote_old, remote_new):
        path.write_text("{half a rec")
    os.utime(remote_old, (time.time() - 3600, time.time() - 3600))
    mine = temp_file_of_this_process(store.runs_dir / "b__s1.json")  # a live writer's temp file
    (store.work_dir("b__s1") / "history.csv").write_text("epoch\n")  # workdir of a finished run
    unfinished = store.work_dir("zz__s0")
    unfinished.mkdir(parents=True)
    removed = {p.name for p in store.clean(max_age=60)}
    assert {orphan.name, remote_old.name, "b__s1"} <= removed and "zz__s0" not in removed
    assert remote_new.exists() and mine.exists() and unfinished.exists()


def test_process_pool_executor_trains_each_run_once(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "numpy")  # workers import cnnkit.train.config (and so keras), not TensorFlow
    log = tmp_path / "calls.log"
    results = run_experiment(grid(), root=tmp_path, train_fn=numpy_train, train_kwargs={"log": str(log)},
                             executor="process", workers=1, progress=False)  # one worker: each costs a keras import
    assert sorted(calls_of(log)) == ["a__s0", "a__s1", "b__s0", "b__s1"]
    assert os.getpid() not in {json.loads(line)["pid"] for line in log.read_text().splitlines()}
    assert set(results.runs()["status"]) == {"done"}
    local = run_experiment(grid(), root=tmp_path / "local", train_fn=numpy_train, progress=False).runs()
    assert results.runs().drop(columns="wall_time").equals(local.drop(columns="wall_time"))


def test_bad_executor_arguments():
    with pytest.raises(ValueError, match="'bogus' is unknown"):
        run_experiment(grid(), root="unused", executor="bogus")
    with pytest.raises(ValueError, match="workers=2 applies to executor='process' only"):
        run_experiment(grid(), root="unused", workers=2)
    with pytest.raises(ValueError, match="no map"):
        run_experiment(grid(), root="unused", executor=object())


def test_each_runner_writes_and_deletes_its_own_write_probe(tmp_path, monkeypatch):
    """Runners starting together on one store must not delete each other's probe (a shared name did:
    the concurrent-runner fault test saw one runner fail with 'No such file or directory')."""
    written, real = [], store_mod.atomic_write_bytes

    def write(path, data):
        written.append(path)
        (path.parent / f".write-probe.{os.getpid() + 1}@{HOST}").write_bytes(b"another runner's probe\n")
        return real(path, data)

    monkeypatch.setattr(store_mod, "atomic_write_bytes", write)
    Store(tmp_path, "ex").check_writable()
    assert [p.name for p in written] == [f".write-probe.{os.getpid()}@{HOST}"] and not written[0].exists()
    assert (written[0].parent / f".write-probe.{os.getpid() + 1}@{HOST}").exists()  # the other's is left alone
