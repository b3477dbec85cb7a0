"""Plots return figures (no pyplot state) and save PNG + SVG."""

from __future__ import annotations

import os

import pytest
from matplotlib.figure import Figure

from cnnkit.ablation import Experiment, plot_curves, plot_final, plot_train_vs_test, run_experiment, save_figure

BASE = {"model": "resnet_cifar", "model_options": {"depth": 20}, "epochs": 1}


@pytest.fixture(scope="module")
def results(tmp_path_factory, fake_train):
    exp = Experiment("deg", BASE, grid={"model_options.depth": [20, 56]}, seeds=(0, 1, 2))
    return run_experiment(exp, root=tmp_path_factory.mktemp("p"), train_fn=fake_train(epochs=4), progress=False)


def test_plot_curves_draws_one_line_per_variant_and_split(results):
    fig = plot_curves(results.history(), "error", splits=("train", "test"))
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    data_lines = [line for line in ax.get_lines() if len(line.get_xdata()) == 4]
    assert len(data_lines) == 2 * 2
    assert len(ax.collections) == 4  # the sd bands
    step = plot_curves(results.history(), "lr", splits=("train",), x="step")
    assert step.axes[0].get_xlabel() == "step"
    with pytest.raises(ValueError, match="available"):
        plot_curves(results.history(), "nope")


def test_plot_final_and_train_vs_test(results):
    fig = plot_final(results.runs(), "test_error")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["depth=20", "depth=56"]
    assert sum(len(c.get_offsets()) for c in ax.collections) >= 6  # one point per seed
    panel = plot_train_vs_test(results.runs())
    assert len(panel.axes) == 2 and [a.get_title() for a in panel.axes] == ["train_error", "test_error"]


def test_save_figure_writes_png_and_svg(results, tmp_path):
    paths = save_figure(plot_final(results.runs()), tmp_path / "fig.v1")
    assert [p.name for p in paths] == ["fig.v1.png", "fig.v1.svg"]
    assert paths[0].read_bytes()[:4] == b"\x89PNG" and b"<svg" in paths[1].read_bytes()[:500]
    assert sorted(os.listdir(tmp_path)) == ["fig.v1.png", "fig.v1.svg"]
