"""A run's numbers do not depend on its neighbours: trained alone or inside a grid, after other runs in the same
process (as a lane trains a notebook's grid in its kernel), the same seed gives the same history."""

from __future__ import annotations

import pytest

from cnnkit.ablation import Experiment, run_experiment

BASE = {"model": "resnet_cifar", "model_options": {"depth": 8, "width": 4}, "dataset": "synthetic", "subset": 64,
        "eval_subset": 32, "resolution": 8, "epochs": 3, "steps_per_epoch": 2, "batch_size": 16,
        "bn_momentum": 0.9, "jit_compile": False}
TIMES = ("images_per_sec", "epoch_time")


def history(results, run_id):
    record = next(r for r in results.records() if r["run_id"] == run_id)
    return [{k: v for k, v in row.items() if k not in TIMES} for row in record["history"]]


@pytest.mark.slow
def test_a_run_alone_and_after_others_in_the_same_process_has_the_same_history(tmp_path):
    variants = {"wide": {"model_options.width": 8}, "plain": {"model_options.plain": True}, "target": {}}
    grid = run_experiment(Experiment("grid", BASE, variants=variants, seeds=(0, 1)), root=tmp_path / "grid",
                          executor="local", progress=False)
    alone = run_experiment(Experiment("alone", BASE, variants={"target": {}}, seeds=(1,)), root=tmp_path / "alone",
                           executor="local", progress=False)
    trained_last = history(grid, "target__s1")  # after five other runs in this process
    assert trained_last == history(alone, "target__s1")
    assert trained_last != history(grid, "target__s0")  # the seed matters: the check can fail
