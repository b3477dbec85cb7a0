"""Data-parallel training (cnnkit.train.distribute): lock-step replicas on two logical CPUs, and its errors.

The two-device runs happen in child processes (tests/train/distribute_child.py): TensorFlow's
logical devices and XLA's host device count must be set before the runtime starts. Both
children start at once and run while the in-process tests go on.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from cnnkit.train.config import RunConfig
from cnnkit.train import distribute
from testutil import BACKEND

CHILD = Path(__file__).with_name("distribute_child.py")
ENGINES = [pytest.param(b, marks=pytest.mark.skipif(importlib.util.find_spec(b) is None, reason=f"{b} missing"))
           for b in ("tensorflow", "jax")]


@pytest.fixture(scope="module")
def children():
    """Start one child per installed engine; yield a function that waits for an engine's JSON."""
    procs = {}
    for backend in ("tensorflow", "jax"):
        if importlib.util.find_spec(backend) is None:
            continue
        env = {**os.environ, "KERAS_BACKEND": backend, "CUDA_VISIBLE_DEVICES": "",
               "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "TF_CPP_MIN_LOG_LEVEL": "3"}
        procs[backend] = subprocess.Popen([sys.executable, str(CHILD), backend], env=env, text=True,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=CHILD.parent)
    results = {}

    def result(backend):
        if backend not in results:
            out, err = procs[backend].communicate(timeout=300)
            assert procs[backend].returncode == 0, err[-3000:]
            results[backend] = json.loads(out.strip().splitlines()[-1])
        return results[backend]

    yield result
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize("engine", ENGINES)
def test_replicas_stay_in_lock_step_with_a_single_device_run(children, engine):
    r = children(engine)
    assert r["steps"] == 4  # 32 examples, global batch 8
    assert r["moved_by"] > 1e-2, "training must move the weights, else equality proves nothing"
    assert r["max_abs_diff"] <= 1e-5 * max(1.0, r["max_abs_weight"]), r


@pytest.mark.parametrize("engine", ENGINES)
def test_both_replicas_take_half_of_each_batch(children, engine):
    r = children(engine)
    traced = [s for s in r["seen_parallel"] if s[0] is not None]
    assert traced and all(s[0] == 4 for s in traced), r  # per-replica batch = 8 / 2
    if engine == "tensorflow":
        assert r["replicas_in_sync"] == 2
        assert {0, 1} <= {s[1] for s in traced}, r  # the step was traced on each replica
    else:
        assert r["mesh_devices"] == 2
        assert all(s[1] == 2 for s in traced), r  # the batch is sharded over both devices
    assert all(s[0] == 8 for s in r["seen_single"] if s[0] is not None)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_partial_last_batch_of_one_example_is_trimmed_not_fatal(children, engine):
    status, message = children(engine)["uneven"]  # val of 9 in batches of 8: 1 example for 2 replicas
    assert status == "done", message  # untrimmed: TF fails on the empty replica, JAX cannot shard it


@pytest.mark.backend
def test_split_evenly_drops_at_most_replicas_minus_one_examples():
    import numpy as np

    two = distribute.Replicas("data_parallel", ("cpu:0", "cpu:1"), 1, lambda: None)
    x, y = np.arange(27).reshape(27, 1), np.arange(27)
    out = distribute.split_evenly({"train": (x, y), "val": (x[:26], y[:26]), "test": None, "info": "i"}, 8, two)
    assert len(out["train"][0]) == 26 and len(out["train"][1]) == 26  # 3 x 8 + 3 → 3 x 8 + 2
    assert out["val"][0] is not None and len(out["val"][0]) == 26 and out["info"] == "i"
    one = distribute.Replicas(None, ("default",), 1, lambda: None)
    assert distribute.split_evenly({"train": (x, y)}, 8, one)["train"][0] is x


# --- in-process: options and errors ---------------------------------------------------------


@pytest.mark.backend
@pytest.mark.parametrize("kind", ["multi_worker_mirrored", "MultiWorkerMirroredStrategy", "multi_worker"])
def test_multi_worker_strategy_is_refused_with_the_keras_issue(kind):
    with pytest.raises(ValueError, match="20585"):
        RunConfig(distribute=kind)


@pytest.mark.backend
@pytest.mark.parametrize("kind, options, match", [
    ("model_parallel", {}, r"distribute='model_parallel' is not valid.*data_parallel"),
    ("data_parallel", {"device": 2}, r"unknown key\(s\) \['device'\].*devices"),
    ("data_parallel", {"devices": 0}, r"devices=0"),
    ("data_parallel", {"devices": [1, 2]}, r"devices=\(1, 2\)"),
    ("data_parallel", {"num_processes": -1}, r"num_processes=-1"),
    ("data_parallel", {"multi_host": "yes"}, r"multi_host='yes'"),
    (None, {"devices": 2}, r"distribute=None"),
])
def test_bad_options_name_the_value(kind, options, match):
    with pytest.raises(ValueError, match=match):
        RunConfig(distribute=kind, distribute_options=options)


@pytest.mark.backend
def test_options_round_trip_through_the_config():
    cfg = RunConfig(distribute="data_parallel", distribute_options={"devices": 1})
    assert RunConfig.from_dict(cfg.to_dict()) == cfg
    assert distribute.check_options("data_parallel", {"devices": 1})["coordinator_address"] is None


@pytest.mark.backend
def test_one_local_device_yields_one_replica_and_restores_the_distribution():
    before = keras.distribution.distribution() if BACKEND == "jax" else None
    with distribute.data_parallel("data_parallel", {"devices": 1}, batch_size=8) as replicas:
        assert replicas.num_replicas == 1 and replicas.num_processes == 1
        with replicas.scope():
            pass
    if BACKEND == "jax":
        assert keras.distribution.distribution() is before
    with distribute.data_parallel(None) as replicas:
        assert replicas.kind is None and replicas.num_replicas == 1


@pytest.mark.backend
def test_unknown_device_names_list_the_available_ones():
    with pytest.raises(ValueError, match=r"unknown device\(s\) \['gpu:7'\]; available: \["):
        with distribute.data_parallel("data_parallel", {"devices": ["gpu:7"]}):
            pass
    with pytest.raises(ValueError, match=r"devices=99 but only \d+ device"):
        with distribute.data_parallel("data_parallel", {"devices": 99}):
            pass


@pytest.mark.backend
def test_a_batch_that_does_not_split_evenly_is_refused():
    replicas = distribute.Replicas("data_parallel", ("cpu:0", "cpu:1"), 1, lambda: None)
    with pytest.raises(ValueError, match=r"batch_size=7 does not split evenly over 2 replicas.*multiple of 2"):
        distribute._check_batch(7, replicas)
    distribute._check_batch(8, replicas)


@pytest.mark.backend
def test_multi_host_is_asked_for_by_options_or_environment(monkeypatch):
    for var in distribute._MULTI_HOST_ENV:
        monkeypatch.delenv(var, raising=False)
    assert not distribute.wants_multi_host({})
    assert distribute.wants_multi_host({"coordinator_address": "10.0.0.1:1234"})
    assert not distribute.wants_multi_host({"coordinator_address": "10.0.0.1:1234", "multi_host": False})
    monkeypatch.setenv("KERAS_DISTRIBUTION_NUM_PROCESSES", "2")
    assert distribute.wants_multi_host({})


@pytest.mark.backend
@pytest.mark.skipif(BACKEND != "tensorflow", reason="the TensorFlow backend refuses several hosts")
@pytest.mark.parametrize("env, options", [
    ({}, {"coordinator_address": "10.0.0.1:1234", "num_processes": 2, "process_id": 0}),
    ({"TF_CONFIG": json.dumps({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}})},
     {}),
])
def test_tensorflow_refuses_several_hosts(monkeypatch, env, options):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValueError, match=r"MultiWorkerMirroredStrategy.*20585.*KERAS_BACKEND=jax"):
        with distribute.data_parallel("data_parallel", options):
            pass


@pytest.mark.backend
@pytest.mark.skipif(BACKEND != "jax", reason="multi-host runs go through jax.distributed")
def test_jax_multi_host_passes_the_coordinator_to_keras(monkeypatch):
    calls = []
    monkeypatch.setattr(keras.distribution, "initialize", lambda *args: calls.append(args))
    monkeypatch.setattr(distribute, "_initialized", False)
    options = {"coordinator_address": "10.0.0.1:1234", "num_processes": 2, "process_id": 1}
    assert distribute.initialize(options) and distribute.initialize(options)
    assert calls == [("10.0.0.1:1234", 2, 1)]  # once per process
