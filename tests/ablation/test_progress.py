"""A grid's live progress bar (cnnkit.ablation.progress): what it shows, where, and that reports keep none."""

import io
import os
import re

import nbformat
import pytest

from cnnkit import _console
from cnnkit.ablation import Experiment, Store, run_experiment
from cnnkit.ablation.progress import GridProgress, strip_progress


class Screen(io.StringIO):
    """A text stream that keeps what a terminal would show on its last line."""

    def shown(self) -> str:
        return self.getvalue().replace("\x1b[K", "").split("\n")[-1].split("\r")[-1]


def _grid(tmp_path, seeds=(0, 1)):
    exp = Experiment("grid", base={"model": "lenet5", "epochs": 4}, grid={"lr": [0.1, 0.2]}, seeds=seeds)
    return Store(tmp_path, exp.name), exp.runs()


def test_the_bar_shows_runs_done_the_runs_training_with_their_epoch_and_the_time_left(tmp_path):
    store, specs = _grid(tmp_path)
    screen = Screen()
    work = store.work_dir(specs[1].run_id)
    work.mkdir(parents=True)
    (work / "history.csv").write_text("epoch,loss\n1,0.9\n2,0.8\n")  # 2 of its 4 epochs are done ...
    store.claims_dir.mkdir(parents=True)
    (store.claims_dir / f"{specs[1].run_id}.1.claim").write_text("{}")  # ... and a runner holds it
    with GridProgress(store, specs, mode="terminal", file=screen, interval=60) as bar:
        bar.skipped(specs[0].run_id)
        bar.start()
        first = screen.shown()
        bar.finished(specs[2].run_id)
        line = screen.shown()
    assert first.startswith("grid: runs 1/4  38%|") and "<?" in first, first  # 4 + 2 of 16 epochs; no rate yet
    assert line.startswith("grid: runs 2/4  62%|"), line  # 4 + 2 + 4 of 16 epochs
    assert re.search(r"\| 00:00<\d\d:\d\d, now ", line), line  # elapsed < estimate of the time left
    assert line.endswith(f"now {specs[1].variant} seed {specs[1].seed} epoch 3/4"), line
    assert screen.shown().strip() == ""  # closed: the line is clear again (papermill's bar comes back)


def test_a_line_written_to_the_terminal_goes_above_the_bar(tmp_path, monkeypatch):
    """An epoch line of a run training in the kernel (workers=1) clears the bar, then the bar is drawn again."""
    store, specs = _grid(tmp_path)
    screen = Screen()
    read, write = os.pipe()
    monkeypatch.setattr(_console, "_terminal_fd", lambda: write)
    with GridProgress(store, specs, mode="terminal", file=screen, interval=60) as bar:
        bar.start()
        before = screen.getvalue()
        _console._write_terminal("epoch 1/4  loss 0.9")
        after = screen.getvalue()[len(before):]
    os.close(write)
    with os.fdopen(read) as pipe:
        assert pipe.read() == "epoch 1/4  loss 0.9\n"
    assert after.startswith("\r") and after.rstrip().endswith("grid: runs 0/4   0%|            | 00:00<?"), after


def test_a_resumed_run_that_drops_epochs_does_not_make_the_estimate_negative(tmp_path):
    store, specs = _grid(tmp_path)
    screen = Screen()
    log = store.work_dir(specs[0].run_id) / "history.csv"
    log.parent.mkdir(parents=True)
    log.write_text("epoch,loss\n1,0.9\n2,0.8\n3,0.7\n")
    with GridProgress(store, specs, mode="terminal", file=screen, interval=60) as bar:
        bar.start()
        log.write_text("epoch,loss\n1,0.9\n")  # resumed from its epoch-1 backup
        bar.update()
        log.write_text("epoch,loss\n1,0.9\n2,0.8\n")
        bar.update()
        line = screen.shown()
    assert "<-" not in line and re.search(r"00:00<\d\d:\d\d", line), line


@pytest.mark.parametrize("mode", ["off", "script"])
def test_no_bar_where_progress_is_off_or_lines_are_printed(tmp_path, mode):
    store, specs = _grid(tmp_path)
    screen = Screen()
    with GridProgress(store, specs, mode=mode, file=screen) as bar:
        bar.start()
    assert bar.bar is None and screen.getvalue() == ""


def test_progress_mode_follows_the_environment(monkeypatch):
    monkeypatch.setenv(_console.PROGRESS_ENV, "off")
    assert _console.progress_mode() == "off"
    monkeypatch.setenv(_console.PROGRESS_ENV, "terminal")
    assert _console.progress_mode() == "script"  # not in a kernel: scripts print their lines
    monkeypatch.setattr(_console, "in_notebook_kernel", lambda: True)
    assert _console.progress_mode() == "terminal"  # a kernel of cnnkit run
    monkeypatch.delenv(_console.PROGRESS_ENV)
    assert _console.progress_mode() == "notebook"  # Jupyter


def test_run_experiment_draws_no_bar_in_a_script(tmp_path, capsys):
    from fake_train import numpy_train

    exp = Experiment("quiet", base={"model": "lenet5", "epochs": 2}, grid={"lr": [0.1]}, seeds=(0,))
    run_experiment(exp, root=tmp_path, train_fn=numpy_train)
    out, err = capsys.readouterr()
    assert "[1/1] lr=0.1 seed 0: done" in out and "%|" not in out + err


BAR_STATES = "\rgrid: runs 0/4   0%|            | 00:00<?\rgrid: runs 1/4  25%|###         | 00:03<00:09\r"


def test_strip_progress_drops_bar_widgets_and_bar_text_and_keeps_the_rest():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("run()")])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.cells[0].outputs = [
        nbformat.v4.new_output("display_data", data={
            "text/plain": "grid: runs 0/4   0%|            | 00:00<?",
            "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2, "version_minor": 0}}),
        nbformat.v4.new_output("stream", name="stderr", text=BAR_STATES),
        nbformat.v4.new_output("stream", name="stderr", text="warning: kept\n" + BAR_STATES + "also kept\n"),
        nbformat.v4.new_output("stream", name="stdout", text="[1/4] lr=0.1 seed 0: done, 3 s\n"),
    ]
    assert strip_progress(nb) == 3
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["stream", "stream"]
    assert outputs[0].text == "warning: kept\nalso kept\n" and outputs[1].name == "stdout"
    assert "widgets" not in nb.metadata


def test_an_exported_report_keeps_no_progress_bar(tmp_path):
    from cnnkit.notebook.runner import export_html

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("run()")])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stderr", text=BAR_STATES),
                           nbformat.v4.new_output("stream", name="stdout", text="the table of runs\n")]
    nbformat.write(nb, tmp_path / "nb.ipynb")
    html = export_html(tmp_path / "nb.ipynb").read_text()
    assert "the table of runs" in html and "%|" not in html and "runs 1/4" not in html
