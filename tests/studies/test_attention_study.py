"""Notebook 12's study: exact parameter overheads against hand counts and the papers, grids, rows."""

import keras
import pandas as pd
import pytest

from cnnkit.layers.attention import BAM, CBAM, SqueezeExcite
from cnnkit.stats import count_params
from cnnkit.studies import attention as study
from cnnkit.studies import resolve


def runs(values: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{"variant": v, "seed": s, "status": "done", "test_error": e}
                         for v, errors in values.items() for s, e in enumerate(errors)])


@pytest.mark.parametrize("layer, kind, expected", [
    # SE on C=32, r=4 (h=8): 32·8 + 8 (reduce) + 8·32 + 32 (expand)
    (SqueezeExcite(4), "se", 32 * 8 + 8 + 8 * 32 + 32),
    # CBAM: the same MLP + a 7x7 conv from 2 maps to 1, with bias
    (CBAM(4), "cbam", 552 + 2 * 49 + 1),
    # BAM, h=8: channel 256+8 + 16 (BN γ,β) + 256+32; spatial 256+8+16, 2 × (9·64+8+16), 8+1
    (BAM(4), "bam", (256 + 8 + 16 + 256 + 32) + (256 + 8 + 16) + 2 * (576 + 8 + 16) + 9),
])
def test_module_params_match_hand_counts_and_the_layers(layer, kind, expected):
    layer.build((None, 6, 6, 32))
    assert study.module_params(kind, 32, ratio=4) == expected == count_params(layer)["trainable"]


def test_se_overhead_on_a_small_resnet_by_hand():
    # ResNet-8 (one basic block per stage, 16/32/64 filters), SE r=16 on each residual branch:
    # C=16, h=1: 16+1+16+16 = 49; C=32, h=2: 64+2+64+32 = 162; C=64, h=4: 256+4+256+64 = 580
    table = study.overhead_table(["se", "bam"], model="resnet_cifar", depth=8)
    se = table.set_index("attention").loc["se"]
    assert (se["modules"], se["added"]) == (3, 49 + 162 + 580)
    assert se["added_pct"] == pytest.approx(100 * 791 / table.loc[0, "trainable"])
    # BAM after stages 1 and 2 only (the paper's bottlenecks): 96 + 323, see module_params
    bam = table.set_index("attention").loc["bam"]
    assert (bam["placement"], bam["modules"], bam["added"]) == ("stage", 2, 96 + 323)
    assert bam["added"] == study.module_params("bam", 16) + study.module_params("bam", 32)


def test_se_on_resnet50_adds_what_the_papers_report():
    table = study.overhead_table(["se"], model="resnet50", input_shape=(224, 224, 3), num_classes=1000)
    added = int(table.loc[1, "added"])
    # 16 bottlenecks, SE on 4C channels: 3·(2·256²/16+16+256) + 4·(…512) + 6·(…1024) + 3·(…2048)
    assert added == 3 * 8464 + 4 * 33312 + 6 * 132160 + 3 * 526464 == 2_530_992
    row = study.summary_rows(runs({"none": [0.1]}), study.Params(), imagenet=table)[0]
    assert (row.measured, row.verdict) == ("+2,530,992", "agrees")  # CBAM Table 4: 25.56 → 28.09 M
    assert row.judged_at is None and row.headline  # a count: nothing is trained


def test_count_modules():
    inputs = keras.Input((8, 8, 16))
    x = SqueezeExcite(name="a")(inputs)
    x = BAM(name="b")(SqueezeExcite(name="c")(x))
    assert study.count_modules(keras.Model(inputs, x)) == {"se": 2, "cbam": 0, "bam": 1}


def test_experiment_variants_and_placements():
    exp = study.experiment(study.Params(trained=None, seeds=(0, 1), depth=8, width=8))
    assert list(exp.variants) == ["none", "se", "cbam", "bam", "linear"]
    specs = {s.run_id: s.config for s in exp.runs()}
    assert specs["none__s0"]["model_options"] == {"depth": 8, "width": 8}
    assert specs["bam__s1"]["model_options"] == {"depth": 8, "width": 8, "attention": "bam",
                                                 "attention_placement": "stage"}
    assert specs["se__s0"]["model_options"]["attention_placement"] == "block"
    assert specs["se__s0"]["recipe"] == "resnet_cifar" and specs["se__s0"]["resolution"] == 16
    assert (specs["linear__s1"]["model"], specs["linear__s1"]["model_options"]) == ("linear", {})  # the floor
    block = study.experiment(study.Params(trained=["bam"], bam_placement="block"))
    assert list(block.variants) == ["none", "bam", "linear"]
    assert block.variants["bam"]["model_options.attention_placement"] == "block"
    assert list(study.experiment().variants) == ["none", "se", "linear"]  # quick: SE trained, all three counted


def test_every_run_decays_its_rate_within_its_iterations():
    from cnnkit.train.config import RunConfig

    p = study.Params()
    cfg = RunConfig.from_dict(study.experiment(p).config("se", 0)).resolved()
    assert (cfg.epochs * cfg.steps_per_epoch, cfg.steps_per_epoch) == (p.iterations, p.log_every)
    assert cfg.schedule == "step" and cfg.warmup_steps == p.warmup_steps  # ÷10 at 50 % and 75 % of the iterations
    assert p.iterations // p.log_every >= 6  # enough logged points for the last quarter and the figure
    long = resolve(study, "long")
    assert long.iterations >= 4 * p.iterations and long.subset is None and long.depth == p.depth
    with pytest.raises(ValueError, match="multiple of log_every"):
        study.Params(iterations=100, log_every=30)


