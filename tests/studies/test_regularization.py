"""Study logic behind notebook 07 (regularisation): grid, L1 through the config, clean training error, rows."""

import math
import types

import keras
import numpy as np
import pandas as pd
import pytest
from study_frames import history_frame, runs_frame

from cnnkit.data import augment_batch, load_arrays
from cnnkit.studies import regularization as reg
from cnnkit.train.config import RunConfig
from cnnkit.train.optimizers import decay_variables


# --- the grid ----------------------------------------------------------------------------------

def test_experiment_adds_one_regulariser_per_variant():
    exp = reg.experiment(reg.Params(variants=reg.VARIANTS, seeds=(0, 1), dropout=0.4, l2=1e-3, l1=1e-5, subset=100,
                                    iterations=40, log_every=10))
    assert list(exp.variants) == [*reg.VARIANTS, "linear"]
    specs = {s.run_id: s.config for s in exp.runs()}  # every config checked by RunConfig
    assert len(specs) == 18
    none = specs["none__s0"]
    assert none["model"] == "lenet5" and none["weight_decay"] == 0.0 and none["augment"] == "none"
    # 40 iterations logged every 10, the rate ÷10 at 50 % and 75 % of them (budget-aware), AlexNet's batch
    assert (none["epochs"], none["steps_per_epoch"], none["schedule"], none["batch_size"]) == (4, 10, "step", 128)
    floor = specs["linear__s1"]  # the floor: the linear model, everything else the baseline's
    assert (floor["model"], floor["model_options"]) == ("linear", {})
    assert {k for k in floor if floor[k] != specs["none__s1"].get(k)} == {"model", "model_options"}
    assert none["model_options"] == {"activation": "relu", "pooling": "max", "norm": None, "dropout": 0.0, "width": 1.0}
    assert specs["dropout__s1"]["model_options"]["dropout"] == 0.4 and specs["dropout__s1"]["seed"] == 1
    assert (specs["l2__s0"]["weight_decay"], specs["l2__s0"].get("weight_decay_kind", "l2")) == (1e-3, "l2")
    assert (specs["l1__s0"]["weight_decay"], specs["l1__s0"]["weight_decay_kind"]) == (1e-5, "l1")
    assert specs["batch_norm__s0"]["model_options"]["norm"] == "batch"
    assert [specs[f"aug_{a}__s0"]["augment"] for a in ("resnet_cifar", "alexnet", "alexnet_no_pca")] == \
        ["resnet_cifar", "alexnet", "alexnet_no_pca"]
    # everything else is the baseline's
    for run_id, config in ((r, c) for r, c in specs.items() if not r.startswith("linear")):
        differing = {k for k in config if config[k] != specs[f"none__s{run_id[-1]}"].get(k)}
        assert differing <= {"model_options", "weight_decay", "weight_decay_kind", "augment"}


@pytest.mark.parametrize("variants", [["dropout", "l2"], ["none"], ["none", "none", "l2"], ["none", "l3"]])
def test_params_reject_bad_variants(variants):
    with pytest.raises(ValueError, match="must include the baseline 'none'"):
        reg.Params(variants=variants)


def test_params_reject_a_target_outside_0_1():
    with pytest.raises(ValueError, match="target_error is a training error in \\(0, 1\\)"):
        reg.Params(target_error=1.5)


def test_params_reject_iterations_that_do_not_fill_the_log_intervals():
    with pytest.raises(ValueError, match="iterations=50 must be a positive multiple of log_every=20"):
        reg.Params(iterations=50)


def test_variant_overrides():
    assert reg.variant_overrides("none") == {}
    assert reg.variant_overrides("l1", reg.Params(l1=3e-4)) == {"weight_decay": 3e-4, "weight_decay_kind": "l1"}
    assert reg.variant_overrides("aug_resnet_cifar") == {"augment": "resnet_cifar"}
    with pytest.raises(ValueError, match="unknown variant 'aug_mixup'"):
        reg.variant_overrides("aug_mixup")


# --- L1 through RunConfig and fit, and the clean training error --------------------------------

