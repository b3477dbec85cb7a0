"""Store: atomic writes, corrupt records, schema versions."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from cnnkit.ablation import Experiment, Results, SchemaError, Store, run_experiment
from cnnkit.ablation.store import atomic_write_json

BASE = {"model": "resnet_cifar", "model_options": {"depth": 20}, "epochs": 1}


def test_atomic_write_leaves_no_temp_files(tmp_path, monkeypatch):
    path = atomic_write_json(tmp_path / "a" / "x.json", {"v": np.float32(0.5), "n": np.int64(3), "nan": float("nan")})
    data = json.loads(path.read_text())
    assert data["v"] == 0.5 and data["n"] == 3 and data["nan"] != data["nan"]
    assert os.listdir(tmp_path / "a") == ["x.json"]

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        atomic_write_json(path, {"v": 2})
    assert os.listdir(tmp_path / "a") == ["x.json"] and json.loads(path.read_text())["v"] == 0.5


def test_whole_run_leaves_no_temp_files(tmp_path, fake_train):
    run_experiment(Experiment("e", BASE, seeds=(0, 1)), root=tmp_path, train_fn=fake_train(), progress=False)
    names = [p.name for p in (tmp_path / "e").rglob("*")]
    assert not [n for n in names if n.endswith(".tmp")]
    assert sorted(names) == ["base__s0.json", "base__s1.json", "claims", "experiment.json", "runs", "work"]


def test_corrupt_record_is_reported_with_path_and_rerun(tmp_path, fake_train):
    exp = Experiment("e", BASE, seeds=(0, 1))
    run_experiment(exp, root=tmp_path, train_fn=fake_train(), progress=False)
    bad = tmp_path / "e" / "runs" / "base__s1.json"
    bad.write_text(bad.read_text()[:40])  # truncated
    with pytest.warns(RuntimeWarning, match="base__s1.json"):
        runs = Results(tmp_path, "e").runs()
    assert list(runs["run_id"]) == ["base__s0"]
    train = fake_train()
    with pytest.warns(RuntimeWarning, match=str(bad).replace("\\", "\\\\")):
        run_experiment(exp, root=tmp_path, train_fn=train, progress=False)
    assert [(d, s) for d, s, _ in train.calls] == [(20, 1)]
    assert json.loads(bad.read_text())["status"] == "done"


def test_other_schema_version_is_a_clear_error(tmp_path, fake_train):
    run_experiment(Experiment("e", BASE, seeds=(0,)), root=tmp_path, train_fn=fake_train(), progress=False)
    path = tmp_path / "e" / "runs" / "base__s0.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "schema_version": 0}))
    with pytest.raises(SchemaError, match="schema version 0.*another root="):
        Store(tmp_path, "e").read_run("base__s0")
    with pytest.raises(SchemaError):
        Results(tmp_path, "e").runs()


def test_missing_experiment_lists_what_is_stored(tmp_path, fake_train):
    run_experiment(Experiment("e", BASE, seeds=(0,)), root=tmp_path, train_fn=fake_train(), progress=False)
    with pytest.raises(FileNotFoundError, match=r"\['e'\]"):
        Results(tmp_path, "nope")
