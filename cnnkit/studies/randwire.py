"""11 · Randomly wired networks: ER, BA and WS graphs as CNN stages (Xie et al. 2019).

The paper generates each stage's wiring with a classical random-graph model — Erdős–Rényi
ER(P), Barabási–Albert BA(M) or Watts–Strogatz WS(K, P) — and finds WS(4, 0.75) best, with
random networks competitive with hand-designed and NAS-found ones at equal computation.
Here: the graphs' statistics (degree, clustering, path length), drawings, and RandWire nets
of each generator × seeds (a new graph per seed, as the paper's "5 random network instances")
against a ``resnet_cifar`` of about the same multiply-accumulates (:func:`match_resnet`).
:func:`run` trains them with :func:`fit_run`, which ties each RandWire net's graph seed to the
run's seed: without it every seed would train the same graph.

Both claims are about *trained* nets, so they are judged only on runs that finished learning
(:mod:`cnnkit.train.convergence`) and beat a linear model on the same data and budget (the ``linear`` floor arm):

* the learning rate decays within the budget: the paper's half-period cosine, written for the iterations the run
  has, anneals it to zero at the last one, after a short linear warm-up (budget-aware in Li, Yumer & Ramanan's
  sense; their linear decay did best, ``schedule="linear"``, but the paper's own schedule is kept);
* the nets must be able to learn: the old quick nets (8 channels, about 1,400 parameters, global pooling over 8
  features) stayed at 37–58 % test error, worse than a linear model. Here the one random stage has 24 channels (the
  equal-MACs ResNet is then an 8-layer one of width 8) and batches of 64; ``--preset long`` trains the same
  design longer on all the data;
* :func:`tracks` follows both differences over training (validation error standing in for the test set), so the
  report says whether each verdict still moved in the last quarter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from cnnkit.ablation import Experiment
from cnnkit.ablation.over_training import Track
from cnnkit.ablation.verdicts import Claim
from cnnkit.models.randwire import GENERATORS, graph_stats, random_graph, to_dag
from cnnkit.notebook.report import Row
from cnnkit.reference import RANDWIRE, RANDWIRE_BEST_GENERATOR
from cnnkit.studies._common import (LINEAR, absolute_row, base_config, check_iterations, checked_variants,
                                    converged_text, diff_row, floor_row, mean_text, run_grid, with_floor)
from cnnkit.studies._spec import StudyParams

NOTEBOOK = "11_randwire"
WORKERS = 2  # training processes of the grid

# What the paper says, declared before any run (b − a of test error, paired by seed). Both are about the final
# test error of trained nets: judged only where the runs converged.
CLAIMS = {
    "others_vs_ws": Claim("positive", judged_at="trained"),   # Fig. 3: WS(4, 0.75) is the best generator
    "resnet_vs_ws": Claim("positive", judged_at="trained"),   # Fig. 1: WS beats a ResNet of similar budget
}


def _check_generators(generators: Sequence[str]) -> list[str]:
    return checked_variants(generators, f"generators must name each of {list(GENERATORS)} at most once "
                                        "(at least one)", choices=GENERATORS)


def _check_positive(name: str, values: Sequence[int]) -> None:
    if not values or any(v < 1 for v in values):
        raise ValueError(f"{name} must list at least one positive int, got {values!r}; e.g. {name}=(8, 14, 20)")


@dataclass(frozen=True)
class Params(StudyParams):
    """Notebook 11's parameters; the defaults are the quick preset."""

    dataset: str = "fashion_mnist"  # the paper used ImageNet
    generators: tuple[str, ...] = ("er", "ba", "ws")  # the paper's settings: ER(0.2), BA(5), WS(4, 0.75)
    graph_nodes: int = 32  # nodes of the graphs drawn and tabulated (the paper: 32 per stage)
    graph_samples: int = 10  # random graphs per generator in the statistics table
    nodes: int = 6  # nodes per stage of the trained nets (the paper: 32): 6 trains ~3x faster than 8
    channels: int = 24  # filters of the first stage, doubled each stage (the paper, small regime: 78)
    stages: int = 1  # random-graph stages (the paper: 3 after its stem)
    head_channels: int | None = None  # width of the 1x1 conv before pooling (None: none); the paper: 1280
    resnet_depths: tuple[int, ...] = (8, 14, 20)  # resnet_cifar depths tried for the equal-MACs baseline
    resnet_widths: tuple[int, ...] = (2, 4, 8, 12, 16)  # resnet_cifar widths tried for the equal-MACs baseline
    seeds: tuple[int, ...] = (0, 1, 2)  # each seed draws a new graph per stage and new weights; runs paired by seed
    subset: int | None = 8000  # training examples, class-balanced (None: all)
    eval_subset: int | None = 500  # validation and test examples (None: as subset)
    iterations: int = 144  # training iterations, a multiple of log_every; the paper: 100 ImageNet epochs
    log_every: int = 18  # iterations per logged point (training error, validation error, the rate)
    batch_size: int = 64  # more updates per image for a CPU budget; preset paper: 128
    warmup_steps: int = 18  # linear warm-up of the learning rate before the schedule
    augment: str = "none"  # preset paper: "resnet_cifar"
    bn_momentum: float = 0.9  # Keras' 0.99 barely moves in a few hundred steps (REFERENCE.md)
    resolution: int | None = 16  # images resized to 16x16 (a third of the MACs); None: native 28x28
    recipe: str = "resnet_cifar"  # SGD momentum 0.9, weight decay 1e-4
    schedule: str = "cosine"  # the paper's half-period cosine, annealed to zero at the last iteration

    def __post_init__(self):
        super().__post_init__()
        _check_generators(self.generators)
        _check_positive("resnet_depths", self.resnet_depths)
        _check_positive("resnet_widths", self.resnet_widths)
        check_iterations(self.iterations, self.log_every)
        if self.graph_samples < 1 or self.graph_nodes < 1:
            raise ValueError(f"graph_samples and graph_nodes must be positive ints, got graph_samples="
                             f"{self.graph_samples!r}, graph_nodes={self.graph_nodes!r}; e.g. 10 and 32")


