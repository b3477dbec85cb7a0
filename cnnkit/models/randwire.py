"""Randomly wired networks (RandWire): random graphs turned into CNN stages.

Xie, Kirillov, Girshick & He 2019, "Exploring Randomly Wired Neural Networks for Image
Recognition". A classical random-graph model generates an undirected graph; orienting each
edge from the lower to the higher node index makes it a DAG. One extra *input* node feeds
every node without predecessors and one *output* node averages (unweighted) every node
without successors. Each node is a weighted sum of its inputs (positive learnable weights,
sigmoid of a parameter) → ReLU → 3x3 separable conv → BN; the nodes fed by the stage input
use stride 2, so each stage halves the resolution.

Generators (networkx) and the paper's defaults:

* ``"er"``: Erdős–Rényi ER(P), every edge present with probability ``p`` (default 0.2).
* ``"ba"``: Barabási–Albert BA(M), each new node attaches to ``m`` existing ones (default 5).
* ``"ws"``: Watts–Strogatz WS(K, P), ring lattice of degree ``k`` (default 4) with each edge
  rewired with probability ``p`` (default 0.75); the paper's best generator.

ER graphs can be disconnected; an isolated node has neither predecessors nor successors, so
it is both fed by the stage input and averaged into the stage output (a one-conv shortcut
path through the stage).
"""

from __future__ import annotations

from typing import Any

import keras
import networkx as nx
import numpy as np

from cnnkit._checks import check_choice
from cnnkit.blocks.conv import conv_bn_act, conv_layer, norm_act
from cnnkit.layers.randwire import WeightedSum
from cnnkit.models._registry import register_model

# ``randwire`` (the generic builder) is left out of ``__all__`` on purpose: ``cnnkit.models``
# re-exports ``__all__``, and a function named ``randwire`` would hide this module there. Use
# ``build("randwire", ...)`` or ``from cnnkit.models.randwire import randwire``.
__all__ = ["GENERATORS", "graph_stats", "random_graph", "randwire_ba", "randwire_er", "randwire_ws", "to_dag"]

GENERATORS = ("er", "ba", "ws")
# The paper's generator parameters (section 4, "Random graph models"; best: WS(4, 0.75)).
_DEFAULTS = {"er": {"p": 0.2}, "ba": {"m": 5}, "ws": {"k": 4, "p": 0.75}}


# --- graphs ---------------------------------------------------------------------------------

def _check_params(generator: str, nodes: int, p: float | None, m: int | None,
                  k: int | None) -> dict[str, Any]:
    """Fill in the paper's defaults and check the generator parameters; returns them."""
    check_choice("graph generator", generator, GENERATORS, note="(Erdős–Rényi, Barabási–Albert, Watts–Strogatz)")
    if not isinstance(nodes, (int, np.integer)) or isinstance(nodes, bool) or nodes < 1:
        raise ValueError(f"nodes must be a positive int, got {nodes!r}")
    given = {"p": p, "m": m, "k": k}
    extra = sorted(n for n, v in given.items() if v is not None and n not in _DEFAULTS[generator])
    if extra:
        raise ValueError(f"parameter(s) {extra} do not apply to generator {generator!r}; "
                         f"it takes {sorted(_DEFAULTS[generator])}")
    params = {n: given[n] if given[n] is not None else d for n, d in _DEFAULTS[generator].items()}
    if "p" in params and not 0.0 <= params["p"] <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1], got p={params['p']!r}")
    if generator == "ba" and not 1 <= params["m"] < nodes:
        raise ValueError(f"BA needs 1 <= m < nodes; got m={params['m']!r} with nodes={nodes} "
                         f"(use m in [1, {nodes - 1}] or more nodes)")
    if generator == "ws":
        kk = params["k"]
        if not (isinstance(kk, (int, np.integer)) and kk >= 2 and kk % 2 == 0 and kk < nodes):
            raise ValueError(f"WS needs an even k with 2 <= k < nodes; got k={kk!r} with nodes={nodes} "
                             "(each node joins k/2 neighbours on either side of a ring)")
    return params


def random_graph(generator: str = "ws", nodes: int = 32, *, p: float | None = None,
                 m: int | None = None, k: int | None = None, seed: int = 0) -> nx.Graph:
    """An undirected random graph from one of the paper's three generators.

    Args:
        generator: ``"er"``, ``"ba"`` or ``"ws"`` (see the module docstring).
        nodes: number of nodes N (the paper uses 32 per stage).
        p: ER edge probability (default 0.2) or WS rewiring probability (default 0.75), in [0, 1].
        m: BA attachments per new node (default 5), ``1 <= m < nodes``.
        k: WS ring degree (default 4), even, ``2 <= k < nodes``.
        seed: random seed; the same seed gives the same graph.

    Returns:
        A ``networkx.Graph`` on nodes ``0 .. nodes-1``; ``graph.graph`` records the generator
        and its parameters.
    """
    params = _check_params(generator, nodes, p, m, k)
    seed = int(seed)
    if generator == "er":
        graph = nx.erdos_renyi_graph(nodes, params["p"], seed=seed)
    elif generator == "ba":
        graph = nx.barabasi_albert_graph(nodes, params["m"], seed=seed)
    else:
        try:
            graph = nx.connected_watts_strogatz_graph(nodes, params["k"], params["p"], tries=100, seed=seed)
        except nx.NetworkXError as err:
            raise ValueError(f"WS(k={params['k']}, p={params['p']}) gave no connected graph on {nodes} "
                             f"nodes in 100 tries (seed={seed}); use a larger k, a smaller p or "
                             "another seed") from err
    graph.graph.update(generator=generator, seed=seed, **params)
    return graph


