"""Notebook 10's logic: the four levers varied alone, their long frame, effect plot and rows (hand-made frames)."""

import pandas as pd
import pytest

from cnnkit.models import build
from cnnkit.stats import macs, shapes_only
from cnnkit.studies import levers, resolve
from cnnkit.train.config import RunConfig

# A baseline at Fashion-MNIST's native 28x28, every lever with a second value.
P = levers.Params(resolutions=(14, 28), depths=(8, 14), widths=(8, 16), skips=(False, True),
                  baseline_resolution=28, baseline_depth=14, baseline_width=16, baseline_skip=True)


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's per-test ``clear_session``: these tests build shapes-only models at most."""
    yield


@pytest.mark.parametrize("lever, value, name", [("depth", 8, "depth=8"), ("width", 32, "width=32"),
                                                ("resolution", 14, "resolution=14"), ("skip", False, "skip=off"),
                                                ("skip", True, "skip=on")])
def test_variant_names(lever, value, name):
    assert levers.variant_name(lever, value) == name


def test_the_factors_of_each_variant_come_from_the_parameters():
    factors = levers.variant_levers(P)
    assert factors["baseline"] == [("resolution", 28), ("depth", 14), ("width", 16), ("skip", True)]
    assert factors["depth=8"] == [("depth", 8)] and factors["skip=off"] == [("skip", False)]
    assert sorted(factors) == sorted(["baseline", "resolution=14", "depth=8", "width=8", "skip=off"])


def test_each_variant_differs_from_the_baseline_in_one_lever_only():
    variants = levers.lever_variants(P.replace(depths=(8, 14, 20), widths=(8,)))
    base = variants["baseline"]
    assert base == {"resolution": 28, "model_options.depth": 14, "model_options.width": 16,
                    "model_options.plain": False}
    assert sorted(variants) == sorted(["baseline", "resolution=14", "depth=8", "depth=20", "width=8", "skip=off"])
    for name, overrides in variants.items():
        changed = {k for k in overrides if overrides[k] != base[k]}
        assert len(changed) == (0 if name == "baseline" else 1), name
    assert variants["skip=off"]["model_options.plain"] is True
    assert variants["depth=20"]["model_options.depth"] == 20 and variants["depth=20"]["resolution"] == 28


@pytest.mark.parametrize("changes, match", [({"depths": [10]}, "6n\\+2"), ({"resolutions": [4]}, "minimum"),
                                            ({"widths": [0]}, ">= 1"), ({"skips": ["no"]}, "expects"),
                                            ({"depths": [8.0]}, "expects"), ({"baseline_depth": 9}, "6n\\+2"),
                                            ({"baseline_skip": 1}, "expects bool"),
                                            ({"baseline_width": 0}, ">= 1"),
                                            ({"iterations": 100, "log_every": 14}, "multiple of log_every")])
def test_params_reject_bad_values(changes, match):
    with pytest.raises(ValueError, match=match):
        P.replace(**changes)


def test_presets_keep_the_old_grids_and_add_the_floor():
    smoke = levers.experiment(resolve(levers, "smoke"))
    assert list(smoke.variants) == ["baseline", "resolution=8", "skip=off", "linear"]
    quick = levers.experiment(levers.Params())
    assert list(quick.variants) == ["baseline", "depth=14", "width=4", "skip=off", "linear"] and len(quick.runs()) == 15
    assert resolve(levers, "paper").baseline == {"resolution": 32, "depth": 20, "width": 16, "skip": True}
    long, quick_p = resolve(levers, "long"), levers.Params()
    assert long.iterations >= 4 * quick_p.iterations and long.subset is None  # the same design, trained longer
    assert {k: v for k, v in long.as_dict().items() if k not in ("iterations", "log_every", "subset", "eval_subset")} \
        == {k: v for k, v in quick_p.as_dict().items() if k not in ("iterations", "log_every", "subset", "eval_subset")}


def test_experiment_grid_and_configs():
    exp = levers.experiment(P.replace(seeds=[0, 1], subset=100, iterations=30, log_every=10))
    assert sorted(exp.variants) == ["baseline", "depth=8", "linear", "resolution=14", "skip=off", "width=8"]
    specs = exp.runs()  # every config passes RunConfig
    assert len(specs) == 12 and {s.config["model"] for s in specs} == {"resnet_cifar", "linear"}
    cfg = RunConfig.from_dict(exp.config("resolution=14", 1))
    assert (cfg.resolution, cfg.model_options["depth"], cfg.model_options["plain"], cfg.seed) == (14, 14, False, 1)
    # 30 iterations in 3 logged points, warmed up, then the recipe's step schedule (it decays within the budget)
    assert (cfg.epochs, cfg.steps_per_epoch, cfg.warmup_steps, cfg.lr) == (3, 10, P.warmup_steps, P.lr)
    assert cfg.resolved().schedule == "step"
    floor = RunConfig.from_dict(exp.config("linear", 0))  # the floor sees the baseline's images
    assert (floor.model, floor.model_options, floor.resolution) == ("linear", {}, 28)


