"""Plots return figures (no pyplot state) in the papers' form, and save PNG + SVG."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from cnnkit.ablation import (Experiment, plot_curves, plot_differences, plot_final, plot_train_vs_test,
                             run_experiment, save_figure)
from cnnkit.ablation.plots import SPLIT_WIDTHS, VERDICT_COLOURS

BASE = {"model": "resnet_cifar", "model_options": {"depth": 20}, "epochs": 1}


@pytest.fixture(scope="module")
def results(tmp_path_factory, fake_train):
    exp = Experiment("deg", BASE, grid={"model_options.depth": [20, 56]}, seeds=(0, 1, 2))
    return run_experiment(exp, root=tmp_path_factory.mktemp("p"), train_fn=fake_train(epochs=4), progress=False)


def _data_lines(ax, points=4):
    return [line for line in ax.get_lines() if len(line.get_xdata()) == points]


def test_plot_curves_draws_one_line_per_variant_and_split(results):
    history = results.history()
    fig = plot_curves(history, "error", splits=("train", "test"))
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    lines = _data_lines(ax)
    assert len(lines) == 2 * 2
    assert len(ax.collections) == 4  # the sd bands over seeds
    assert ax.get_xlabel() == "iterations" and ax.get_ylabel() == "error (%)"
    # x is the iteration (step), y the error in %: the fake's first test error of depth 20 is ~ 0.67
    steps = sorted(set(history["step"]))
    assert all(list(line.get_xdata()) == steps for line in lines)
    first = history.query("split == 'test' and metric == 'error' and step == 10 and variant == 'depth=20'")
    assert any(math.isclose(line.get_ydata()[0], 100 * first["value"].mean()) for line in lines)
    # training dashed and thin, test solid and bold
    widths = sorted({round(line.get_linewidth(), 2) for line in lines})
    assert widths == sorted({SPLIT_WIDTHS["train"], SPLIT_WIDTHS["test"]})
    assert {line.get_linestyle() for line in lines} == {"-", "--"}
    assert "depth=20 vs depth=56" in fig.get_suptitle() and "3 seeds" in fig.get_suptitle()


def test_plot_curves_facets_side_by_side_and_marks_a_target(results):
    history = results.history()
    fig = plot_curves(history, col={"depth=20": "shallow", "depth=56": "deep"}, target=0.3)
    assert [a.get_title() for a in fig.axes] == ["shallow", "deep"]
    for ax in fig.axes:
        assert len(_data_lines(ax)) == 2  # its variant, training and test
        assert any(list(line.get_ydata()) == [30.0, 30.0] for line in ax.get_lines())  # the target, in %
    assert fig.axes[0].get_shared_y_axes().joined(fig.axes[0], fig.axes[1])
    by_column = plot_curves(history.assign(family=history["variant"]), col="family", splits=("train",))
    assert len(by_column.axes) == 2
    lr = plot_curves(history, "lr", splits=("train",), x="epoch")
    assert lr.axes[0].get_xlabel() == "epoch" and lr.axes[0].get_ylabel() == "lr"  # not a % metric


@pytest.mark.parametrize("kwargs,match", [
    ({"metric": "nope"}, "available"),
    ({"x": "time"}, "x='time'"),
    ({"hue": "colour"}, "hue='colour' is not a column"),
    ({"col": "family"}, "col='family' is not a column"),
    ({"col": {"depth=20": "a"}}, "no panel for variant \\['depth=56'\\]"),
    ({"hue_order": ["depth=99"]}, "depth=99"),
])
def test_plot_curves_names_a_bad_argument(results, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_curves(results.history(), **kwargs)


def test_plot_final_and_train_vs_test(results):
    runs = results.runs()
    fig = plot_final(runs, "test_error")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["depth=20", "depth=56"]
    assert sum(len(c.get_offsets()) for c in ax.collections) >= 6  # one point per seed
    assert ax.get_ylabel() == "test error (%)"
    points = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections if isinstance(c, PathCollection)])
    assert np.allclose(sorted(points), sorted(100 * runs["test_error"]))
    panel = plot_train_vs_test(runs)
    assert len(panel.axes) == 2 and [a.get_title() for a in panel.axes] == ["train error", "test error"]


def _differences():
    return pd.DataFrame({"quantity": ["test error, deep − shallow", "train error, deep − shallow"],
                         "diff": [0.02, 0.03], "low": [0.005, -0.01], "high": [0.035, 0.07],
                         "paper": [0.04, np.nan], "verdict": ["agrees", "inconclusive"]})


def test_plot_differences_draws_each_interval_and_the_papers_value():
    fig = plot_differences(_differences(), scale=100, unit="pp")
    ax = fig.axes[0]
    rows = {tick: label.get_text() for tick, label in zip(ax.get_yticks(), ax.get_yticklabels())}
    assert rows == {1: "test error, deep − shallow", 0: "train error, deep − shallow"}  # first row on top
    assert ax.get_xlabel() == "difference (pp)"
    bars = [seg for c in ax.collections if isinstance(c, LineCollection) for seg in c.get_segments()
            if seg[0, 1] == seg[1, 1]]  # horizontal: the intervals
    assert sorted((round(s[0, 0], 6), round(s[1, 0], 6)) for s in bars) == [(-1.0, 7.0), (0.5, 3.5)]
    paper = np.concatenate([c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)])
    assert paper.tolist() == [[4.0, 1.0]]  # only the row that has a paper value, at its height
    points = {line.get_ydata()[0]: to_rgb(line.get_color()) for line in ax.get_lines() if len(line.get_xdata()) == 1
              and line.get_marker() == "o"}
    assert points == {1.0: to_rgb(VERDICT_COLOURS["agrees"]), 0.0: to_rgb(VERDICT_COLOURS["inconclusive"])}


@pytest.mark.parametrize("change,match", [
    (lambda f: f.drop(columns="high"), "missing \\['high'\\]"),
    (lambda f: f.assign(low=[0.03, -0.01]), "does not contain diff"),
    (lambda f: f.iloc[:0], "no row with a 'diff'"),
])
def test_plot_differences_rejects_bad_frames(change, match):
    with pytest.raises(ValueError, match=match):
        plot_differences(change(_differences()))


def test_plot_differences_takes_the_rows_of_a_summary():
    from cnnkit.notebook import Row

    rows = [Row("test error, deep − shallow", "+2.0 pp", "≈ +4 pp", "agrees", headline=True, diff=0.02, low=0.005,
                high=0.035, paper=0.04),
            Row("test error, deep", "12.0 %", "—", "not comparable")]  # no diff: left out
    ax = plot_differences(pd.DataFrame(rows)).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["test error, deep − shallow"]
    with pytest.raises(ValueError, match="no row with a 'diff'"):
        plot_differences(pd.DataFrame(rows[1:]))
    with pytest.raises(ValueError):
        plot_differences(_differences().assign(diff=["a", "b"]))


def test_plot_differences_without_a_paper_column():
    fig = plot_differences(_differences().drop(columns=["paper", "verdict"]))
    assert len(fig.axes[0].get_legend().get_texts()) == 1  # no "paper" entry


def test_save_figure_writes_png_and_svg(results, tmp_path):
    paths = save_figure(plot_final(results.runs()), tmp_path / "fig.v1")
    assert [p.name for p in paths] == ["fig.v1.png", "fig.v1.svg"]
    assert paths[0].read_bytes()[:4] == b"\x89PNG" and b"<svg" in paths[1].read_bytes()[:500]
    assert sorted(os.listdir(tmp_path)) == ["fig.v1.png", "fig.v1.svg"]
