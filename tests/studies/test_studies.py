"""The studies behind notebooks 01–03: verdicts, tables and experiment grids, on hand-made run frames."""

import math
import re

import numpy as np
import pandas as pd
import pytest
from study_frames import runs_frame

from cnnkit.studies import absolute_row, conclusion, depth, diff_row, lrn, pp, relu_vs_tanh
from cnnkit.studies._common import iterations_to_target
from cnnkit.studies._sweep import sweep_table

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

def test_diff_row_pairs_by_seed_and_reports_the_90_interval():
    runs = runs_frame({"a": {"test_error": [0.10, 0.11, 0.12]}, "b": {"test_error": [0.20, 0.22, 0.21]}})
    # per-seed differences 0.10, 0.11, 0.09: mean 0.10, sd 0.01; t(2) 0.95 quantile 2.919986
    half = 2.919986 * 0.01 / math.sqrt(3)
    row = diff_row(runs, "a", "b", "test_error", quantity="q", reference="r", expect="positive", note="n")
    assert row.measured.startswith(f"+10.00 pp [90 % CI {100 * (0.1 - half):+.2f}, {100 * (0.1 + half):+.2f}], p = ")
    assert row.measured.endswith("(n = 3)")
    assert (row.quantity, row.reference, row.verdict, row.note) == ("q", "r", "agrees", "n")
    assert row.diff == pytest.approx(0.1) and row.low == pytest.approx(0.1 - half)
    assert row.test.startswith("one-sided paired t")
    assert diff_row(runs, "a", "b", "test_error", quantity="q", reference="r", expect="negative").verdict == "disagrees"


def test_diff_row_unpaired_uses_welch():
    runs = runs_frame({"a": {"test_error": [0.10, 0.11, 0.12]}, "b": {"test_error": [0.20, 0.21, 0.22]}})
    row = diff_row(runs, "a", "b", "test_error", quantity="q", reference="r", expect="positive", paired=False)
    assert row.test.startswith("one-sided Welch t") and row.measured.endswith("(n = 6)") and row.verdict == "agrees"


def test_diff_row_with_one_seed_has_no_interval_and_no_verdict():
    runs = runs_frame({"a": {"test_error": [0.10]}, "b": {"test_error": [0.30]}})
    row = diff_row(runs, "a", "b", "test_error", quantity="q", reference="r", expect="positive")
    assert (row.measured, row.verdict) == ("+20.00 pp (n = 1)", "inconclusive")


def test_diff_row_says_when_a_variant_has_no_finished_run():
    runs = runs_frame({"a": {"test_error": [0.1, 0.2]}, "b": {"test_error": [None, None]}},
                      status={"b": ["failed", "failed"]})
    row = diff_row(runs, "a", "b", "test_error", quantity="q", reference="r", expect="positive")
    assert (row.measured, row.verdict) == ("no finished run of b", "inconclusive")


def test_inconclusive_rows_say_how_many_seeds_would_decide():
    runs = runs_frame({"a": {"e": [0.10, 0.20, 0.15]}, "b": {"e": [0.13, 0.19, 0.19]}})
    row = diff_row(runs, "a", "b", "e", quantity="q", reference="r", expect="positive")
    assert row.verdict == "inconclusive" and re.search(r"≈ \d+ seeds per arm would decide", row.note)


def test_pp_and_conclusion_count_judged_rows_and_state_headlines():
    assert pp(0.021) == "+2.10 pp" and pp(-0.5) == "-50.00 pp" and pp(math.nan) == "n/a"
    runs = runs_frame({"a": {"e": [0.1, 0.11, 0.12]}, "b": {"e": [0.2, 0.22, 0.21]}})
    rows = [diff_row(runs, "a", "b", "e", quantity="q", reference="r", expect=e, headline=e == "positive")
            for e in ("positive", "negative")]
    text = conclusion(rows + [absolute_row("abs", "1 %", "2 %")])
    assert text.startswith("q: measured +10.00 pp") and "this agrees with the paper" in text
    assert "Of 2 judged rows, 1 agree with the paper, 1 disagree and 0 are inconclusive; 1 absolute" in text


# --- 01 depth ------------------------------------------------------------------------------------

def depth_runs(plain_20, plain_56, resnet_20, resnet_56, depths=(20, 56)):
    """Train and test errors per seed; the test error is the train error + 0.03."""
    s, d = depths
    values = {f"plain-{s}": plain_20, f"plain-{d}": plain_56, f"resnet-{s}": resnet_20, f"resnet-{d}": resnet_56}
    return runs_frame({v: {"train_error": e, "test_error": [x + 0.03 for x in e]} for v, e in values.items()})


