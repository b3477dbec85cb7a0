"""06 · the activation zoo study: experiment grid, names the model accepts, rows on hand-made run frames."""

import pandas as pd
import pytest

import cnnkit
from cnnkit.layers import get_activation
from cnnkit.studies import activations as zoo


def runs_frame(test_errors: dict[str, list], to_target: dict[str, list] | None = None) -> pd.DataFrame:
    """Shaped like Results.runs(): one row per (variant, seed)."""
    rows = []
    for variant, errors in test_errors.items():
        for seed, error in enumerate(errors):
            rows.append({"run_id": f"{variant}__s{seed}", "variant": variant, "seed": seed, "status": "done",
                         "test_error": error, "train_error": error - 0.02,
                         "iterations_to_target": (to_target or {}).get(variant, [float("nan")] * 9)[seed]})
    return pd.DataFrame(rows)


def history_frame(runs: pd.DataFrame, steps: int = 300) -> pd.DataFrame:
    """Shaped like Results.history(): every run trained ``steps`` iterations in 2 epochs."""
    rows = [{"run_id": r, "variant": r.split("__")[0], "epoch": e, "step": steps * e // 2, "split": "train",
             "metric": "error", "value": 0.5} for r in runs["run_id"] for e in (1, 2)]
    return pd.DataFrame(rows)


def test_experiment_grid():
    exp = zoo.experiment(zoo.Params(seeds=(0, 1), subset=100, iterations=40, log_every=10, target_error=0.25))
    assert list(exp.variants) == [*zoo.ZOO, "linear"]
    specs = exp.runs()  # validates every config through RunConfig
    assert len(specs) == 16
    first = specs[0].config
    assert first["model"] == "alexnet_cifar"
    assert first["model_options"] == {"activation": "relu", "norm": None, "kernel_initializer": "he_normal"}
    assert (first["target_train_error"], first["subset"], first["recipe"]) == (0.25, 100, "alexnet")
    # 40 iterations logged every 10 at 16x16, the rate ÷10 at 50 % and 75 % of them: a schedule that ends in the budget
    assert (first["epochs"], first["steps_per_epoch"], first["resolution"], first["schedule"]) == (4, 10, 16, "step")
    config = {s.run_id: s.config for s in specs}
    assert config["tanh__s0"]["model_options"]["kernel_initializer"] == "glorot_uniform"
    assert config["sigmoid__s1"]["model_options"]["kernel_initializer"] == zoo.SIGMOID_INIT
    floor = config["linear__s1"]  # the floor: the linear model on the same data and budget
    assert (floor["model"], floor["model_options"]) == ("linear", {})
    assert {k for k in floor if floor[k] != config["relu__s1"][k]} == {"model", "model_options"}
    assert zoo.experiment().runs()[0].config["target_train_error"] == zoo.Params().target_error


def test_sigmoid_starts_with_glorot_widened_for_its_slope_of_a_quarter():
    import keras
    import numpy as np

    fan_in, fan_out = 400, 800  # 5x5 kernels, 16 → 32 channels
    w = keras.ops.convert_to_numpy(keras.initializers.get(zoo.SIGMOID_INIT)((5, 5, 16, 32)))
    glorot = np.sqrt(6 / (fan_in + fan_out))
    assert 3.9 * glorot < np.abs(w).max() <= 4 * glorot  # uniform in ±4 · Glorot's limit
    assert zoo.initializer("swish") == "glorot_uniform" and zoo.initializer("relu") == "he_normal"


def test_tracks_follow_each_saturating_unit_against_the_baseline():
    tracks = zoo.tracks(zoo.Params())
    assert [(t.a, t.b, t.split) for t in tracks] == [("relu", "sigmoid", "val"), ("relu", "tanh", "val")]
    assert all(t.claim is zoo.CLAIMS["test_error"] for t in tracks)
    assert [t.b for t in zoo.tracks(zoo.Params(activations=("elu", "tanh")))] == ["tanh"]


