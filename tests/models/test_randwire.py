"""RandWire: random graphs, their DAGs and statistics, and the model built from them."""

import keras
import networkx as nx
import numpy as np
import pytest

from cnnkit.models import build
from cnnkit.models.randwire import graph_stats, random_graph, to_dag

PAPER = [("er", {}), ("ba", {}), ("ws", {}), ("er", {"p": 0.5}), ("ba", {"m": 2}), ("ws", {"k": 6, "p": 0.1})]


@pytest.mark.parametrize("generator,params", PAPER)
def test_each_generator_gives_a_dag_with_io_rules(generator, params):
    graph = random_graph(generator, 20, seed=1, **params)
    dag = to_dag(graph)
    assert graph.number_of_nodes() == dag.number_of_nodes() == 20
    assert dag.number_of_edges() == graph.number_of_edges()
    assert nx.is_directed_acyclic_graph(dag)
    assert all(u < v for u, v in dag.edges)
    assert dag.graph["inputs"] == [n for n in range(20) if not any(graph.has_edge(n, m) for m in range(n))]
    assert dag.graph["outputs"] == [n for n in range(20) if not any(graph.has_edge(n, m) for m in range(n + 1, 20))]
    assert 0 in dag.graph["inputs"] and 19 in dag.graph["outputs"]  # node 0 has no lower neighbour
    assert all(dag.nodes[n]["is_input"] == (n in dag.graph["inputs"]) for n in dag)


@pytest.mark.parametrize("generator", ["er", "ba", "ws"])
def test_seed_reproduces_graph(generator):
    edges = lambda seed: sorted(random_graph(generator, 32, seed=seed).edges)  # noqa: E731
    assert edges(7) == edges(7)
    assert edges(7) != edges(8)


def test_paper_defaults_and_edge_counts():
    assert random_graph("ws", 32).graph["k"] == 4 and random_graph("ws", 32).graph["p"] == 0.75
    assert random_graph("er", 32).graph["p"] == 0.2
    # BA(M): the m first nodes, then every new node adds m edges → m·(N − m) edges
    assert random_graph("ba", 32, m=5).number_of_edges() == 5 * (32 - 5)
    # WS keeps the ring lattice's N·K/2 edges while rewiring
    assert random_graph("ws", 32, k=4, p=0.75).number_of_edges() == 32 * 4 // 2


def test_isolated_nodes_are_inputs_and_outputs():
    graph = random_graph("er", 12, p=0.0, seed=0)
    dag = to_dag(graph)
    assert dag.graph["inputs"] == dag.graph["outputs"] == list(range(12))
    stats = graph_stats(graph)
    assert stats["n_isolated"] == 12 and stats["longest_path"] == 0 and stats["edges"] == 0


def test_graph_stats_by_hand():
    # edges 0-1, 0-2, 1-3, 2-3, 3-4 plus isolated node 5 → DAG 0→{1,2}→3→4
    graph = nx.Graph([(1, 0), (0, 2), (3, 1), (2, 3), (3, 4)])
    graph.add_node(5)
    stats = graph_stats(graph)
    degrees = np.array([2, 2, 2, 3, 1, 0])  # nodes 0..5
    assert stats["nodes"] == 6 and stats["edges"] == 5
    assert stats["degree_mean"] == pytest.approx(10 / 6)
    assert stats["degree_std"] == pytest.approx(np.sqrt(np.mean((degrees - 10 / 6) ** 2)))
    assert stats["degree_max"] == 3 and stats["is_dag"]
    assert stats["n_inputs"] == 2 and stats["n_outputs"] == 2  # {0, 5} and {4, 5}
    assert stats["n_isolated"] == 1 and stats["n_components"] == 2
    assert stats["longest_path"] == 3  # 0→1→3→4


@pytest.mark.parametrize("kwargs,match", [
    (dict(generator="gnp"), r"'er', 'ba', 'ws'"),
    (dict(generator="ws", nodes=8, k=3), "even k"),
    (dict(generator="ws", nodes=8, k=8), "k < nodes"),
    (dict(generator="ba", nodes=5, m=5), r"m in \[1, 4\]"),
    (dict(generator="er", p=1.5), r"\[0, 1\]"),
    (dict(generator="ws", p=-0.1), r"\[0, 1\]"),
    (dict(generator="er", m=3), "do not apply"),
    (dict(generator="er", nodes=0), "positive int"),
])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        random_graph(**kwargs)


def test_model_bad_generator():
    with pytest.raises(ValueError, match=r"'er', 'ba', 'ws'"):
        build("randwire", generator="xx", nodes=4)


def _node_ids(model, stage):
    """Node indices of one stage, read back from the built model's layer names."""
    names = [layer.name for layer in model.layers if layer.name.startswith(f"stage{stage}_node")]
    return sorted({int(n.split("_node")[1].split("_")[0]) for n in names})


@pytest.mark.parametrize("name,opts", [("randwire_ws", dict(nodes=6, k=2)), ("randwire_er", dict(nodes=6, p=0.5)),
                                       ("randwire_ba", dict(nodes=6, m=2))])
def test_model_wiring_follows_the_graph(name, opts):
    model = build(name, input_shape=(32, 32, 3), num_classes=3, channels=8, stages=2, **opts)
    assert model.output_shape == (None, 3)
    assert _node_ids(model, 1) == _node_ids(model, 2) == list(range(6))
    # stride 2 in exactly the nodes fed by the stage input; their count is the DAG's inputs
    dag = to_dag(random_graph(name[-2:], 6, seed=0, **{k: v for k, v in opts.items() if k != "nodes"}))
    strided = [n for n in range(6) if model.get_layer(f"stage1_node{n}_conv").strides == (2, 2)]
    assert strided == dag.graph["inputs"]


def test_model_trains_one_step():
    model = build("randwire_ws", input_shape=(32, 32, 3), num_classes=3, nodes=6, k=2, channels=8, stages=2)
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    y = keras.utils.to_categorical([0, 2], 3)
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.trainable_weights]
    model.compile(optimizer="sgd", loss="categorical_crossentropy", run_eagerly=True)
    assert np.isfinite(model.train_on_batch(x, y))
    after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    assert all(np.all(np.isfinite(a)) for a in after)
    assert sum(not np.array_equal(a, b) for a, b in zip(after, before)) == len(after)


def test_model_stages_use_distinct_graphs_and_weighted_sums():
    model = build("randwire", generator="ws", nodes=8, k=4, p=0.75, channels=8, stages=2, head_channels=None)
    sums = [layer.name for layer in model.layers if type(layer).__name__ == "WeightedSum"]
    preds = {s: [len(list(to_dag(random_graph("ws", 8, seed=s)).predecessors(n))) for n in range(8)]
             for s in (0, 1)}
    # one weighted sum per node with 2+ predecessors; stage s uses the graph of seed 1000·0 + s
    assert sorted(sums) == sorted(f"stage{s + 1}_node{n}_sum" for s in (0, 1) for n in range(8) if preds[s][n] > 1)
    other = build("randwire", generator="ws", nodes=8, k=4, p=0.75, channels=8, stages=2, head_channels=None, seed=1)
    assert [lay.name for lay in other.layers] != [lay.name for lay in model.layers]
