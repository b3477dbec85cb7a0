"""save_figure writes and shows; an executed notebook's report embeds every figure it saved, shows no
TensorFlow start-up noise and no per-epoch lines, and every file it wrote is readable under umask 022."""

from __future__ import annotations

import json
import os

import matplotlib
import nbformat
import pytest
from matplotlib.figure import Figure
from PIL import Image

from cnnkit.notebook import build_index, run_notebook, save_figure, saved_figures, write_summary
from cnnkit.notebook.figures import CSS_DPI
from cnnkit.notebook.report import Row
from report_checks import EPOCH_LINE, NOISE, assert_figures_embedded, assert_world_readable

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's per-test ``clear_session``: nothing here builds a model in this process."""
    yield


def _figure(size=(4, 3)):
    fig = Figure(figsize=size)
    fig.add_subplot().plot([1, 3, 2])
    return fig


@pytest.fixture
def shown(monkeypatch):
    """What IPython.display.display received."""
    import IPython.display

    seen = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: seen.extend(objs))
    return seen


def test_save_figure_shows_the_png_it_wrote(tmp_path, shown):
    paths = save_figure(_figure(), tmp_path / "a", show=True)
    assert [p.name for p in paths] == ["a.png", "a.svg"]
    assert len(shown) == 1 and shown[0].data == paths[0].read_bytes()  # the very bytes of the file
    with Image.open(paths[0]) as png:
        assert shown[0].width == round(png.size[0] * CSS_DPI / 150)  # shown at its size in inches
    assert saved_figures(tmp_path)[-1] == paths[0]


def test_save_figure_shows_nothing_outside_a_kernel(tmp_path, shown):
    save_figure(_figure(), tmp_path / "b")  # show=None: only in a notebook kernel
    save_figure(_figure(), tmp_path / "c", formats=("svg",), show=True)  # PNG rendered for display only
    assert len(shown) == 1 and sorted(os.listdir(tmp_path)) == ["b.png", "b.svg", "c.svg"]


def test_save_figure_closes_a_shown_pyplot_figure(tmp_path, shown):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2])
    save_figure(fig, tmp_path / "p", show=True)
    assert not plt.fignum_exists(fig.number)  # the inline backend will not show it a second time


@pytest.mark.parametrize("fig,formats,match", [(None, ("png",), "needs a matplotlib Figure, got NoneType"),
                                               ("fig", ("png", "gif2"), "unknown \\['gif2'\\]")])
def test_save_figure_names_a_bad_argument(tmp_path, fig, formats, match):
    with pytest.raises(ValueError, match=match):
        save_figure(_figure() if fig else fig, tmp_path / "x", formats=formats)


def test_write_summary_records_the_figures_and_the_main_one(tmp_path):
    save_figure(_figure(), tmp_path / "s_curves")
    save_figure(_figure(), tmp_path / "s_final")
    save_figure(_figure(), tmp_path.parent / "elsewhere")  # another folder: not this summary's
    doc = json.loads(write_summary("s", "S", [Row("q", "1", "2")], out_dir=tmp_path).read_text())
    assert doc["figures"] == ["s_curves.png", "s_final.png"] and doc["main_figure"] == "s_curves.png"
    doc = json.loads(write_summary("s", "S", [], out_dir=tmp_path, main_figure="s_final").read_text())
    assert doc["main_figure"] == "s_final.png"


# --- a notebook executed in a kernel, as `cnnkit run` does -----------------------------------------------

CELLS = [
    "import keras  # before cnnkit: the kernel's start-up filter must still keep TensorFlow quiet\n"
    "import numpy as np\nimport matplotlib.pyplot as plt\nfrom matplotlib.figure import Figure\n"
    "from cnnkit.notebook import Row, save_figure, write_summary\nfrom cnnkit.train.callbacks import run_callbacks",
    "fig = Figure(figsize=(4, 3))\nfig.add_subplot().plot([1, 3, 2])\nsave_figure(fig, f'{out_dir}/toy_a');",
    "fig2, ax = plt.subplots(figsize=(4, 3))\nax.plot([2, 1])\nsave_figure(fig2, f'{out_dir}/toy_b');",
    "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation='softmax')])\n"
    "model.compile('sgd', 'sparse_categorical_crossentropy', metrics=['accuracy'])\n"
    "model.fit(np.zeros((16, 3)), np.zeros(16), epochs=2, batch_size=8, verbose=0,\n"
    "          callbacks=run_callbacks(batch_size=8));",
    "write_summary('toy', 'Toy · figures', [Row('q', '1', '2', 'agrees', headline=True)], out_dir=out_dir)",
]


@pytest.fixture
def executed(tmp_path, capfd, monkeypatch):
    # the kernel as `cnnkit run` starts it: ipykernel captures descriptors 1 and 2 (it does not when it sees
    # PYTEST_CURRENT_TEST), matplotlib's inline backend, TensorFlow's log level cnnkit's default (conftest sets
    # MPLBACKEND=Agg and TF_CPP_MIN_LOG_LEVEL=2 for the tests)
    for name in ("PYTEST_CURRENT_TEST", "MPLBACKEND", "TF_CPP_MIN_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('out_dir = "."')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *map(nbformat.v4.new_code_cell, CELLS)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "toy.ipynb")
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        html = run_notebook(tmp_path / "toy.ipynb", out_dir=out, progress=True)
        build_index(out)
    finally:
        os.umask(old)
    return out, html, capfd.readouterr()


@pytest.mark.slow  # executes a notebook in a kernel (~20 s)
def test_report_shows_every_figure_once_no_noise_and_the_index_its_thumbnail(executed):
    out, html, terminal = executed
    assert [p.name for p in assert_figures_embedded(out, html)] == ["toy_a.png", "toy_b.png"]
    nb = nbformat.read(out / "toy.ipynb", as_version=4)
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 2, "each figure is shown once (a pyplot figure is not shown again at the cell's end)"
    text = html.read_text(encoding="utf-8")
    streams = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert not NOISE.search(text) and not NOISE.search(streams), NOISE.search(text + streams)
    assert not EPOCH_LINE.search(text), "per-epoch lines belong to the terminal, not the report"
    assert EPOCH_LINE.search(terminal.err), f"the epoch lines reach the terminal: {terminal.err[-500:]}"
    assert not NOISE.search(terminal.out + terminal.err), NOISE.search(terminal.out + terminal.err)
    assert_world_readable(out)
    # the index: a thumbnail of the first figure saved, linking to the report, and the headline row
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "<a href='toy.html'><img src='toy_a.png'" in index
    board = index[index.index("Scoreboard"):index.index("<h2>Reports")]
    assert "Toy" in board and "verdict v-agrees" in board
