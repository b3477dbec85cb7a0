"""The studies behind notebooks 01–03: verdicts, tables and experiment grids, on hand-made run frames."""

import math

import numpy as np
import pandas as pd
import pytest
from study_frames import runs_frame

from cnnkit.studies import activations, conclusion, depth, diff_row, interval_verdict, lrn, pp

T975_DF4 = 2.7764451051977987  # Student's t, 0.975 quantile, 4 degrees of freedom (tables)


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's per-test ``clear_session``: these tests build no model (it cost ~1.5 s each)."""
    yield


def history_frame(steps: dict[str, int], errors: dict[str, list] | None = None, epochs: int = 3) -> pd.DataFrame:
    """A frame shaped like Results.history(): run ``run_id`` trained ``steps[run_id]`` iterations in
    ``epochs`` epochs with training error ``errors[run_id][epoch - 1]`` (default 0.5)."""
    rows = [("x", run_id, run_id.split("__")[0], 0, e, total * e // epochs, "train", "error",
             (errors or {}).get(run_id, [0.5] * epochs)[e - 1])
            for run_id, total in steps.items() for e in range(1, epochs + 1)]
    return pd.DataFrame(rows, columns=["experiment", "run_id", "variant", "seed", "epoch", "step", "split", "metric",
                                       "value"])


# --- verdicts and rows ------------------------------------------------------------------------

@pytest.mark.parametrize("low, high, expect, verdict", [
    (0.01, 0.03, "positive", "agrees"),
    (-0.03, -0.01, "positive", "disagrees"),
    (-0.01, 0.03, "positive", "inconclusive"),
    (0.0, 0.03, "positive", "inconclusive"),        # touching zero is not excluding it
    (-0.03, -0.01, "negative", "agrees"),
    (0.01, 0.03, "negative", "disagrees"),
    (math.nan, math.nan, "positive", "inconclusive"),  # one seed: no interval
])
def test_interval_verdict(low, high, expect, verdict):
    assert interval_verdict(low, high, expect) == verdict


def test_interval_verdict_rejects_bad_direction():
    with pytest.raises(ValueError, match="'up'"):
        interval_verdict(0.1, 0.2, "up")


def test_diff_row_matches_a_hand_computed_welch_interval():
    runs = runs_frame({"a": {"test_error": [0.10, 0.11, 0.12]}, "b": {"test_error": [0.20, 0.21, 0.22]}})
    # equal variances 1e-4, n=3 each: Welch df = 4, half-width t(4) * sqrt(1e-4/3 + 1e-4/3)
    half = T975_DF4 * math.sqrt(2e-4 / 3)
    row = diff_row(runs, "a", "b", "test_error", quantity="q", reference="r", expect="positive", note="n")
    assert row.measured == f"+10.00 pp [95 % CI {100 * (0.1 - half):+.2f} pp, {100 * (0.1 + half):+.2f} pp] (n=3+3)"
    assert row.measured == "+10.00 pp [95 % CI +7.73 pp, +12.27 pp] (n=3+3)"
    assert (row.quantity, row.reference, row.verdict, row.note) == ("q", "r", "agrees", "n")
    assert diff_row(runs, "a", "b", "test_error", quantity="q", reference="r", expect="negative").verdict == "disagrees"


def test_diff_row_with_one_seed_has_no_interval_and_no_verdict():
    runs = runs_frame({"a": {"test_error": [0.10]}, "b": {"test_error": [0.30]}})
    row = diff_row(runs, "a", "b", "test_error", quantity="q", reference="r", expect="positive")
    assert (row.measured, row.verdict) == ("+20.00 pp (n=1+1)", "inconclusive")


def test_diff_row_says_when_a_variant_has_no_finished_run():
    runs = runs_frame({"a": {"test_error": [0.1, 0.2]}, "b": {"test_error": [None, None]}},
                      status={"b": ["failed", "failed"]})
    row = diff_row(runs, "a", "b", "test_error", quantity="q", reference="r", expect="positive")
    assert (row.measured, row.verdict) == ("no finished run of b", "inconclusive")