def test_depth_rows_agree_when_plain_56_degrades_and_resnet_56_does_not():
    runs = depth_runs([0.10, 0.11, 0.12], [0.20, 0.22, 0.21], [0.10, 0.105, 0.11], [0.08, 0.087, 0.09])
    rows = depth.summary_rows(runs, depth.Params(depths=(20, 56)))
    assert [r.verdict for r in rows] == ["agrees"] * 5 + ["not comparable"] * 3  # the last: the linear floor
    assert rows[0].quantity.startswith("training error, plain-56 − plain-20") and rows[0].headline
    assert rows[0].measured.startswith("+10.00 pp")
    assert rows[1].quantity.startswith("training error, (plain-56 − plain-20) − (resnet-56 − resnet-20)")
    assert rows[1].headline and rows[1].diff == pytest.approx(0.1 + 0.0193333, abs=1e-6)
    # paper: plain-56 − plain-20 from Fig. 6 (9–10 % vs 5–7 % train, 13–15 % vs 8–10 % test); Table 6: 6.97 − 8.75
    assert rows[0].reference.startswith("≈ +2 to +5 pp") and rows[3].reference.startswith("≈ +3 to +7 pp")
    assert rows[4].reference.startswith("-1.78 pp") and rows[4].paper == pytest.approx(0.0697 - 0.0875)
    assert rows[5].quantity == "test error, resnet-20" and rows[5].reference.startswith("8.75 %")
    assert rows[5].measured == "13.50 ± 1.24 % (n=3)"


def test_depth_rows_disagree_when_plain_56_is_clearly_better():
    runs = depth_runs([0.20, 0.22, 0.21], [0.10, 0.11, 0.12], [0.08, 0.087, 0.09], [0.10, 0.105, 0.11])
    assert [r.verdict for r in depth.summary_rows(runs)][:5] == ["disagrees"] * 5


def test_depth_rows_are_inconclusive_when_the_seeds_overlap():
    runs = depth_runs([0.10, 0.20, 0.15], [0.12, 0.19, 0.17], [0.10, 0.2, 0.1], [0.11, 0.19, 0.12])
    assert {r.verdict for r in depth.summary_rows(runs)[:5]} == {"inconclusive"}


def test_depth_interaction_decides_where_the_residual_gap_alone_does_not():
    # residual deep − shallow noisy around +1 pp, plain gap +20 pp: the interaction still decides
    runs = depth_runs([0.20, 0.21, 0.19], [0.40, 0.42, 0.38], [0.13, 0.12, 0.14], [0.15, 0.12, 0.145])
    rows = depth.summary_rows(runs)
    assert rows[1].verdict == "agrees" and rows[2].verdict == "inconclusive"


def test_depth_rows_for_other_depths_say_so():
    runs = depth_runs([0.1, 0.11], [0.2, 0.21], [0.1, 0.11], [0.1, 0.11], depths=(8, 14))
    rows = depth.summary_rows(runs, depth.Params(depths=[8, 14]))
    assert rows[0].note.startswith("paper compares 20 vs 56; measured 8 vs 14") and rows[0].paper is None
    assert rows[6].reference == "—"  # no paper number for ResNet-14


@pytest.mark.parametrize("depths, match", [([56, 20], "shallow first"), ([20], "two depths"),
                                            ([20, 21], r"\[21\] are not 6n\+2"), ([2, 20], "not 6n"),
                                            ([20, 56, 110], "two depths")])
def test_depth_experiment_rejects_bad_depths(depths, match):
    with pytest.raises(ValueError, match=match):
        depth.experiment(depth.Params(depths=depths))


def test_depth_experiment_rejects_iterations_that_do_not_fill_the_log_intervals():
    with pytest.raises(ValueError, match="iterations=100 must be a positive multiple of log_every=30"):
        depth.Params(iterations=100, log_every=30)
    assert depth.experiment().runs()[0].config["epochs"] == 300 // 25  # the defaults are the notebook's quick values


def test_depth_experiment_runs():
    exp = depth.experiment(depth.Params(depths=[8, 14], seeds=[0, 1], subset=100, iterations=40, log_every=20))
    assert list(exp.variants) == ["plain-14", "resnet-14", "plain-8", "resnet-8", "linear"]  # deep first, the floor
    specs = exp.runs()  # validates every config through RunConfig
    assert [s.run_id for s in specs] == [f"{v}__s{s}" for v in exp.variants for s in (0, 1)]
    first = specs[0].config
    assert first["model"] == "resnet_cifar" and first["model_options"] == {"depth": 14, "plain": True, "width": 8}
    assert (first["subset"], first["epochs"], first["steps_per_epoch"], first["seed"]) == (100, 2, 20, 0)
    assert (first["warmup_steps"], first["lr"], first["eval_subset"], first["resolution"]) == (50, 0.1, 500, 16)


def test_depth_started_counts_the_runs_that_left_chance():
    runs = depth_runs([0.3, 0.3], [0.85, 0.5], [0.2, 0.2], [0.2, 0.2])
    errors = {"plain-56__s0": [0.9, 0.88, 0.85], "plain-56__s1": [0.9, 0.7, 0.5]}
    history = history_frame({r: 300 for r in runs["run_id"]}, {**{r: [0.9, 0.5, 0.3] for r in runs["run_id"]},
                                                              **errors})
    table = depth.started(runs, history).set_index("variant")
    assert table.loc["plain-56", "left chance"] == 1 and table.loc["plain-20", "left chance"] == 2
    assert table.loc["plain-56", "iterations to < 80 % error"] == 200


