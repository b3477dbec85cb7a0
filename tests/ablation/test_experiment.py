"""Experiment expansion: run ids, grids, dotted overrides, up-front validation."""

from __future__ import annotations

import pytest

from cnnkit.ablation import Experiment, apply_overrides, run_experiment, slug

BASE = {"model": "resnet_cifar", "model_options": {"depth": 20}, "epochs": 1}


def test_run_ids_are_deterministic_and_variant_major():
    exp = Experiment("e", BASE, variants={"deep": {"model_options.depth": 56}, "shallow": {}}, seeds=(3, 1))
    ids = [r.run_id for r in exp.runs()]
    assert ids == ["deep__s3", "deep__s1", "shallow__s3", "shallow__s1"]
    assert ids == [r.run_id for r in Experiment("e", BASE, variants=exp.variants, seeds=(3, 1)).runs()]
    assert [r.config["seed"] for r in exp.runs()] == [3, 1, 3, 1]


def test_grid_expands_to_cartesian_product_with_short_labels():
    exp = Experiment("e", BASE, grid={"model_options.depth": [20, 56], "model_options.plain": [True, False]},
                     seeds=(0,))
    assert list(exp.variants) == ["depth=20,plain=True", "depth=20,plain=False",
                                  "depth=56,plain=True", "depth=56,plain=False"]
    spec = exp.runs()[2]
    assert spec.run_id == "depth=56,plain=True__s0"
    assert spec.config["model_options"] == {"depth": 56, "plain": True}
    assert BASE["model_options"] == {"depth": 20}  # base not mutated


def test_named_variants_cross_grid():
    exp = Experiment("e", BASE, variants={"a": {"epochs": 2}}, grid={"model_options.depth": [20, 32]}, seeds=(0,))
    assert list(exp.variants) == ["a,depth=20", "a,depth=32"]
    assert exp.runs()[1].config["epochs"] == 2


def test_whole_dict_override_replaces_and_dotted_sets_one_entry():
    base = {"model_options": {"depth": 20, "plain": True}, "lr": 0.1}
    assert apply_overrides(base, {"model_options": {"depth": 56}})["model_options"] == {"depth": 56}
    assert apply_overrides(base, {"model_options.depth": 56})["model_options"] == {"depth": 56, "plain": True}
    assert apply_overrides({"model_options": None}, {"model_options.depth": 8})["model_options"] == {"depth": 8}
    with pytest.raises(ValueError, match="'lr'"):
        apply_overrides(base, {"lr.x": 1})


def test_slug_keeps_safe_characters_and_bounds_length():
    assert slug("depth=20,plain=True") == "depth=20,plain=True"
    assert slug("a b/c") == "a-b-c"
    long = slug("x" * 500)
    assert len(long) <= 120 and long != slug("x" * 499)


@pytest.mark.parametrize("variants, match", [
    ({"typo": {"model_optoins.depth": 56}}, "model_optoins"),
    ({"typo": {"lr": "fast"}}, "lr"),
    ({"typo": {"model_options.dpeth": 56}}, "dpeth"),
])
def test_bad_override_fails_before_any_training(tmp_path, variants, match):
    calls = []
    exp = Experiment("e", BASE, variants={"ok": {}, **variants}, seeds=(0, 1))
    with pytest.raises(ValueError, match=match):
        run_experiment(exp, root=tmp_path, train_fn=lambda c, **k: calls.append(c), progress=False)
    assert calls == [] and not (tmp_path / "e").exists()


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="folder name"):
        Experiment("a/b", BASE)
    with pytest.raises(ValueError, match="repeat"):
        Experiment("e", BASE, seeds=(1, 1))
    with pytest.raises(ValueError, match="list of values"):
        Experiment("e", BASE, grid={"epochs": 3})
    with pytest.raises(ValueError, match="collide"):
        Experiment("e", BASE, variants={"a b": {}, "a/b": {}}, seeds=(0,)).runs()
    assert list(Experiment("e", BASE).variants) == ["base"]
