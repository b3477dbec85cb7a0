"""Notebook 09's logic: which model at which scale, counts vs references, the Pareto front, the
zoo table, the experiment grids and the measured-vs-reference rows (hand-made frames)."""

import math

import numpy as np
import pandas as pd
import pytest

from cnnkit.train.config import RunConfig
from cnnkit.notebook.report import Row
from cnnkit.studies import resolve, zoo


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's per-test ``clear_session``: these tests build shapes-only models at most."""
    yield


# --- the Pareto front -----------------------------------------------------------------------------

def test_pareto_front_on_hand_made_points():
    # a: cheapest; b: dominated by a (costlier, worse); c: better than a at more cost; d: dominated by c;
    # e: most accurate; f: no accuracy (never on the front); g: ties with c exactly (both stay)
    points = pd.DataFrame({"macs": [1, 2, 5, 6, 10, 0.5, 5], "test_accuracy": [0.80, 0.70, 0.90, 0.85, 0.95,
                                                                               np.nan, 0.90]},
                          index=list("abcdefg"))
    front = zoo.pareto_front(points)
    assert front[front].index.tolist() == ["a", "c", "e", "g"]


def test_pareto_front_equal_cost_keeps_only_the_better_one():
    points = pd.DataFrame({"cost": [3, 3, 1], "score": [0.5, 0.6, 0.4]})
    assert zoo.pareto_front(points, cost="cost", score="score").tolist() == [False, True, True]


# --- which model, which scale ---------------------------------------------------------------------

def test_zoo_options_per_kind_of_model():
    assert zoo.zoo_options("resnet50") == {"cifar_stem": True}
    assert zoo.zoo_options("vgg16") == {"cifar": True}
    assert zoo.zoo_options("resnet20") == {} and zoo.zoo_options("googlenet") == {}
    assert zoo.zoo_options("alexnet") is None and zoo.zoo_options("siamese") is None
    assert zoo.native_config("resnet50") == ((224, 224, 3), 1000)
    assert zoo.native_config("resnet20") == ((32, 32, 3), 10)
    assert (zoo.form("resnet50"), zoo.form("resnet20"), zoo.form("triplet")) == ("imagenet", "cifar", "metric")
    trainable = zoo.trainable_models()
    assert "alexnet_cifar" in trainable and not set(zoo.NATIVE_ONLY) & set(trainable)


@pytest.mark.parametrize("names, match", [("resnet20", "write \\['resnet20'\\]"), (["nope"], "unknown model"),
                                          (["lenet5", "lenet5"], "twice"), ([], "empty")])
def test_resolve_models_rejects_bad_lists(names, match):
    with pytest.raises(ValueError, match=match):
        zoo.resolve_models(names)


def test_resolve_models_refuses_to_train_native_only_models():
    assert zoo.resolve_models(["alexnet", "lenet5"]) == ["alexnet", "lenet5"]  # listing is fine
    assert zoo.resolve_models(None, trainable=True) == zoo.trainable_models()
    assert "alexnet" in zoo.resolve_models(None)
    with pytest.raises(ValueError, match="alexnet: ImageNet-only"):
        zoo.resolve_models(["alexnet", "lenet5"], trainable=True)


@pytest.mark.parametrize("measured, reference, source, expect", [
    (25_636_712, 25_636_712, "keras.applications, exact", True),
    (25_636_713, 25_636_712, "keras.applications, exact", False),
    (269_722, 0.27e6, "He et al. 2016, Table 6", True),
    (1_727_962, 1.7e6, "He et al. 2016, Table 6", True),
    (280_000, 0.27e6, "He et al. 2016, Table 6", False),
    (1000, math.nan, "", None),
])
def test_params_match(measured, reference, source, expect):
    assert zoo.params_match(measured, reference, source) == expect


# --- the catalogue (shapes-only builds) -----------------------------------------------------------

