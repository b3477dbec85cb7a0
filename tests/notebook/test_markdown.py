"""cnnkit report --markdown / --readme: the README's results generated from a report folder."""

import json

import pytest

from cnnkit.notebook.lanes import order_longest_first, shipped_wall_times
from cnnkit.notebook.markdown import BEGIN, END, markers, results_markdown, update_readme
from cnnkit.notebook.report import Row, write_summary


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's per-test ``clear_session``: nothing here builds a model."""
    yield


def folder_with_one_report(tmp_path):
    rows = [Row("plain gap", "+27.7 pp", "> 0", "agrees", headline=True, judged_at="trained", converged=True),
            Row("resnet gap", "+1.4 pp", "< 0", "not converged", headline=True, judged_at="trained", converged=False),
            Row("abs", "15 %", "8.75 %", "not comparable")]
    write_summary("01_depth", "01 · Depth", rows, parameters={"preset": "quick"}, out_dir=tmp_path)
    (tmp_path / "01_depth.ipynb").write_text(json.dumps({"metadata": {"papermill": {"duration": 183.9}}}))
    return tmp_path


def test_markdown_lists_headlines_counts_and_wall_time(tmp_path):
    text = results_markdown(folder_with_one_report(tmp_path))
    assert "| 01 | plain gap | > 0 | +27.7 pp | yes | **agrees** |" in text
    assert "| 01 | resnet gap | < 0 | +1.4 pp | no | **not converged** |" in text
    assert "| 01 · Depth | 1 | 0 | 0 | 1 | 1 | 184 s |" in text and "wall time 184 s" in text
    assert "abs" not in text.split("| notebook | agrees")[0]  # only headline rows in the first table


def test_a_long_report_fills_its_own_block(tmp_path):
    folder = tmp_path / "reports-long"
    folder.mkdir()
    write_summary("01_depth", "01 · Depth", [Row("plain gap", "+17.8 pp", "> 0", "agrees", headline=True)],
                  parameters={"preset": "long"}, out_dir=folder)
    readme = tmp_path / "README.md"
    begin, end = markers("long")
    readme.write_text(f"{BEGIN}\nquick\n{END}\n{begin}\nold\n{end}\n")
    update_readme(readme, folder, tmp_path)
    text = readme.read_text()
    assert "quick" in text and "old" not in text and "+17.8 pp" in text.split(begin)[1]


def test_readme_block_is_replaced_and_markers_are_required(tmp_path):
    folder = folder_with_one_report(tmp_path / "reports")
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{BEGIN}\nold numbers\n{END}\noutro\n")
    update_readme(readme, folder, tmp_path)
    text = readme.read_text()
    assert "old numbers" not in text and "**agrees**" in text and text.startswith("intro") and text.endswith("outro\n")
    readme.write_text("no block here\n")
    with pytest.raises(ValueError, match="has no block to rewrite"):
        update_readme(readme, folder, tmp_path)
    with pytest.raises(FileNotFoundError, match="no \\*.summary.json"):
        results_markdown(tmp_path / "empty")


def test_the_readme_update_records_the_wall_times_that_order_a_fresh_demo(tmp_path):
    """A fresh report folder has no wall times: the shipped ones (written with the README's block) decide which
    notebook starts first; a folder's own record wins over them."""
    folder = folder_with_one_report(tmp_path / "reports")
    readme = tmp_path / "README.md"
    readme.write_text(f"{BEGIN}\n{END}\n")
    update_readme(readme, folder, tmp_path)
    assert shipped_wall_times("quick", tmp_path) == {"01_depth": 183.9} and shipped_wall_times("long", tmp_path) == {}
    paths = [tmp_path / f"{n}.ipynb" for n in ("00_a", "01_depth", "02_c")]
    fresh = tmp_path / "fresh"
    order = order_longest_first(paths, fresh, trains=lambda p: p.stem != "00_a", notebooks=tmp_path)
    assert [p.stem for p in order] == ["01_depth", "02_c", "00_a"]  # 183.9 s shipped > 100 s guessed > 10 s
    fresh.mkdir()
    (fresh / "02_c.ipynb").write_text(json.dumps({"metadata": {"papermill": {"duration": 500.0}}}))
    order = order_longest_first(paths, fresh, trains=lambda p: True, notebooks=tmp_path)
    assert [p.stem for p in order] == ["02_c", "01_depth", "00_a"]