# --- 02 ReLU vs tanh ------------------------------------------------------------------------------

RVT = relu_vs_tanh.Params()
OWN = relu_vs_tanh.Params(inits=("own",))
RELU, TANH = relu_vs_tanh.arm("relu", "own"), relu_vs_tanh.arm("tanh", "own")
RELU_N, TANH_N = relu_vs_tanh.arm("relu", "paper"), relu_vs_tanh.arm("tanh", "paper")


def activation_runs(relu, tanh, converged=None, names=(RELU, TANH)):
    runs = runs_frame({names[0]: {"iterations_to_target": relu,
                                  "train_error": [0.2 + 0.01 * i for i in range(len(relu))]},
                       names[1]: {"iterations_to_target": tanh,
                                  "train_error": [0.3 + 0.02 * i for i in range(len(tanh))]}})
    return runs if converged is None else runs.assign(converged=converged)


STEPS = {f"{v}__s{i}": 1000 for v in (RELU, TANH, RELU_N, TANH_N) for i in range(3)}


def test_the_arms_are_each_unit_under_each_initialisation():
    assert relu_vs_tanh.arms(RVT) == {"relu · he_normal": ("relu", "own"), "tanh · glorot_uniform": ("tanh", "own"),
                                      "relu · N(0, 0.01)": ("relu", "paper"), "tanh · N(0, 0.01)": ("tanh", "paper")}
    import keras

    paper = keras.initializers.get(relu_vs_tanh.PAPER_INIT)  # what alexnet_cifar's kernel_initializer= receives
    assert type(paper).__name__ == "RandomNormal" and paper.get_config()["stddev"] == 0.01
    assert paper.get_config()["mean"] == 0.0


def test_speedup_agrees_when_relu_is_clearly_faster():
    runs, history = activation_runs([100, 120, 110], [600, 660, 500]), history_frame(STEPS)
    rows = relu_vs_tanh.summary_rows(runs, OWN, history, 0.15)
    assert rows[0].headline and rows[0].verdict == "agrees"
    ratio = math.exp(np.mean(np.log([6.0, 5.5, 500 / 110])))
    assert rows[0].measured.startswith(f"{ratio:.2f}x [90 % CI ")
    assert rows[0].quantity == ("iterations to 15.0 % training error, tanh / relu, own init (He / Glorot): "
                                "is relu faster at all (> 1x)?")
    assert rows[0].reference.startswith("6x at 25 % on CIFAR-10 (Krizhevsky et al. 2012")
    assert rows[1].headline and rows[1].verdict == "agrees" and "(> 2x)" in rows[1].quantity  # 4.5-6x > 2x
    assert rows[2].verdict == "agrees" and rows[2].quantity.startswith("training error at the end of the budget")
    assert rows[3].measured == "110 (reached in 3 of 3 runs)" and rows[3].verdict == "not comparable"
    assert [r.judged_at for r in rows[:3]] == ["early", "early", "early"]


def test_every_claim_is_judged_early_so_runs_need_not_converge():
    runs = activation_runs([100, 120, 110], [600, 660, 500], converged=[False] * 6)
    rows = relu_vs_tanh.summary_rows(runs, OWN, history_frame(STEPS), 0.15)
    assert [r.verdict for r in rows[:3]] == ["agrees", "agrees", "agrees"]  # the constant rate never converges
    assert rows[0].converged is False and rows[2].converged is False  # recorded, but it decides nothing here
    assert {c.judged_at for c in relu_vs_tanh.CLAIMS.values()} == {"early"}


def test_both_initialisations_get_their_own_rows():
    own = activation_runs([100, 120, 110], [600, 660, 500])
    paper = activation_runs([300, 320, 310], [100, 110, 90], names=(RELU_N, TANH_N))
    rows = relu_vs_tanh.summary_rows(pd.concat([own, paper], ignore_index=True), RVT, history_frame(STEPS), 0.15)
    assert [r.headline for r in rows] == [True] * 4 + [False] * 6
    assert [r.verdict for r in rows[:4]] == ["agrees", "agrees", "disagrees", "disagrees"]
    assert "own init (He / Glorot)" in rows[0].quantity and "paper's init N(0, 0.01)" in rows[2].quantity
    assert [r.verdict for r in rows[4:6]] == ["agrees", "agrees"]  # end of budget: tanh − relu > 0 in both frames
    assert [r.quantity for r in rows[6:]] == [f"iterations to target, {v}" for v in (RELU, TANH, RELU_N, TANH_N)]


def test_a_small_speedup_disagrees_with_a_large_one():
    runs = activation_runs([100, 120, 110], [110, 125, 118])
    rows = relu_vs_tanh.summary_rows(runs, OWN, history_frame(STEPS), 0.15)
    assert rows[0].verdict == "agrees" and rows[1].verdict == "disagrees"