# The notebook's presets: only what each changes from Params (cnnkit.studies._spec.COMMON adds the shared ones).
PRESETS = {
    # The paper's best generator WS(4, 0.75) on a one-stage net, smaller graphs in the table; two ResNet candidates.
    # ER and BA are covered by the study's and the models' tests.
    "smoke": {"generators": ("ws",), "graph_nodes": 12, "graph_samples": 3, "resnet_depths": (8,),
              "resnet_widths": (4, 8), "iterations": 20, "log_every": 10, "warmup_steps": 5},
    # The quick design trained thirteen times longer on all the training images (a 2-core CPU: well under an hour).
    "long": {"subset": None, "eval_subset": 1000, "iterations": 1920, "log_every": 120},
    # Xie et al. 2019 small regime (N=32, C=78, 3 random stages) on CIFAR-10, 100 epochs of 45k in batches of 128,
    # cosine schedule.
    "paper": {"dataset": "cifar10", "nodes": 32, "channels": 78, "stages": 3, "iterations": 35200, "log_every": 352,
              "warmup_steps": 0, "augment": "resnet_cifar", "resolution": None,
              "resnet_depths": (20, 32, 44, 56, 110), "resnet_widths": (16, 24, 32, 48, 64)},
}

STAT_COLUMNS = ("edges", "degree_mean", "degree_std", "degree_min", "degree_max", "clustering",
                "avg_shortest_path", "components", "n_inputs", "n_outputs", "longest_path")


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


def graph_table(generators: Sequence[str], *, nodes: int, samples: int) -> pd.DataFrame:
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


def draw_graphs(generators: Sequence[str], *, nodes: int, seed: int = 0):
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

def randwire_options(generator: str, p: Params) -> dict[str, Any]:
    """``model_options`` of a ``randwire`` net of ``p``'s size with the paper's parameters of ``generator``."""
    return {"generator": generator, "nodes": p.nodes, "channels": p.channels, "stages": p.stages,
            "head_channels": p.head_channels}