def test_catalogue_counts_native_and_zoo_scale_and_checks_references():
    cat = zoo.catalogue(["lenet5", "alexnet", "resnet20", "mobilenet"]).set_index("model")
    assert cat.loc["lenet5", "params"] == 61_706 and cat.loc["lenet5", "native_input"] == "32x32x1, 10 classes"
    assert math.isnan(cat.loc["alexnet", "params"]) and cat.loc["alexnet", "native_params"] == 62_378_344
    assert cat.loc["alexnet", "note"].startswith("ImageNet-only")
    assert cat.loc["resnet20", "native_trainable"] == 269_722 and cat.loc["resnet20", "params_match"]
    # at 28x28x1 the first convolution has 3x3x1x16 instead of 3x3x3x16 weights
    assert cat.loc["resnet20", "native_params"] - cat.loc["resnet20", "params"] == 3 * 3 * 2 * 16
    assert cat.loc["mobilenet", "native_params"] == 4_253_864 and cat.loc["mobilenet", "params_match"]
    assert cat.loc["mobilenet", "zoo_options"] == "cifar_stem=True" and cat.loc["lenet5", "zoo_options"] == "as is"
    assert cat.loc["mobilenet", "macs"] < cat.loc["mobilenet", "native_macs"]


# --- the table, from hand-made frames -------------------------------------------------------------

def catalogue_frame() -> pd.DataFrame:
    rows = []
    for name, params, macs, ref, source in [("tiny", 1e4, 1e5, math.nan, ""), ("mid", 1e5, 1e7, math.nan, ""),
                                            ("big", 1e6, 1e8, 1e6, "keras.applications, exact"),
                                            ("huge", 2e7, 1e9, math.nan, "")]:
        rows.append({"model": name, "form": "cifar", "zoo_options": "as is", "params": params, "macs": macs,
                     "native_input": "32x32x3, 10 classes", "native_params": params, "native_trainable": params,
                     "native_macs": macs, "reference_params": ref, "reference": source,
                     "params_match": zoo.params_match(params, ref, source),
                     "note": "1.0 GMAC per image: a GPU job" if name == "huge" else ""})
    return pd.DataFrame(rows)


def runs_frame(acc: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{"variant": m, "run_id": f"{m}__s{s}", "seed": s, "status": "done", "test_accuracy": a,
                          "test_error": 1 - a} for m, values in acc.items() for s, a in enumerate(values)])


def history_frame(speeds: dict[str, list[list[float]]]) -> pd.DataFrame:
    """``speeds[model][seed]`` = images/s per epoch."""
    return pd.DataFrame([{"variant": m, "run_id": f"{m}__s{s}", "seed": s, "epoch": e + 1, "split": "train",
                          "metric": "images_per_sec", "value": v}
                         for m, per_seed in speeds.items() for s, eps in enumerate(per_seed)
                         for e, v in enumerate(eps)])


def test_measured_takes_each_runs_median_speed_then_the_mean():
    runs = runs_frame({"tiny": [0.80, 0.82], "mid": [0.90, 0.90]})
    hist = history_frame({"tiny": [[100, 300, 200], [400, 400, 1000]], "mid": [[50], [70]]})
    meas = zoo.measured(runs, hist).set_index("model")
    assert meas.loc["tiny", "images_per_sec"] == pytest.approx((200 + 400) / 2)
    assert meas.loc["mid", "images_per_sec"] == pytest.approx(60)
    assert meas.loc["tiny", "test_accuracy"] == pytest.approx(0.81) and meas.loc["tiny", "n"] == 2
    assert meas.loc["mid", "accuracy_ci95"] == 0


def test_zoo_table_columns_front_and_notes():
    runs = runs_frame({"tiny": [0.80, 0.82], "mid": [0.78, 0.80], "big": [0.90, 0.92]})
    hist = history_frame({m: [[100.0], [100.0]] for m in ("tiny", "mid", "big")})
    table = zoo.zoo_table(catalogue_frame(), runs, hist)
    assert list(table.columns) == zoo.TABLE_COLUMNS
    assert table["model"].tolist() == ["tiny", "mid", "big", "huge"]  # cheapest first
    assert table.set_index("model")["pareto"].to_dict() == {"tiny": True, "mid": False, "big": True, "huge": False}
    notes = table.set_index("model")["note"]
    assert notes["huge"].endswith("GPU job") and notes["tiny"] == ""
    counts_only = zoo.zoo_table(catalogue_frame())
    assert counts_only["note"].iloc[0] == "not trained in this run (not in models)" and not counts_only["pareto"].any()
    text = zoo.format_table(table).set_index("model")
    assert text.loc["big", "Pareto"] == "★" and text.loc["big", "reference params"].startswith("1,000,000 ✓")
    assert text.loc["tiny", "test accuracy"].startswith("0.810 ± ") and text.loc["huge", "test accuracy"] == "—"


