"""Notebook 11's study: graph statistics on graphs whose numbers are known by hand, grids, rows, its run."""

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from cnnkit._status import DONE
from cnnkit.models.randwire import random_graph
from cnnkit.studies import randwire as study

SMALL = study.Params(nodes=6, channels=8, stages=1, resnet_depths=(8, 14), resnet_widths=(4, 8), seeds=(0, 1))
MATCH = {"depth": 8, "width": 4, "macs": 2.0e6, "target_macs": 2.1e6}


def runs(values: dict[str, list[float]], converged: bool | None = None) -> pd.DataFrame:
    """A frame shaped like Results.runs(): one row per (variant, seed) with a test error (and ``converged``)."""
    extra = {} if converged is None else {"converged": converged}
    return pd.DataFrame([{"variant": v, "seed": s, "status": DONE, "test_error": e, **extra}
                         for v, errors in values.items() for s, e in enumerate(errors)])


# --- graph statistics -----------------------------------------------------------------------------

def test_ring_statistics_by_hand():
    s = study.degree_stats(nx.cycle_graph(6))
    # every node has degree 2; no triangles; distances from a node: 1, 1, 2, 2, 3 -> mean 9/5
    assert (s["nodes"], s["edges"], s["degree_min"], s["degree_max"], s["components"]) == (6, 6, 2, 2, 1)
    assert (s["degree_mean"], s["degree_std"], s["clustering"]) == (2.0, 0.0, 0.0)
    assert s["avg_shortest_path"] == pytest.approx(9 / 5)
    # lower -> higher: 0 feeds 1 and 5; the chain 0 -> 1 -> ... -> 5 is the longest path
    assert (s["n_inputs"], s["n_outputs"], s["longest_path"]) == (1, 1, 5)


def test_complete_graph_statistics_by_hand():
    s = study.degree_stats(nx.complete_graph(5))
    assert (s["edges"], s["degree_mean"], s["degree_std"], s["clustering"], s["avg_shortest_path"]) == (10, 4, 0, 1, 1)
    assert (s["n_inputs"], s["n_outputs"], s["longest_path"]) == (1, 1, 4)


def test_star_statistics_by_hand():
    s = study.degree_stats(nx.star_graph(4))  # centre 0 of degree 4, four leaves of degree 1
    assert s["degree_mean"] == pytest.approx(1.6)
    assert s["degree_std"] == pytest.approx(1.2)  # sqrt((2.4² + 4·0.6²) / 5)
    assert s["clustering"] == 0.0
    assert s["avg_shortest_path"] == pytest.approx((4 * 1 + 6 * 2) / 10)
    assert (s["n_inputs"], s["n_outputs"]) == (1, 4)


def test_disconnected_graph_uses_the_largest_component():
    g = nx.path_graph(3)
    g.add_node(3)  # isolated: both fed by the stage input and averaged into its output
    s = study.degree_stats(g)
    assert s["components"] == 2 and s["degree_min"] == 0
    assert s["avg_shortest_path"] == pytest.approx(4 / 3)  # path 0-1-2: 1, 1, 2
    assert (s["n_inputs"], s["n_outputs"]) == (2, 2)


def test_degree_stats_rejects_a_dag():
    with pytest.raises(ValueError, match="undirected"):
        study.degree_stats(nx.DiGraph([(0, 1)]))