def test_pp_and_conclusion():
    assert pp(0.021) == "+2.10 pp" and pp(-0.5) == "-50.00 pp" and pp(math.nan) == "n/a"
    runs = runs_frame({"a": {"e": [0.1, 0.11, 0.12]}, "b": {"e": [0.2, 0.21, 0.22]}})
    rows = [diff_row(runs, "a", "b", "e", quantity="q", reference="r", expect=e) for e in ("positive", "negative")]
    assert conclusion(rows).startswith("Of 2 rows, 1 agree with the paper, 1 disagree and 0 are inconclusive")


# --- 01 depth ------------------------------------------------------------------------------------

def depth_runs(plain_20, plain_56, resnet_20, resnet_56, depths=(20, 56)):
    """Train and test errors per seed; the test error is the train error + 0.03."""
    s, d = depths
    values = {f"plain-{s}": plain_20, f"plain-{d}": plain_56, f"resnet-{s}": resnet_20, f"resnet-{d}": resnet_56}
    return runs_frame({v: {"train_error": e, "test_error": [x + 0.03 for x in e]} for v, e in values.items()})


def test_depth_rows_agree_when_plain_56_is_clearly_worse():
    runs = depth_runs([0.10, 0.11, 0.12], [0.20, 0.21, 0.22], [0.10, 0.105, 0.11], [0.08, 0.085, 0.09])
    rows = depth.summary_rows(runs, (20, 56))
    assert [r.verdict for r in rows] == ["agrees"] * 4 + ["inconclusive"] * 2
    assert rows[0].quantity == "training error, plain-56 − plain-20"
    assert rows[0].measured.startswith("+10.00 pp")
    # paper: plain-56 − plain-20 from Fig. 6 (9–10 % vs 5–7 % train, 13–15 % vs 8–10 % test); Table 6: 6.97 − 8.75
    assert rows[0].reference.startswith("≈ +2 to +5 pp") and rows[1].reference.startswith("≈ +3 to +7 pp")
    assert rows[3].reference.startswith("-1.78 pp")
    assert rows[4].quantity == "test error, resnet-20" and rows[4].reference.startswith("8.75 %")
    assert rows[4].measured == "13.50 ± 1.24 % (n=3)"
    assert all(r.note == "" for r in rows[:4])


def test_depth_rows_disagree_when_plain_56_is_clearly_better():
    runs = depth_runs([0.20, 0.21, 0.22], [0.10, 0.11, 0.12], [0.08, 0.085, 0.09], [0.10, 0.105, 0.11])
    assert [r.verdict for r in depth.summary_rows(runs)][:4] == ["disagrees"] * 4


def test_depth_rows_are_inconclusive_when_the_seeds_overlap():
    runs = depth_runs([0.10, 0.20, 0.15], [0.12, 0.22, 0.14], [0.10, 0.2, 0.1], [0.1, 0.21, 0.09])
    assert {r.verdict for r in depth.summary_rows(runs)} == {"inconclusive"}


def test_depth_rows_for_other_depths_say_so():
    runs = depth_runs([0.1, 0.11], [0.2, 0.21], [0.1, 0.11], [0.1, 0.11], depths=(8, 14))
    rows = depth.summary_rows(runs, [8, 14])
    assert rows[0].note == "paper compares 20 vs 56; measured 8 vs 14"
    assert rows[4].reference == "—"  # no paper number for ResNet-8


@pytest.mark.parametrize("depths, match", [([56, 20], "shallow first"), ([20], "two depths"),
                                            ([20, 21], r"\[21\] are not 6n\+2"), ([2, 20], "not 6n"),
                                            ([20, 56, 110], "two depths")])
def test_depth_experiment_rejects_bad_depths(depths, match):
    with pytest.raises(ValueError, match=match):
        depth.experiment(depths=depths)