def to_dag(graph: nx.Graph) -> nx.DiGraph:
    """Orient every edge from the lower to the higher node index.

    Args:
        graph: an undirected graph with integer (orderable) node labels.

    Returns:
        A ``networkx.DiGraph`` over the same nodes. ``dag.graph["inputs"]`` lists (sorted) the
        nodes without predecessors, which the stage input feeds; ``dag.graph["outputs"]`` the
        nodes without successors, which the stage output averages. Each node also carries
        ``is_input`` / ``is_output`` attributes. Isolated nodes are in both lists.
    """
    if graph.is_directed():
        raise ValueError("to_dag expects an undirected graph (e.g. from random_graph); "
                         f"got a {type(graph).__name__}")
    dag = nx.DiGraph(**graph.graph)
    dag.add_nodes_from(sorted(graph.nodes))
    dag.add_edges_from((min(u, v), max(u, v)) for u, v in graph.edges if u != v)
    inputs = sorted(n for n in dag if dag.in_degree(n) == 0)
    outputs = sorted(n for n in dag if dag.out_degree(n) == 0)
    dag.graph.update(inputs=inputs, outputs=outputs)
    for n in dag:
        dag.nodes[n].update(is_input=n in inputs, is_output=n in outputs)
    return dag


def graph_stats(graph: nx.Graph) -> dict[str, Any]:
    """Summary numbers of a (random) graph, for tables and plots.

    Args:
        graph: an undirected graph (it is first oriented with :func:`to_dag`) or a DAG.

    Returns:
        ``nodes``, ``edges``; ``degree_mean``, ``degree_std`` (population std) and
        ``degree_max`` of the undirected degree; ``is_dag``; ``n_inputs`` / ``n_outputs``
        (nodes the stage input feeds / the stage output averages); ``n_isolated``;
        ``n_components`` (weakly connected); ``longest_path``: edges on the longest directed
        path (the stage is ``longest_path + 1`` convolutions deep).
    """
    dag = graph if graph.is_directed() else to_dag(graph)
    degrees = np.array([d for _, d in dag.degree()], dtype=float)
    is_dag = nx.is_directed_acyclic_graph(dag)
    return {
        "nodes": dag.number_of_nodes(),
        "edges": dag.number_of_edges(),
        "degree_mean": float(degrees.mean()) if degrees.size else 0.0,
        "degree_std": float(degrees.std()) if degrees.size else 0.0,
        "degree_max": int(degrees.max()) if degrees.size else 0,
        "is_dag": is_dag,
        "n_inputs": sum(1 for n in dag if dag.in_degree(n) == 0),
        "n_outputs": sum(1 for n in dag if dag.out_degree(n) == 0),
        "n_isolated": sum(1 for n in dag if dag.degree(n) == 0),
        "n_components": nx.number_weakly_connected_components(dag) if len(dag) else 0,
        "longest_path": nx.dag_longest_path_length(dag) if is_dag and len(dag) else None,
    }


# --- model ----------------------------------------------------------------------------------

def _node(inputs: list, filters: int, *, strides: int, name: str):
    """One node: weighted sum of the inputs → ReLU → 3x3 separable conv → BN.

    A node with one input skips the weighted sum: a single positive scale factor before
    ReLU → conv → BN is cancelled by the BN.
    """
    x = inputs[0] if len(inputs) == 1 else WeightedSum(name=f"{name}_sum")(inputs)
    x = keras.layers.Activation("relu", name=f"{name}_relu")(x)
    x = conv_layer(filters, 3, kind="separable", strides=strides, name=f"{name}_conv")(x)
    return norm_act(x, norm="batch", activation=None, name=name)


def _stage(x, dag: nx.DiGraph, filters: int, *, name: str):
    """A random-graph stage: the stage input feeds ``dag.graph["inputs"]`` (stride 2)."""
    out: dict[int, Any] = {}
    for n in nx.topological_sort(dag):
        preds = sorted(dag.predecessors(n))
        feeds = [x] if not preds else [out[q] for q in preds]
        out[n] = _node(feeds, filters, strides=1 if preds else 2, name=f"{name}_node{n}")
    ends = [out[n] for n in dag.graph["outputs"]]
    return ends[0] if len(ends) == 1 else keras.layers.Average(name=f"{name}_out")(ends)


def _stage_seed(seed: int, stage: int) -> int:
    """Seed of stage ``stage``'s graph: distinct stages and distinct model seeds never share one."""
    return int(seed) * 1000 + int(stage)


