"""Study logic behind notebook 08: schedules' rates per iteration, the grid, lrs from a store, rows, plots."""

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from study_frames import runs_frame

from cnnkit.ablation import run_experiment
from cnnkit.studies import optimizers as opt
from cnnkit.train.schedules import StepDecay, lr_at, lr_curve


# --- lr_curve: the rate at given iterations, exactly ---------------------------------------------

def _at(frame, steps):
    return frame.set_index("step").loc[steps, "lr"].to_numpy()


def test_lr_curve_step_exponential_cosine():
    step = lr_curve("step", 100, base_lr=0.1)  # milestones 50 % / 75 %: ÷10 from iteration 50, again from 75
    assert list(step.columns) == ["step", "lr"] and step["step"].tolist() == list(range(100))
    np.testing.assert_allclose(_at(step, [0, 49, 50, 74, 75, 99]), [0.1, 0.1, 0.01, 0.01, 0.001, 0.001], rtol=1e-6)
    expo = lr_curve("exponential", 100, base_lr=0.1)  # 0.1 · 0.01^(t / 100)
    np.testing.assert_allclose(_at(expo, [0, 50, 99]), [0.1, 0.01, 0.1 * 0.01 ** 0.99], rtol=1e-5)
    cosine = lr_curve("cosine", 100, base_lr=0.1)  # 0.05 · (1 + cos(π t / 100))
    np.testing.assert_allclose(_at(cosine, [0, 25, 50]), [0.1, 0.05 * (1 + math.cos(math.pi / 4)), 0.05], rtol=1e-5)


