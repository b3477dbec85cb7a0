"""The 2-2-2 backpropagation example: NumPy against the article, finite differences and Keras."""

import dataclasses

import keras
import numpy as np
import pandas as pd
import pytest

from cnnkit.reference import BACKPROP_ARTICLE
from cnnkit.teach import backprop as bp

pytestmark = pytest.mark.backend

FORWARD_KEYS = ["net_h1", "out_h1", "out_h2", "net_o1", "out_o1", "out_o2", "E_o1", "E_o2", "E_total"]


def article(key: str) -> float:
    return float(BACKPROP_ARTICLE[key])


def test_forward_pass_matches_the_article():
    f = dataclasses.asdict(bp.forward())
    for key in FORWARD_KEYS:
        assert f[key] == pytest.approx(article(key), abs=1e-8), key
    # the article's slip: 1.10590 is the pre-activation; the output is its sigmoid
    assert f["net_o1"] == pytest.approx(1.10590, abs=1e-5) and f["out_o1"] == pytest.approx(bp.sigmoid(f["net_o1"]))
    assert f["E_total"] == pytest.approx(f["E_o1"] + f["E_o2"], abs=1e-15)


def test_chain_rule_for_w5_and_w1_matches_the_article():
    w5 = bp.chain_rule(weight="w5")
    assert list(w5.factors) == ["dE/dout_o1", "dout_o1/dnet_o1", "dnet_o1/dw5"]
    for key in ("dE/dout_o1", "dout_o1/dnet_o1"):
        assert w5.factors[key] == pytest.approx(article(key), abs=1e-8)
    assert w5.gradient == pytest.approx(article("dE/dw5"), abs=1e-8)
    assert w5.new == pytest.approx(article("w5_new"), abs=1e-8) and w5.old == 0.40
    w1 = bp.chain_rule(weight="w1")
    for key in ("dE_o1/dout_h1", "dE_o2/dout_h1", "dE/dout_h1", "dout_h1/dnet_h1"):
        assert w1.factors[key] == pytest.approx(article(key), abs=1e-8), key
    assert w1.gradient == pytest.approx(article("dE/dw1"), abs=1e-8)
    assert w1.new == pytest.approx(article("w1_new"), abs=1e-8)


def finite_differences(net: bp.Network, eps: float = 1e-6) -> np.ndarray:
    grads = []
    for k in range(8):
        up, down = list(net.w), list(net.w)
        up[k] += eps
        down[k] -= eps
        e_up = bp.forward(dataclasses.replace(net, w=tuple(up))).E_total
        e_down = bp.forward(dataclasses.replace(net, w=tuple(down))).E_total
        grads.append((e_up - e_down) / (2 * eps))
    return np.array(grads)


@pytest.mark.parametrize("net", [bp.ARTICLE, bp.Network(w=(0.3, -0.2, 0.1, 0.5, -0.4, 0.7, 0.2, -0.1), b1=-0.1)])
def test_gradients_equal_chain_rule_and_finite_differences(net):
    g = bp.gradients(net)
    assert g == pytest.approx([bp.chain_rule(net, f"w{k}").gradient for k in range(1, 9)], abs=1e-15)
    assert g == pytest.approx(finite_differences(net), abs=1e-9)


def test_one_step_updates_every_weight_as_the_article_and_leaves_biases():
    new = bp.step()
    assert new.w == pytest.approx([article(f"w{k}_new") for k in range(1, 9)], abs=1e-8)
    assert (new.b1, new.b2, new.lr) == (0.35, 0.60, 0.5)


def test_the_articles_reported_errors_come_from_the_output_first_order():
    simultaneous = bp.train(steps=10_000)
    output_first = bp.train(steps=10_000, order="output_first")
    assert output_first.errors[1] == pytest.approx(article("E_step1"), abs=1e-9)
    assert abs(simultaneous.errors[1] - article("E_step1")) > 1e-7
    assert simultaneous.errors[1] == pytest.approx(0.291028, abs=5e-7)  # REFERENCE.md's rounded value
    for key, value in (("out_o1_trained", output_first.final.out_o1), ("out_o2_trained", output_first.final.out_o2)):
        assert value == pytest.approx(article(key), abs=1e-9)
    assert abs(simultaneous.final.out_o1 - article("out_o1_trained")) > 1e-6
    for run in (simultaneous, output_first):
        assert run.errors[-1] == pytest.approx(3.51e-5, abs=5e-8)  # REFERENCE.md: E ≈ 3.51e-5
        assert np.all(np.diff(run.errors) < 0) and run.errors[0] == bp.forward().E_total


