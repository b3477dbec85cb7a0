"""11 · Randomly wired networks: ER, BA and WS graphs as CNN stages (Xie et al. 2019).

The paper generates each stage's wiring with a classical random-graph model — Erdős–Rényi
ER(P), Barabási–Albert BA(M) or Watts–Strogatz WS(K, P) — and finds WS(4, 0.75) best, with
random networks competitive with hand-designed and NAS-found ones at equal computation.
Here: the graphs' statistics (degree, clustering, path length), drawings, and RandWire nets
of each generator × seeds (a new graph per seed, as the paper's "5 random network instances")
against a ``resnet_cifar`` of about the same multiply-accumulates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from cnnkit.ablation import Experiment
from cnnkit.models.randwire import GENERATORS, graph_stats, random_graph, to_dag
from cnnkit.notebook.report import Row
from cnnkit.reference import RANDWIRE, RANDWIRE_BEST_GENERATOR
from cnnkit.studies._common import absolute_row, base_config, checked_variants, diff_row, mean_text

STAT_COLUMNS = ("edges", "degree_mean", "degree_std", "degree_min", "degree_max", "clustering",
                "avg_shortest_path", "components", "n_inputs", "n_outputs", "longest_path")


def _check_generators(generators: Sequence[str]) -> list[str]:
    return checked_variants(generators, f"generators must name each of {list(GENERATORS)} at most once "
                                        "(at least one)", choices=GENERATORS)


def graph_label(graph: nx.Graph) -> str:
    """``'WS(k=4, p=0.75)'`` from the parameters :func:`~cnnkit.models.randwire.random_graph` records."""
    info = graph.graph
    params = ", ".join(f"{k}={info[k]:g}" for k in ("k", "m", "p") if k in info)
    return f"{info.get('generator', '?').upper()}({params})"


def degree_stats(graph: nx.Graph) -> dict[str, Any]:
    """Degree, clustering and path-length statistics of an undirected graph, plus its DAG's shape.

    Args:
        graph: an undirected graph with integer node labels.

    Returns:
        ``nodes``, ``edges``; ``degree_mean``, ``degree_std`` (population), ``degree_min``,
        ``degree_max``; ``clustering`` (average local clustering coefficient); ``avg_shortest_path``
        (mean over ordered node pairs, within the largest connected component when the graph is
        disconnected; NaN for fewer than two nodes); ``components``; and from the lower→higher
        DAG: ``n_inputs``, ``n_outputs``, ``longest_path`` (see :func:`~cnnkit.models.randwire.graph_stats`).
    """
    if graph.is_directed():
        raise ValueError(f"degree_stats expects an undirected graph, got a {type(graph).__name__}; "
                         "pass the graph from random_graph, not its DAG")
    degrees = np.array([d for _, d in graph.degree()], dtype=float)
    n = graph.number_of_nodes()
    largest = graph.subgraph(max(nx.connected_components(graph), key=len)) if n else graph
    dag = graph_stats(graph)
    return {
        "nodes": n, "edges": graph.number_of_edges(),
        "degree_mean": float(degrees.mean()) if n else math.nan,
        "degree_std": float(degrees.std()) if n else math.nan,
        "degree_min": int(degrees.min()) if n else 0, "degree_max": int(degrees.max()) if n else 0,
        "clustering": float(nx.average_clustering(graph)) if n else math.nan,
        "avg_shortest_path": float(nx.average_shortest_path_length(largest)) if len(largest) > 1 else math.nan,
        "components": nx.number_connected_components(graph) if n else 0,
        "n_inputs": dag["n_inputs"], "n_outputs": dag["n_outputs"], "longest_path": dag["longest_path"],
    }


def graph_table(generators: Sequence[str] = GENERATORS, *, nodes: int = 32, samples: int = 5) -> pd.DataFrame:
    """:func:`degree_stats` of ``samples`` graphs (seeds 0 … samples−1) per generator, paper settings.

    Returns:
        One row per graph: ``generator``, ``label`` (e.g. ``"ER(p=0.2)"``), ``seed``, then the statistics.
    """
    if not (isinstance(samples, int) and samples >= 1):
        raise ValueError(f"samples must be a positive int, got {samples!r}")
    rows = []
    for gen in _check_generators(generators):
        for seed in range(samples):
            graph = random_graph(gen, nodes, seed=seed)
            rows.append({"generator": gen, "label": graph_label(graph), "seed": seed, **degree_stats(graph)})
    return pd.DataFrame(rows)


def graph_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std over the sampled graphs of each generator, as text: one row per generator."""
    out = {}
    for label, group in table.groupby("label", sort=False):
        out[label] = {c: f"{group[c].mean():.2f} ± {group[c].std(ddof=0):.2f}" for c in STAT_COLUMNS}
    return pd.DataFrame(out).T.rename_axis("generator")