def test_depth_experiment_runs():
    exp = depth.experiment(depths=[8, 14], seeds=[0, 1], subset=100, epochs=1)
    assert list(exp.variants) == ["plain-8", "plain-14", "resnet-8", "resnet-14"]
    specs = exp.runs()  # validates every config through RunConfig
    assert [s.run_id for s in specs] == [f"{v}__s{s}" for v in exp.variants for s in (0, 1)]
    first = specs[0].config
    assert first["model"] == "resnet_cifar" and first["model_options"] == {"depth": 8, "plain": True}
    assert (first["subset"], first["epochs"], first["seed"], first["recipe"]) == (100, 1, 0, "resnet_cifar")
    assert specs[-1].config["model_options"] == {"depth": 14, "plain": False}


# --- 02 activations --------------------------------------------------------------------------------

def activation_runs(relu, tanh):
    return runs_frame({"relu": {"iterations_to_target": relu, "train_error": [0.2] * len(relu)},
                       "tanh": {"iterations_to_target": tanh, "train_error": [0.3] * len(tanh)}})


STEPS = {"relu__s0": 1000, "relu__s1": 1000, "tanh__s0": 1000, "tanh__s1": 1000}


def test_total_iterations_is_the_last_step_of_each_run():
    history = history_frame({"a__s0": 90, "b__s0": 30})
    assert activations.total_iterations(history).to_dict() == {"a__s0": 90, "b__s0": 30}
    assert activations.total_iterations(history.iloc[:0]).empty


def test_speedup_when_both_reach_the_target():
    runs, history = activation_runs([100, 120], [600, 660]), history_frame(STEPS)
    ratio, censored = activations.speedup(runs, history)
    assert ratio == pytest.approx(630 / 110) and not censored
    rows = activations.summary_rows(runs, history)
    assert rows[0].measured == "5.73x" and rows[0].verdict == "agrees"
    assert rows[0].quantity == "iterations to 25 % training error, tanh / relu"
    assert rows[0].reference.startswith("6x (Krizhevsky et al. 2012")
    assert rows[2].measured == "110 (reached in 2 of 2 runs)" and rows[4].measured == "630 (reached in 2 of 2 runs)"
    assert rows[1].measured == "relu not reached; tanh not reached" and rows[1].verdict == "inconclusive"


def test_speedup_is_a_lower_bound_when_tanh_never_gets_there():
    runs = activation_runs([100, 120], [600, None])
    history = history_frame({**STEPS, "tanh__s1": 900})
    ratio, censored = activations.speedup(runs, history)
    assert ratio == pytest.approx((600 + 900) / 2 / 110) and censored
    rows = activations.summary_rows(runs, history, target_error=0.1)
    assert rows[0].measured == f"≥ {(600 + 900) / 2 / 110:.2f}x" and rows[0].verdict == "agrees"
    assert rows[0].quantity.startswith("iterations to 10 % training error")
    assert rows[4].measured == "600 (reached in 1 of 2 runs)"
    none = activation_runs([100, 120], [None, None])
    assert activations.summary_rows(none, history)[4].measured == "not reached in 1000 iterations"


def test_speedup_verdicts():
    history = history_frame(STEPS)
    assert activations.speedup_verdict(activation_runs([100, 120], [50, 60]), history) == "disagrees"
    assert activations.speedup_verdict(activation_runs([100, 300], [200, 400]), history) == "inconclusive"
    # a censored tanh run below a ReLU run: the bound decides nothing
    assert activations.speedup_verdict(activation_runs([900, 950], [None, 500]),
                                       history_frame({**STEPS, "tanh__s0": 1000})) == "inconclusive"


def test_epochs_to_target_row():
    errors = {"relu__s0": [0.5, 0.2, 0.1], "relu__s1": [0.3, 0.24, 0.2],
              "tanh__s0": [0.6, 0.4, 0.3], "tanh__s1": [0.6, 0.4, 0.25]}
    history = history_frame(STEPS, errors)
    reached = activations.epochs_to_target(history, 0.25)
    assert reached[["relu__s0", "relu__s1", "tanh__s1"]].tolist() == [2.0, 2.0, 3.0] and np.isnan(reached["tanh__s0"])
    row = activations.summary_rows(activation_runs([100, 120], [600, None]), history, target_error=0.25)[1]
    assert row.quantity == "epochs to 25 % training error (epoch mean), relu vs tanh"
    assert (row.measured, row.verdict) == ("relu 2.0; tanh 3.0 (1 of 2 runs)", "agrees")  # the censored run: >= 3
    fast_tanh = history_frame(STEPS, {**errors, "tanh__s0": [0.2] * 3, "tanh__s1": [0.1] * 3})
    assert activations.summary_rows(activation_runs([1, 2], [3, 4]), fast_tanh)[1].verdict == "disagrees"