def test_speedup_counts_a_censored_tanh_run_with_its_length():
    runs = activation_runs([100, 120, 110], [600, None, 700])
    history = history_frame({**STEPS, f"{TANH}__s1": 900})
    row = relu_vs_tanh.summary_rows(runs, OWN, history, 0.1)[0]
    ratio = math.exp(np.mean(np.log([6.0, 900 / 120, 700 / 110])))
    assert row.measured.startswith(f"≥ {ratio:.2f}x") and row.verdict == "agrees"
    assert f"1 of 3 {TANH} runs never reached the target" in row.note


def test_speedup_disagrees_when_tanh_is_faster_and_is_inconclusive_when_runs_overlap():
    history = history_frame(STEPS)
    assert relu_vs_tanh.speedup_row(activation_runs([300, 320, 310], [100, 110, 90]), history, OWN, "own",
                                    0.2).verdict == "disagrees"
    row = relu_vs_tanh.speedup_row(activation_runs([100, 300, 200], [200, 250, 190]), history, OWN, "own", 0.2)
    assert row.verdict == "inconclusive" and "seeds per arm would decide" in row.note
    assert relu_vs_tanh.speedup_row(activation_runs([1], [2]).iloc[0:0], history, OWN, "own", 0.2).measured == \
        "no seed finished both"


def test_iterations_to_target_counts_a_censored_run_with_its_length():
    runs = activation_runs([100, None, 110], [600, None, 700], names=("relu", "tanh"))
    runs.loc[runs["run_id"] == "tanh__s2", "status"] = "failed"
    history = history_frame({**{f"{v}__s{i}": 1000 for v in ("relu", "tanh") for i in range(3)}, "relu__s1": 900})
    relu, tanh = (iterations_to_target(runs, history, v) for v in ("relu", "tanh"))
    assert relu["iterations"].tolist() == [100, 900, 110] and relu["reached"].tolist() == [True, False, True]
    assert tanh.index.tolist() == [0, 1] and tanh["iterations"].tolist() == [600, 1000]  # the failed run is out
    unknown = iterations_to_target(runs, history.iloc[0:0], "relu")
    assert math.isnan(unknown.loc[1, "iterations"]) and not unknown.loc[1, "reached"]


def sweep_frames(names, status, curves):
    runs = pd.DataFrame({"run_id": [f"{n}__s100" for n in names], "variant": names, "seed": 100,
                         "status": status, "train_error": [vs[-1] for vs in curves.values()]})
    history = pd.DataFrame([(f"{n}__s100", n, 100, e + 1, 10 * (e + 1), "train", "error", v)
                            for n, vs in curves.items() for e, v in enumerate(vs)],
                           columns=["run_id", "variant", "seed", "epoch", "step", "split", "metric", "value"])
    return runs, history


def test_sweep_picks_the_fastest_rate_per_arm_and_the_linear_target():
    p = relu_vs_tanh.Params(inits=("own",), lrs=(0.01, 0.1))
    names = list(relu_vs_tanh.sweep_variants(p))
    assert names == [f"{RELU} lr=0.01", f"{RELU} lr=0.1", f"{TANH} lr=0.01", f"{TANH} lr=0.1", "linear lr=0.01",
                     "linear lr=0.1"]
    curves = dict(zip(names, [[0.5, 0.2], [0.1, math.nan], [0.6, 0.3], [0.4, 0.25], [0.3, 0.19], [0.25, 0.21]]))
    runs, history = sweep_frames(names, ["done", "diverged", "done", "done", "done", "done"], curves)
    table = sweep_table(runs, history, relu_vs_tanh.sweep_variants(p))
    lrs, target = relu_vs_tanh.chosen(table)
    assert lrs == {"linear": 0.1, RELU: 0.01, TANH: 0.1}  # the diverged relu rate is out
    assert target == pytest.approx(0.21)
    table.loc[table["arm"] == TANH, "chosen"] = False
    with pytest.raises(ValueError, match=r"no usable sweep run for \['tanh · glorot_uniform'\]"):
        relu_vs_tanh.chosen(table)


def test_sweep_table_reads_arm_and_rate_from_the_parameters_not_the_names():
    p = relu_vs_tanh.Params(activations=("elu", "sigmoid"), inits=("paper",), lrs=(0.5,))
    arms = relu_vs_tanh.sweep_variants(p)
    assert arms == {"elu · N(0, 0.01) lr=0.5": ("elu · N(0, 0.01)", 0.5),
                    "sigmoid · N(0, 0.01) lr=0.5": ("sigmoid · N(0, 0.01)", 0.5), "linear lr=0.5": ("linear", 0.5)}
    curves = dict(zip([*arms, "other"], [[0.5, 0.3], [0.6, 0.4], [0.3, 0.2], [0.1, 0.1]]))
    runs, history = sweep_frames(list(curves), "done", curves)
    table = sweep_table(runs, history, arms)
    assert table["arm"].tolist() == ["elu · N(0, 0.01)", "linear", "sigmoid · N(0, 0.01)"] and table["chosen"].all()