def test_weight_decay_kind_is_checked():
    assert RunConfig(weight_decay_kind="l1").weight_decay_kind == "l1"
    with pytest.raises(ValueError, match="weight_decay_kind='l3'"):
        RunConfig(weight_decay_kind="l3")
    with pytest.raises(ValueError, match="adamw"):
        RunConfig(optimizer="adamw", weight_decay_kind="l1")


class _Regularizers(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seen = [v.regularizer for v in decay_variables(self.model)]


def test_fit_with_train_error_applies_l1_and_measures_the_training_split():
    spy = _Regularizers()
    config = RunConfig(model="lenet5", model_options=reg.MODEL_OPTIONS, subset=40, batch_size=8, epochs=1,
                       recipe="alexnet", schedule="constant", weight_decay=1e-3, weight_decay_kind="l1",
                       augment="alexnet")
    result = reg.fit_with_train_error(config, verbose=0, callbacks=[spy])
    assert result.status == "done", result.message
    assert len(spy.seen) == 5 and all(isinstance(r, keras.regularizers.L1) for r in spy.seen)
    assert float(keras.ops.convert_to_numpy(spy.seen[0].l1)) == pytest.approx(1e-3)
    n = len(load_arrays("fashion_mnist", "train", subset=40)[1])
    error = result.final["train_clean_error"]
    assert 0 <= error <= 1 and error * n == pytest.approx(round(error * n), abs=1e-4)  # a count of mistakes
    assert math.isfinite(result.final["train_clean_loss"]) and result.final["train_clean_loss"] > 0


def test_clean_train_error_counts_mistakes_and_cross_entropy():
    inputs = keras.Input((3,))
    network = keras.Model(inputs, keras.layers.Softmax()(inputs))  # probabilities = softmax(x)
    x = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0], [1.0, 0.0, 0.0]], "float32")
    y = np.array([0, 1, 0, 2])  # the last two are wrong
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    recorder = reg.CleanTrainError([(x[:2], y[:2]), (x[2:], y[2:])])
    assert math.isnan(recorder.values["train_clean_error"])  # nothing measured before training ends
    recorder.set_model(types.SimpleNamespace(network=network))  # cnnkit's device-data wrapper exposes .network
    recorder.on_train_end()
    assert recorder.values["train_clean_error"] == 0.5
    assert recorder.values["train_clean_loss"] == pytest.approx(-np.log(p[np.arange(4), y]).mean(), rel=1e-6)


def test_alexnet_no_pca_is_alexnet_without_the_colour_shift():
    x = np.random.default_rng(0).uniform(0.3, 0.7, size=(8, 12, 12, 1)).astype("float32")
    pca = ((0.1,), ((1.0,),))
    jittered = keras.ops.convert_to_numpy(augment_batch(x, "alexnet", seed=5, pca=pca))
    plain = keras.ops.convert_to_numpy(augment_batch(x, "alexnet_no_pca", seed=5))
    shift = (jittered - plain).reshape(8, -1)
    np.testing.assert_allclose(shift, shift[:, :1] * np.ones_like(shift), atol=1e-6)  # one shift per image
    assert np.abs(shift[:, 0]).max() > 1e-4  # and it is not zero


# --- gap and rows on hand-made runs ------------------------------------------------------------

def _runs():
    return runs_frame({
        "none": {"train_clean_error": [0.05, 0.06, 0.08], "test_error": [0.20, 0.22, 0.23],
                 "iterations_to_target": [100, 120, 110]},
        "dropout": {"train_clean_error": [0.10, 0.12, 0.11], "test_error": [0.15, 0.16, 0.17],
                    "iterations_to_target": [200, 260, None]},
        "l2": {"train_clean_error": [0.01, 0.02, 0.015], "test_error": [0.26, 0.27, 0.28],
               "iterations_to_target": [100, 100, 100]},
        "aug_alexnet": {"train_clean_error": [0.10, 0.11, 0.12], "test_error": [0.15, 0.16, 0.17],
                        "iterations_to_target": [100, 100, 100]},
        "aug_alexnet_no_pca": {"train_clean_error": [0.10, 0.10, 0.10], "test_error": [0.19, 0.23, 0.21],
                               "iterations_to_target": [100, 100, 100]},
    })


