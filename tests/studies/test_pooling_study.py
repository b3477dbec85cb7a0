"""04 · the pooling study: experiment grid and verdict rows on hand-made run frames.

(Named ``test_pooling_study`` so that it does not clash with ``tests/teach/test_pooling.py``:
test folders have no ``__init__.py``, so basenames must be unique.)
"""

import pandas as pd
import pytest

from cnnkit.studies import pooling, resolve


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's per-test ``clear_session``: these tests build no model."""
    yield


def runs_frame(test_error: dict[str, list[float]], train_error: dict[str, list[float]] | None = None) -> pd.DataFrame:
    """A frame shaped like Results.runs(): one finished run per (variant, seed)."""
    rows = []
    for variant, errors in test_error.items():
        for seed, err in enumerate(errors):
            row = {"experiment": "pooling", "run_id": f"{variant}__s{seed}", "variant": variant, "seed": seed,
                   "status": "done", "error": None, "test_error": err}
            if train_error is not None:
                row["train_error"] = train_error[variant][seed]
            rows.append(row)
    return pd.DataFrame(rows)


def test_experiment_grid():
    exp = pooling.experiment(pooling.Params(poolings=pooling.POOLINGS, seeds=(0, 1), norm=None, subset=256,
                                            iterations=40, log_every=10))
    specs = exp.runs()
    assert sorted(s.run_id for s in specs) == sorted(f"{p}__s{seed}" for p in (*pooling.POOLINGS, "linear")
                                                     for seed in (0, 1))
    options = {s.run_id: s.config["model_options"] for s in specs}
    assert options["overlap__s0"] == {"norm": None, "pooling": "overlap"}
    assert options["stochastic__s1"] == {"norm": None, "pooling": "stochastic"}
    config = {s.run_id: s.config for s in specs}
    assert {config[f"{p}__s0"]["model"] for p in pooling.POOLINGS} == {"alexnet_cifar"}
    # 40 iterations logged every 10, the rate ÷10 at 50 % and 75 % of them: a schedule that ends in the budget
    first = config["overlap__s0"]
    assert (first["subset"], first["epochs"], first["steps_per_epoch"], first["schedule"]) == (256, 4, 10, "step")
    floor = config["linear__s1"]  # the floor: the linear model on the same data and budget
    assert (floor["model"], floor["model_options"]) == ("linear", {})
    assert {k for k in floor if floor[k] != config["max__s1"][k]} == {"model", "model_options"}


def test_params_reject_iterations_that_do_not_fill_the_log_intervals():
    with pytest.raises(ValueError, match="iterations=50 must be a positive multiple of log_every=15"):
        pooling.Params(iterations=50)


def test_tracks_follow_the_headline_in_validation_error():
    (track,) = pooling.tracks(pooling.Params())
    assert (track.a, track.b, track.split, track.metric) == ("max", "overlap", "val", "error")
    assert track.claim is pooling.CLAIMS["overlap"]


@pytest.mark.parametrize("poolings", [["overlap"], ["max", "avg"], ["overlap", "max", "median"],
                                      ["overlap", "max", "max"]])
def test_params_reject_bad_poolings(poolings):
    with pytest.raises(ValueError, match="poolings must include 'overlap' and 'max'"):
        pooling.Params(poolings=poolings)


def test_rows_agree_when_overlapping_pooling_wins_on_every_seed():
    runs = runs_frame({"overlap": [0.100, 0.102, 0.104], "max": [0.110, 0.112, 0.114],
                       "avg": [0.120, 0.122, 0.124], "stochastic": [0.090, 0.092, 0.094]},
                      train_error={"overlap": [0.05, 0.05, 0.05], "max": [0.03, 0.03, 0.03],
                                   "avg": [0.06, 0.06, 0.06], "stochastic": [0.08, 0.08, 0.08]})
    every = pooling.Params(poolings=pooling.POOLINGS)
    rows = pooling.summary_rows(runs, every.replace(gap_row=True))
    assert [r.quantity for r in rows[:4]] == [
        "test error, overlapping 3x3/2 − non-overlapping 2x2/2",
        "generalisation gap (test − train error), overlapping − non-overlapping",
        "test error, stochastic − max 2x2/2", "test error, stochastic − average 2x2/2"]
    # a constant per-seed difference is exact when the runs are paired by seed: decisive with 3 seeds
    assert rows[0].measured.startswith("-1.00 pp") and rows[0].reference.startswith("−0.4 pp")
    assert [r.verdict for r in rows[:4]] == ["agrees", "agrees", "agrees", "agrees"]
    assert rows[0].headline and not any(r.headline for r in rows[1:])
    assert rows[0].test.startswith("one-sided paired t, H1: diff < 0")
    assert rows[1].measured.startswith("-3.00 pp")  # gaps 0.052 vs 0.082
    assert [r.quantity for r in rows[4:]] == ["test error, overlapping max 3x3/2", "test error, max 2x2/2",
                                              "test error, average 2x2/2", "test error, stochastic 2x2/2",
                                              "test error, linear model (the floor)"]
    assert {r.verdict for r in rows[4:]} == {"not comparable"} and rows[7].reference.startswith("15.13 %")
    assert len(pooling.summary_rows(runs, every)) == 8  # the gap row only on request
    assert rows[8].quantity == "test error, linear model (the floor)"  # no linear run here
    assert [r.judged_at for r in rows[:4]] == ["trained"] * 4 and rows[0].converged is None  # no converged column