def _randwire(*, input_shape, num_classes: int, classifier_activation: str | None, generator: str,
              nodes: int, p: float | None, m: int | None, k: int | None, channels: int, stages: int,
              stem_strides: int, head_channels: int | None, seed: int, name: str) -> keras.Model:
    """Generic RandWire builder (see :func:`randwire`)."""
    _check_params(generator, nodes, p, m, k)
    if stages < 1 or channels < 2:
        raise ValueError(f"need stages >= 1 and channels >= 2; got stages={stages!r}, channels={channels!r}")
    if stem_strides not in (1, 2):
        raise ValueError(f"stem_strides must be 1 (CIFAR-size inputs) or 2 (ImageNet), got {stem_strides!r}")
    inputs = keras.Input(shape=input_shape)
    x = conv_bn_act(inputs, channels // 2, 3, strides=stem_strides, name="stem1")
    x = conv_bn_act(x, channels, 3, strides=stem_strides, activation=None, name="stem2")
    for s in range(stages):
        graph = random_graph(generator, nodes, p=p, m=m, k=k, seed=_stage_seed(seed, s))
        x = _stage(x, to_dag(graph), channels * 2 ** s, name=f"stage{s + 1}")
    x = keras.layers.Activation("relu", name="head_relu")(x)
    if head_channels:
        x = conv_bn_act(x, head_channels, 1, name="head")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


@register_model
def randwire(*, input_shape=(32, 32, 3), num_classes: int = 10, classifier_activation: str | None = "softmax",
             generator: str = "ws", nodes: int = 32, p: float | None = None, m: int | None = None,
             k: int | None = None, channels: int = 78, stages: int = 3, stem_strides: int = 1,
             head_channels: int | None = 1280, seed: int = 0) -> keras.Model:
    """RandWire, the paper's small regime (Table 2) adapted to CIFAR-size inputs.

    Stem: 3x3 conv (channels/2) → BN → ReLU → 3x3 conv (channels) → BN, both with stride
    ``stem_strides`` (the paper: 2, for 224x224 images; default 1 for 32x32). Then ``stages``
    random-graph stages of ``nodes`` nodes with ``channels · 2^i`` filters, each halving the
    resolution and each wired by its own graph (seed ``seed·1000 + i``). Head: ReLU → 1x1 conv
    (``head_channels``, the paper's 1280; ``None`` skips it) → BN → ReLU → global average
    pool → dense. The paper's small regime uses N/2 nodes in the first stage; here every stage
    has ``nodes``. Any input size works ("same" padding); the output of the last stage is
    ``input / (stem_strides² · 2^stages)`` a side (32x32 → 4x4 by default).

    Args:
        generator, nodes, p, m, k: the graph model, see :func:`random_graph` (defaults
            WS(4, 0.75), ER(0.2), BA(5), N=32).
        channels: C, filters of the first stage (small regime: 78).
        stages: number of random-graph stages (3).
        stem_strides: stride of each of the two stem convolutions (1 or 2).
        head_channels: width of the 1x1 conv before pooling (1280) or ``None``.
        seed: seed of the graphs (not of the weights).
    """
    return _randwire(input_shape=input_shape, num_classes=num_classes, classifier_activation=classifier_activation,
                     generator=generator, nodes=nodes, p=p, m=m, k=k, channels=channels, stages=stages,
                     stem_strides=stem_strides, head_channels=head_channels, seed=seed, name=f"randwire_{generator}")


@register_model
def randwire_ws(*, input_shape=(32, 32, 3), num_classes: int = 10, classifier_activation: str | None = "softmax",
                nodes: int = 32, k: int = 4, p: float = 0.75, channels: int = 78, stages: int = 3,
                seed: int = 0) -> keras.Model:
    """RandWire-WS(K=4, P=0.75), the paper's best generator (see :func:`randwire`)."""
    return randwire(input_shape=input_shape, num_classes=num_classes, classifier_activation=classifier_activation,
                    generator="ws", nodes=nodes, k=k, p=p, channels=channels, stages=stages, seed=seed)


@register_model
def randwire_er(*, input_shape=(32, 32, 3), num_classes: int = 10, classifier_activation: str | None = "softmax",
                nodes: int = 32, p: float = 0.2, channels: int = 78, stages: int = 3, seed: int = 0) -> keras.Model:
    """RandWire-ER(P=0.2) (see :func:`randwire`)."""
    return randwire(input_shape=input_shape, num_classes=num_classes, classifier_activation=classifier_activation,
                    generator="er", nodes=nodes, p=p, channels=channels, stages=stages, seed=seed)


@register_model
def randwire_ba(*, input_shape=(32, 32, 3), num_classes: int = 10, classifier_activation: str | None = "softmax",
                nodes: int = 32, m: int = 5, channels: int = 78, stages: int = 3, seed: int = 0) -> keras.Model:
    """RandWire-BA(M=5) (see :func:`randwire`)."""
    return randwire(input_shape=input_shape, num_classes=num_classes, classifier_activation=classifier_activation,
                    generator="ba", nodes=nodes, m=m, channels=channels, stages=stages, seed=seed)
