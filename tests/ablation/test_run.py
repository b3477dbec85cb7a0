"""run_experiment: skipping, resuming, sharding, failures, divergence, progress lines."""

from __future__ import annotations

import json

import pytest

from cnnkit.ablation import Experiment, Results, Store, run_experiment

BASE = {"model": "resnet_cifar", "model_options": {"depth": 20}, "epochs": 1}


def grid(seeds=(0, 1)):
    return Experiment("deg", BASE, grid={"model_options.depth": [20, 56]}, seeds=seeds)


def test_rerun_skips_done_runs(tmp_path, fake_train):
    train = fake_train()
    results = run_experiment(grid(), root=tmp_path, train_fn=train, progress=False)
    assert len(train.calls) == 4 and set(results.runs()["status"]) == {"done"}
    again = fake_train()
    run_experiment(grid(), root=tmp_path, train_fn=again, progress=False)
    assert again.calls == []
    more = fake_train()  # one more seed: only its two runs train
    run_experiment(grid(seeds=(0, 1, 2)), root=tmp_path, train_fn=more, progress=False)
    assert sorted((d, s) for d, s, _ in more.calls) == [(20, 2), (56, 2)]


def test_interrupted_run_resumes_with_its_workdir(tmp_path, fake_train):
    train = fake_train(interrupt={(56, 0)})
    with pytest.raises(KeyboardInterrupt):
        run_experiment(grid(), root=tmp_path, train_fn=train, progress=False)
    store = Store(tmp_path, "deg")
    assert store.read_run("depth=56__s0")["status"] == "running"
    first_workdir = train.calls[-1][2]
    resumed = fake_train(interrupt={(56, 0)})
    run_experiment(grid(), root=tmp_path, train_fn=resumed, progress=False)
    assert [(d, s) for d, s, _ in resumed.calls] == [(56, 0), (56, 1)]
    assert resumed.resumed == [(56, 0)] and resumed.calls[0][2] == first_workdir
    assert store.read_run("depth=56__s0")["status"] == "done"
    assert not store.work_dir("depth=56__s0").exists()  # finished: workdir removed


def test_shards_fill_one_store_like_the_full_grid(tmp_path, fake_train):
    exp = Experiment("deg", BASE, grid={"model_options.depth": [20, 32, 56]}, seeds=(0, 1, 2))
    a, b = fake_train(), fake_train()
    run_experiment(exp, root=tmp_path / "split", shard=(0, 2), train_fn=a, progress=False)
    run_experiment(exp, root=tmp_path / "split", shard=(1, 2), train_fn=b, progress=False)
    assert len(a.calls) == 5 and len(b.calls) == 4
    assert not {(d, s) for d, s, _ in a.calls} & {(d, s) for d, s, _ in b.calls}
    run_experiment(exp, root=tmp_path / "full", train_fn=fake_train(), progress=False)
    split = Results(tmp_path / "split", "deg").runs().drop(columns="wall_time")
    full = Results(tmp_path / "full", "deg").runs().drop(columns="wall_time")
    assert split.equals(full) and len(full) == 9
    with pytest.raises(ValueError, match="shard"):
        run_experiment(exp, root=tmp_path, shard=(2, 2), train_fn=fake_train(), progress=False)


def test_failed_run_is_recorded_and_grid_continues(tmp_path, fake_train, capsys):
    train = fake_train(fail={(20, 1)})
    runs = run_experiment(grid(), root=tmp_path, train_fn=train, progress=True).runs()
    assert len(train.calls) == 4
    failed = runs.set_index("run_id").loc["depth=20__s1"]
    assert failed["status"] == "failed" and failed["error"] == "RuntimeError: boom at depth 20"
    assert "RuntimeError" in Store(tmp_path, "deg").read_run("depth=20__s1")["traceback"]
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("[2/4] depth=20 seed 1: failed (RuntimeError: boom at depth 20)")
    assert out[0].startswith("[1/4] depth=20 seed 0: done, test error 0.") and out[0].endswith(" s")
    skip = fake_train()
    run_experiment(grid(), root=tmp_path, train_fn=skip, progress=False, retry_failed=False)
    assert skip.calls == []
    retry = fake_train()  # the default: a re-run trains the failed run again, and only it
    run_experiment(grid(), root=tmp_path, train_fn=retry, progress=False)
    assert [(d, s) for d, s, _ in retry.calls] == [(20, 1)]