@pytest.mark.parametrize("changes, match", [({"activations": ["relu"]}, "two distinct"),
                                            ({"activations": ["relu", "relu"]}, "two distinct"),
                                            ({"activations": ["relu", "softsign"]}, "softsign"),
                                            ({"activations": ["relu", "tanh", "elu"]}, "exactly two"),
                                            ({"inits": ["own", "lecun"]}, "inits must be distinct names"),
                                            ({"inits": []}, "inits must be distinct names"),
                                            ({"lrs": [0.1, 0]}, "positive learning rates"),
                                            ({"iterations": 90, "log_every": 25}, "multiple of log_every"),
                                            ({"sweep_iterations": 30}, "multiple of log_every"),
                                            ({"sweep_iterations": 1000}, "must not exceed iterations=800")])
def test_relu_vs_tanh_params_reject_bad_values(changes, match):
    with pytest.raises(ValueError, match=match):
        relu_vs_tanh.Params(**changes)


@pytest.mark.parametrize("kwargs, match", [({"target_error": 0}, "target_error"), ({"target_error": 1.5}, "1.5"),
                                           ({"lrs": {RELU: 0.1, TANH: 0.1, RELU_N: 0.1}},
                                            r"no rate for \['tanh · N\(0, 0.01\)'\]")])
def test_relu_vs_tanh_experiment_rejects_bad_choices(kwargs, match):
    with pytest.raises(ValueError, match=match):
        relu_vs_tanh.experiment(RVT, **kwargs)


def test_relu_vs_tanh_experiments_run():
    lrs = {RELU: 0.02, TANH: 0.05, RELU_N: 0.1, TANH_N: 0.2}
    specs = relu_vs_tanh.experiment(relu_vs_tanh.Params(seeds=[3]), lrs=lrs, target_error=0.2).runs()
    assert [s.variant for s in specs] == [RELU, TANH, RELU_N, TANH_N] and {s.seed for s in specs} == {3}
    assert specs[0].config["model_options"] == {"activation": "relu", "norm": None, "kernel_initializer": "he_normal"}
    assert specs[3].config["model_options"] == {"activation": "tanh", "norm": None,
                                                "kernel_initializer": relu_vs_tanh.PAPER_INIT}
    tanh = specs[1].config
    assert (tanh["lr"], tanh["target_train_error"], tanh["weight_decay"], tanh["augment"]) == (0.05, 0.2, 0.0, "none")
    assert (tanh["epochs"], tanh["steps_per_epoch"], tanh["schedule"]) == (RVT.iterations // RVT.log_every,
                                                                           RVT.log_every, "constant")
    shape = relu_vs_tanh.experiment().runs()  # without the sweep's choice: the grid's shape, no target
    assert len(shape) == 4 * len(RVT.seeds) and shape[0].config.get("target_train_error") is None
    sweep = relu_vs_tanh.sweep(relu_vs_tanh.Params(lrs=[0.01, 0.1])).runs()
    assert len(sweep) == 10 and [s.variant for s in sweep[-2:]] == ["linear lr=0.01", "linear lr=0.1"]
    assert sweep[-1].config["model"] == "linear" and {s.seed for s in sweep} == {100}
    assert sweep[0].config["epochs"] * sweep[0].config["steps_per_epoch"] == RVT.sweep_iterations


def _fake_fit(config, *, workdir):
    """Training error falls as 1/epoch, faster with a larger rate; the target is reached where it is crossed."""
    rate = 1.0 if config.model == "linear" else 10 * config.lr
    history = [{"epoch": e, "step": config.steps_per_epoch * e, "error": 0.5 / (e * rate)} for e in
               range(1, config.epochs + 1)]
    target = config.target_train_error
    reached = next((h["step"] for h in history if target is not None and h["error"] < target), None)
    final = {"train_error": history[-1]["error"], "test_error": history[-1]["error"] + 0.01,
             "iterations_to_target": reached, "converged": False}
    return {"status": "done", "history": history, "final": final, "wall_time": 0.01}


def test_relu_vs_tanh_run_trains_the_sweep_then_each_net_at_its_chosen_rate(tmp_path):
    p = relu_vs_tanh.Params(lrs=(0.05, 0.2), seeds=(0, 1), iterations=40, sweep_iterations=20, log_every=10)
    trained = relu_vs_tanh.run(p, str(tmp_path), workers=1, train_fn=_fake_fit, progress=False)
    assert trained.lrs == {RELU: 0.2, TANH: 0.2, RELU_N: 0.2, TANH_N: 0.2, "linear": 0.05}  # faster at 0.2 here
    assert trained.target == pytest.approx(0.5 / 2)  # the linear model's last quarter of its 2 epochs: epoch 2
    runs = trained.results.runs()
    assert len(runs) == 8 and set(runs["variant"]) == {RELU, TANH, RELU_N, TANH_N}
    assert trained.choice == {"chosen_lrs": trained.lrs, "target_error": trained.target}
    assert f"**{RELU}** 0.2" in trained.text and "25.0 %" in trained.text
    table = relu_vs_tanh.differences(p, trained).set_index("")
    assert table.loc["target training error", "here"].startswith("25.0 %")
    assert table.loc["learning rates", "here"].startswith(f"{RELU} 0.2, {TANH} 0.2, {RELU_N} 0.2")
    assert table.loc["sweep", "here"].startswith("2 rates × 20 iterations per net")
    assert relu_vs_tanh.differences(p).set_index("").loc["target training error", "here"].startswith(
        "set by the sweep")


