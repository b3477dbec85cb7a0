"""The numbered notebooks: committed clean, parameters that parse and fit every preset, and (slow)
every notebook executed end to end through ``cnnkit run --preset smoke``."""

import json
import os
import subprocess
import sys

import nbformat
import pytest

from cnnkit._status import DONE
from cnnkit.ablation import Results
from cnnkit.notebook.report import VERDICTS
from cnnkit.notebook import PRESET_NAMES, notebook_parameters, numbered_notebooks, read_summaries, resolve_parameters
from cnnkit.studies import find_study, resolve
from report_checks import EPOCH_LINE, NOISE, assert_figures_embedded, assert_world_readable

NOTEBOOKS = numbered_notebooks()


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's per-test ``clear_session``: nothing here builds a model in this process."""
    yield


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: tag exactly one cell 'parameters'"
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        assert cell.outputs == [] and cell.execution_count is None, (
            f"{path.name}: code cell {i} has outputs; clear them before committing")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_preset_resolves(path):
    declared = notebook_parameters(path)  # raises on a parameter line papermill would skip
    assert declared, f"{path.name} declares no parameters"
    for preset in PRESET_NAMES:
        params = resolve_parameters(path, preset)
        assert set(params) <= set(declared)
        if "preset" in declared:
            assert params["preset"] == preset


# --- slow: execute every numbered notebook with the smoke preset, one test per notebook -----------------

# The user's environment, not the tests': ipykernel captures file descriptors (not under PYTEST_CURRENT_TEST),
# matplotlib's inline backend, cnnkit's default TensorFlow log level (conftest sets MPLBACKEND and the level).
_TEST_ONLY_ENV = ("PYTEST_CURRENT_TEST", "MPLBACKEND", "TF_CPP_MIN_LOG_LEVEL")


def _run_smoke(path, out):
    env = {k: v for k, v in os.environ.items() if k not in _TEST_ONLY_ENV}
    return subprocess.run([sys.executable, "-m", "cnnkit.cli", "run", str(path), "--preset", "smoke",
                           "--out", str(out), "--no-progress"], capture_output=True, text=True, timeout=900,
                          env=env, preexec_fn=lambda: os.umask(0o022))


def expected_experiment(stem):
    """The experiment the notebook's study builds from its smoke parameters (None: the study has no grid)."""
    study = find_study(stem)
    if study is None or not hasattr(study, "experiment"):
        return None
    return study.experiment(resolve(study, "smoke"))


def _check_stores(out, stem):
    """Every experiment the notebook stored holds each of its variant × seed runs once, all ``done``."""
    root = out / "runs"
    names = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    exp = expected_experiment(stem)
    if exp is not None:
        assert exp.name in names, f"{stem}: experiment {exp.name!r} missing from {names}"
        runs = Results(root, exp.name).runs()
        assert sorted(runs["run_id"]) == sorted(s.run_id for s in exp.runs())
    for name in names:
        meta = json.loads((root / name / "experiment.json").read_text(encoding="utf-8"))
        runs = Results(root, name).runs()
        assert len(runs) == len(meta["variants"]) * len(meta["seeds"]), f"{stem}/{name}: runs missing"
        assert set(runs["status"]) == {DONE}, runs[["run_id", "status", "error"]].to_string()
        if "test_error" in runs.columns:
            assert runs["test_error"].between(0, 1).all()


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_smoke_run(path, tmp_path):
    """``cnnkit run --preset smoke`` executes the notebook, exports the HTML report with embedded figures and
    a measured-vs-reference table, lists it in the index, and stores every run it trains."""
    stem, out = path.stem, tmp_path / "reports"
    proc = _run_smoke(path, out)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    html = (out / f"{stem}.html").read_text(encoding="utf-8")
    assert "measured" in html and "verdict" in html and ("reference" in html or "paper" in html), (
        "the measured-vs-paper table is missing")
    if "save_figure" in path.read_text(encoding="utf-8"):
        assert "data:image/png" in html, "figures must be embedded in the HTML report"
    assert_figures_embedded(out, out / f"{stem}.html")  # every PNG it saved, decodable, >= 200x120
    assert not NOISE.search(proc.stdout + proc.stderr + html), NOISE.search(proc.stdout + proc.stderr + html)
    assert not EPOCH_LINE.search(html), "per-epoch lines belong to the terminal, not the report"
    assert_world_readable(out)
    summary = next(s for s in read_summaries(out) if s["stem"] == stem)
    assert summary["rows"], f"{stem}: the summary has no rows"
    if "preset" in summary["parameters"]:
        assert summary["parameters"]["preset"] == "smoke"
    assert {r.verdict for r in summary["rows"]} <= set(VERDICTS)
    assert f"href='{stem}.html'" in (out / "index.html").read_text(encoding="utf-8")
    _check_stores(out, stem)