def test_labels_and_table_follow_the_paper_settings():
    assert [study.graph_label(random_graph(g, 8)) for g in ("er", "ba", "ws")] == ["ER(p=0.2)", "BA(m=5)",
                                                                                   "WS(k=4, p=0.75)"]
    table = study.graph_table(("er", "ba", "ws"), nodes=12, samples=3)
    assert len(table) == 9 and list(table["seed"][:3]) == [0, 1, 2]
    ws, ba = table[table["generator"] == "ws"], table[table["generator"] == "ba"]
    assert (ws["edges"] == 12 * 4 // 2).all() and (ws["degree_mean"] == 4).all()  # rewiring keeps N·K/2 edges
    assert (ba["edges"] == 5 * (12 - 5)).all()  # a star of M+1 nodes, then M edges per new node
    summary = study.graph_summary(table)
    assert list(summary.index) == ["ER(p=0.2)", "BA(m=5)", "WS(k=4, p=0.75)"]
    assert summary.loc["WS(k=4, p=0.75)", "degree_mean"] == "4.00 ± 0.00"
    with pytest.raises(ValueError, match="'xx'"):
        study.graph_table(["xx"], nodes=12, samples=1)


def test_draw_graphs_one_panel_per_generator():
    fig = study.draw_graphs(["ws", "er"], nodes=8)
    assert [ax.get_title().split(":")[0] for ax in fig.axes] == ["WS(k=4, p=0.75)", "ER(p=0.2)"]


# --- nets ---------------------------------------------------------------------------------------

def test_match_resnet_picks_the_closest_in_log_macs():
    from cnnkit.models import build
    from cnnkit.stats import macs, shapes_only

    m = study.match_resnet(SMALL, input_shape=(28, 28, 1), num_classes=10)
    cand = m["candidates"]
    assert len(cand) == 4 and m["target_macs"] == pytest.approx(m["randwire"]["macs"].mean())
    best = cand.iloc[np.argmin(np.abs(np.log(cand["macs"] / m["target_macs"])))]
    assert (m["depth"], m["width"]) == (best["depth"], best["width"])
    with shapes_only():
        net = build("resnet_cifar", input_shape=(28, 28, 1), num_classes=10, depth=m["depth"], width=m["width"])
    assert m["macs"] == macs(net)


def test_experiment_variants_and_configs():
    exp = study.experiment(SMALL, match=MATCH)
    assert list(exp.variants) == ["er", "ba", "ws", "resnet", "linear"]
    specs = {s.run_id: s.config for s in exp.runs()}  # validated through RunConfig
    assert specs["ba__s1"]["model_options"] == {"generator": "ba", "nodes": 6, "channels": 8, "stages": 1,
                                                "head_channels": None}
    assert specs["ws__s0"]["schedule"] == SMALL.schedule
    # the iterations in logged points of log_every, warmed up, then the schedule over exactly these iterations
    ws = specs["ws__s0"]
    assert (ws["epochs"] * ws["steps_per_epoch"], ws["steps_per_epoch"]) == (SMALL.iterations, SMALL.log_every)
    assert ws["warmup_steps"] == SMALL.warmup_steps and SMALL.iterations // SMALL.log_every >= 6
    assert specs["resnet__s0"]["model"] == "resnet_cifar"
    assert specs["resnet__s0"]["model_options"] == {"depth": 8, "width": 4}
    assert (specs["linear__s0"]["model"], specs["linear__s0"]["model_options"]) == ("linear", {})  # the floor
    assert list(study.experiment(SMALL.replace(generators=("ws",)), match=MATCH).variants) == ["ws", "resnet",
                                                                                              "linear"]
    with pytest.raises(ValueError, match="'ws', 'ws'"):
        study.Params(generators=("ws", "ws"))
    with pytest.raises(ValueError, match="resnet_depths"):
        study.Params(resnet_depths=())
    with pytest.raises(ValueError, match="multiple of log_every"):
        study.Params(iterations=100, log_every=16)


def test_the_long_preset_is_the_quick_design_trained_longer():
    from cnnkit.studies import resolve

    quick, long = study.Params(), resolve(study, "long")
    assert long.iterations >= 4 * quick.iterations and long.subset is None
    assert (long.channels, long.nodes, long.stages, long.batch_size, long.schedule) == \
        (quick.channels, quick.nodes, quick.stages, quick.batch_size, quick.schedule)


def test_run_trains_with_fit_run_and_refuses_another_train_fn(monkeypatch, tmp_path):
    """The graph seed follows the run seed without the notebook having to ask for it."""
    import cnnkit.studies.randwire as module

    seen = {}
    monkeypatch.setattr(module, "run_grid", lambda exp, root, **kw: seen.update(exp=exp, root=root, **kw))
    study.run(SMALL, str(tmp_path), workers=1, match=MATCH)
    assert seen["train_fn"] is study.fit_run and seen["workers"] == 1 and seen["exp"].name == "randwire"
    with pytest.raises(ValueError, match="fit_run"):
        study.run(SMALL, str(tmp_path), match=MATCH, train_fn=print)


def test_fit_run_ties_the_graph_seed_to_the_run_seed(monkeypatch):
    import cnnkit.train

    seen = []
    monkeypatch.setattr(cnnkit.train, "fit", lambda cfg, **kw: seen.append((cfg.model, dict(cfg.model_options))))
    study.fit_run({"model": "randwire", "seed": 3, "model_options": {"generator": "er", "nodes": 6}})
    study.fit_run({"model": "resnet_cifar", "seed": 3, "model_options": {"depth": 8}})
    assert seen == [("randwire", {"generator": "er", "nodes": 6, "seed": 3}), ("resnet_cifar", {"depth": 8})]


# --- summary --------------------------------------------------------------------------------------

def test_summary_rows_agree_when_ws_is_clearly_best():
    frame = runs({"er": [0.20, 0.21, 0.22], "ba": [0.22, 0.23, 0.24], "ws": [0.10, 0.11, 0.12],
                  "resnet": [0.15, 0.16, 0.17]}, converged=True)
    match = {"depth": 14, "width": 8, "macs": 2.0e6, "target_macs": 2.1e6}
    rows = study.summary_rows(frame, study.Params(), match)
    assert [r.quantity for r in rows[:2]] == ["test error, ER and BA (mean) − WS",
                                              "test error, ResNet (≈ equal MACs) − WS"]
    assert [r.verdict for r in rows[:2]] == ["agrees"] * 2 and rows[0].headline
    assert rows[0].measured.startswith("+11.00 pp") and rows[1].measured.startswith("+5.00 pp")
    assert rows[1].reference.startswith("≈ +1.9 pp") and "ResNet-14 width 8: 2.00 M MACs" in rows[1].note
    assert [r.quantity for r in rows[2:6]] == [f"test error, {v}" for v in ("er", "ba", "ws", "resnet")]
    assert rows[6].quantity == "test error, linear model (the floor)"  # no linear run here: no floor applied
    assert rows[4].reference.startswith("ImageNet top-1 accuracy 74.70 %")
    assert {r.verdict for r in rows[2:]} == {"not comparable"}
    assert [(r.judged_at, r.converged) for r in rows[:2]] == [("trained", True)] * 2


def test_summary_rows_do_not_judge_runs_that_did_not_converge():
    frame = runs({"er": [0.20, 0.21, 0.22], "ba": [0.22, 0.23, 0.24], "ws": [0.10, 0.11, 0.12],
                  "resnet": [0.15, 0.16, 0.17]}, converged=False)
    rows = study.summary_rows(frame, study.Params())
    assert [r.verdict for r in rows[:2]] == ["not converged"] * 2
    assert rows[0].measured.startswith("+11.00 pp")  # measured and shown, but not judged


def test_summary_rows_do_not_judge_nets_that_lose_to_the_linear_floor():
    frame = runs({"er": [0.20, 0.21, 0.22], "ba": [0.22, 0.23, 0.24], "ws": [0.10, 0.11, 0.12],
                  "resnet": [0.15, 0.16, 0.17], "linear": [0.18, 0.18, 0.18]}, converged=True)
    rows = study.summary_rows(frame, study.Params())
    assert [r.verdict for r in rows[:2]] == ["not converged", "agrees"]  # ER and BA lose to the floor, ResNet and WS not
    assert rows[-1].quantity.startswith("test error, linear model")
    assert rows[-1].measured == "18.00 %; 6 of 12 arm runs beat it"


def test_tracks_and_the_history_they_read():
    tracks = study.tracks(study.Params())
    assert [(t.quantity, t.a, t.b, t.split) for t in tracks] == [
        ("ER and BA (mean) − WS, validation error", "ws", "others", "val"),
        ("ResNet − WS, validation error", "ws", "resnet", "val")]
    assert [t.claim for t in tracks] == [study.CLAIMS["others_vs_ws"], study.CLAIMS["resnet_vs_ws"]]
    assert [t.b for t in study.tracks(study.Params(generators=("ws",)))] == ["resnet"]
    assert study.tracks(study.Params(generators=("er", "ba"))) == []
    from cnnkit.ablation.over_training import over_training

    # validation error per (variant, seed) at two steps: ER and BA average to 0.3 at the end, WS 0.1
    rows = [(v, seed, step, value) for v, values in {"er": (0.5, 0.2), "ba": (0.5, 0.4), "ws": (0.5, 0.1)}.items()
            for seed in (0, 1, 2) for step, value in zip((10, 20), values)]
    history = pd.DataFrame([{"run_id": f"{v}__s{seed}", "variant": v, "seed": seed, "step": step, "split": "val",
                             "metric": "error", "value": value + 0.01 * seed} for v, seed, step, value in rows])
    merged = study.tracked_history(history, study.Params())
    assert len(merged) == len(history) + 12 and set(merged["variant"]) == {"er", "ba", "ws", "others"}
    over = over_training(merged, tracks[:1])
    assert over["diff"].round(6).tolist() == [0.0, 0.2]  # (0.2 + 0.4) / 2 − 0.1 at the end
    frame = runs({"er": [0.10, 0.11, 0.12], "ws": [0.20, 0.21, 0.22]})  # no converged column: judged as measured
    rows = study.summary_rows(frame, study.Params(generators=("er", "ws")))
    assert [(r.quantity, r.verdict) for r in rows] == [("test error, ER (mean) − WS", "disagrees"),
                                                        ("test error, ResNet (≈ equal MACs) − WS", "inconclusive"),
                                                        ("test error, er", "not comparable"),
                                                        ("test error, ws", "not comparable"),
                                                        ("test error, resnet", "not comparable"),
                                                        ("test error, linear model (the floor)", "not comparable")]
    assert rows[1].measured == "no finished run of resnet"
    assert math.isclose(float(rows[0].measured.split()[0].rstrip("pp")), -10.0)


def test_differences_follow_the_parameters_and_the_runs():
    from cnnkit.studies import resolve

    paper = resolve(study, "paper")
    table = study.differences(paper).set_index("")
    assert list(study.differences(paper).columns) == ["", "here", "Xie et al. 2019"]
    assert table.loc["nodes per stage", "here"] == "32" and table.loc["random-graph stages", "here"] == "3"
    frame = runs({"ws": [0.1], "resnet": [0.2]}).assign(**{"model_options.depth": [None, 14],
                                                            "model_options.width": [None, 8], "wall_time": [3.0, 5.0]})
    table = study.differences(study.Params(), frame).set_index("")
    assert table.loc["baseline", "here"].startswith("resnet_cifar, depth 14, width 8")
    assert table.loc["wall time per run (mean)", "here"] == "ws 3 s; resnet 5 s"
    assert table.loc["training", "here"].startswith(f"{study.Params().iterations} iterations × batches of 64")
    assert "cosine" in table.loc["learning-rate schedule", "here"]
    converged = study.differences(study.Params(), runs({"ws": [0.1, 0.2]}, converged=True)).set_index("")
    assert converged.loc["convergence", "here"].startswith("2 of 2 runs converged")