def draw_graphs(generators: Sequence[str] = GENERATORS, *, nodes: int = 32, seed: int = 0):
    """One panel per generator: the graph on a circle, nodes fed by the stage input green, nodes
    averaged into the stage output red (both: orange), the others grey.

    Returns:
        A matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt

    generators = _check_generators(generators)
    fig, axes = plt.subplots(1, len(generators), figsize=(4.2 * len(generators), 4.4), squeeze=False)
    for ax, gen in zip(axes[0], generators):
        graph = random_graph(gen, nodes, seed=seed)
        dag = to_dag(graph)
        ins, outs = set(dag.graph["inputs"]), set(dag.graph["outputs"])
        colors = ["tab:orange" if n in ins and n in outs else "tab:green" if n in ins
                  else "tab:red" if n in outs else "0.7" for n in graph.nodes]
        nx.draw_circular(graph, ax=ax, node_size=60, node_color=colors, width=0.6, edge_color="0.4")
        ax.set_title(f"{graph_label(graph)}: {graph.number_of_edges()} edges")
    fig.tight_layout()
    return fig


# --- nets ---------------------------------------------------------------------------------------

def randwire_options(generator: str, *, nodes: int, channels: int, stages: int,
                     head_channels: int | None) -> dict[str, Any]:
    """``model_options`` of a ``randwire`` net with the paper's generator parameters."""
    return {"generator": generator, "nodes": nodes, "channels": channels, "stages": stages,
            "head_channels": head_channels}


def match_resnet(*, input_shape: tuple[int, ...] = (28, 28, 1), num_classes: int = 10,
                 generators: Sequence[str] = GENERATORS, nodes: int = 8, channels: int = 16, stages: int = 2,
                 head_channels: int | None = None, depths: Sequence[int] = (8, 14, 20),
                 widths: Sequence[int] = (4, 8, 12, 16)) -> dict[str, Any]:
    """The ``resnet_cifar`` (depth × width) whose multiply-accumulates are closest to RandWire's.

    MACs come from :func:`cnnkit.stats.macs` on shape-only builds. A RandWire net's MACs depend a
    little on its graph (how many nodes read the wider stage input), so the target is the mean
    over the generators' seed-0 nets. "Closest" is the smallest ``|log(MACs / target)|``.

    Returns:
        ``target_macs``; ``randwire``: a frame of each generator's ``macs`` and ``params``;
        ``candidates``: a frame of every ResNet tried (``depth``, ``width``, ``macs``, ``params``,
        ``ratio`` = MACs / target); ``depth``, ``width``, ``macs``, ``params`` of the chosen one.
    """
    from cnnkit.models import build
    from cnnkit.stats import count_params, macs, shapes_only

    def measure(name: str, **options) -> dict[str, int]:
        net = build(name, input_shape=tuple(input_shape), num_classes=num_classes, **options)
        return {"macs": macs(net), "params": count_params(net)["trainable"]}

    with shapes_only():
        rw = pd.DataFrame([{"generator": g, **measure("randwire", **randwire_options(
            g, nodes=nodes, channels=channels, stages=stages, head_channels=head_channels))}
            for g in _check_generators(generators)])
        target = float(rw["macs"].mean())
        cand = pd.DataFrame([{"depth": d, "width": w, **measure("resnet_cifar", depth=d, width=w)}
                             for d in depths for w in widths])
    cand["ratio"] = cand["macs"] / target
    best = cand.iloc[int(np.argmin(np.abs(np.log(cand["ratio"]))))]
    return {"target_macs": target, "randwire": rw, "candidates": cand, "depth": int(best["depth"]),
            "width": int(best["width"]), "macs": int(best["macs"]), "params": int(best["params"])}


def fit_run(config, **kwargs):
    """:func:`cnnkit.train.fit` with a RandWire net's graph seed tied to the run's seed.

    Each seed then trains a *different random graph* (and different weights), as the paper's
    spread over "random network instances"; other models train unchanged. Use as
    ``run_experiment(exp, train_fn=fit_run)``.
    """
    from cnnkit.config import RunConfig
    from cnnkit.train import fit

    cfg = config if isinstance(config, RunConfig) else RunConfig.from_dict(config)
    if cfg.model == "randwire":
        cfg = cfg.replace(model_options={**cfg.model_options, "seed": cfg.seed})
    return fit(cfg, **kwargs)