def test_on_error_raise_records_then_raises(tmp_path, fake_train):
    with pytest.raises(RuntimeError, match="depth=20__s0"):
        run_experiment(grid(), root=tmp_path, train_fn=fake_train(fail={(20, 0)}), on_error="raise",
                       progress=False)
    assert Store(tmp_path, "deg").read_run("depth=20__s0")["status"] == "failed"


def test_diverged_run_is_a_result_not_retried(tmp_path, fake_train):
    run_experiment(grid(), root=tmp_path, train_fn=fake_train(diverge={(56, 1)}), progress=False)
    record = Store(tmp_path, "deg").read_run("depth=56__s1")
    assert record["status"] == "diverged" and record["history"][-1]["loss"] != record["history"][-1]["loss"]
    again = fake_train()
    run_experiment(grid(), root=tmp_path, train_fn=again, progress=False, retry_failed=True)
    assert again.calls == []


def test_record_fields_and_experiment_file(tmp_path, fake_train):
    run_experiment(grid(), root=tmp_path, train_fn=fake_train(), progress=False)
    rec = json.loads((tmp_path / "deg" / "runs" / "depth=56__s1.json").read_text())
    assert {"run_id", "experiment", "variant", "seed", "config", "status", "error", "history", "final",
            "wall_time", "versions", "device", "started", "finished", "schema_version"} <= set(rec)
    assert rec["config"]["optimizer"] == "momentum"  # resolved through RunConfig.resolved()
    assert rec["config"]["model_options"] == {"depth": 56} and rec["seed"] == rec["config"]["seed"] == 1
    meta = json.loads((tmp_path / "deg" / "experiment.json").read_text())
    assert meta["seeds"] == [0, 1] and meta["base"]["epochs"] == 1 and "cnnkit_version" in meta


def test_changed_base_in_same_store_is_refused(tmp_path, fake_train):
    run_experiment(grid(), root=tmp_path, train_fn=fake_train(), progress=False)
    other = Experiment("deg", {**BASE, "epochs": 2}, grid={"model_options.depth": [20]}, seeds=(0,))
    with pytest.raises(ValueError, match="another base config"):
        run_experiment(other, root=tmp_path, train_fn=fake_train(), progress=False)


def test_bad_result_from_train_fn_is_a_failure(tmp_path):
    exp = Experiment("e", BASE, seeds=(0,))
    runs = run_experiment(exp, root=tmp_path, train_fn=lambda c, workdir: {"status": "ok"}, progress=False,
                          require="nothing").runs()
    assert runs.loc[0, "status"] == "failed" and "'ok'" in runs.loc[0, "error"]


def test_failed_run_result_keeps_message_and_traceback(tmp_path):
    def train(config, workdir):  # the shape of cnnkit.train.RunResult.to_dict() for a failed run
        return {"status": "failed", "config": {}, "history": [], "final": {}, "wall_time": 0.5, "versions": {},
                "device": "cpu", "message": "ValueError: no data", "traceback": "Traceback ..."}

    run_experiment(Experiment("e", BASE, seeds=(0,)), root=tmp_path, train_fn=train, progress=False,
                   require="nothing")
    record = Store(tmp_path, "e").read_run("base__s0")
    assert (record["status"], record["error"]) == ("failed", "ValueError: no data")
    assert record["traceback"] == "Traceback ..."
    assert record["wall_time"] == 0.5