def test_lr_curve_cyclic_constant_warmup_and_schedule_objects():
    cyclic = lr_curve("cyclic", 96, base_lr=0.06)  # triangle 0.01 → 0.06 → 0.01, half cycle 96 // 8 = 12
    np.testing.assert_allclose(_at(cyclic, [0, 6, 12, 18, 24, 36]), [0.01, 0.035, 0.06, 0.035, 0.01, 0.06], rtol=1e-5)
    np.testing.assert_allclose(lr_curve("constant", 5, base_lr=0.3)["lr"], [0.3] * 5)
    warm = lr_curve("constant", 8, base_lr=0.1, warmup_steps=4)  # linear ramp from 0 over 4 iterations
    np.testing.assert_allclose(warm["lr"], [0.0, 0.025, 0.05, 0.075, 0.1, 0.1, 0.1, 0.1], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(lr_curve(StepDecay(0.2, [3]), 5)["lr"], [0.2, 0.2, 0.2, 0.02, 0.02], rtol=1e-6)
    np.testing.assert_allclose(lr_curve(0.5, 3)["lr"], [0.5, 0.5, 0.5])


@pytest.mark.parametrize("name", ["step", "exponential", "cosine", "cyclic"])
def test_lr_curve_matches_step_by_step_evaluation(name):
    from cnnkit.train.schedules import get_schedule

    schedule = get_schedule(name, 0.1, 40, warmup_steps=5)
    np.testing.assert_allclose(lr_curve(name, 40, base_lr=0.1, warmup_steps=5)["lr"],
                               [lr_at(schedule, t) for t in range(40)], rtol=1e-5)  # float32, vectorised


@pytest.mark.parametrize("args, kwargs, match", [
    (("plateau", 10), {"base_lr": 0.1}, "history"), (("step", 10), {}, "needs base_lr"),
    ((0.1, 10), {"factor": 0.5}, "only apply to a schedule given by name"), (("step", 0), {"base_lr": 0.1}, ">= 1"),
])
def test_lr_curve_rejects_bad_arguments(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        lr_curve(*args, **kwargs)


# --- the grid ----------------------------------------------------------------------------------

EVERY = opt.Params(optimizers=opt.OPTIMIZER_NAMES, schedules=opt.SCHEDULE_NAMES)


def test_experiment_grid_and_stated_rates():
    p = EVERY.replace(seeds=(0, 1), subset=100, epochs=2, lrs={"adam": 3e-4}, plateau_patience=2)
    exp = opt.experiment(p)
    assert list(exp.variants) == [*opt.OPTIMIZER_NAMES, *(f"momentum+{s}" for s in opt.SCHEDULE_NAMES), "linear"]
    assert len(exp.runs()) == 26  # every config checked by RunConfig
    floor = exp.config("linear", 0)  # the floor: the linear model with SGD + momentum at momentum's constant rate
    assert (floor["model"], floor["model_options"], floor["optimizer"], floor["lr"], floor["schedule"]) == \
        ("linear", {}, "momentum", 0.01, "constant")
    table = opt.settings_table(p)
    assert table.loc[list(opt.OPTIMIZER_NAMES), "lr"].tolist() == [0.01, 0.01, 0.01, 0.01, 1.0, 1e-3, 3e-4]
    assert table.loc["nesterov", "momentum"] == 0.9 and table.loc["sgd", "momentum"] == 0.0
    assert (table["schedule"].iloc[:7] == "constant").all() and (table["weight_decay"] == 0.0).all()
    plateau = exp.config("momentum+plateau", 1)
    assert (plateau["optimizer"], plateau["lr"], plateau["schedule"], plateau["schedule_options"]) == \
        ("momentum", 0.01, "plateau", {"patience": 2})
    assert exp.config("momentum+cosine", 0)["schedule_options"] == {} and exp.base["model"] == "lenet5"


@pytest.mark.parametrize("kwargs, match", [
    ({"optimizers": ["sgd", "lbfgs"]}, "optimizers must be distinct names"),
    ({"schedules": ["step", "step"]}, "schedules must be distinct names"),
    ({"optimizers": ["sgd", "adam"]}, "include 'momentum' when schedules are run"),
    ({"optimizers": []}, "optimizers must be distinct names"),
    ({"lrs": {"adadelta": 0.5}, "optimizers": ["momentum"]}, "not run: \\['adadelta'\\]"),
    ({"lrs": {"adam": -1.0}, "optimizers": ["adam"], "schedules": []}, "bad rates"),
    ({"lrs": ["adam"]}, "parameter 'lrs'"), ({"plateau_patience": -1}, "plateau_patience"),
    ({"range_min_lr": 3.0}, "range_min_lr < range_max_lr"), ({"range_steps": 1}, "range_steps >= 2"),
])
def test_params_reject_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        opt.Params(**kwargs)


def test_lrs_is_a_dict_parameter_that_renders_and_reads_back():
    import ast

    from cnnkit.studies import render_cell, resolve

    assert opt.Params().lrs == {} and opt.Params(lrs={"adam": 3e-3}).lrs == {"adam": 3e-3}
    line = next(x for x in render_cell(opt).splitlines() if x.startswith("lrs = "))
    assert ast.literal_eval(line.split("#")[0].split("=", 1)[1].strip()) == {}
    assert resolve(opt, "smoke", {"lrs": {"momentum": 0.02}}).lrs == {"momentum": 0.02}
    assert opt.rates(opt.Params(lrs={"adam": 3e-3}))["adam"] == 3e-3


def test_range_test_uses_the_experiment_net_with_momentum(monkeypatch):
    seen = {}
    monkeypatch.setattr(opt, "lr_range_test", lambda config, **kw: seen.update(config=config, **kw) or "curve")
    p = opt.Params(optimizers=("adam",), schedules=(), seeds=(3, 4), subset=64, range_min_lr=1e-3, range_max_lr=0.5,
                   range_steps=20)
    assert opt.range_test(p) == "curve"
    assert (seen["config"]["optimizer"], seen["config"]["seed"], seen["config"]["subset"]) == ("momentum", 3, 64)
    assert (seen["min_lr"], seen["max_lr"], seen["steps"]) == (1e-3, 0.5, 20)


# --- rates per iteration from a store (runs faked, no training) ----------------------------------

def _fake_fit(config, *, workdir, **kwargs):
    """Three epochs of 10 iterations; plateau runs divide by 10 after epoch 2 (seed 1 never)."""
    lrs = [0.01, 0.01, 0.001 if config.seed == 0 else 0.01] if config.schedule == "plateau" else [config.lr] * 3
    history = [{"epoch": e, "step": 10 * e, "lr": lr, "loss": 1.0 / e} for e, lr in zip((1, 2, 3), lrs)]
    return {"status": "done", "history": history, "final": {"test_error": 0.2}}


def test_schedule_lrs_from_a_store(tmp_path):
    exp = opt.experiment(opt.Params(optimizers=("adam", "momentum"), schedules=("step", "plateau"), seeds=(0, 1),
                                    subset=64))
    results = run_experiment(exp, root=tmp_path, train_fn=_fake_fit, progress=False)
    lrs = opt.schedule_lrs(results)
    assert list(lrs.columns) == ["variant", "seed", "step", "lr"]
    assert sorted(set(lrs["variant"])) == ["momentum", "momentum+plateau", "momentum+step"]  # not adam, not the floor
    step = lrs[(lrs["variant"] == "momentum+step") & (lrs["seed"] == 0)]
    np.testing.assert_allclose(step["lr"], lr_curve("step", 30, base_lr=0.01)["lr"])  # 30 = the run's last step
    plateau = lrs[lrs["variant"] == "momentum+plateau"]
    np.testing.assert_allclose(plateau[plateau["seed"] == 0]["lr"], [0.01] * 20 + [0.001] * 10)
    np.testing.assert_allclose(plateau[plateau["seed"] == 1]["lr"], [0.01] * 30)
    assert plateau[plateau["seed"] == 0]["step"].tolist() == list(range(30))
    fig = opt.plot_schedules(lrs, results.history())
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert fig.axes[1].get_ylabel() == "training loss"


# --- rows on hand-made runs ------------------------------------------------------------------------

def _runs():
    values = {"sgd": ([0.9, 0.95, 1.0], [0.30, 0.31, 0.32], 0.01),
              "momentum": ([0.5, 0.55, 0.6], [0.20, 0.21, 0.22], 0.01),
              "nesterov": ([0.5, 0.56, 0.59], [0.2, 0.2, 0.2], 0.01),
              "adagrad": ([0.2, 0.21, 0.22], [0.2] * 3, 0.01),
              "adam": ([0.3, 0.32, 0.34], [0.19, 0.2, 0.21], 0.001),
              "momentum+step": ([0.4] * 3, [0.15, 0.16, 0.17], 0.01),
              "momentum+cyclic": ([0.4] * 3, [0.25, 0.26, 0.27], 0.01),
              "linear": ([0.45] * 3, [0.205] * 3, 0.01)}
    return runs_frame({v: {"train_loss": loss, "test_error": test, "lr": [lr] * 3}
                       for v, (loss, test, lr) in values.items()})


def _curve():
    """Falls fastest at 1e-3 and is lowest at 1e-1 (10 points a decade)."""
    lr = np.geomspace(1e-5, 1.0, 51)
    return pd.DataFrame({"lr": lr, "loss": 1.0 - np.tanh(np.log10(lr) + 3) + 10 * np.maximum(0, np.log10(lr) + 1) ** 2})


RAN = opt.Params(schedules=("step", "cyclic"))  # the arms of _runs()


def test_summary_rows_on_hand_made_runs():
    rows = opt.summary_rows(_runs(), RAN, _curve())
    assert [r.quantity for r in rows[:4]] == [f"final training loss, {pair}" for pair in (
        "momentum − sgd", "nesterov − momentum", "adam − nesterov", "adagrad − adam")]
    # momentum − sgd is −0.4 on every seed: exact when paired by seed; nesterov − momentum (0, +0.01, −0.01)
    # lies well inside the non-inferiority margin of +0.05
    assert [r.verdict for r in rows[:4]] == ["agrees", "agrees", "agrees", "disagrees"]
    assert rows[0].measured.startswith("-0.40 [90 % CI -0.40, -0.40], p = ") and rows[0].measured.endswith("(n = 3)")
    assert rows[0].headline
    assert rows[1].test.startswith("non-inferiority (paired t), H1: diff < +0.05")
    assert [(r.quantity.split(",")[1].split(" schedule")[0].strip(), r.verdict) for r in rows[4:6]] == \
        [("step", "agrees"), ("cyclic", "disagrees")]
    assert "25k iterations" in rows[5].reference
    assert [r.quantity for r in rows[6:11]] == ["test error, sgd (lr 0.01)", "test error, momentum (lr 0.01)",
                                                "test error, nesterov (lr 0.01)", "test error, adagrad (lr 0.01)",
                                                "test error, adam (lr 0.001)"]
    assert rows[6].measured.startswith("31.00 ± ") and rows[6].verdict == "not comparable"
    assert rows[11].measured == "0.001 / 0.01" and rows[11].reference.startswith("AlexNet used 0.01")
    assert rows[11].verdict == "not comparable"
    assert rows[12].quantity.startswith("test error, linear model (the floor") and rows[12].verdict == "not comparable"
    assert rows[12].measured == "20.50 %; 12 of 21 arm runs beat it"  # sgd 0, momentum 1, nesterov/adagrad/adam/step 3
    assert len(opt.summary_rows(_runs(), RAN)) == 12  # no range test: no row for it
    # every claim is judged early: the optimizers' are about speed, the schedules' about this budget
    assert [r.judged_at for r in rows[:6]] == ["early"] * 6


def test_nesterov_row_is_inconclusive_when_the_spread_straddles_the_margin():
    runs = _runs()
    nesterov = runs["variant"] == "nesterov"
    runs.loc[nesterov, "train_loss"] = [0.45, 0.65, 0.60]  # −0.05, +0.10, 0: the interval reaches past +0.05
    row = opt.summary_rows(runs, RAN)[1]
    assert row.verdict == "inconclusive" and "seeds per arm would decide" in row.note


def test_summary_rows_with_few_variants():
    runs = _runs()
    p = opt.Params(optimizers=("sgd", "adam"), schedules=())
    rows = opt.summary_rows(runs[runs["variant"].isin(["sgd", "adam"])].drop(columns="lr"), p)
    assert [r.quantity for r in rows] == ["test error, sgd", "test error, adam", "test error, linear model (the floor)"]
    assert rows[2].measured == "no finished linear run"


def test_plot_lr_range():
    fig = opt.plot_lr_range(_curve().assign(smoothed_loss=_curve()["loss"]), {"steepest": 1e-3, "min-loss / 10": 1e-2})
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and len(ax.lines) == 4
    assert ax.get_ylim()[1] == pytest.approx(2 * (1 + math.tanh(2)) * 1.05)  # twice the first loss, not the blow-up


def test_schedule_rows_are_judged_at_the_budget_not_on_converged_runs():
    rows = opt.summary_rows(_runs().assign(converged=False), RAN)  # constant rates never decay: none converged
    assert rows[4].verdict == "agrees" and rows[4].converged is False  # step vs constant: a claim about this budget
    assert rows[0].verdict == "agrees" and rows[0].converged is False  # speed claims are judged during training
    assert rows[5].verdict == "disagrees"  # cyclic: "sooner", a speed claim
    assert all(c.judged_at == "early" for c in opt.CLAIMS.values())


def test_tracks_follow_the_headline_differences():
    tracks = opt.tracks(RAN)
    assert [(t.a, t.b, t.split, t.metric) for t in tracks] == [
        ("sgd", "momentum", "train", "loss"), ("momentum", "momentum+step", "val", "error"),
        ("momentum", "momentum+cyclic", "val", "error")]
    assert tracks[0].claim is opt.CLAIMS["momentum"] and tracks[2].claim is opt.CLAIMS["cyclic"]
    assert opt.tracks(opt.Params(optimizers=("adam", "momentum"), schedules=())) == []


def test_difference_figures_by_kind():
    figures = opt.difference_figures(opt.summary_rows(_runs(), RAN))
    assert list(figures) == ["08_loss_differences", "08_schedule_differences"]
    assert all(isinstance(f, Figure) for f in figures.values())
    assert opt.difference_figures([]) == {}


def test_differences_follow_the_parameters():
    table = opt.differences(opt.Params(lrs={"adam": 3e-3})).set_index("")
    assert list(opt.differences(opt.Params()).columns) == ["", "here", "the papers"]
    assert table.loc["training", "here"] == "6 epochs × 15 iterations of batch 32"
    assert table.loc["optimizers and rates", "here"] == "sgd 0.01, momentum 0.01, nesterov 0.01, adagrad 0.01, adam 0.003"
    assert table.loc["schedules", "here"] == "step"
    assert "judged early" in table.loc["schedule claims judged on", "here"]
    runs = _runs().assign(converged=False)
    assert opt.differences(opt.Params(), runs).set_index("").loc["convergence", "here"].startswith("0 of 21 runs")