def test_train_records_errors_of_every_step():
    run = bp.train(steps=3)
    assert len(run.errors) == 4
    net = bp.ARTICLE
    for k in range(4):
        assert run.errors[k] == pytest.approx(bp.forward(net).E_total, abs=1e-15)
        net = bp.step(net) if k < 3 else net
    assert run.network.w == pytest.approx(net.w, abs=1e-15)


@pytest.mark.parametrize("call, match", [
    (lambda: bp.chain_rule(weight="w9"), "'w9'"),
    (lambda: bp.gradients(order="backwards"), "'backwards'"),
    (lambda: bp.train(steps=-1), "-1"),
    (lambda: bp.Network(w=(0.1,) * 7), "8 weights"),
])
def test_bad_arguments_are_rejected(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_half_squared_error_is_half_the_sum_and_equals_mse_for_two_outputs():
    t, o = np.array([[0.01, 0.99]]), np.array([[0.75, 0.77]])
    value = float(bp.HalfSquaredError()(t, o))
    assert value == pytest.approx(0.5 * np.sum((t - o) ** 2), rel=1e-6)
    assert value == pytest.approx(float(keras.losses.MeanSquaredError()(t, o)), rel=1e-6)


def test_keras_autodiff_equals_numpy():
    k = bp.keras_quantities()
    numpy = bp.numpy_quantities(steps=0)["simultaneous"]
    shared = [key for key in k if key in numpy]
    assert len(shared) == len(k) >= 30
    for key in shared:
        assert k[key] == pytest.approx(numpy[key], abs=1e-8), key
    assert keras.config.floatx() == "float32"  # the float64 block restores Keras' setting


def test_keras_training_equals_numpy_training():
    trained = bp.keras_train(steps=25)
    assert trained.w == pytest.approx(bp.train(steps=25).network.w, abs=1e-8)
    assert (trained.b1, trained.b2) == (bp.ARTICLE.b1, bp.ARTICLE.b2)


def test_reproduce_and_summary_rows():
    table = bp.reproduce(steps=5)
    assert list(table["quantity"]) == list(BACKPROP_ARTICLE)
    assert (table["numpy"] - table["keras"]).abs().max() < 1e-8
    rows = {r.quantity: r for r in bp.summary_rows(table)}
    for key in ("out_o1", "E_total", "dE/dw5", "w5_new", "w1_new", "dE_o2/dout_h1"):
        assert rows[key].verdict == "agrees", key
    assert rows["E_step1"].verdict == "disagrees" and "output-first 0.2910279239" in rows["E_step1"].measured
    assert {rows[k].verdict for k in ("E_trained", "out_o1_trained")} == {"inconclusive"}  # 5 steps, not 10,000
    assert "pre-activation" in rows["net_o1"].note


def test_summary_rows_judge_by_the_printed_precision():
    table = pd.DataFrame([
        {"quantity": "out_o1", "article": "0.751365070", "tolerance": bp.tolerance("0.751365070"),
         "numpy": 0.7513650696, "numpy_output_first": 0.7513650696, "keras": 0.7513650693, "steps": 10_000,
         "keras_steps": 10_000},
        {"quantity": "E_trained", "article": "0.0000351085", "tolerance": bp.tolerance("0.0000351085"),
         "numpy": 3.5101878e-05, "numpy_output_first": 3.5084786e-05, "keras": 3.5101878e-05, "steps": 10_000,
         "keras_steps": 10_000},
        {"quantity": "out_o2", "article": "0.772928465", "tolerance": 1e-9,
         "numpy": 0.7729284653, "numpy_output_first": 0.7729284653, "keras": 0.7729285, "steps": 10_000,
         "keras_steps": 10_000},
    ])
    rows = bp.summary_rows(table)
    assert [r.verdict for r in rows] == ["agrees", "disagrees", "disagrees"]  # Keras off by 3.5e-8 in row 3
    assert bp.tolerance("0.298371109") == pytest.approx(1e-9) and bp.decimals("0.3775") == 4