def match_resnet(p: Params = Params(), *, input_shape: tuple[int, ...] | None = None,
                 num_classes: int | None = None) -> dict[str, Any]:
    """The ``resnet_cifar`` (depth × width of ``p.resnet_depths × p.resnet_widths``) whose
    multiply-accumulates are closest to RandWire's.

    MACs come from :func:`cnnkit.stats.macs` on shape-only builds. A RandWire net's MACs depend a
    little on its graph (how many nodes read the wider stage input), so the target is the mean
    over the generators' seed-0 nets. "Closest" is the smallest ``|log(MACs / target)|``.

    Args:
        p: the notebook's parameters (generators, the RandWire net, the candidates, data set and resolution).
        input_shape, num_classes: the images the nets see (default: ``p.dataset`` at ``p.resolution``).

    Returns:
        ``target_macs``; ``randwire``: a frame of each generator's ``macs`` and ``params``;
        ``candidates``: a frame of every ResNet tried (``depth``, ``width``, ``macs``, ``params``,
        ``ratio`` = MACs / target); ``depth``, ``width``, ``macs``, ``params`` of the chosen one.
    """
    from cnnkit.models import build
    from cnnkit.stats import count_params, macs, shapes_only
    from cnnkit.studies._common import data_shape

    if input_shape is None or num_classes is None:
        shape, classes = data_shape(p.dataset, p.resolution)
        input_shape, num_classes = input_shape or shape, num_classes or classes

    def measure(name: str, **options) -> dict[str, int]:
        net = build(name, input_shape=tuple(input_shape), num_classes=num_classes, **options)
        return {"macs": macs(net), "params": count_params(net)["trainable"]}

    with shapes_only():
        rw = pd.DataFrame([{"generator": g, **measure("randwire", **randwire_options(g, p))} for g in p.generators])
        target = float(rw["macs"].mean())
        cand = pd.DataFrame([{"depth": d, "width": w, **measure("resnet_cifar", depth=d, width=w)}
                             for d in p.resnet_depths for w in p.resnet_widths])
    cand["ratio"] = cand["macs"] / target
    best = cand.iloc[int(np.argmin(np.abs(np.log(cand["ratio"]))))]
    return {"target_macs": target, "randwire": rw, "candidates": cand, "depth": int(best["depth"]),
            "width": int(best["width"]), "macs": int(best["macs"]), "params": int(best["params"])}


def fit_run(config, **kwargs):
    """:func:`cnnkit.train.fit` with a RandWire net's graph seed tied to the run's seed.

    Each seed then trains a *different random graph* (and different weights), as the paper's
    spread over "random network instances"; other models train unchanged. :func:`run` trains with it.
    """
    from cnnkit.train.config import RunConfig
    from cnnkit.train import fit

    cfg = config if isinstance(config, RunConfig) else RunConfig.from_dict(config)
    if cfg.model == "randwire":
        cfg = cfg.replace(model_options={**cfg.model_options, "seed": cfg.seed})
    return fit(cfg, **kwargs)


def experiment(p: Params = Params(), *, match: dict[str, Any] | None = None, name: str = "randwire") -> Experiment:
    """A RandWire net per generator (variants ``"er"``, ``"ba"``, ``"ws"``), a ResNet (``"resnet"``) and the
    ``linear`` floor × seeds; ``p.iterations`` in points of ``p.log_every``, warmed up, then ``p.schedule``.

    Args:
        p: the notebook's parameters.
        match: :func:`match_resnet` of ``p`` (computed when not given): the ResNet's depth and width.
        name: the experiment's name (its folder in the results store).
    """
    match = match_resnet(p) if match is None else match
    base = base_config(model="randwire", dataset=p.dataset, subset=p.subset, epochs=p.iterations // p.log_every,
                       batch_size=p.batch_size, augment=p.augment, bn_momentum=p.bn_momentum, recipe=p.recipe,
                       resolution=p.resolution, schedule=p.schedule, eval_subset=p.eval_subset,
                       steps_per_epoch=p.log_every, warmup_steps=p.warmup_steps, model_options=randwire_options("ws", p))
    variants: dict[str, dict] = {g: {"model_options.generator": g} for g in p.generators}
    variants["resnet"] = {"model": "resnet_cifar", "model_options": {"depth": match["depth"], "width": match["width"]}}
    variants[LINEAR] = {"model": "linear", "model_options": {}}  # the floor every net must beat
    return Experiment(name, base, variants=variants, seeds=p.seeds)


