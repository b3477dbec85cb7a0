"""A notebook resolves its study's parameters itself: cnnkit run, papermill and Jupyter run the same budget."""

from pathlib import Path

import pytest

from cnnkit.notebook import NOTEBOOK_DIR, notebook_parameters
from cnnkit.notebook.params import current, results_dir
from cnnkit.studies import depth, setup
from cnnkit.studies._spec import explicit_names, preset_changes

STEM = "01_depth_degradation"


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's per-test ``clear_session``: nothing here builds a model."""
    yield


def cell_defaults():
    return {name: p.default for name, p in notebook_parameters(NOTEBOOK_DIR / f"{STEM}.ipynb").items()}


def test_the_preset_changes_the_defaults_and_edited_values_win(tmp_path):
    ns = {**cell_defaults(), "preset": "smoke", "seeds": [7, 8], "out_dir": str(tmp_path)}
    p = setup(depth, ns)
    smoke = preset_changes(depth, "smoke")
    assert p.depths == smoke["depths"] and p.iterations == smoke["iterations"]  # defaults → smoke values
    assert p.seeds == (7, 8) and ns["seeds"] == (7, 8)  # a value edited in the cell wins over the preset's (0,)
    assert ns["workers"] == 1 and ns["out_dir"] == str(tmp_path)  # smoke trains in the kernel
    assert current(STEM) == {"preset": "smoke", **p.as_dict(), "workers": 1}


def test_an_injected_value_wins_even_when_it_equals_the_default(tmp_path):
    """`cnnkit run --preset smoke -p iterations 300`: 300 is the quick default, and it is what runs."""
    injected = '# Parameters\npreset = "smoke"\niterations = 300\nout_dir = "x"\n'
    ns = {**cell_defaults(), "preset": "smoke", "iterations": 300, "out_dir": str(tmp_path),
          "In": ["", "preset = 'quick'", injected, "p = setup(depth, globals())"]}
    assert explicit_names(ns) == {"preset", "iterations", "out_dir"}
    p = setup(depth, ns)
    assert p.iterations == 300 and p.depths == (8, 14)


def test_quick_changes_nothing_and_out_dir_dot_is_the_results_folder():
    ns = cell_defaults()
    p = setup(depth, ns)
    assert p == depth.Params()
    assert Path(ns["out_dir"]) == results_dir() and results_dir().name == "reports"
    assert results_dir().parent != NOTEBOOK_DIR  # never among the sources


def test_a_bad_preset_and_a_bad_value_are_refused():
    with pytest.raises(ValueError, match="unknown preset 'fast'"):
        setup(depth, {**cell_defaults(), "preset": "fast"})
    with pytest.raises(ValueError, match="parameter 'iterations' .* expects int"):
        setup(depth, {**cell_defaults(), "iterations": "many"})


def test_a_quick_run_checks_its_notebook_without_importing_keras():
    """Each lane of ``cnnkit demo`` is a ``cnnkit run`` of the quick preset: its checks before the kernel starts
    import no Keras (5-6 s of CPU per notebook measured), since ``Params()`` is the quick preset."""
    import subprocess
    import sys

    code = ("import sys\nfrom cnnkit.notebook.runner import check_data, resolve_parameters\n"
            "from cnnkit.studies import preset_for_notebook\n"
            "nb = 'notebooks/01_depth_degradation.ipynb'\n"
            "assert resolve_parameters(nb, 'quick') == {'preset': 'quick'}\n"
            "assert preset_for_notebook(nb, 'quick') == {}\ncheck_data(nb, 'quick')\n"
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))\n")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
