"""The papermill runner, parameter checking, HTML export and the report index (on toy notebooks)."""

import json
import subprocess
import sys

import nbformat
import pytest

from cnnkit.notebook import Row, build_index, resolve_parameters, run_notebook, write_summary
from cnnkit.notebook.runner import NotebookError, coerce, notebook_parameters, parse_value


def make_notebook(path, params_src, body_src):
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell(params_src)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Toy"), p, nbformat.v4.new_code_cell(body_src)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


TOY_PARAMS = 'preset = "quick"\nseeds = [0, 1]\nshape = (2, 3)\nlr = 0.1\nepochs = 3\nname = "x"\nout_dir = "."'
TOY_BODY = ('import json\n'
            'from cnnkit.notebook import Row, write_summary\n'
            'print("types", type(seeds).__name__, type(shape).__name__, type(lr).__name__)\n'
            'json.dump(dict(seeds=seeds, shape=list(shape), lr=lr, epochs=epochs, is_tuple=isinstance(shape, tuple)),'
            ' open("seen.json", "w"))\n'
            'write_summary("toy", "Toy notebook", [Row("lr", str(lr), "0.1", "agrees")], '
            'parameters=dict(preset=preset), out_dir=out_dir)\n'
            'import matplotlib.pyplot as plt\nplt.plot([1, 2]); plt.show()')


@pytest.fixture
def toy(tmp_path):
    return make_notebook(tmp_path / "toy.ipynb", TOY_PARAMS, TOY_BODY)


def test_parameters_are_inspected(toy):
    params = notebook_parameters(toy)
    assert set(params) == {"preset", "seeds", "shape", "lr", "epochs", "name", "out_dir"}
    assert params["shape"].default == (2, 3) and params["seeds"].default == [0, 1]


@pytest.mark.parametrize("text,value", [("3", 3), ("0.5", 0.5), ("[20, 56]", [20, 56]), ("(1, 2)", (1, 2)),
                                        ("None", None), ("true", True), ("hello", "hello")])
def test_parse_value(text, value):
    assert parse_value(text) == value


def test_coerce_types():
    assert coerce("lr", 1, 0.1) == 1.0 and isinstance(coerce("lr", 1, 0.1), float)
    assert coerce("shape", [4, 5], (2, 3)) == (4, 5)
    with pytest.raises(ValueError, match="'epochs' expects int"):
        coerce("epochs", 2.5, 3)
    with pytest.raises(ValueError, match="expects bool"):
        coerce("flag", 1, True)


def test_unknown_parameter_rejected_before_execution(toy):
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['epochz'\].*valid parameters: .*epochs"):
        resolve_parameters(toy, "quick", {"epochz": 2})


def test_unknown_preset_rejected(toy):
    with pytest.raises(ValueError, match="unknown preset 'fast'"):
        resolve_parameters(toy, "fast")


def test_run_executes_exports_and_indexes(toy, tmp_path):
    out = tmp_path / "out"
    html = run_notebook(toy, parameters={"shape": (4, 5), "lr": 1, "seeds": [7]}, out_dir=out, progress=False)
    seen = json.loads((out / "seen.json").read_text())
    assert seen == {"seeds": [7], "shape": [4, 5], "lr": 1.0, "epochs": 3, "is_tuple": True}
    text = html.read_text()
    assert "<details class=\"cnnkit-code\">" in text and "data:image/png;base64" in text
    index = build_index(out).read_text()
    assert "Toy notebook" in index and "toy.html" in index and "agrees" in index


def test_failing_cell_reports_cell_and_partial(tmp_path):
    nb = make_notebook(tmp_path / "bad.ipynb", "x = 1", "raise ValueError('boom %d' % x)")
    with pytest.raises(NotebookError, match="boom 1") as info:
        run_notebook(nb, out_dir=tmp_path / "out", progress=False)
    assert info.value.partial.exists()


def test_cli_exit_codes(toy, tmp_path):
    cmd = [sys.executable, "-m", "cnnkit.cli", "run", str(toy), "--out", str(tmp_path / "o"), "--no-progress"]
    bad = subprocess.run(cmd + ["-p", "nope", "1"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown parameter(s) ['nope']" in bad.stderr
    assert not (tmp_path / "o").exists()  # rejected before anything ran


def test_summary_verdict_checked(tmp_path):
    with pytest.raises(ValueError, match="verdict"):
        Row("q", "1", "2", verdict="maybe")
    path = write_summary("s", "S", [Row("q", "1", "2")], out_dir=tmp_path)
    assert json.loads(path.read_text())["environment"]["keras"]


def test_unparseable_parameter_line_is_an_error(tmp_path):
    nb = make_notebook(tmp_path / "p.ipynb", "a = 1\nsubset = 5  # None = all", "pass")
    with pytest.raises(ValueError, match="cannot parse line 2"):
        notebook_parameters(nb)