@pytest.mark.parametrize("changes, match", [
    ({"activations": ["relu"]}, "two or more"), ({"activations": ["relu", "relu"]}, "distinct"),
    ({"activations": ["relu", "softsign"]}, "'softsign'"), ({"target_error": 1.5}, "1.5"),
    ({"activations": ["relu", "elu"]}, "include a saturating unit"),
    ({"activations": ["sigmoid", "relu"]}, "non-saturating baseline"),
    ({"iterations": 50}, "iterations=50 must be a positive multiple of log_every=20"),
])
def test_params_reject_bad_values(changes, match):
    with pytest.raises(ValueError, match=match):
        zoo.Params(**changes)


def test_claims_say_when_they_are_judged():
    assert zoo.CLAIMS["speed"].judged_at == "early"
    assert zoo.CLAIMS["test_error"].judged_at == zoo.CLAIMS["family"].judged_at == "trained"


def test_every_zoo_activation_builds_the_default_model():
    for name in zoo.ZOO:
        assert get_activation(name) is not None
    for name in ("prelu", "rrelu"):  # the two with their own weights / randomness
        model = cnnkit.build("alexnet_cifar", input_shape=(12, 12, 1), activation=name, norm=None)
        assert model.get_layer("conv1_act").__class__.__name__.lower().endswith(name)


def test_rows_when_sigmoid_is_clearly_worse_and_slower():
    runs = runs_frame({"relu": [0.20, 0.21, 0.22], "elu": [0.19, 0.20, 0.21], "sigmoid": [0.90, 0.89, 0.90],
                       "tanh": [0.23, 0.20, 0.24]},
                      to_target={"relu": [100, 110, 120], "elu": [90, 95, 100], "sigmoid": [float("nan")] * 3,
                                 "tanh": [105, 100, 130]})
    rows = zoo.summary_rows(runs, zoo.Params(activations=("relu", "elu", "sigmoid", "tanh"), target_error=0.25),
                            history_frame(runs))
    by = {r.quantity: r for r in rows}
    assert by["test error, sigmoid − relu"].verdict == "agrees" and by["test error, sigmoid − relu"].headline
    assert by["test error, sigmoid − relu"].measured.startswith("+68.67 pp")
    tanh = by["test error, tanh − relu"]  # per-seed differences +3, −1, +2 pp: the sign is not settled
    assert tanh.verdict == "inconclusive" and "seeds per arm would decide" in tanh.note
    pooled = by["test error, saturating (sigmoid, tanh) − non-saturating (ReLU family)"]
    assert pooled.verdict == "agrees" and pooled.measured.endswith("(n = 3)")  # per seed: family means
    speed = by["iterations to 25 % training error, sigmoid − relu"]
    # sigmoid never got there: each run counts its 300 iterations, a lower bound, and still decides
    assert speed.verdict == "agrees" and speed.measured.startswith("+190.00 iterations")
    assert "sigmoid / relu ≥ 2.73x" in speed.note and "0 of 3" in speed.note
    tanh_speed = by["iterations to 25 % training error, tanh − relu"]
    assert tanh_speed.verdict == "inconclusive" and tanh_speed.headline
    assert by["sigmoid: test error; iterations to 25 % training error"].measured.endswith("not reached in 300")
    assert by["relu: test error; iterations to 25 % training error"].measured.endswith("110 (3 of 3 runs)")
    assert {r.verdict for r in rows[-5:]} == {"not comparable"}
    assert rows[-1].measured == "no finished linear run"  # the floor row, last
    assert len(rows) == 2 + 1 + 2 + 4 + 1
    assert [r.judged_at for r in rows[:5]] == ["trained"] * 3 + ["early"] * 2
    assert [r.quantity for r in zoo.error_rows(rows)] == [r.quantity for r in rows[:3]]


def test_test_error_rows_wait_for_converged_runs_but_the_speed_rows_do_not():
    runs = runs_frame({"relu": [0.20, 0.21, 0.22], "sigmoid": [0.90, 0.89, 0.90]},
                      to_target={"relu": [100, 110, 120], "sigmoid": [200, 210, 220]}).assign(converged=False)
    rows = zoo.summary_rows(runs, zoo.Params(activations=("relu", "sigmoid")), history_frame(runs))
    assert [r.verdict for r in rows[:2]] == ["not converged", "agrees"]
    assert rows[0].measured.startswith("+68.67 pp")  # shown, but it decides nothing