def test_the_ratio_against_the_target_comes_from_the_curves():
    # own init: relu's error is tanh's at half the iterations (ratio 2 at every target); paper init: equal (1)
    def curve(speed):
        return [0.5 / (1 + speed * e) for e in range(1, 41)]

    curves = {RELU: curve(0.2), TANH: curve(0.1), RELU_N: curve(0.1), TANH_N: curve(0.1)}
    rows = [("x", f"{v}__s{s}", v, s, e, 25 * e, "train", "error", c[e - 1] * (1 + 0.001 * s))
            for v, c in curves.items() for s in range(3) for e in range(1, 41)]
    history = pd.DataFrame(rows, columns=["experiment", "run_id", "variant", "seed", "epoch", "step", "split",
                                          "metric", "value"])
    runs = pd.DataFrame({"run_id": history["run_id"].unique(), "status": "done"})
    frame = relu_vs_tanh.ratio_curve(runs, history, RVT, start=0.2)
    assert list(frame["init"].unique()) == ["own", "paper"]
    own, paper = frame[frame["init"] == "own"], frame[frame["init"] == "paper"]
    assert own["target"].iloc[0] == pytest.approx(0.2) and own["target"].is_monotonic_decreasing
    assert own["target"].iloc[-1] == pytest.approx(max(c[-1] * 1.002 for c in curves.values()))  # all reach it
    assert own["ratio"].between(1.8, 2.2).all() and paper["ratio"].eq(1.0).all()
    assert relu_vs_tanh.ratio_curve(runs, history, RVT, start=0.01).empty  # no run gets there
    fig = relu_vs_tanh.ratio_figure(frame, RVT)
    assert len(fig.axes[0].lines) == 4 and fig.axes[0].xaxis_inverted()  # two inits, 1x and the paper's 6x


def test_relu_vs_tanh_long_preset_trains_about_four_times_the_quick_iterations():
    from cnnkit.studies import resolve

    long, quick = resolve(relu_vs_tanh, "long"), relu_vs_tanh.Params()
    assert long.iterations == 4 * quick.iterations and long.sweep_iterations == 4 * quick.sweep_iterations
    assert set(quick.seeds) < set(long.seeds) and long.lrs == quick.lrs  # the quick seeds and one more


# --- 03 LRN ------------------------------------------------------------------------------------------

LRN_BN = lrn.Params(norms=("none", "lrn", "batch"))


def test_lrn_rows_support_alexnet_when_lrn_clearly_helps():
    runs = runs_frame({"lrn": {"test_error": [0.11, 0.115, 0.12]}, "none": {"test_error": [0.13, 0.136, 0.139]},
                       "batch": {"test_error": [0.09, 0.095, 0.10]}})
    rows = lrn.summary_rows(runs, LRN_BN)
    assert [r.verdict for r in rows] == ["agrees", "disagrees", "agrees"] + ["not comparable"] * 4
    assert rows[0].headline and rows[1].headline and rows[0].reference.startswith("+2 pp")
    assert rows[0].measured.startswith("+2.00 pp") and rows[1].test.startswith("TOST")
    assert rows[2].quantity == "test error, BN − LRN" and rows[2].measured.startswith("-2.00 pp")
    assert [r.quantity for r in rows[3:6]] == ["test error, none", "test error, lrn", "test error, batch"]
    assert rows[3].reference.startswith("13.00 %") and rows[4].reference.startswith("11.00 %")
    assert rows[6].measured == "no finished linear run"  # no floor in this frame: nothing is held against it
    assert lrn.supported(rows) == "The data support AlexNet's claim: LRN lowers the test error."
    without_bn = lrn.summary_rows(runs[runs["variant"] != "batch"], lrn.Params())
    assert len(without_bn) == 5 and "BN" not in " ".join(r.quantity for r in without_bn)
    assert {r.judged_at for r in rows[:3]} == {"trained"}


def test_lrn_claims_are_not_judged_on_runs_that_did_not_converge():
    runs = runs_frame({"lrn": {"test_error": [0.11, 0.115, 0.12], "converged": [True, True, False]},
                       "none": {"test_error": [0.13, 0.136, 0.139], "converged": [True] * 3}})
    rows = lrn.summary_rows(runs)
    assert [r.verdict for r in rows[:2]] == ["not converged"] * 2 and rows[0].measured.startswith("+2.00 pp")
    assert lrn.supported(rows).startswith("Neither claim is judged: the runs had not converged")
    assert lrn.differences(lrn.Params(), runs).set_index("").loc["convergence", "here"].startswith(
        "5 of 6 runs converged")