def run(p: Params, root: str, *, workers: int = WORKERS, match: dict[str, Any] | None = None, **kwargs):
    """Train :func:`experiment` of ``p`` with :func:`fit_run` (a new graph per seed) in ``workers`` processes.

    Finished runs are kept, interrupted ones resume; ``kwargs`` go to :func:`~cnnkit.studies.run_grid`.

    Raises:
        ValueError: a ``train_fn`` in ``kwargs``: this study trains with :func:`fit_run` only.
    """
    if "train_fn" in kwargs:
        raise ValueError(f"randwire.run trains with randwire.fit_run (a new graph per seed); got "
                         f"train_fn={kwargs['train_fn']!r}: leave it out")
    return run_grid(experiment(p, match=match), root, workers=workers, train_fn=fit_run, **kwargs)


# --- summary ----------------------------------------------------------------------------------

def _others_vs_ws(runs: pd.DataFrame, others: Sequence[str]) -> pd.DataFrame:
    """``runs`` of WS and of the ``others`` merged into one variant ``"others"`` (per seed: their mean)."""
    sel = runs[runs["variant"].isin(["ws", *others])]
    return sel.assign(variant=np.where(sel["variant"] == "ws", "ws", "others"))


def _others(p: Params) -> list[str]:
    return [g for g in ("er", "ba") if g in p.generators]


def tracks(p: Params = Params()) -> list[Track]:
    """The differences followed over training, in validation error (the validation split stands in for the test
    set while training): ER and BA (their mean per seed, the variant ``"others"`` of :func:`tracked_history`)
    − WS, and the ResNet − WS, each judged by its claim."""
    if "ws" not in p.generators:
        return []
    out = []
    if _others(p):
        names = " and ".join(g.upper() for g in _others(p))
        out.append(Track(f"{names} (mean) − WS, validation error", "ws", "others", CLAIMS["others_vs_ws"], split="val"))
    return out + [Track("ResNet − WS, validation error", "ws", "resnet", CLAIMS["resnet_vs_ws"], split="val")]


def tracked_history(history: pd.DataFrame, p: Params = Params()) -> pd.DataFrame:
    """``history`` with ER's and BA's curves also as the variant ``"others"`` (their mean per seed and step in
    :func:`~cnnkit.ablation.over_training.over_training`), for the track of :func:`tracks` that compares them to WS."""
    others = history[history["variant"].isin(_others(p))]
    return pd.concat([history, others.assign(variant="others")], ignore_index=True)


def _match_note(match: dict[str, Any] | None) -> str:
    if match is None:
        return ""
    return (f"ResNet-{match['depth']} width {match['width']}: {match['macs'] / 1e6:.2f} M MACs vs RandWire "
            f"{match['target_macs'] / 1e6:.2f} M")


def summary_rows(runs: pd.DataFrame, p: Params = Params(), match: dict[str, Any] | None = None) -> list[Row]:
    """Measured vs paper: the other generators against WS, the ResNet against WS, absolute errors.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
        p: the parameters the runs used (its generators).
        match: :func:`match_resnet`'s result, quoted in the ResNet row's note.

    Returns:
        ``others − ws`` test error (the headline; per seed the mean of ER and BA, whichever ran; the paper:
        positive, WS is the best generator) and ``resnet − ws`` (the paper: positive, WS beats a ResNet
        of equal FLOPs), one-sided paired t by seed, each judged only on runs that converged and beat the
        linear floor (:data:`CLAIMS`); then each variant's test error (not comparable) and the floor.
    """
    best = f"> 0: {RANDWIRE_BEST_GENERATOR} best of the generators (Xie et al. 2019, Fig. 3; gaps of about 1 pp)"
    others = _others(p)
    runs = with_floor(runs)
    rows = []
    if others and "ws" in p.generators:
        names = " and ".join(g.upper() for g in others)
        rows.append(diff_row(_others_vs_ws(runs, others), "ws", "others", "test_error",
                             quantity=f"test error, {names} (mean) − WS", reference=best,
                             expect=CLAIMS["others_vs_ws"], headline=True,
                             note="a new graph per seed; seeds pair the runs (same subset and order)"))
    if "ws" in p.generators:
        rw, rn = RANDWIRE["ws_regular_top1"], RANDWIRE["resnet50_top1"]
        rows.append(diff_row(runs, "ws", "resnet", "test_error", quantity="test error, ResNet (≈ equal MACs) − WS",
                             reference=f"≈ {100 * (rw.value - rn.value):+.1f} pp top-1 vs ResNet-50 "
                                       f"({rw.source}: {100 * rw.value:.1f} vs {100 * rn.value:.1f} %)",
                             expect=CLAIMS["resnet_vs_ws"], note=_match_note(match)))
    refs = {"ws": f"ImageNet top-1 accuracy {RANDWIRE['ws_small_top1'].text()}"}
    rows += [absolute_row(f"test error, {v}", mean_text(runs, v, "test_error"), refs.get(v, "—"),
                          "absolute errors are not comparable with ImageNet") for v in (*p.generators, "resnet")]
    rows.append(floor_row(runs, [*p.generators, "resnet"]))
    return rows