def experiment(*, generators: Sequence[str] = GENERATORS, seeds: Sequence[int] = (0, 1), nodes: int = 8,
               channels: int = 16, stages: int = 2, head_channels: int | None = None,
               resnet_depth: int | None = 20, resnet_width: int = 4, dataset: str = "fashion_mnist",
               subset: int | None = 1000, epochs: int = 3, batch_size: int = 32, augment: str = "none",
               bn_momentum: float = 0.9, recipe: str = "resnet_cifar", schedule: str = "cosine",
               resolution: int | None = None, eval_subset: int | None = None, name: str = "randwire") -> Experiment:
    """A RandWire net per generator (variants ``"er"``, ``"ba"``, ``"ws"``) and a ResNet × seeds.

    Train with ``train_fn=fit_run`` so that each seed also draws a new graph.

    Args:
        generators: graph models, each with the paper's parameters (ER 0.2, BA 5, WS 4/0.75).
        nodes, channels, stages, head_channels: the RandWire net (paper, small regime: 32, 78,
            3 stages after the stem, a 1280-wide head).
        resnet_depth, resnet_width: the comparison ``resnet_cifar`` (variant ``"resnet"``), e.g. from
            :func:`match_resnet`; ``None`` leaves it out.
        schedule: the learning-rate schedule (the paper: cosine).
        seeds, dataset, subset, epochs, batch_size, augment, bn_momentum, recipe, resolution, eval_subset:
            see :class:`cnnkit.config.RunConfig`.
        name: the experiment's name (its folder in the results store).
    """
    base = base_config(model="randwire", dataset=dataset, subset=subset, epochs=epochs, batch_size=batch_size,
                       augment=augment, bn_momentum=bn_momentum, recipe=recipe, resolution=resolution,
                       schedule=schedule, eval_subset=eval_subset,
                       model_options=randwire_options("ws", nodes=nodes, channels=channels, stages=stages,
                                                      head_channels=head_channels))
    variants: dict[str, dict] = {g: {"model_options.generator": g} for g in _check_generators(generators)}
    if resnet_depth is not None:
        variants["resnet"] = {"model": "resnet_cifar",
                              "model_options": {"depth": resnet_depth, "width": resnet_width}}
    return Experiment(name, base, variants=variants, seeds=tuple(seeds))


def _others_vs_ws(runs: pd.DataFrame, others: Sequence[str]) -> pd.DataFrame:
    """``runs`` of WS and of the ``others`` merged into one variant ``"others"`` (per seed: their mean)."""
    sel = runs[runs["variant"].isin(["ws", *others])]
    return sel.assign(variant=np.where(sel["variant"] == "ws", "ws", "others"))


def summary_rows(runs: pd.DataFrame, match: dict[str, Any] | None = None) -> list[Row]:
    """Measured vs paper: the other generators against WS, the ResNet against WS, absolute errors.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
        match: :func:`match_resnet`'s result, quoted in the ResNet row's note.

    Returns:
        ``others − ws`` test error (the headline; per seed the mean of ER and BA, whichever ran; the paper:
        positive, WS is the best generator) and ``resnet − ws`` (the paper: positive, WS beats a ResNet
        of equal FLOPs), one-sided paired t by seed; then each variant's test error (not comparable).
    """
    variants = list(dict.fromkeys(runs["variant"]))
    best = f"> 0: {RANDWIRE_BEST_GENERATOR} best of the generators (Xie et al. 2019, Fig. 3; gaps of about 1 pp)"
    others = [g for g in ("er", "ba") if g in variants]
    rows = []
    if others and "ws" in variants:
        names = " and ".join(g.upper() for g in others)
        rows.append(diff_row(_others_vs_ws(runs, others), "ws", "others", "test_error",
                             quantity=f"test error, {names} (mean) − WS", reference=best, expect="positive",
                             headline=True, note="a new graph per seed; seeds pair the runs (same subset and order)"))
    if "resnet" in variants:
        rw, rn = RANDWIRE["ws_regular_top1"], RANDWIRE["resnet50_top1"]
        note = "" if match is None else (f"ResNet-{match['depth']} width {match['width']}: {match['macs'] / 1e6:.2f} M "
                                         f"MACs vs RandWire {match['target_macs'] / 1e6:.2f} M")
        rows.append(diff_row(runs, "ws", "resnet", "test_error", quantity="test error, ResNet (≈ equal MACs) − WS",
                             reference=f"≈ {100 * (rw.value - rn.value):+.1f} pp top-1 vs ResNet-50 "
                                       f"({rw.source}: {100 * rw.value:.1f} vs {100 * rn.value:.1f} %)",
                             expect="positive", note=note))
    refs = {"ws": f"ImageNet top-1 accuracy {RANDWIRE['ws_small_top1'].text()}"}
    rows += [absolute_row(f"test error, {v}", mean_text(runs, v, "test_error"), refs.get(v, "—"),
                          "absolute errors are not comparable with ImageNet") for v in variants]
    return rows