def test_lrn_claims_need_every_arm_to_beat_the_linear_floor():
    converged = {"converged": [True] * 3}
    runs = runs_frame({"lrn": {"test_error": [0.11, 0.115, 0.12], **converged},
                       "none": {"test_error": [0.13, 0.136, 0.139], **converged},
                       "linear": {"test_error": [0.125, 0.127, 0.126], **converged}})
    rows = lrn.summary_rows(runs)
    assert [r.verdict for r in rows[:2]] == ["not converged"] * 2  # every 'none' run is worse than a linear model
    assert rows[-1].quantity.startswith("test error, linear model (the floor")
    assert rows[-1].measured == "12.60 %; 3 of 6 arm runs beat it"
    runs.loc[runs["variant"] == "linear", "test_error"] = [0.16, 0.17, 0.165]
    rows = lrn.summary_rows(runs)
    assert [r.verdict for r in rows[:2]] == ["agrees", "disagrees"] and rows[0].converged is True
    assert rows[-1].measured == "16.50 %; 6 of 6 arm runs beat it"
    table = lrn.differences(lrn.Params(), runs).set_index("")
    assert table.loc["convergence", "here"].startswith("6 of 6 runs converged")  # the floor's runs are not counted


def test_lrn_rows_support_vgg_when_lrn_changes_nothing():
    runs = runs_frame({"lrn": {"test_error": [0.110, 0.120, 0.115, 0.118]},
                       "none": {"test_error": [0.111, 0.119, 0.116, 0.118]}})
    rows = lrn.summary_rows(runs)
    assert [r.verdict for r in rows[:2]] == ["inconclusive", "agrees"]
    assert lrn.supported(rows).startswith("The data support VGG's claim")


def test_lrn_rows_decide_nothing_when_the_seeds_scatter():
    runs = runs_frame({"lrn": {"test_error": [0.10, 0.14, 0.12]}, "none": {"test_error": [0.12, 0.12, 0.13]}})
    rows = lrn.summary_rows(runs)
    assert [r.verdict for r in rows[:2]] == ["inconclusive", "inconclusive"]
    assert lrn.supported(rows) == "The data decide between neither claim at this number of seeds."


@pytest.mark.parametrize("norms", [["lrn", "group"], ["lrn", "batch"], ["none"], ["lrn", "none", "lrn"]])
def test_lrn_params_reject_bad_norms(norms):
    with pytest.raises(ValueError, match="norms must include 'none' and 'lrn'"):
        lrn.Params(norms=norms)


@pytest.mark.parametrize("changes, match", [({"lrs": ()}, "lrs must be distinct positive learning rates"),
                                            ({"lrs": (0.1, 0)}, "lrs must be distinct positive learning rates"),
                                            ({"lrs": (0.1, 0.1)}, "lrs must be distinct positive learning rates"),
                                            ({"sweep_iterations": 100}, "multiple of log_every"),
                                            ({"sweep_iterations": 520}, "must not exceed iterations=480")])
def test_lrn_params_reject_bad_sweeps(changes, match):
    with pytest.raises(ValueError, match=match):
        lrn.Params(**changes)