def _baseline_text(runs: pd.DataFrame | None, match: dict[str, Any] | None) -> str:
    """The comparison ResNet as the runs' config columns (or ``match``) give it."""
    if match is not None:
        return f"resnet_cifar, depth {match['depth']}, width {match['width']} (≈ equal MACs)"
    cols = ("model_options.depth", "model_options.width")
    if runs is None or not set(cols) <= set(runs.columns) or not (runs["variant"] == "resnet").any():
        return "resnet_cifar of ≈ equal MACs (match_resnet)"
    depth, width = runs.loc[runs["variant"] == "resnet", list(cols)].iloc[0]
    return f"resnet_cifar, depth {int(depth)}, width {int(width)} (≈ equal MACs)"


def differences(p: Params, runs: pd.DataFrame | None = None, match: dict[str, Any] | None = None) -> pd.DataFrame:
    """What a run with the parameters ``p`` does differently from the paper (a table for the report).

    With the ``runs`` frame, the comparison ResNet is read from its config columns and a row gives each
    variant's mean wall time per run (equal MACs is not equal time).
    """
    res = f"{p.resolution}x{p.resolution}" if p.resolution else "native size"
    rows = [("data", f"{p.dataset} at {res}, {p.subset or 'all'} training images",
             "ImageNet, 224x224, 1.28 M images"),
            ("nodes per stage", p.nodes, 32),
            ("random-graph stages", p.stages, "3 (after a conv stem; small regime)"),
            ("channels of the first stage", p.channels, "78 (small regime)"),
            ("head", f"1x1 conv of {p.head_channels}" if p.head_channels else "none", "1x1 conv of 1280"),
            ("training", f"{p.iterations} iterations × batches of {p.batch_size}, {p.recipe} recipe",
             "100 epochs (small regime), label smoothing"),
            ("learning-rate schedule", f"linear warm-up over {p.warmup_steps} iterations, then {p.schedule} over the "
             f"{p.iterations} (written for this budget: the rate decays before the run ends, so the runs can "
             "converge)", "half-period cosine over 100 epochs"),
            ("floor", "a linear model on the same data and budget: a row is judged only where every net beats it",
             "— (no linear baseline)"),
            ("augmentation", p.augment, "ImageNet's standard augmentation"),
            ("graphs per generator", f"{len(p.seeds)} (one per seed, paired)", "5 random network instances"),
            ("baseline", _baseline_text(runs, match), "ResNet-50 at a similar budget (regular regime)")]
    if runs is not None:
        rows.append(("convergence", converged_text(runs, [*p.generators, "resnet"]),
                     "trained to the end of the schedule"))
    if runs is not None and "wall_time" in runs and len(runs):
        times = runs.groupby("variant", sort=False)["wall_time"].mean()
        rows.append(("wall time per run (mean)", "; ".join(f"{v} {t:.0f} s" for v, t in times.items()),
                     "— (equal MACs is not equal time: separable convs and many small layers)"))
    return pd.DataFrame([(k, str(a), str(b)) for k, a, b in rows], columns=["", "here", "Xie et al. 2019"])
