"""index.html answers "what did this reproduce?": a scoreboard of headline claims, a thumbnail per report."""

from __future__ import annotations

import json
import re

import pytest
from matplotlib.figure import Figure

from cnnkit.notebook import Row, build_index, save_figure, write_summary
from cnnkit.notebook.report import VERDICTS
from cnnkit.notebook.scoreboard import main_figure, run_facts, verdict_class


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's per-test ``clear_session``: nothing here builds a model."""
    yield


def _figure():
    fig = Figure(figsize=(4, 3))
    fig.add_subplot().plot([1, 2])
    return fig


@pytest.fixture
def reports(tmp_path):
    """Two notebooks' outputs: 01 marks two headline rows and saved two figures; 02 marks none, saved none."""
    save_figure(_figure(), tmp_path / "01_curves")
    save_figure(_figure(), tmp_path / "01_train_vs_test")
    write_summary("01_depth", "01 · Depth", [
        Row("train error, plain-56 − plain-20", "+2.1 pp", "> 0 (Fig. 6)", "agrees", headline=True,
            test="one-sided paired t"),
        Row("test error, plain-56", "12 %", "8 %", "not comparable"),
        Row("test error, resnet-56 − plain-56", "−1.0 pp", "< 0", "inconclusive", headline=True),
    ], parameters={"preset": "quick", "dataset": "fashion_mnist", "seeds": [0, 1, 2]}, out_dir=tmp_path,
        main_figure="01_train_vs_test")
    write_summary("02_relu", "02 · ReLU", [Row("speed-up", "3x", "6x", "disagrees"), Row("b", "1", "2")],
                  parameters={"preset": "smoke"}, out_dir=tmp_path)
    (tmp_path / "01_depth.html").write_text("<html><body>report</body></html>")
    (tmp_path / "01_depth.ipynb").write_text(json.dumps({"metadata": {"papermill": {"duration": 125.0}}}))
    return tmp_path


def test_scoreboard_lists_headline_claims_coloured(reports):
    index = build_index(reports).read_text(encoding="utf-8")
    board = index[index.index("<h2>Scoreboard"):index.index("<h2>Reports")]
    lines = re.findall(r"<tr><td>(.*?)</tr>", board)
    assert len(lines) == 3  # 01: its two headline rows; 02 marks none: its first row
    assert "<a href='01_depth.html'>01 · Depth</a>" in lines[0] and "train error, plain-56 − plain-20" in lines[0]
    assert lines[1].startswith("</td>")  # the same notebook's next claim: no second title
    assert "&gt; 0 (Fig. 6)" in lines[0] and "+2.1 pp" in lines[0] and "verdict v-agrees" in lines[0]
    assert "title='one-sided paired t'" in lines[0]  # the declared test, on hover
    assert "speed-up" in lines[2] and "verdict v-disagrees" in lines[2] and "href" not in lines[2]  # no report
    assert "<td>test error, plain-56</td>" not in board  # a row not marked headline: only in the tables below
    assert index.index("Scoreboard") < index.index("Measured vs paper, per notebook")


def test_every_verdict_has_a_colour(reports):
    index = build_index(reports).read_text(encoding="utf-8")
    for verdict in VERDICTS:
        assert re.search(rf"\.verdict\.{verdict_class(verdict)}\{{background:#[0-9a-f]{{6}}", index), verdict
    assert verdict_class("not comparable") == "v-not-comparable"
    assert "<td class='v-not-comparable'>not comparable</td>" in index


def test_cards_show_the_main_figure_and_the_runs_facts(reports):
    index = build_index(reports).read_text(encoding="utf-8")
    cards = index[index.index("<div class='cards'>"):index.index("Measured vs paper")]
    assert "<a href='01_depth.html'><img src='01_train_vs_test.png'" in cards  # the summary's main figure
    assert "no figure" in cards  # 02 saved none
    facts = run_facts(json.loads((reports / "01_depth.summary.json").read_text()), reports)
    assert facts["preset"] == "quick" and facts["data"] == "fashion_mnist" and facts["seeds"] == "0, 1, 2"
    assert facts["wall time"] == "2.1 min" and "keras" in facts["versions"]


def test_main_figure_falls_back_to_the_notebooks_pngs(tmp_path):
    for name in ("05_b.png", "05_a.png", "06_x.png"):
        (tmp_path / name).write_bytes(b"png")
    assert main_figure({"stem": "05_convolutions"}, tmp_path) == "05_a.png"  # first <NN>_*.png, sorted
    assert main_figure({"stem": "05_convolutions", "main_figure": "gone.png", "figures": ["05_b.png"]},
                       tmp_path) == "05_b.png"  # a recorded figure that is missing is skipped
    assert main_figure({"stem": "07_reg"}, tmp_path) is None