def _history():
    return history_frame({f"{v}__s{s}": 300 for v in ("none", "dropout") for s in range(3)})


def test_add_gap_and_gap_table():
    runs = reg.add_gap(_runs())
    np.testing.assert_allclose(runs.loc[runs["variant"] == "none", "gap"], [0.15, 0.16, 0.15])
    table = reg.gap_table(_runs())
    assert list(table.columns) == ["train error % (inference mode)", "test error %", "gap (test − train) %"]
    assert table.loc["aug_alexnet", "gap (test − train) %"] == "5.00 ± 0.00 (n=3)"
    assert table.loc["none", "test error %"].startswith("21.67 ± ")
    assert reg.gap_table(_runs().drop(columns="train_clean_error")).columns.tolist() == ["test error %"]


RAN = reg.Params(variants=("none", "dropout", "l2", "aug_alexnet", "aug_alexnet_no_pca"))  # the arms of _runs()


def test_summary_rows_on_hand_made_runs():
    rows = reg.summary_rows(_runs(), RAN, _history())
    by = {r.quantity: r for r in rows}
    assert [r.quantity for r in rows] == [
        "train–test gap, dropout − none", "test error, dropout − none",
        "train–test gap, l2 − none", "test error, l2 − none", "training error, l2 − none",
        "train–test gap, aug_alexnet − none", "test error, aug_alexnet − none",
        "train–test gap, aug_alexnet_no_pca − none", "test error, aug_alexnet_no_pca − none",
        "test error, PCA colour jitter on − off (crops and flips in both)",
        "iterations to the target training error, dropout − none",
        "test error, linear model (the floor)"]
    assert by["train–test gap, dropout − none"].measured.startswith("-10.33 pp")
    assert by["train–test gap, dropout − none"].verdict == "agrees" and by["train–test gap, dropout − none"].headline
    assert by["train–test gap, dropout − none"].test.startswith("one-sided paired t")
    assert by["test error, dropout − none"].verdict == "agrees"
    assert by["train–test gap, l2 − none"].verdict == "disagrees"  # l2 trained better but tested worse here
    assert by["test error, l2 − none"].verdict == "disagrees"
    assert by["training error, l2 − none"].verdict == "agrees" and "reduces the model's training" in \
        by["training error, l2 − none"].reference
    # per-seed differences −1, +1, −2 pp: the paired test cannot tell the sign, and says how many seeds would
    no_pca = by["test error, aug_alexnet_no_pca − none"]
    assert no_pca.verdict == "inconclusive" and "seeds per arm would decide" in no_pca.note
    pca = by["test error, PCA colour jitter on − off (crops and flips in both)"]
    assert pca.measured.startswith("-5.00 pp") and pca.verdict == "agrees" and pca.reference.startswith("< −1 pp")
    dropout = by["iterations to the target training error, dropout − none"]
    # a dropout run never reached the target: it counts its 300 iterations, so the ratio is a lower bound
    assert dropout.measured.startswith("+143.33 iterations") and dropout.verdict == "agrees" and dropout.headline
    assert f"dropout / none ≥ {(200 + 260 + 300) / 3 / 110:.2f}x" in dropout.note
    assert dropout.reference.startswith("> 0, ≈ 2x (Krizhevsky et al. 2012, §4.2")
    # the gaps and errors are claims about trained nets, the iterations one about speed
    assert {r.judged_at for r in rows[:-2]} == {"trained"} and dropout.judged_at == "early"
    assert rows[-1].measured == "no finished linear run" and rows[-1].verdict == "not comparable"


def test_summary_rows_skip_absent_variants_and_handle_failures():
    runs = _runs()
    only = reg.Params(variants=("none", "l2"))
    assert [r.quantity.split(",")[1].strip() for r in reg.summary_rows(runs, only, _history())[:-1]] == \
        ["l2 − none"] * 3
    failed = runs_frame({"none": {"test_error": [0.2, 0.21]}, "dropout": {"test_error": [None, None]}},
                        status={"dropout": ["failed", "failed"]})
    rows = reg.summary_rows(failed, reg.Params(variants=("none", "dropout")), history_frame({"none__s0": 90}))
    assert rows[0].measured == "no finished run of none, dropout"  # no clean training error anywhere
    assert rows[1].measured == "no finished run of dropout" and rows[-2].verdict == "inconclusive"