def test_variant_macs_match_a_direct_count():
    p = levers.Params(resolutions=(14,), depths=(8,), widths=(8, 16), skips=(True,), baseline_resolution=28,
                      baseline_depth=8, baseline_width=8)
    counted = levers.variant_macs(p, image_shape=(28, 28, 1), num_classes=10)
    with shapes_only():
        direct = macs(build("resnet_cifar", input_shape=(14, 14, 1), depth=8, width=8, plain=False))
    assert counted["resolution=14"] == direct
    assert counted["resolution=14"] < counted["baseline"] < counted["width=16"]


def test_run_trains_the_experiment(monkeypatch):
    calls = []
    monkeypatch.setattr(levers, "run_grid", lambda exp, root, **kw: calls.append((list(exp.variants), root, kw)))
    levers.run(P, "r", workers=1)
    assert calls == [(list(levers.experiment(P).variants), "r", {"workers": 1})]


# --- frames, table, plot, rows (hand-made runs) ------------------------------------------------------

def runs_frame(errors: dict[str, list[float]], params: dict[str, int] | None = None, **columns) -> pd.DataFrame:
    frame = pd.DataFrame([{"variant": v, "run_id": f"{v}__s{s}", "seed": s, "status": "done", "test_error": e,
                           "train_error": e / 2, "params": (params or {}).get(v, 1000)}
                          for v, errs in errors.items() for s, e in enumerate(errs)])
    return frame.assign(**columns)


ERRORS = {"baseline": [0.10, 0.11, 0.12], "resolution=14": [0.20, 0.21, 0.22], "depth=8": [0.105, 0.125, 0.115],
          "width=8": [0.05, 0.06, 0.07], "skip=off": [0.15, 0.16, 0.17]}
PARAMS = {"baseline": 1000, "resolution=14": 1000, "depth=8": 600, "width=8": 250, "skip=off": 1000}


def test_lever_frame_repeats_the_baseline_in_every_lever():
    frame = levers.lever_frame(runs_frame(ERRORS, PARAMS), P, macs={"baseline": 400, "resolution=14": 100})
    assert list(frame.columns) == levers.LEVER_FRAME_COLUMNS
    assert len(frame) == 3 * (5 + 3)  # 5 variants + the baseline once more in 3 other levers
    assert frame["lever"].unique().tolist() == list(levers.LEVERS)
    res = frame[frame["lever"] == "resolution"]
    assert res["value"].tolist() == [14, 14, 14, 28, 28, 28] and res["macs"].tolist() == [100] * 3 + [400] * 3
    skip = frame[frame["lever"] == "skip"]
    assert skip["value"].tolist() == [False] * 3 + [True] * 3
    assert skip["variant"].tolist() == ["skip=off"] * 3 + ["baseline"] * 3
    with pytest.raises(ValueError, match="not levers of these parameters"):
        levers.lever_frame(runs_frame(ERRORS), levers.Params())  # the runs of P read with other parameters


def test_lever_table_and_plot():
    frame = levers.lever_frame(runs_frame(ERRORS, PARAMS), P)
    table = levers.lever_table(frame)
    row = table[(table["lever"] == "width") & (table["value"] == 8)].iloc[0]
    assert (row["n"], row["mean"], row["params"]) == (3, pytest.approx(0.06), 250)
    assert table.loc[table["lever"] == "skip", "value"].tolist() == [False, True]
    assert all(type(v) is bool for v in table.loc[table["lever"] == "skip", "value"])
    fig = levers.plot_levers(frame)
    assert [ax.get_title() for ax in fig.axes] == list(levers.LEVERS)
    assert [t.get_text() for t in fig.axes[3].get_xticklabels()] == ["off", "on"]
    ring = fig.axes[0].collections[-1].get_offsets()  # the baseline (resolution 28, the 2nd tick) is ringed
    assert ring.tolist() == [[1.0, pytest.approx(0.11)]]
    with pytest.raises(ValueError, match="no finished runs"):
        levers.plot_levers(frame.assign(status="failed"))