def test_zoo_table_when_runs_failed():
    runs = pd.DataFrame([{"variant": "tiny", "run_id": "tiny__s0", "seed": 0, "status": "failed",
                          "error": "ValueError: boom"}])
    table = zoo.zoo_table(catalogue_frame(), runs, history_frame({}))
    notes = table.set_index("model")["note"]
    assert notes["tiny"] == "training failed: ValueError: boom" and notes["mid"].startswith("not trained")
    assert table["test_accuracy"].isna().all() and not table["pareto"].any()


def test_plot_pareto_draws_the_trained_models_and_refuses_an_empty_table():
    runs = runs_frame({"tiny": [0.80, 0.82], "big": [0.90, 0.92]})
    table = zoo.zoo_table(catalogue_frame(), runs, history_frame({"tiny": [[1.0]], "big": [[1.0]]}))
    fig = zoo.plot_pareto(table)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and {t.get_text() for t in ax.texts} == {"tiny", "big"}
    with pytest.raises(ValueError, match="no trained model"):
        zoo.plot_pareto(zoo.zoo_table(catalogue_frame()))


# --- experiments ------------------------------------------------------------------------------------

def test_experiment_grid_one_variant_per_model_at_zoo_scale():
    exp = zoo.experiment(zoo.Params(models=["lenet5", "resnet50", "vgg11"], zoo_seeds=[0, 1], subset=100, epochs=1))
    assert list(exp.variants) == ["lenet5", "resnet50", "vgg11"] and exp.seeds == (0, 1)
    assert exp.variants["resnet50"] == {"model": "resnet50", "model_options": {"cifar_stem": True}}
    specs = exp.runs()  # every config passes RunConfig
    assert len(specs) == 6 and {s.config["recipe"] for s in specs} == {"adam"}
    assert {s.config["subset"] for s in specs} == {100}
    assert zoo.experiment().seeds == zoo.Params().zoo_seeds  # the table's seeds, not the ablation's


@pytest.mark.parametrize("changes, match", [({"models": ["zfnet"]}, "cannot be trained"),
                                            ({"models": "lenet5"}, "expects"),
                                            ({"listed": ["lenet6"]}, "unknown model"),
                                            ({"drop_layer": 3}, "middle convolution"),
                                            ({"drop_layer": True}, "expects int")])
def test_params_are_checked_when_made(changes, match):
    with pytest.raises(ValueError, match=match):
        zoo.Params(**changes)


def test_ablation_experiment_full_vs_without_a_middle_layer():
    exp = zoo.ablation_experiment(zoo.Params(seeds=[0, 1, 2]))
    assert exp.variants == {"full": {}, "without-conv2": {"model_options": {"drop_layer": 2}}}
    cfg = RunConfig.from_dict(exp.config("without-conv2", 1))
    assert (cfg.model, cfg.model_options, cfg.seed) == ("alexnet_cifar", {"drop_layer": 2}, 1)
    assert cfg.resolution == zoo.Params().ablation_resolution and exp.seeds == (0, 1, 2)
    native = RunConfig.from_dict(zoo.ablation_experiment(zoo.Params(ablation_resolution=None)).config("full", 0))
    assert native.resolution is None


def test_run_trains_each_grid_with_its_policy(monkeypatch):
    calls = []
    monkeypatch.setattr(zoo, "run_grid", lambda exp, root, **kw: calls.append((exp.name, root, kw)))
    zoo.run(zoo.Params(), "r", workers=1)
    zoo.run_ablation(zoo.Params(), "r")
    assert calls == [("zoo", "r", {"workers": 1, "require": "nothing"}), ("alexnet_drop_layer", "r", {"workers": 2})]


# --- summary rows -----------------------------------------------------------------------------------