def test_tracks_follow_each_trained_module_on_the_validation_error():
    tracks = study.tracks(study.Params(trained=("se", "bam")))
    assert [(t.quantity, t.a, t.b, t.split, t.claim) for t in tracks] == [
        ("SE − none, validation error", "none", "se", "val", study.CLAIMS["se"]),
        ("BAM − none, validation error", "none", "bam", "val", study.CLAIMS["bam"])]
    with pytest.raises(ValueError, match="'eca'"):
        study.module_params("eca", 16)


@pytest.mark.parametrize("changes, match", [({"attentions": ["eca"]}, "'eca'"), ({"trained": ["se", "se"]}, "trained"),
                                            ({"attentions": "se"}, "expects"), ({"bam_placement": "end"}, "stage"),
                                            ({"depth": 21}, "6n\\+2")])
def test_params_are_checked_when_made(changes, match):
    with pytest.raises(ValueError, match=match):
        study.Params(**changes)


def test_overheads_count_the_trained_net_as_the_runs_see_it():
    p = study.Params(attentions=("se",), depth=8, width=16, resolution=16)
    imagenet, trained = study.overheads(p)
    assert imagenet.loc[1, "added"] == 2_530_992
    assert (trained.loc[1, "modules"], trained.loc[1, "added"]) == (3, 49 + 162 + 580)  # as on 28x28: GAP
    assert trained.loc[0, "macs"] < study.overheads(p.replace(resolution=None))[1].loc[0, "macs"]


def test_run_trains_the_experiment(monkeypatch):
    calls = []
    monkeypatch.setattr(study, "run_grid", lambda exp, root, **kw: calls.append((list(exp.variants), root, kw)))
    study.run(study.Params(), "r")
    assert calls == [(["none", "se", "linear"], "r", {"workers": 2})]


def test_summary_rows_from_hand_made_tables():
    overhead = pd.DataFrame({"attention": ["none", "se"], "placement": ["—", "block"], "modules": [0, 9],
                             "trainable": [1000, 1010], "added": [0, 10], "added_pct": [0.0, 1.0]})
    imagenet = pd.DataFrame({"attention": ["none", "se", "bam"], "added": [0, 2_530_992, 300_000]})
    frame = runs({"none": [0.12, 0.13, 0.14], "se": [0.08, 0.09, 0.10], "bam": [0.16, 0.17, 0.18]})
    rows = study.summary_rows(frame, study.Params(trained=("se", "bam")), overhead, imagenet)
    assert [r.verdict for r in rows[:2]] == ["agrees", "disagrees"]  # BAM: 0.30 M vs the paper's 0.36 M
    assert rows[2].measured == "+10 (+1.00 %)" and rows[2].reference == "+9.9 % on ResNet-50"
    assert (rows[3].quantity, rows[3].verdict) == ("test error, SE − none", "agrees")
    assert rows[3].reference.startswith("-1.51 pp top-1")
    assert (rows[4].quantity, rows[4].verdict) == ("test error, BAM − none", "disagrees")
    assert [r.quantity for r in rows[5:8]] == ["test error, none", "test error, se", "test error, bam"]
    assert rows[8].quantity.startswith("test error, linear model") and rows[8].measured == "no finished linear run"
    assert (rows[3].judged_at, rows[0].judged_at) == ("trained", None)
    waiting = study.summary_rows(frame.assign(converged=[True] * 6 + [False] * 3), study.Params(trained=("se", "bam")))
    assert [r.verdict for r in waiting[:2]] == ["agrees", "not converged"]


def test_a_module_whose_nets_lose_to_the_linear_floor_is_not_judged():
    frame = runs({"none": [0.12, 0.13, 0.14], "se": [0.08, 0.09, 0.10], "bam": [0.16, 0.17, 0.18],
                  "linear": [0.15, 0.15, 0.15]}).assign(converged=True)
    rows = study.summary_rows(frame, study.Params(trained=("se", "bam")))
    by = {r.quantity: r for r in rows}
    assert by["test error, SE − none"].verdict == "agrees"  # both beat the floor (15 %)
    assert by["test error, BAM − none"].verdict == "not converged"  # BAM's nets (16–18 %) do not
    assert rows[-1].measured == "15.00 %; 6 of 9 arm runs beat it"


def test_differences_follow_the_parameters():
    quick = study.differences(study.Params()).set_index("")
    assert list(quick.columns) == ["here", "the papers"]
    assert quick.loc["network", "here"] == "ResNet-8 (resnet_cifar, first-stage width 8)"
    assert quick.loc["data", "here"] == "fashion_mnist at 16x16, 20000 training images"
    assert quick.loc["modules trained", "here"] == "SE"
    paper = study.differences(resolve(study, "paper")).set_index("")
    assert paper.loc["modules trained", "here"] == "SE, CBAM, BAM" and "native size" in paper.loc["data", "here"]
    assert quick.loc["budget", "here"].startswith(f"{study.Params().iterations} iterations × batch 128")
    assert "÷10 at 50 % and 75 %" in quick.loc["learning-rate schedule", "here"]
    frame = runs({"none": [0.1, 0.2]}).assign(converged=[True, False])
    table = study.differences(study.Params(), frame).set_index("")
    assert table.loc["convergence", "here"].startswith("1 of 2 runs converged")
