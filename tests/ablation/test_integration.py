"""One end-to-end grid with the real ``cnnkit.train.fit`` on tiny synthetic data (2 variants x 2 seeds)."""

from __future__ import annotations

import keras
import pytest

from cnnkit.ablation import Experiment, run_experiment, summarize


@pytest.mark.slow
def test_grid_with_real_fit(tmp_path):
    from cnnkit.train import fit

    calls = []

    def train(config, **kwargs):
        calls.append(config.seed)
        return fit(config, **kwargs)

    base = {"model": "resnet_cifar", "model_options": {"depth": 8, "width": 4}, "dataset": "synthetic",
            "subset": 64, "resolution": 8, "epochs": 1, "batch_size": 32, "jit_compile": False}
    exp = Experiment("it", base, variants={"plain": {"model_options.plain": True}, "residual": {}}, seeds=(0, 1))
    kwargs = {"verbose": 0}
    results = run_experiment(exp, root=tmp_path, train_fn=train, train_kwargs=kwargs, progress=False)
    runs = results.runs()
    assert list(runs["status"]) == ["done"] * 4, runs["error"].tolist()
    assert runs["test_error"].between(0, 1).all() and (runs["params"] > 0).all()
    history = results.history()
    assert set(history["epoch"]) == {1} and {"train", "val"} <= set(history["split"])
    assert len(summarize(runs, "test_error")) == 2
    assert results.config("plain__s1")["optimizer"] == "momentum"
    run_experiment(exp, root=tmp_path, train_fn=train, train_kwargs=kwargs, progress=False)
    assert len(calls) == 4
    keras.backend.clear_session()