def test_summary_rows_on_hand_made_frames():
    cat = catalogue_frame()
    cat.loc[cat["model"] == "mid", ["model", "reference_params", "reference", "native_trainable"]] = \
        ["resnet20", 0.27e6, "He et al. 2016, Table 6", 280_000]
    cat.loc[cat["model"] == "resnet20", "params_match"] = zoo.params_match(280_000, 0.27e6, "He et al. 2016, Table 6")
    cat.loc[cat["model"] == "tiny", "model"] = "vgg16"
    runs = runs_frame({"vgg16": [0.80, 0.82], "big": [0.90, 0.92]})
    table = zoo.zoo_table(cat, runs, history_frame({"vgg16": [[1.0]], "big": [[1.0]]}))
    ablation = pd.DataFrame([{"variant": v, "seed": s, "status": "done", "test_error": e}
                             for v, errs in {"full": [0.20, 0.21, 0.22], "without-conv2": [0.25, 0.26, 0.27]}.items()
                             for s, e in enumerate(errs)])
    rows = zoo.summary_rows(ablation, zoo.Params(), table)
    assert all(isinstance(r, Row) for r in rows)
    by = {r.quantity.split(" (")[0]: r for r in rows}
    assert by["parameters, big"].verdict == "agrees" and by["parameters, big"].measured == "1,000,000"
    assert by["trainable parameters, resnet20"].verdict == "disagrees"  # 0.28 M vs the paper's 0.27 M
    drop = by["test error, AlexNet without conv2 − full"]
    assert drop.verdict == "agrees" and drop.measured.startswith("+5.00 pp") and "+2 pp" in drop.reference
    assert drop.headline and drop.test.startswith("one-sided paired t")  # +5 pp on every seed: exact when paired
    assert (drop.judged_at, by["parameters, big"].judged_at) == ("trained", None)  # counts: nothing trained
    front = by["models on the accuracy-vs-MACs Pareto front"]
    assert front.verdict == "not comparable"
    assert front.measured.startswith("vgg16 (0.810") and "big (0.910" in front.measured
    vgg = by["test accuracy, vgg16"]
    assert vgg.reference.startswith("0.935") and vgg.verdict == "not comparable"
    mixed = ablation.assign(test_error=[0.20, 0.21, 0.22, 0.19, 0.26, 0.23])  # −1, +5, +1 pp
    (row,) = [r for r in zoo.summary_rows(mixed, zoo.Params(), table) if r.quantity.startswith("test error, AlexNet")]
    assert row.verdict == "inconclusive" and "seeds" in row.note
    no_fashion = zoo.summary_rows(None, zoo.Params(dataset="cifar10"), table)
    assert not any(r.quantity.startswith(("test accuracy", "test error")) for r in no_fashion)
    unconverged = ablation.assign(converged=[True, True, True, True, False, True])
    (row,) = [r for r in zoo.summary_rows(unconverged) if r.quantity.startswith("test error, AlexNet")]
    assert row.verdict == "not converged"  # a claim about trained nets: judged only where every run converged


def test_differences_follow_the_parameters():
    quick = zoo.differences(zoo.Params()).set_index("")
    assert list(quick.columns) == ["here", "the papers"]
    assert quick.loc["AlexNet ablation", "here"] == "alexnet_cifar (three convolutions) without conv2, at 16x16"
    assert quick.loc["seeds", "here"] == "1 per model in the table; 3, paired, in the ablation"
    paper = zoo.differences(resolve(zoo, "paper"))
    assert paper.set_index("").loc["budget", "here"].startswith("30 epochs")
    assert "native size" in paper.set_index("").loc["AlexNet ablation", "here"]
    runs = pd.DataFrame({"variant": ["full", "without-conv2"], "seed": [0, 0], "status": ["done", "done"],
                         "converged": [True, False]})
    assert zoo.differences(zoo.Params(), runs).set_index("").loc["converged (ablation runs)", "here"] == "1 of 2"


def test_the_ablation_is_followed_over_training_by_its_declared_claim():
    """The headline ``without − full`` is judged at every logged point: the over-training frame of hand-made
    histories (without-conv2 2 pp worse at each point, paired by seed) agrees at both points."""
    from cnnkit.ablation.over_training import over_training

    (track,) = zoo.tracks(zoo.Params())
    assert (track.a, track.b, track.claim) == ("full", "without-conv2", zoo.CLAIMS["drop_layer"])
    rows = [{"run_id": f"{v}__s{s}", "variant": v, "seed": s, "step": step, "split": "val", "metric": "error",
             "value": 0.30 - 0.05 * step / 100 + (0.02 + 0.001 * s if v == "without-conv2" else 0.0)}
            for v in ("full", "without-conv2") for s in range(3) for step in (50, 100)]
    over = over_training(pd.DataFrame(rows), [track])
    assert list(over["step"]) == [50, 100] and set(over["verdict"]) == {"agrees"}
    assert over["diff"].round(4).tolist() == [0.021, 0.021]
