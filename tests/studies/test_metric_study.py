"""Notebook 13's study: PCA, evaluation on hand-made embeddings, sampling balance, training loop, rows.

The contrastive and triplet losses themselves are checked by hand in tests/models/test_metric.py.
"""

import math

import keras
import numpy as np
import pandas as pd
import pytest
from testutil import CountEpochs, InterruptAtEpoch

from cnnkit._status import DIVERGED, DONE
from cnnkit.studies import metric as study

T95_DF2 = 2.919985580355516  # Student's t, 0.95 quantile, 2 degrees of freedom


def clusters(n_per_class: int = 10, classes: int = 3, spread: float = 0.01, seed: int = 0):
    """Embeddings in tight, far-apart clusters: one per class, centred at 10·e_c."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(classes), n_per_class)
    return np.eye(classes)[labels] * 10 + rng.normal(0, spread, (len(labels), classes)), labels


def test_pca_by_hand():
    # points on the line y = 2x: one component carries all the variance, distances are kept
    t = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    x = np.stack([t, 2 * t], axis=1) + [3.0, 1.0]
    proj, ratio = study.pca(x, 2)
    np.testing.assert_allclose(ratio, [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(np.abs(proj[:, 0]), np.abs(t) * math.sqrt(5))
    np.testing.assert_allclose(proj[:, 1], 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="components"):
        study.pca(x, 3)


def test_tsne_without_sklearn_is_skipped_with_a_note(capsys, monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    assert study.tsne(np.zeros((5, 2))) is None
    assert "scikit-learn is not installed" in capsys.readouterr().out


def test_evaluate_separated_clusters_is_perfect():
    emb, labels = clusters()
    out = study.evaluate((emb, labels), (emb, labels), pairs=40)
    assert out["val_verification_accuracy"] == out["test_verification_accuracy"] == 1.0
    assert out["recall_at_1"] == out["recall_at_5"] == 1.0
    assert 0.0 < out["threshold"] < 10 * math.sqrt(2)  # between the within- and between-class distances


def test_evaluate_by_hand_on_a_line():
    # class 0 at 0 and 1, class 1 at 1.5 and 10. Nearest neighbours: 0→1 hit, 1→1.5 miss, 1.5→1 miss,
    # 10→1.5 hit. Two nearest: 0→{1, 1.5} hit, 1→{1.5, 0} hit, 1.5→{1, 0} miss, 10→{1.5, 1} hit.
    emb, labels = np.array([[0.0], [1.0], [1.5], [10.0]]), np.array([0, 0, 1, 1])
    out = study.evaluate((emb, labels), (emb, labels), pairs=8, ks=(1, 2))
    assert (out["recall_at_1"], out["recall_at_2"]) == (0.5, 0.75)
    d, same = study.pair_distances(emb, labels, 8, study.EVAL_SEEDS["test"])
    assert out["test_verification_accuracy"] == np.mean((d <= out["threshold"]) == same.astype(bool))


def test_pair_sampling_is_balanced_and_seeded():
    labels = np.repeat(np.arange(4), 25)
    d, same = study.pair_distances(np.arange(100.0)[:, None], labels, 101, seed=7)
    assert same.sum() == 51 and len(same) == 101  # half, rounded up
    d2, same2 = study.pair_distances(np.arange(100.0)[:, None], labels, 101, seed=7)
    np.testing.assert_array_equal(d, d2) and np.testing.assert_array_equal(same, same2)
    x = np.arange(100)  # "images" that are their own index
    (xa, xb), target = study.sample_inputs("siamese", x, labels, 40, seed=1)
    assert target.sum() == 20 and np.all((labels[xa] == labels[xb]) == target.astype(bool))
    (a, p, n), target = study.sample_inputs("triplet", x, labels, 30, seed=1)
    assert np.all(labels[a] == labels[p]) and np.all(labels[a] != labels[n]) and np.all(a != p)
    assert not target.any()
    with pytest.raises(ValueError, match="'pairs'"):
        study.sample_inputs("pairs", x, labels, 4, seed=0)


def test_vs_baseline_row_matches_a_hand_computed_interval():
    frame = pd.DataFrame({"variant": "siamese", "seed": [0, 1, 2], "status": DONE, "recall_at_1": [0.8, 0.82, 0.84]})
    claim = study.CLAIMS["recall_at_1"]
    row = study._vs_baseline_row(frame, "siamese", "recall_at_1", 0.7, claim, quantity="q", reference="r")
    half = T95_DF2 * 0.02 / math.sqrt(3)  # one-sided 5 % test: the 90 % interval; sample std of (0.80, 0.82, 0.84) is 0.02
    assert row.measured.startswith(f"+12.00 pp [90 % CI {100 * (0.12 - half):+.2f}, {100 * (0.12 + half):+.2f}], p = ")
    assert row.measured.endswith("(n = 3)") and row.verdict == "agrees"
    assert row.test == "one-sided paired t, H1: diff > 0, α = 0.05"
    above = study._vs_baseline_row(frame, "siamese", "recall_at_1", 0.9, claim, quantity="q", reference="r")
    near = study._vs_baseline_row(frame, "siamese", "recall_at_1", 0.815, claim, quantity="q", reference="r")
    missing = study._vs_baseline_row(frame, "triplet", "recall_at_1", 0.9, claim, quantity="q", reference="r")
    assert (above.verdict, near.verdict, missing.verdict) == ("disagrees", "inconclusive", "inconclusive")
    assert missing.measured == "no finished run of triplet" and "seeds per arm would decide" in near.note


def _frame(status=DONE, converged=True):
    return pd.DataFrame({"variant": ["siamese"] * 2 + ["triplet"] * 2, "seed": [0, 1, 0, 1], "status": status,
                         "recall_at_1": [0.8, 0.81, 0.9, 0.91], "recall_at_5": [0.9, 0.91, 0.95, 0.96],
                         "test_verification_accuracy": [0.85, 0.86, 0.88, 0.89], "converged": converged})


PIXELS = {"recall_at_1": 0.5, "test_verification_accuracy": 0.5}


def test_summary_rows_structure():
    rows = study.summary_rows(_frame(), study.Params(), PIXELS)
    assert [r.quantity for r in rows[:4]] == ["verification accuracy, siamese − pixels", "recall@1, siamese − pixels",
                                              "verification accuracy, triplet − pixels", "recall@1, triplet − pixels"]
    assert [r.verdict for r in rows[:4]] == ["agrees"] * 4 and [r.headline for r in rows[:4]] == [True, False] * 2
    assert {(r.judged_at, r.converged) for r in rows[:4]} == {("trained", True)}
    assert rows[-2].measured == "50.00 %" and all(r.verdict == "not comparable" for r in rows[4:])


def test_summary_rows_count_diverged_runs_and_do_not_judge_unconverged_ones():
    diverged = study.summary_rows(_frame(status=[DONE, DIVERGED, DONE, DONE]), study.Params(), PIXELS)
    assert diverged[0].measured.endswith("(n = 2)")  # a diverged run is a result, as in every study
    rows = study.summary_rows(_frame(converged=False), study.Params(), PIXELS)
    assert [r.verdict for r in rows[:4]] == ["not converged"] * 4
    only = study.summary_rows(_frame(), study.Params(models=("triplet",)), PIXELS)
    assert [r.quantity for r in only[:2]] == ["verification accuracy, triplet − pixels", "recall@1, triplet − pixels"]


def test_differences_follow_the_parameters():
    from cnnkit.studies import resolve

    table = study.differences(resolve(study, "paper"), _frame(converged=[True, False, True, True])).set_index("")
    assert table.loc["embedding", "here"] == "64-d, L2-normalised"
    assert table.loc["margins", "here"] == "contrastive 1, triplet 0.2"
    assert table.loc["convergence", "here"].startswith("3 of 4 runs converged")
    assert "loss changing < 2 %" in table.loc["convergence", "here"]  # the loss measure: no error metric here
    assert "resumed run" in table.loc["pairs and triplets", "here"]
    assert "cosine" in table.loc["learning-rate schedule", "here"]
    assert "no linear model" in table.loc["floor", "here"]


def test_every_run_logs_enough_points_and_decays_its_rate():
    from cnnkit.studies import resolve
    from cnnkit.train.config import RunConfig

    quick, long = study.Params(), resolve(study, "long")
    assert quick.epochs >= 6 and long.epochs >= 6  # one logged point per epoch: two in the last quarter
    assert long.epochs * long.steps_per_epoch >= 4 * quick.epochs * quick.steps_per_epoch
    cfg = RunConfig.from_dict(study.experiment(quick).config("triplet", 0)).resolved()
    assert cfg.schedule == "cosine" and cfg.epochs == quick.epochs  # annealed to zero at the run's last iteration


def test_validation_pairs_are_as_many_as_an_epochs_training_pairs(monkeypatch):
    import cnnkit.train

    seen = {}
    monkeypatch.setattr(cnnkit.train, "fit", lambda cfg, **kw: seen.update(kw["data"]))
    study.fit_metric({**TINY, "steps_per_epoch": 1})  # 16 training pairs an epoch, 9 validation images
    assert (seen["train"].n, seen["val"].n) == (16, 9)  # at most one pair per validation image
    study.fit_metric({**TINY, "batch_size": 4, "steps_per_epoch": 1})  # 4 training pairs an epoch
    assert (seen["train"].n, seen["val"].n) == (4, 4)


def test_experiment_and_a_tiny_training_run(tmp_path):
    from cnnkit.ablation import run_experiment

    p = study.Params(seeds=(0,), subset=60, epochs=1, batch_size=16, embedding_dim=4, steps_per_epoch=2,
                     backbone=None, dataset="synthetic", data_options={"image_shape": (8, 8, 1), "num_classes": 3,
                                                                       "train_size": 90, "test_size": 30})
    assert list(study.experiment(p).variants) == ["siamese", "triplet"]
    with pytest.raises(ValueError, match="fit_metric"):
        study.run(p, str(tmp_path / "runs"), train_fn=run_experiment)
    results = study.run(p, str(tmp_path / "runs"), workers=1, embeddings_dir=str(tmp_path / "emb"), progress=False,
                        on_error="raise")  # trains with fit_metric without being told
    runs = results.runs()
    assert list(runs["status"]) == [DONE, DONE]
    scores = runs[["recall_at_1", "recall_at_5", "test_verification_accuracy"]].to_numpy()
    assert ((scores >= 0) & (scores <= 1)).all()
    emb, labels = study.load_embeddings(str(tmp_path / "emb"), "triplet__s0")
    assert emb.shape == (len(labels), 4)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-4)  # L2-normalised embeddings
    history = results.history()
    assert {("train", "loss"), ("val", "loss")} <= set(zip(history["split"], history["metric"]))
    with pytest.raises(ValueError, match="no embeddings"):
        study.load_embeddings(str(tmp_path / "emb"), "missing")
    pixels = (np.random.default_rng(0).normal(size=(len(labels), 8, 8, 1)), labels)
    panels = study.embedding_panels(runs, str(tmp_path / "emb"), pixels=pixels)
    assert [t.split(" (")[0] for t in panels] == ["raw pixels", "siamese", "triplet"]
    assert all(p.shape == (len(labels), 2) and (lab == labels).all() for p, lab in panels.values())
    gone = runs.assign(run_id=["siamese__s9", runs["run_id"].iloc[1]], status=[DIVERGED, DONE])  # saved none
    assert [t.split(" (")[0] for t in study.embedding_panels(gone, str(tmp_path / "emb"))] == ["triplet"]
    fig = study.plot_embeddings(panels, ["a", "b", "c"])
    assert len(fig.axes) == 3


# --- training goes through cnnkit.train.fit ---------------------------------------------------

TINY = dict(model="siamese", dataset="synthetic", subset=60, batch_size=16, epochs=1, steps_per_epoch=1,
            data_options={"image_shape": (8, 8, 1), "num_classes": 3, "train_size": 90, "test_size": 30},
            model_options={"embedding_dim": 4, "backbone": None}, recipe="adam", jit_compile=False)


class _Weights(keras.callbacks.Callback):
    """Keeps the embedding net's dense kernel and bias before and after training."""

    def _dense(self):
        layer = self.model.get_layer("embedding").get_layer("dense")
        return [np.array(keras.ops.convert_to_numpy(v)) for v in (layer.kernel, layer.bias)]

    def on_train_begin(self, logs=None):
        self.before = self._dense()

    def on_train_end(self, logs=None):
        self.after = self._dense()