def test_rows_disagree_or_stay_inconclusive():
    worse = runs_frame({"overlap": [0.120, 0.122, 0.124], "max": [0.110, 0.112, 0.114]})
    rows = pooling.summary_rows(worse)
    assert len(rows) == 4 and rows[0].verdict == "disagrees"  # no stochastic rows; the floor last
    # per-seed differences −2, +2 pp: the mean is 0 and no number of seeds would decide
    mixed = runs_frame({"overlap": [0.10, 0.13], "max": [0.12, 0.11]})
    row = pooling.summary_rows(mixed)[0]
    assert row.verdict == "inconclusive" and "seeds" in row.note
    one_seed = runs_frame({"overlap": [0.10], "max": [0.12]})
    assert pooling.summary_rows(one_seed)[0].verdict == "inconclusive"


def test_mechanics_rows_decide_exactly():
    from cnnkit.teach import pooling as teach

    checks, examples = teach.backward_table(), teach.worked_examples()
    heads = {"VGG16 7x7x512": teach.head_params((7, 7, 512))}
    rows = pooling.mechanics_rows(checks, examples, heads)
    assert [r.verdict for r in rows] == ["agrees"] * 3 and rows[0].headline
    assert rows[2].measured == "123,642,856 vs 513,000"
    broken = checks.assign(backward_max_abs_diff=checks["backward_max_abs_diff"] + 1e-3)
    assert pooling.mechanics_rows(broken, examples)[0].verdict == "disagrees"
    wrong = {**examples, "avg_grad": examples["avg_grad"] * 2}
    assert pooling.mechanics_rows(checks, wrong)[1].verdict == "disagrees"


def test_trained_claims_wait_for_converged_runs():
    runs = runs_frame({"overlap": [0.100, 0.102, 0.104], "max": [0.110, 0.112, 0.114]})
    runs["converged"] = [True, True, False, True, True, True]
    row = pooling.summary_rows(runs)[0]
    assert row.verdict == "not converged" and row.converged is False and row.measured.startswith("-1.00 pp")
    assert pooling.summary_rows(runs.assign(converged=True))[0].verdict == "agrees"


def test_an_arm_below_the_linear_floor_is_not_judged():
    runs = runs_frame({"overlap": [0.100, 0.102, 0.104], "max": [0.110, 0.112, 0.114],
                       "linear": [0.111, 0.111, 0.111]}).assign(converged=True)
    rows = pooling.summary_rows(runs)
    assert rows[0].verdict == "not converged" and rows[0].converged is False  # max, seeds 1-2: 11.2, 11.4 % > 11.1 %
    assert rows[-1].measured == "11.10 %; 4 of 6 arm runs beat it"
    assert pooling.summary_rows(runs.assign(test_error=runs["test_error"].where(runs["variant"] != "linear", 0.2)))[
        0].verdict == "agrees"


def test_differences_follow_the_parameters():
    quick = pooling.differences(pooling.Params()).set_index("")
    assert list(pooling.differences(pooling.Params()).columns) == ["", "here", "Krizhevsky et al. 2012"]
    assert quick.loc["training", "here"].startswith("120 iterations (≈ 1.6 passes over the subset) of batch 32")
    assert quick.loc["schedule", "here"].startswith("÷10 at 50 % and 75 % of the iterations")
    assert quick.loc["data", "here"] == "fashion_mnist at 16x16, 2400 training images"
    paper = pooling.differences(resolve(pooling, "paper")).set_index("")
    assert paper.loc["training", "here"].startswith("35100 iterations of batch 128")
    assert paper.loc["schedule", "here"].startswith("÷10 when the validation error stops improving")
    assert paper.loc["overfitting claim", "here"] == "judged (gap_row)"
    runs = runs_frame({"overlap": [0.1, 0.1], "max": [0.1, 0.1]}).assign(converged=[True, False, True, True])
    assert pooling.differences(pooling.Params(), runs).set_index("").loc["convergence", "here"].startswith(
        "3 of 4 runs converged")
