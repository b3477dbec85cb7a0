"""Reports as a reader sees them: headless Chromium loads index.html and a report and draws every image.

Skipped where no Chromium is installed (``apt-get install chromium``, or set ``CNNKIT_CHROMIUM``)."""

from __future__ import annotations

import base64
import io

import nbformat
import pytest
from matplotlib.figure import Figure
from PIL import Image

from cnnkit.notebook import Row, build_index, export_html, save_figure, write_summary
from cnnkit.notebook.browser import find_chromium, loaded_images, screenshots

NO_CHROMIUM = "no Chromium: apt-get install chromium (or set CNNKIT_CHROMIUM) to check reports in a browser"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(find_chromium() is None, reason=NO_CHROMIUM)]


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's per-test ``clear_session``: nothing here builds a model."""
    yield


@pytest.fixture
def reports(tmp_path):
    """A report folder as `cnnkit run` leaves it: a figure saved, a report embedding it, a summary, the index."""
    fig = Figure(figsize=(5, 3))
    fig.add_subplot().plot([3, 1, 2])
    png, _ = save_figure(fig, tmp_path / "01_curves")
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("save_figure(fig, '01_curves');", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "image/png": base64.b64encode(png.read_bytes()).decode(), "text/plain": "<Image>"})]
    nb.cells = [nbformat.v4.new_markdown_cell("# 01 · Toy"), cell]
    nbformat.write(nb, tmp_path / "01_toy.ipynb")
    export_html(tmp_path / "01_toy.ipynb")
    write_summary("01_toy", "01 · Toy", [Row("q", "1", "2", "agrees", headline=True)], out_dir=tmp_path)
    build_index(tmp_path)
    return tmp_path


def test_index_and_report_images_load(reports):
    for page in ("index.html", "01_toy.html"):
        images = [i for i in loaded_images(reports / page) if i["width"] > 16]  # the figures, not template icons
        assert images, f"{page}: no figure in the page"
        assert all(i["width"] >= 200 and i["height"] >= 120 for i in images), (page, images)
    assert [i["src"] for i in loaded_images(reports / "index.html")] == ["01_curves.png"]


def test_a_missing_image_is_seen(reports):
    (reports / "01_curves.png").unlink()  # the thumbnail's file is gone: the browser cannot draw it
    assert loaded_images(reports / "index.html") == [{"src": "01_curves.png", "width": 0, "height": 0}]


def test_screenshots(reports, tmp_path):
    shots = screenshots(reports, tmp_path / "img")
    assert [p.name for p in shots] == ["index.png", "01_toy.png"]
    with Image.open(io.BytesIO(shots[0].read_bytes())) as image:
        assert image.size == (1280, 1800)
        assert len(set(image.convert("L").getdata())) > 10  # something is drawn, not a blank page
