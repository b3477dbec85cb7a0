"""cnnkit.notebook.setup: a notebook resolves its preset itself (cnnkit run, papermill and Jupyter agree)."""

from pathlib import Path

import pytest

from cnnkit.notebook import NOTEBOOK_DIR, notebook_parameters, preset_parameters, setup, study_kwargs
from cnnkit.notebook.params import current, results_dir
from cnnkit.studies import depth

STEM = "01_depth_degradation"


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's per-test ``clear_session``: nothing here builds a model."""
    yield


def cell_defaults():
    return {name: p.default for name, p in notebook_parameters(NOTEBOOK_DIR / f"{STEM}.ipynb").items()}


def test_the_preset_fills_the_defaults_and_explicit_values_win(tmp_path):
    ns = {**cell_defaults(), "preset": "smoke", "seeds": [7, 8], "out_dir": str(tmp_path)}
    params = setup(STEM, ns)
    smoke = preset_parameters(STEM, "smoke", set(ns))
    assert ns["depths"] == smoke["depths"] and ns["iterations"] == smoke["iterations"]  # defaults → smoke values
    assert ns["seeds"] == [7, 8]  # an explicit -p value wins over the preset's [0]
    assert params["seeds"] == [7, 8] and "out_dir" not in params and ns["out_dir"] == str(tmp_path)
    assert current(STEM) == params


def test_quick_changes_nothing_and_out_dir_dot_is_the_results_folder():
    ns = cell_defaults()
    params = setup(STEM, ns)
    assert params == {k: v for k, v in cell_defaults().items() if k != "out_dir"}
    assert Path(ns["out_dir"]) == results_dir() and results_dir().name == "reports"
    assert results_dir().parent != NOTEBOOK_DIR  # never among the sources


def test_a_bad_preset_is_refused():
    with pytest.raises(ValueError, match="unknown preset 'fast'"):
        setup(STEM, {**cell_defaults(), "preset": "fast"})


def test_study_kwargs_pick_what_the_study_takes():
    kwargs = study_kwargs({"depths": [8, 14], "workers": 2, "preset": "smoke"}, depth.experiment, seeds=[0])
    assert kwargs == {"depths": [8, 14], "seeds": [0]}