def test_summary_rows_direction_per_lever():
    rows = levers.summary_rows(runs_frame(ERRORS, PARAMS), P, macs={"baseline": 400, "resolution=14": 100})
    by = {r.quantity: r for r in rows}
    res = by["test error, resolution 14 → 28"]  # 0.21 → 0.11: higher resolution helps (agrees)
    assert res.verdict == "agrees" and res.measured.startswith("-10.00 pp") and res.judged_at == "trained"
    assert res.note == "parameters x1.00, MACs x4.00"
    assert "resolution" in res.reference and res.reference.startswith("< 0")
    assert by["test error, depth 8 → 14"].verdict == "inconclusive"  # 0.115 → 0.11, seeds overlap
    width = by["test error, width 8 → 16"]  # 0.06 → 0.11: wider is worse here (disagrees)
    assert width.verdict == "disagrees" and width.note == "parameters x4.00"
    assert by["test error, skip connections off → on"].verdict == "agrees"
    assert rows[-2].quantity.startswith("test error, baseline resolution=28") and rows[-2].measured.startswith("11.00")
    assert rows[-1].quantity.startswith("test error, linear model") and rows[-1].measured == "no finished linear run"


def test_summary_rows_wait_for_converged_runs():
    runs = runs_frame(ERRORS, PARAMS, converged=True)
    runs.loc[runs["variant"] == "skip=off", "converged"] = False
    by = {r.quantity: r for r in levers.summary_rows(runs, P)}
    assert by["test error, skip connections off → on"].verdict == "not converged"
    assert by["test error, resolution 14 → 28"].verdict == "agrees"


def test_summary_rows_skip_levers_with_one_value():
    runs = runs_frame({"baseline": [0.1, 0.2], "depth=8": [0.3, 0.4]})
    rows = levers.summary_rows(runs, P.replace(resolutions=(28,), widths=(16,), skips=(True,)))
    assert [r.quantity for r in rows][:1] == ["test error, depth 8 → 14"] and len(rows) == 3


def test_a_lever_whose_nets_lose_to_the_linear_floor_is_not_judged():
    errors = {**ERRORS, "linear": [0.14, 0.14, 0.14]}  # beaten by the baseline and width=8, not by the others
    runs = runs_frame(errors, PARAMS, converged=True)
    by = {r.quantity: r for r in levers.summary_rows(runs, P)}
    assert by["test error, width 8 → 16"].verdict == "disagrees"  # both arms beat the floor: judged
    assert by["test error, skip connections off → on"].verdict == "not converged"  # skip=off (0.16) loses to it
    assert by["test error, resolution 14 → 28"].verdict == "not converged"
    floor = levers.summary_rows(runs, P)[-1]
    assert floor.measured == "14.00 %; 9 of 15 arm runs beat it" and floor.verdict == "not comparable"
    assert levers.lever_frame(runs, P)["variant"].ne("linear").all()  # the floor is no lever


def test_tracks_follow_the_headline_levers_on_the_validation_error():
    tracks = levers.tracks(P)
    assert [(t.quantity, t.a, t.b, t.split) for t in tracks] == [
        ("depth 8 → 14, validation error", "depth=8", "baseline", "val"),
        ("skip connections off → on, validation error", "skip=off", "baseline", "val")]
    assert [t.claim for t in tracks] == [levers.CLAIMS["depth"], levers.CLAIMS["skip"]]
    assert levers.tracks(P.replace(skips=(True,), depths=(14,))) == []  # no headline lever pulled


def test_differences_follow_the_parameters():
    quick = levers.differences(levers.Params()).set_index("")
    assert list(quick.columns) == ["here", "article 000"]
    assert quick.loc["levers pulled", "here"] == "resolution: not pulled; depth: 8, 14; width: 4, 8; skip: False, True"
    assert quick.loc["network", "here"] == "resnet_cifar, baseline depth 8, width 8, with shortcuts"
    paper = levers.differences(resolve(levers, "paper")).set_index("")
    assert paper.loc["levers pulled", "here"].startswith("resolution: 16, 24, 32")
    assert quick.loc["budget", "here"].startswith(f"{levers.Params().iterations} iterations × batch 64")
    assert "÷10 at 50 % and 75 %" in quick.loc["learning-rate schedule", "here"]
    runs = runs_frame({"baseline": [0.1, 0.2]}, converged=[True, False])
    table = levers.differences(levers.Params(), runs).set_index("")
    assert table.loc["convergence", "here"].startswith("1 of 2 runs converged")