def test_trained_rows_wait_for_converged_runs_and_the_speed_row_does_not():
    runs = _runs()
    runs["converged"] = runs["variant"] != "none"  # the baseline never converged
    rows = {r.quantity: r for r in reg.summary_rows(runs, RAN, _history())}
    gap = rows["train–test gap, dropout − none"]
    assert gap.verdict == "not converged" and gap.converged is False and gap.measured.startswith("-10.33 pp")
    assert rows["test error, PCA colour jitter on − off (crops and flips in both)"].verdict == "agrees"
    assert rows["iterations to the target training error, dropout − none"].verdict == "agrees"


def test_trained_rows_of_an_arm_below_the_linear_floor_read_not_converged():
    runs = _runs().assign(converged=True)
    floor = runs_frame({"linear": {"test_error": [0.165, 0.165, 0.165]}}).assign(converged=True)
    rows = {r.quantity: r for r in reg.summary_rows(pd.concat([runs, floor]), RAN, _history())}
    # dropout (15-17 %) beats the floor on two seeds of three: its rows are not judged; aug_alexnet the same
    assert rows["train–test gap, dropout − none"].verdict == "not converged"
    assert rows["train–test gap, l2 − none"].verdict == "not converged"  # l2 (26-28 %) never beats it
    assert rows["test error, linear model (the floor every arm must beat)"].measured.startswith(
        "16.50 %; 4 of 15 arm runs beat it")
    assert rows["iterations to the target training error, dropout − none"].verdict == "agrees"  # speed: no floor
    lower = {r.quantity: r for r in reg.summary_rows(pd.concat([runs, floor.assign(test_error=0.5)]), RAN,
                                                     _history())}
    assert lower["train–test gap, dropout − none"].verdict == "agrees"


def test_tracks_follow_the_headline_regularisers_in_validation_error():
    tracks = reg.tracks(RAN)
    assert [(t.a, t.b, t.split, t.metric) for t in tracks] == [("none", "dropout", "val", "error"),
                                                               ("none", "aug_alexnet", "val", "error")]
    assert all(t.claim is reg.CLAIMS["test"] for t in tracks)
    assert reg.tracks(reg.Params(variants=("none", "l2"))) == []


def test_run_trains_with_the_clean_training_error(monkeypatch):
    seen = {}
    monkeypatch.setattr(reg, "run_grid", lambda exp, root, **kw: seen.update(exp=exp, root=root, **kw) or "results")
    p = reg.Params(seeds=(0,))
    assert reg.run(p, "somewhere", workers=1) == "results"
    assert seen["train_fn"] is reg.fit_with_train_error and seen["workers"] == 1
    assert seen["exp"].seeds == (0,) and list(seen["exp"].variants) == [*p.variants, "linear"]
    with pytest.raises(ValueError, match="trains with fit_with_train_error"):
        reg.run(p, "somewhere", train_fn=lambda config, **kw: None)


def test_differences_follow_the_parameters():
    table = reg.differences(reg.Params()).set_index("")
    assert table.loc["training", "here"].startswith("160 iterations of batch 128")
    assert table.loc["schedule", "here"].startswith("÷10 at 50 % and 75 % of the iterations")
    assert table.loc["weight penalties", "here"] == "not run" and table.loc["augmentation", "here"] == "alexnet"
    every = reg.differences(reg.Params(variants=reg.VARIANTS)).set_index("")
    assert every.loc["weight penalties", "here"] == "l2 0.005, l1 0.0002"
    runs = _runs().assign(converged=False)
    # the runs of the arms that p names (none, dropout, aug_alexnet), the floor left out
    assert reg.differences(reg.Params(), runs).set_index("").loc["convergence", "here"].startswith("0 of 9 runs")


def test_error_rows_leave_out_the_iterations_row_and_the_floor():
    rows = reg.summary_rows(_runs(), RAN, _history())
    kept = reg.error_rows(rows)
    assert len(kept) == len(rows) - 2 and all(r.test.endswith("α = 0.05") and "iterations" not in r.quantity
                                               for r in kept)