def test_rows_disagree_when_sigmoid_wins():
    runs = runs_frame({"relu": [0.50, 0.51, 0.52], "sigmoid": [0.20, 0.21, 0.22]},
                      to_target={"relu": [300, 290, 280], "sigmoid": [50, 60, 55]})
    rows = zoo.summary_rows(runs, zoo.Params(activations=("relu", "sigmoid")), history_frame(runs))
    assert [r.verdict for r in rows[:2]] == ["disagrees", "disagrees"]
    assert len(rows) == 2 + 2 + 1  # no pooled row with a single unit per family; the floor


def test_a_unit_that_does_not_beat_the_linear_floor_is_not_judged():
    runs = runs_frame({"relu": [0.20, 0.21, 0.22], "elu": [0.19, 0.20, 0.21], "sigmoid": [0.60, 0.59, 0.60],
                       "linear": [0.25, 0.25, 0.25]},
                      to_target={"relu": [100, 110, 120], "elu": [90, 95, 100], "sigmoid": [200, 210, 220],
                                 "linear": [50, 50, 50]}).assign(converged=True)
    p = zoo.Params(activations=("relu", "elu", "sigmoid"))
    by = {r.quantity: r for r in zoo.summary_rows(runs, p, history_frame(runs))}
    assert by["test error, sigmoid − relu"].verdict == "not converged"  # sigmoid stayed above the floor
    family = by["test error, saturating (sigmoid, tanh) − non-saturating (ReLU family)"]
    assert family.verdict == "not converged"  # the floor's runs are no family member, sigmoid's fail the floor
    assert by["iterations to 50 % training error, sigmoid − relu"].verdict == "agrees"  # speed: judged early
    assert by["test error, linear model (the floor every arm must beat)"].measured == "25.00 %; 6 of 9 arm runs beat it"
    beaten = runs.assign(test_error=runs["test_error"].where(runs["variant"] != "linear", 0.7))
    assert zoo.summary_rows(beaten, p, history_frame(beaten))[0].verdict == "agrees"


def test_speed_row_when_the_fast_unit_misses_the_target():
    runs = runs_frame({"relu": [0.5, 0.5], "tanh": [0.5, 0.5]},
                      to_target={"relu": [float("nan"), 100], "tanh": [50, 60]})
    row = zoo.speed_row(runs, history_frame(runs), "relu", "tanh", quantity="q", reference="r")
    assert (row.verdict, row.measured) == ("inconclusive", "relu did not reach the target in 1 of 2 runs")


def test_families():
    runs = runs_frame({"relu": [0.1], "tanh": [0.2], "prelu": [0.3], "sigmoid": [0.4], "linear": [0.5]})
    assert zoo.families(runs)["variant"].tolist() == ["non-saturating", "saturating", "non-saturating", "saturating"]


def test_differences_come_from_the_parameters_and_say_how_many_runs_converged():
    p = zoo.Params(activations=("relu", "tanh"), iterations=60, target_error=0.3)
    table = zoo.differences(p).set_index("")
    assert table.loc["activations", "here"] == "relu, tanh" and table.loc["budget", "here"] == "60 iterations × batch 32"
    assert table.loc["initialisation", "here"] == "each unit its own: relu he_normal, tanh glorot_uniform"
    assert table.loc["schedule", "here"].startswith("÷10 at 50 % and 75 % of the iterations")
    assert table.loc["target training error", "here"].startswith("30 %") and "convergence" not in table.index
    runs = runs_frame({"relu": [0.2, 0.2], "tanh": [0.3, 0.3]}).assign(converged=[True, False, False, False])
    runs.loc[3, "status"] = "failed"
    assert zoo.differences(p, runs).set_index("").loc["convergence", "here"].startswith("1 of 3 runs converged")
    assert list(zoo.differences(p).columns) == ["", "here", "Krizhevsky et al. 2012"]
