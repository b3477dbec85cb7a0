"""executor="ray": one Ray task per pending run on a local Ray (``ray.init(num_cpus=2)``).

Skipped only when Ray is not installed (``pip install "cnnkit[ray]"``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from fake_train import numpy_train  # noqa: E402

from cnnkit.ablation import Experiment, RayExecutor, run_experiment  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray")]  # one local Ray, on one worker


@pytest.fixture(scope="module")
def local_ray():
    """A local 2-CPU Ray whose workers can import this folder's ``fake_train`` and skip TensorFlow."""
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "KERAS_BACKEND", "RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO")}
    os.environ["RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO"] = "0"  # silences a FutureWarning about GPU-less tasks
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parent), saved["PYTHONPATH"]]))
    os.environ["KERAS_BACKEND"] = "numpy"  # the workers build RunConfigs (cnnkit.train.config imports keras): no TF import
    try:
        ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
        yield ray
    finally:
        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_ray_tasks_train_each_run_once_into_the_shared_store(local_ray, tmp_path):
    exp = Experiment("ray", {"model": "resnet_cifar", "epochs": 1}, variants={"a": {}, "b": {"lr": 0.01}},
                     seeds=(0, 1))
    log = tmp_path / "calls.log"
    results = run_experiment(exp, root=tmp_path / "runs", train_fn=numpy_train, train_kwargs={"log": str(log)},
                             executor="ray", progress=False)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(c["run"] for c in calls) == ["a__s0", "a__s1", "b__s0", "b__s1"]
    assert os.getpid() not in {c["pid"] for c in calls}                 # trained in Ray workers
    runs = results.runs()
    assert set(runs["status"]) == {"done"}
    local = run_experiment(exp, root=tmp_path / "local", train_fn=numpy_train, progress=False).runs()
    assert runs.drop(columns="wall_time").equals(local.drop(columns="wall_time"))
    assert list((tmp_path / "runs" / "ray" / "claims").iterdir()) == []   # every claim released
    again = run_experiment(exp, root=tmp_path / "runs", train_fn=numpy_train, train_kwargs={"log": str(log)},
                           executor=RayExecutor(), progress=False)       # finished: nothing is submitted
    assert len(log.read_text().splitlines()) == 4 and len(again.runs()) == 4


def test_task_resources_follow_the_cluster(local_ray):
    assert RayExecutor().task_options(local_ray) == {"num_cpus": 1}       # no GPU in this cluster
    assert RayExecutor(num_gpus=1).task_options(local_ray) == {"num_gpus": 1}
    assert RayExecutor(num_gpus=0.5, num_cpus=4).task_options(local_ray) == {"num_gpus": 0.5, "num_cpus": 4}
