"""One study, one place: every notebook's parameters cell is its study's Params rendered, every preset is valid."""

import dataclasses

import pytest

from cnnkit.notebook import NOTEBOOK_DIR, notebook_parameters, numbered_notebooks
from cnnkit.studies import PRESET_NAMES, StudyParams, notebook_studies, render_cell, resolve, sync_notebooks
from cnnkit.studies._spec import NOTEBOOK_FIELDS, notebook_defaults, preset_for_notebook

STUDIES = notebook_studies()
TRAINING = {"01", "02", "03", "06", "07", "08", "09", "10", "11", "12", "13"}


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's per-test ``clear_session``: nothing here builds a model."""
    yield


def test_the_training_notebooks_have_a_study():
    numbers = {stem[:2] for stem in STUDIES}
    assert TRAINING <= numbers, f"training notebooks without a study declaring NOTEBOOK: {sorted(TRAINING - numbers)}"
    assert set(STUDIES) <= {p.stem for p in numbered_notebooks()}


@pytest.mark.parametrize("stem", sorted(STUDIES))
def test_the_parameters_cell_is_the_study_rendered(stem):
    study = STUDIES[stem]
    declared = notebook_parameters(NOTEBOOK_DIR / f"{stem}.ipynb")
    expected = {**notebook_defaults(study), **study.Params().as_dict()}
    assert {n: p.default for n, p in declared.items()} == expected, (
        f"{stem}: the parameters cell differs from {study.__name__}.Params; run `cnnkit notebooks --sync`")
    helps = study.Params.help()
    assert all(helps.get(n) for n in study.Params.names()), f"{study.__name__}.Params: a field without a comment"
    assert all(declared[n].help for n in declared), f"{stem}: papermill --help-notebook shows a parameter bare"


def test_sync_check_finds_no_difference_and_sees_an_edit(tmp_path):
    assert sync_notebooks(check=True) == []
    import shutil

    for stem in STUDIES:
        shutil.copyfile(NOTEBOOK_DIR / f"{stem}.ipynb", tmp_path / f"{stem}.ipynb")
    edited = tmp_path / "01_depth_degradation.ipynb"
    edited.write_text(edited.read_text().replace("iterations = ", "iterations = 1 + "))
    assert sync_notebooks(tmp_path, check=True) == [edited]
    assert sync_notebooks(tmp_path) == [edited] and sync_notebooks(tmp_path, check=True) == []


@pytest.mark.parametrize("stem", sorted(STUDIES))
def test_every_preset_is_valid_and_lists_only_changes(stem):
    study = STUDIES[stem]
    assert dataclasses.is_dataclass(study.Params) and issubclass(study.Params, StudyParams)
    assert study.Params.__dataclass_params__.frozen
    assert set(getattr(study, "PRESETS", {})) <= set(PRESET_NAMES) - {"quick"}
    for preset, changes in getattr(study, "PRESETS", {}).items():
        defaults = study.Params()
        same = [k for k, v in changes.items() if getattr(defaults, k) == (tuple(v) if isinstance(v, list) else v)]
        assert not same, f"{stem} preset {preset}: {same} repeat the default"
    for preset in PRESET_NAMES:
        resolve(study, preset)


def test_cli_checks_reach_the_study_with_a_hint():
    path = NOTEBOOK_DIR / "01_depth_degradation.ipynb"
    with pytest.raises(ValueError, match="did you mean 'iterations'"):
        preset_for_notebook(path, "smoke", {"iteration": 3})
    with pytest.raises(ValueError, match="6n\\+2"):
        preset_for_notebook(path, "quick", {"depths": [20, 51]})
    assert preset_for_notebook(path, "paper", {"workers": 1})["dataset"] == "cifar10"
    assert set(NOTEBOOK_FIELDS) == {"preset", "workers", "out_dir"}


def test_render_cell_is_what_papermill_reads_back(tmp_path):
    from cnnkit.studies import depth

    text = render_cell(depth)
    assert "depths = (20, 56)" in text and 'dataset = "fashion_mnist"' in text
    assert text.splitlines()[0].startswith('preset = "quick"')
