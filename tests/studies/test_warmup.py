"""14 · does the warm-up matter for depth: the grid, and the rows' verdicts on hand-made run frames."""

import math

import pandas as pd
import pytest

from cnnkit.studies import warmup

P = warmup.Params()
NAN = math.nan


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's per-test ``clear_session``: nothing here builds a model."""
    yield


def frames(train: dict[str, list], start: dict[str, list], converged: dict[str, list] | None = None,
           linear_test_error: float = 0.50):
    """``(runs, history)`` shaped like Results.runs()/history(): per arm (``plain``/``resnet`` × ``warm``/``cold``)
    the final training error and the iterations to 80 % per seed (NaN: never got there), test error = training
    error + 2 pp, and a linear floor; every run trained ``P.iterations``."""
    rows = []
    for key, errors in train.items():
        family, temp = key.split("_")
        variant = warmup.arm(family, temp == "warm")
        for seed, error in enumerate(errors):
            rows.append({"run_id": f"{variant}__s{seed}", "variant": variant, "seed": seed, "status": "done",
                         "train_error": error, "test_error": error + 0.02, "iterations_to_target": start[key][seed],
                         "converged": (converged or {}).get(key, [True] * len(errors))[seed],
                         "model_options.plain": family == "plain", "warmup_steps": P.warmup_steps if temp == "warm"
                         else 0})
    rows += [{"run_id": f"linear__s{s}", "variant": "linear", "seed": s, "status": "done", "train_error": 0.3,
              "test_error": linear_test_error, "iterations_to_target": NAN, "converged": True,
              "model_options.plain": NAN, "warmup_steps": P.warmup_steps} for s in range(3)]
    runs = pd.DataFrame(rows)
    history = pd.DataFrame([{"run_id": r.run_id, "variant": r.variant, "seed": r.seed, "step": step, "split": "train",
                             "metric": "error", "value": r.train_error} for r in runs.itertuples()
                            for step in (P.iterations // 2, P.iterations)])
    return runs, history


def verdicts(runs, history) -> dict[str, str]:
    return {r.quantity.split(",")[1].split(":")[0].strip() + (" start" if r.quantity.startswith("iter") else " end"):
            r.verdict for r in warmup.summary_rows(runs, P, history) if r.judged_at}


SAME = [0.20, 0.25, 0.22]  # the warm arms' final training error


def test_experiment_has_each_family_with_and_without_warmup_and_the_floor():
    exp = warmup.experiment(P)
    assert list(exp.variants) == ["plain-20 no warm-up", "plain-20 warm-up", "resnet-20 no warm-up",
                                  "resnet-20 warm-up", "linear"]
    configs = {s.variant: s.config for s in exp.runs() if s.seed == 0}  # validates every config through RunConfig
    assert len(exp.runs()) == 5 * len(P.seeds)
    for name, config in configs.items():
        assert config["target_train_error"] == warmup.TARGET == 0.8 and config["lr"] == P.lr
        if name != "linear":
            assert config["model_options"] == {"depth": P.depth, "plain": name.startswith("plain"), "width": P.width}
            assert config["warmup_steps"] == (0 if "no warm-up" in name else P.warmup_steps)
    assert configs["linear"]["model"] == "linear"
    assert (configs["plain-20 warm-up"]["epochs"] * configs["plain-20 warm-up"]["steps_per_epoch"]) == P.iterations


def test_rows_agree_when_the_warmup_speeds_the_start_and_leaves_the_end():
    runs, history = frames({"plain_warm": SAME, "plain_cold": [e + 0.003 for e in SAME],
                            "resnet_warm": SAME, "resnet_cold": [0.202, 0.249, 0.223]},
                           {"plain_warm": [40, 45, 42], "plain_cold": [90, 110, 95],
                            "resnet_warm": [30, 35, 33], "resnet_cold": [50, 61, 52]})
    rows = warmup.summary_rows(runs, P, history)
    assert verdicts(runs, history) == {"plain-20 no warm-up − warm-up end": "agrees",
                                       "resnet-20 no warm-up − warm-up end": "agrees",
                                       "plain-20 no warm-up − warm-up start": "agrees",
                                       "resnet-20 no warm-up − warm-up start": "agrees"}
    assert [r.headline for r in rows] == [True, True, False, False, False]
    assert rows[0].measured.startswith("+0.30 pp") and rows[0].test.startswith("TOST") and rows[0].converged
    assert rows[2].measured.startswith("+56.00 iterations") and rows[2].judged_at == "early"
    assert rows[-1].measured.startswith("50.00 %; 12 of 12 arm runs beat it")


def test_rows_when_the_warmup_makes_no_difference_and_when_it_changes_the_end():
    same_start = {"plain_warm": [40, 45, 42], "plain_cold": [41, 44, 42], "resnet_warm": [30, 35, 33],
                  "resnet_cold": [31, 34, 33]}
    runs, history = frames({"plain_warm": SAME, "plain_cold": SAME, "resnet_warm": SAME, "resnet_cold": SAME},
                           same_start)
    got = verdicts(runs, history)
    assert got["plain-20 no warm-up − warm-up end"] == got["resnet-20 no warm-up − warm-up end"] == "agrees"
    assert got["plain-20 no warm-up − warm-up start"] == "inconclusive"  # a zero difference: no side wins
    # without warm-up plain-20 ends 8 pp higher in every seed: beyond the ±2 pp margin
    runs, history = frames({"plain_warm": SAME, "plain_cold": [e + 0.08 for e in SAME], "resnet_warm": SAME,
                            "resnet_cold": SAME}, same_start)
    assert verdicts(runs, history)["plain-20 no warm-up − warm-up end"] == "disagrees"


def test_trained_rows_read_not_converged_and_early_rows_are_still_judged():
    start = {"plain_warm": [40, 45, 42], "plain_cold": [90, 110, 95], "resnet_warm": [30, 35, 33],
             "resnet_cold": [50, 61, 52]}
    train = {"plain_warm": SAME, "plain_cold": SAME, "resnet_warm": SAME, "resnet_cold": SAME}
    runs, history = frames(train, start, converged={"plain_cold": [True, False, True]})
    got = verdicts(runs, history)
    assert got["plain-20 no warm-up − warm-up end"] == "not converged"
    assert got["resnet-20 no warm-up − warm-up end"] == "agrees"
    assert got["plain-20 no warm-up − warm-up start"] == "agrees"  # a speed claim needs no converged run
    # every net worse than the linear model: nothing learnt, no trained verdict
    runs, history = frames(train, start, linear_test_error=0.05)
    assert {v for k, v in verdicts(runs, history).items() if k.endswith("end")} == {"not converged"}


def test_a_run_that_never_started_counts_its_length():
    start = {"plain_warm": [40, 45, 42], "plain_cold": [NAN, 110, NAN], "resnet_warm": [NAN, 35, 33],
             "resnet_cold": [50, 61, 52]}
    runs, history = frames({k: SAME for k in start}, start)
    rows = {r.quantity: r for r in warmup.summary_rows(runs, P, history)}
    plain = rows["iterations to ≤ 80 % training error, plain-20 no warm-up − warm-up"]
    assert plain.verdict == "agrees" and plain.diff == pytest.approx((P.iterations - 40 + 65 + P.iterations - 42) / 3)
    assert plain.note.startswith("2 of 3 runs without warm-up never got there")
    resnet = rows["iterations to ≤ 80 % training error, resnet-20 no warm-up − warm-up"]
    assert resnet.verdict == "inconclusive" and "did not get there in 1 of 3" in resnet.measured


def test_curves_take_the_factors_from_the_config_columns():
    runs, history = frames({"plain_warm": SAME, "resnet_cold": SAME}, {"plain_warm": [1] * 3, "resnet_cold": [1] * 3})
    data = warmup.curves(history, runs)
    assert set(data["variant"]) == {"plain-20 warm-up", "resnet-20 no warm-up"}  # the linear floor left out
    assert set(zip(data["family"], data["warm-up"])) == {("plain", f"{P.warmup_steps} iterations"), ("resnet", "none")}
    assert [(t.a, t.b, t.claim) for t in warmup.tracks(P)][0] == ("plain-20 warm-up", "plain-20 no warm-up",
                                                                  warmup.CLAIMS["trained"])


@pytest.mark.parametrize("changes, match", [({"depth": 51}, r"\[51\] are not 6n\+2"), ({"depth": 8}, "too shallow"),
                                            ({"warmup_steps": 0}, "warm arms need a warm-up"),
                                            ({"iterations": 100}, "multiple of log_every")])
def test_params_reject_bad_values(changes, match):
    with pytest.raises(ValueError, match=match):
        warmup.Params(**changes)


def test_claims_say_when_they_are_judged():
    assert warmup.CLAIMS["early"].judged_at == "early" and warmup.CLAIMS["trained"].judged_at == "trained"
    assert warmup.CLAIMS["trained"].kind == "equivalent" and warmup.CLAIMS["trained"].margin == 0.02