def test_speedup_is_nan_when_relu_misses_the_target():
    runs, history = activation_runs([100, None], [600, 660]), history_frame(STEPS)
    ratio, _ = activations.speedup(runs, history)
    assert math.isnan(ratio)
    row = activations.summary_rows(runs, history)[0]
    assert (row.measured, row.verdict) == ("relu did not reach the target in every run", "inconclusive")


def test_iterations_skip_failed_runs():
    runs = runs_frame({"relu": {"iterations_to_target": [100, None]}}, status={"relu": ["done", "failed"]})
    to_target, total = activations.iterations(runs, history_frame({"relu__s0": 400}), "relu")
    np.testing.assert_array_equal(to_target, [100.0])
    np.testing.assert_array_equal(total, [400.0])


@pytest.mark.parametrize("kwargs, match", [({"target_error": 0}, "target_error"), ({"target_error": 1.5}, "1.5"),
                                           ({"activations": ["relu"]}, "two or more"),
                                           ({"activations": ["relu", "relu"]}, "distinct")])
def test_activations_experiment_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        activations.experiment(**kwargs)


def test_activations_experiment_runs():
    exp = activations.experiment(seeds=[3], target_error=0.2)
    specs = exp.runs()
    assert [s.run_id for s in specs] == ["relu__s3", "tanh__s3"]
    assert specs[1].config["model_options"] == {"activation": "tanh"}
    assert specs[1].config["target_train_error"] == 0.2 and specs[1].config["model"] == "alexnet_cifar"


# --- 03 LRN ------------------------------------------------------------------------------------------

def test_lrn_rows():
    runs = runs_frame({"lrn": {"test_error": [0.11, 0.115, 0.12]}, "none": {"test_error": [0.13, 0.135, 0.14]},
                       "batch": {"test_error": [0.09, 0.095, 0.10]}})
    rows = lrn.summary_rows(runs)
    assert [r.verdict for r in rows] == ["agrees", "agrees", "inconclusive", "inconclusive", "inconclusive"]
    assert rows[0].quantity == "test error, no normalisation − LRN" and rows[0].reference.startswith("+2 pp")
    assert rows[0].measured.startswith("+2.00 pp")
    assert rows[1].quantity == "test error, BN − LRN" and rows[1].measured.startswith("-2.00 pp")
    assert [r.quantity for r in rows[2:]] == ["test error, lrn", "test error, none", "test error, batch"]
    assert rows[2].reference.startswith("11.00 %") and rows[3].reference.startswith("13.00 %")
    without_bn = lrn.summary_rows(runs[runs["variant"] != "batch"])
    assert len(without_bn) == 3 and "BN" not in " ".join(r.quantity for r in without_bn)


def test_lrn_rows_disagree_when_lrn_hurts():
    runs = runs_frame({"lrn": {"test_error": [0.13, 0.135, 0.14]}, "none": {"test_error": [0.11, 0.115, 0.12]}})
    assert lrn.summary_rows(runs)[0].verdict == "disagrees"


@pytest.mark.parametrize("norms", [["lrn", "group"], ["lrn", "batch"], ["none"], ["lrn", "none", "lrn"]])
def test_lrn_experiment_rejects_bad_norms(norms):
    with pytest.raises(ValueError, match="norms must include 'lrn' and 'none'"):
        lrn.experiment(norms=norms)


def test_lrn_experiment_runs():
    specs = lrn.experiment(seeds=[0]).runs()
    assert [s.run_id for s in specs] == ["lrn__s0", "none__s0", "batch__s0"]
    assert [s.config["model_options"]["norm"] for s in specs] == ["lrn", None, "batch"]