def test_metric_training_uses_decoupled_adamw():
    # One AdamW step with and without decay from the same weights and batch: the gradient (Adam)
    # part is the same, so the kernels differ by exactly lr·wd·w0 and the biases (not decayed) not at all.
    # Coupled L2 would enter the gradient instead, which Adam's first step normalises away.
    runs = {}
    for wd in (0.0, 0.1):
        keep = _Weights()
        result = study.fit_metric({**TINY, "optimizer": "adamw", "lr": 0.01, "weight_decay": wd,
                                   "schedule": "constant"}, callbacks=[keep])
        assert result.status == "done", result.traceback
        runs[wd] = keep
    (k0, b0), (k_plain, b_plain), (k_decay, b_decay) = runs[0.1].before, runs[0.0].after, runs[0.1].after
    np.testing.assert_array_equal(runs[0.0].before[0], k0)  # the same initial weights
    np.testing.assert_allclose(k_plain - k_decay, 0.01 * 0.1 * k0, rtol=1e-3, atol=1e-8)
    np.testing.assert_array_equal(b_plain, b_decay)
    assert not np.allclose(k_plain, k0)  # the gradient step itself moved the kernel


def test_metric_run_resumes_from_its_workdir(tmp_path):
    cfg = {**TINY, "model": "triplet", "epochs": 2, "steps_per_epoch": 2}
    with pytest.raises(KeyboardInterrupt):
        study.fit_metric(cfg, workdir=str(tmp_path), callbacks=[InterruptAtEpoch(1)])
    assert (tmp_path / "backup" / "training_metadata.json").exists()
    count = CountEpochs()
    result = study.fit_metric(cfg, workdir=str(tmp_path), callbacks=[count])
    assert result.status == "done", result.traceback
    assert count.epochs == [1]  # only the second epoch was trained again
    assert [h["step"] for h in result.history] == [2, 4]  # optimizer iterations were restored
    assert all(math.isfinite(h["loss"]) and math.isfinite(h["val_loss"]) for h in result.history)
    assert 0 <= result.final["recall_at_1"] <= 1 and (tmp_path / "result.json").exists()
    assert "test_error" not in result.final and "train_accuracy" not in result.final  # no classifier columns


def test_fresh_samples_draw_new_examples_each_epoch():
    x, labels = np.arange(60), np.repeat(np.arange(3), 20)
    train = study.FreshSamples("siamese", x, labels, 40, 16, lambda e: 7 * 1000 + e)
    assert len(train) == 3 and [len(train[i][1]) for i in range(3)] == [16, 16, 8]
    first = np.concatenate([train[i][0][0] for i in range(3)])
    np.testing.assert_array_equal(first, study.sample_inputs("siamese", x, labels, 40, 7000)[0][0])
    train.on_epoch_end()
    second = np.concatenate([train[i][0][0] for i in range(3)])
    np.testing.assert_array_equal(second, study.sample_inputs("siamese", x, labels, 40, 7001)[0][0])
    assert not np.array_equal(first, second)
