"""Failures stop a notebook run at their cause, with the cause's own message (issue 19).

A missing data set is refused before a kernel starts; a failing cell leaves a partial report and
``<stem>.failed.json``, which index.html lists; failed runs stop the notebook at its run cell; a
re-run after the fix succeeds and clears the failure.
"""

import json
import os
import subprocess
import sys
import time

import nbformat
import pytest

from cnnkit import cli
from cnnkit.notebook import build_index, run_notebook
from cnnkit.notebook.runner import FAILED_SUFFIX, NotebookError, check_data
from hostile_cases import NOTEBOOK, REPO, cifar10_files


def make_notebook(path, params_src, body_src):
    """A notebook of a ``parameters`` cell and one code cell."""
    params = nbformat.v4.new_code_cell(params_src)
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[params, nbformat.v4.new_code_cell(body_src)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """Offline, with an empty $CNNKIT_DATA_DIR and Keras cache: only the repository's Fashion-MNIST exists."""
    monkeypatch.setenv("CNNKIT_OFFLINE", "1")
    monkeypatch.setenv("CNNKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "data"


def run_cli(*argv):
    """``cnnkit`` in a subprocess: (exit status, stdout + stderr, seconds)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "cnnkit.cli", *argv], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=900)
    return proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - start


def test_check_data_finds_the_notebooks_data_set_or_names_every_place_searched(tmp_path, no_data):
    toy = make_notebook(tmp_path / "toy.ipynb", 'dataset = "fashion_mnist"\nepochs = 1', "print(dataset)")
    assert "(repository data/)" in check_data(toy)
    with pytest.raises(FileNotFoundError) as info:
        check_data(toy, "smoke", {"dataset": "cifar10"})
    message = str(info.value)
    assert message.startswith("toy.ipynb (dataset='cifar10', preset smoke): data set 'cifar10' not found. Searched, in order:")
    assert f"$CNNKIT_DATA_DIR: {no_data}" in message and "Keras cache" in message
    assert "cifar-10-python.tar.gz" in message and "-p dataset fashion_mnist" in message
    assert check_data(toy, overrides={"dataset": "cifar11"}) is None  # left to the parameter check
    cifar10_files(no_data)
    assert check_data(toy, overrides={"dataset": "cifar10"}) == f"{no_data / 'cifar-10-batches-py'} ($CNNKIT_DATA_DIR)"
    plain = make_notebook(tmp_path / "plain.ipynb", "epochs = 1", "print(epochs)")
    assert check_data(plain) is None  # no dataset parameter: no files needed


def test_check_data_needs_neither_keras_nor_tensorflow(tmp_path, no_data):
    code = ("import sys\nfrom cnnkit.notebook.runner import check_data\n"
            f"try:\n    check_data({NOTEBOOK!r}, 'smoke', {{'dataset': 'cifar10'}})\n"
            "except FileNotFoundError:\n    pass\n"
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO).stdout
    assert out.strip() == "[]"


def test_cnnkit_run_refuses_a_missing_data_set_within_seconds_before_any_kernel(tmp_path, no_data):
    code, out, seconds = run_cli("run", NOTEBOOK, "--preset", "smoke", "-p", "dataset", "cifar10",
                                 "--out", str(tmp_path / "out"))
    assert code == 2, out
    assert "cnnkit run: error: 01_depth_degradation.ipynb (dataset='cifar10', preset smoke): data set 'cifar10' not found" in out
    assert f"$CNNKIT_DATA_DIR: {no_data}" in out and "Traceback" not in out
    assert "no history rows" not in out and not (tmp_path / "out").exists()  # nothing ran, nothing written
    assert seconds < 30, f"{seconds:.1f} s"  # ~2 s on a free core: no kernel, no TensorFlow


def test_a_failed_cell_leaves_a_partial_report_that_the_index_lists_until_a_run_succeeds(tmp_path):
    out = tmp_path / "out"
    bad = make_notebook(tmp_path / "toy.ipynb", "x = 1", 'print("before")\nraise ValueError(f"x={x} is bad\\nline 2")')
    with pytest.raises(NotebookError) as info:
        run_notebook(bad, out_dir=out, progress=False)
    assert info.value.cause == "ValueError: x=1 is bad\nline 2"
    assert "partial report: " in str(info.value) and str(out / "toy.html") in str(info.value)
    record = json.loads((out / f"toy{FAILED_SUFFIX}").read_text())
    assert record["first_line"] == "ValueError: x=1 is bad" and record["partial_html"] == "toy.html"
    assert "before" in (out / "toy.html").read_text()  # the partial notebook, exported
    index = build_index(out).read_text()
    assert "Failed notebooks" in index and "<b>toy</b>" in index and "ValueError: x=1 is bad" in index
    assert "<a href='toy.html'>partial report</a>" in index and "Other reports" not in index
    make_notebook(bad, "x = 1", 'print("fixed")')
    run_notebook(bad, out_dir=out, progress=False)
    assert not (out / f"toy{FAILED_SUFFIX}").exists()
    assert "Failed notebooks" not in build_index(out).read_text()


RUN_CELL = '''from cnnkit.ablation import Experiment, run_experiment


def train(config, *, workdir):
    from cnnkit.data.sources import raw_data

    raw_data(config.dataset)
    return {"status": "done", "history": [{"epoch": 0, "error": 0.5}], "final": {"test_error": 0.5}}


exp = Experiment("toy", {"model": "lenet5", "epochs": 1, "dataset": "cifar10"}, seeds=(0, 1))
results = run_experiment(exp, root="runs", train_fn=train, progress=False)
print("runs:", results.runs()["status"].tolist())'''


@pytest.mark.slow
def test_failed_runs_stop_the_notebook_at_the_run_cell_and_a_rerun_after_the_fix_completes(tmp_path, no_data):
    toy = make_notebook(tmp_path / "toy.ipynb", 'out_dir = "."', RUN_CELL)  # no dataset parameter: not pre-checked
    out = tmp_path / "out"
    code = cli.main(["run", str(toy), "--out", str(out), "--no-progress"])
    assert code == 1
    record = json.loads((out / f"toy{FAILED_SUFFIX}").read_text())
    assert record["first_line"] == ("RunsFailedError: 2 of 2 runs of experiment 'toy' failed; no run of variant(s) "
                                    "['base'] finished: FileNotFoundError: data set 'cifar10' not found. "
                                    "Searched, in order:")
    assert f"$CNNKIT_DATA_DIR: {no_data}" in record["cause"] and "no history rows" not in record["cause"]
    assert "RunsFailedError: 2 of 2 runs" in (out / "index.html").read_text()
    cifar10_files(no_data)  # the fix
    assert cli.main(["run", str(toy), "--out", str(out), "--no-progress"]) == 0
    assert "runs: ['done', 'done']" in (out / "toy.ipynb").read_text()
    assert sorted(p.name for p in (out / "runs" / "toy" / "runs").glob("*.json")) == ["base__s0.json", "base__s1.json"]
    assert not (out / f"toy{FAILED_SUFFIX}").exists() and "Failed notebooks" not in (out / "index.html").read_text()


@pytest.mark.slow
def test_the_depth_notebook_on_cifar10_runs_once_the_files_are_under_cnnkit_data_dir(tmp_path, no_data):
    argv = ("run", NOTEBOOK, "--preset", "smoke", "-p", "dataset", "cifar10", "--out", str(tmp_path / "out"),
            "--no-progress")
    assert run_cli(*argv)[0] == 2
    cifar10_files(no_data, per_batch=60, test=100)
    code, out, _ = run_cli(*argv)
    assert code == 0, out[-3000:]
    runs = [json.loads(p.read_text()) for p in (tmp_path / "out" / "runs").glob("*/runs/*.json")]
    assert runs and {r["status"] for r in runs} <= {"done", "diverged"}
    assert {r["config"]["dataset"] for r in runs} == {"cifar10"}
