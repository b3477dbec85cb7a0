"""Failed runs surface where the user looks: a report at once, RunsFailedError when a variant has
nothing to show, Results.failed_runs(), and a re-run that retries failures and keeps finished runs."""

from __future__ import annotations

import pytest

from cnnkit.ablation import Experiment, Results, RunsFailedError, Store, run_experiment
from cnnkit.ablation.results import FAILED_COLUMNS

BASE = {"model": "resnet_cifar", "model_options": {"depth": 20}, "epochs": 1}


def grid(seeds=(0, 1)):
    return Experiment("deg", BASE, grid={"model_options.depth": [20, 56]}, seeds=seeds)


def test_a_failed_run_among_finished_ones_is_reported_once_and_the_grid_goes_on(tmp_path, fake_train, capsys):
    results = run_experiment(grid(), root=tmp_path, train_fn=fake_train(fail={(56, 1)}), progress=False)
    err = capsys.readouterr().err
    assert err.count("warning: ") == 1
    assert err.startswith("warning: 1 of 4 runs of experiment 'deg' failed: RuntimeError: boom at depth 56\n")
    assert "(runs: depth=56 seed 1)" in err and f"{tmp_path / 'deg' / 'runs'}/<run_id>.json" in err
    assert "no run of variant" not in err  # both variants have a finished run
    failed = results.failed_runs()
    assert list(failed.columns) == FAILED_COLUMNS
    assert failed.values.tolist() == [["depth=56", 1, "depth=56__s1", "RuntimeError: boom at depth 56"]]


def test_no_failure_no_report_and_an_empty_frame(tmp_path, fake_train, capsys):
    results = run_experiment(grid(), root=tmp_path, train_fn=fake_train(diverge={(20, 0)}), progress=False)
    assert capsys.readouterr().err == ""  # a diverged run is a result, not a failure
    assert results.failed_runs().empty and list(results.failed_runs().columns) == FAILED_COLUMNS


def test_a_variant_without_a_finished_run_raises_with_the_cause_after_the_whole_grid(tmp_path, fake_train):
    train = fake_train(fail={(20, 0), (20, 1)})
    with pytest.raises(RunsFailedError) as info:
        run_experiment(grid(), root=tmp_path, train_fn=train, progress=False)
    message = str(info.value)
    first = message.splitlines()[0]
    assert first == ("2 of 4 runs of experiment 'deg' failed; no run of variant(s) ['depth=20'] finished: "
                     "RuntimeError: boom at depth 20")
    assert message.count("boom at depth 20") == 1 and "(runs: depth=20 seed 0, depth=20 seed 1)" in message
    assert "run again" in message
    assert info.value.variants == ["depth=20"] and len(info.value.failed) == 2
    assert len(train.calls) == 4  # every run was tried and recorded before the error
    assert [r["status"] for r in Store(tmp_path, "deg").read_runs()].count("done") == 2


def test_distinct_errors_are_listed_once_each_with_the_runs_they_hit(tmp_path):
    def train(config, *, workdir):
        depth = config.model_options["depth"]
        raise ValueError(f"bad option for depth {depth}\n  detail line") if depth == 20 else MemoryError()

    with pytest.raises(RunsFailedError) as info:
        run_experiment(grid(), root=tmp_path, train_fn=train, progress=False)
    message = str(info.value)
    assert message.count("ValueError: bad option for depth 20") == 1 and message.count("Also: MemoryError") == 1
    assert "\n    detail line\n" in message  # the cause's later lines, indented
    assert "(runs: depth=56 seed 0, depth=56 seed 1)" in message and "try a smaller batch_size" in message


def test_require_chooses_which_failures_raise(tmp_path, fake_train, capsys):
    with pytest.raises(RunsFailedError, match="1 of 4 runs"):
        run_experiment(grid(), root=tmp_path / "a", train_fn=fake_train(fail={(56, 1)}), progress=False,
                       require="all-runs")
    results = run_experiment(grid(), root=tmp_path / "b", train_fn=fake_train(fail={(20, 0), (20, 1)}),
                             progress=False, require="nothing")
    assert "warning: 2 of 4 runs" in capsys.readouterr().err and len(results.failed_runs()) == 2
    with pytest.raises(ValueError, match=r"require='some'.*'all-variants', 'all-runs', 'nothing'"):
        run_experiment(grid(), root=tmp_path / "c", train_fn=fake_train(), progress=False, require="some")


def test_rerun_after_the_fix_retries_the_failed_runs_and_keeps_the_finished_ones(tmp_path, fake_train):
    with pytest.raises(RunsFailedError):
        run_experiment(grid(), root=tmp_path, train_fn=fake_train(fail={(20, 0), (20, 1), (56, 1)}), progress=False)
    store = Store(tmp_path, "deg")
    kept = store.run_file("depth=56__s0").read_bytes()
    fixed = fake_train()
    results = run_experiment(grid(), root=tmp_path, train_fn=fixed, progress=False)
    assert sorted((d, s) for d, s, _ in fixed.calls) == [(20, 0), (20, 1), (56, 1)]  # the failed runs only
    assert store.run_file("depth=56__s0").read_bytes() == kept  # the finished run is untouched
    runs = results.runs()
    assert sorted(runs["run_id"]) == sorted(store.run_ids()) and len(runs) == 4  # none lost, none twice
    assert set(runs["status"]) == {"done"} and results.failed_runs().empty
    again = fake_train()
    run_experiment(grid(), root=tmp_path, train_fn=again, progress=False)
    assert again.calls == []


def test_retry_failed_false_keeps_failed_runs_and_still_reports_them(tmp_path, fake_train):
    with pytest.raises(RunsFailedError):
        run_experiment(grid(), root=tmp_path, train_fn=fake_train(fail={(20, 0), (20, 1)}), progress=False)
    skip = fake_train()
    with pytest.raises(RunsFailedError, match="no run of variant"):
        run_experiment(grid(), root=tmp_path, train_fn=skip, progress=False, retry_failed=False)
    assert skip.calls == []


def test_failed_runs_frame_holds_the_first_line_of_a_multi_line_error(tmp_path):
    def train(config, *, workdir):
        raise FileNotFoundError("data set 'cifar10' not found. Searched, in order:\n  1. $CNNKIT_DATA_DIR: not set")

    run_experiment(Experiment("e", BASE, seeds=(0,)), root=tmp_path, train_fn=train, progress=False,
                   require="nothing")
    frame = Results(tmp_path, "e").failed_runs()
    assert frame["error"].tolist() == ["FileNotFoundError: data set 'cifar10' not found. Searched, in order:"]
