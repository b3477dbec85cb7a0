"""Results: the runs frame and the tidy history frame."""

from __future__ import annotations

import pytest

from cnnkit.ablation import Experiment, run_experiment, split_metric

BASE = {"model": "resnet_cifar", "model_options": {"depth": 20}, "epochs": 1}


@pytest.fixture
def results(tmp_path, fake_train):
    exp = Experiment("deg", BASE, grid={"model_options.depth": [20, 56], "model_options.plain": [True, False]},
                     seeds=(0, 1))
    return run_experiment(exp, root=tmp_path, train_fn=fake_train(epochs=3), progress=False)


def test_runs_frame_has_one_row_per_run_with_final_and_varied_keys(results):
    runs = results.runs()
    assert len(runs) == 8
    assert list(runs.columns[:7]) == ["experiment", "run_id", "variant", "seed", "status", "error", "wall_time"]
    assert {"train_error", "test_error", "params", "model_options.depth", "model_options.plain"} <= set(runs.columns)
    row = runs.set_index("run_id").loc["depth=56,plain=True__s1"]
    assert row["model_options.depth"] == 56 and bool(row["model_options.plain"]) is True
    assert row["params"] == 56000
    assert list(runs["seed"][:2]) == [0, 1] and runs["variant"].iloc[0] == "depth=20,plain=True"


def test_history_is_tidy(results):
    history = results.history()
    assert list(history.columns) == ["experiment", "run_id", "variant", "seed", "epoch", "step",
                                     "split", "metric", "value"]
    # per epoch: loss/accuracy/error/lr/images_per_sec/epoch_time (train), val loss/accuracy/error, test error
    assert len(history) == 8 * 3 * 10
    assert not history.duplicated(["run_id", "epoch", "split", "metric"]).any()
    one = history[(history.run_id == "depth=20,plain=False__s0") & (history.metric == "error")]
    assert sorted(one.split.unique()) == ["test", "train", "val"]
    record = results.store.read_run("depth=20,plain=False__s0")
    assert one[(one.split == "val") & (one.epoch == 2)].value.item() == record["history"][1]["val_error"]


def test_config_and_split_metric(results):
    assert results.config("depth=56,plain=False__s0")["model_options"] == {"depth": 56, "plain": False}
    with pytest.raises(ValueError, match="no readable run"):
        results.config("missing")
    assert split_metric("val_loss") == ("val", "loss")
    assert split_metric("test_accuracy") == ("test", "accuracy")
    assert split_metric("images_per_sec") == ("train", "images_per_sec")


def test_varied_model_option_left_at_default_shows_the_builder_default(tmp_path, fake_train):
    exp = Experiment("v", BASE, variants={"plain": {"model_options.plain": True}, "residual": {}}, seeds=(0,))
    runs = run_experiment(exp, root=tmp_path, train_fn=fake_train(), progress=False).runs()
    assert runs.set_index("variant")["model_options.plain"].to_dict() == {"plain": True, "residual": False}