def test_lrn_experiment_gives_each_arm_its_rate_a_decaying_schedule_and_the_floor():
    p = lrn.Params(seeds=[0], norms=["none", "lrn", "batch"])
    specs = lrn.experiment(p, lrs={"none": 0.03, "lrn": 0.1, "batch": 0.01, "linear": 0.1}).runs()
    assert [s.run_id for s in specs] == ["none__s0", "lrn__s0", "batch__s0", "linear__s0"]
    assert [s.config["model_options"].get("norm") for s in specs[:3]] == [None, "lrn", "batch"]
    assert [s.config["lr"] for s in specs] == [0.03, 0.1, 0.01, 0.1]
    assert specs[3].config["model"] == "linear" and specs[3].config["model_options"] == {}
    assert {s.config["schedule"] for s in specs} == {"step"}  # ÷10 at 50 % and 75 %: the rate decays in any budget
    assert (specs[0].config["steps_per_epoch"], specs[0].config["epochs"]) == (p.log_every, p.iterations // p.log_every)
    assert p.iterations // p.log_every >= 8  # at least two logged points in each half of the last quarter
    shape = lrn.experiment(p).runs()  # without the sweep's choice: the grid's shape at the first rate
    assert {s.config["lr"] for s in shape} == {p.lrs[0]}
    with pytest.raises(ValueError, match=r"lrs has no rate for \['linear'\]"):
        lrn.experiment(p, lrs={"none": 0.03, "lrn": 0.1, "batch": 0.01})
    with pytest.raises(ValueError, match="iterations=150 must be a positive multiple of log_every=40"):
        lrn.Params(iterations=150)


def test_lrn_sweep_trains_every_arm_and_the_floor_at_every_rate_with_one_outside_seed():
    p = lrn.Params(lrs=(0.01, 0.1))
    specs = lrn.sweep(p).runs()
    assert [s.variant for s in specs] == ["none lr=0.01", "none lr=0.1", "lrn lr=0.01", "lrn lr=0.1",
                                          "linear lr=0.01", "linear lr=0.1"]
    assert {s.seed for s in specs} == {100} and 100 not in p.seeds
    assert specs[0].config["epochs"] * specs[0].config["steps_per_epoch"] == p.sweep_iterations
    assert specs[-1].config["model"] == "linear" and specs[3].config["lr"] == 0.1 and specs[0].config["schedule"] == "step"


def test_lrn_run_trains_the_sweep_then_each_arm_at_its_chosen_rate(tmp_path):
    p = lrn.Params(lrs=(0.05, 0.2), seeds=(0, 1), iterations=40, sweep_iterations=20, log_every=10)
    trained = lrn.run(p, str(tmp_path), workers=1, train_fn=_fake_fit, progress=False)
    assert trained.lrs == {"none": 0.2, "lrn": 0.2, "linear": 0.05}  # the fake: nets fall faster at 0.2
    assert set(trained.table["arm"]) == {"none", "lrn", "linear"} and trained.table["chosen"].sum() == 3
    runs = trained.results.runs()
    assert sorted(runs["run_id"]) == ["linear__s0", "linear__s1", "lrn__s0", "lrn__s1", "none__s0", "none__s1"]
    assert trained.choice == {"chosen_lrs": trained.lrs} and "**lrn** 0.2" in trained.text
    table = lrn.differences(p, runs, trained.lrs).set_index("")
    assert table.loc["learning rates", "here"].startswith("none 0.2, lrn 0.2, linear 0.05 (sweep over 0.05, 0.2")
    assert table.loc["convergence", "here"].startswith("0 of 4 runs converged")
    assert lrn.sweep_figure(trained.table).axes[0].get_xscale() == "log"


def test_lrn_tracks_follow_both_claims_on_the_validation_error():
    tracks = lrn.tracks()
    assert [(t.a, t.b, t.split) for t in tracks] == [("lrn", "none", "val")] * 2
    assert [t.claim for t in tracks] == [lrn.CLAIMS["alexnet"], lrn.CLAIMS["vgg"]]
    from cnnkit.ablation.over_training import over_training

    rows = [("x", f"{v}__s{s}", v, s, e, 40 * e, "val", "error", base + 0.01 * s + 0.1 / e)
            for v, base in (("lrn", 0.10), ("none", 0.13)) for s in range(3) for e in range(1, 5)]
    history = pd.DataFrame(rows, columns=["experiment", "run_id", "variant", "seed", "epoch", "step", "split",
                                          "metric", "value"])
    over = over_training(history, tracks)
    assert len(over) == 8 and over["diff"].round(6).eq(0.03).all()
    assert set(over.loc[over["quantity"] == tracks[0].quantity, "verdict"]) == {"agrees"}
    assert set(over.loc[over["quantity"] == tracks[1].quantity, "verdict"]) == {"disagrees"}


def test_lrn_differences_come_from_the_parameters():
    p = lrn.Params(resolution=None, subset=None, eval_subset=None)
    table = lrn.differences(p).set_index("")
    assert table.loc["data", "here"] == "fashion_mnist at native size, all training images"
    assert table.loc["iterations × batch", "here"] == f"{p.iterations} × 64" and "convergence" not in table.index
    assert table.loc["learning rates", "here"] == (f"each arm's best in the sweep over 0.03, 0.1, 0.3, one seed, "
                                                   f"{p.sweep_iterations} iterations")
    assert table.loc["schedule", "here"].startswith("÷10 at 50 % and 75 %")


def test_lrn_long_preset_trains_about_six_times_the_quick_iterations():
    from cnnkit.studies import resolve

    long, quick = resolve(lrn, "long"), lrn.Params()
    assert long.iterations == 6 * quick.iterations and long.sweep_iterations == 6 * quick.sweep_iterations
    assert set(quick.seeds) < set(long.seeds) and long.lrs == quick.lrs and long.iterations // long.log_every >= 8


def test_depth_differences_say_which_arithmetic_the_runs_used():
    params = depth.Params()
    assert "arithmetic" not in set(depth.differences(params)[""])
    runs = pd.DataFrame({"precision": ["float32 (mixed_precision=None)"] * 2 + ["mixed_bfloat16 (auto: CPU)", None]})
    table = depth.differences(params, runs).set_index("")
    assert table.loc["arithmetic", "here"] == ("float32 (mixed_precision=None) (2 runs); "
                                               "mixed_bfloat16 (auto: CPU) (1 run)")
    assert "no bf16" in table.loc["arithmetic", "He et al. 2016"]
