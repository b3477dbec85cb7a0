import dataclasses

import pytest

from cnnkit.train.optimizers import OPTIMIZERS
from cnnkit.train.recipes import RECIPES, get_recipe
from cnnkit.train.schedules import SCHEDULES, get_schedule


def test_resnet_recipe_is_the_paper_recipe():
    r = get_recipe("resnet_cifar")
    assert (r.optimizer, r.lr, r.momentum, r.weight_decay, r.batch_size) == ("momentum", 0.1, 0.9, 1e-4, 128)
    assert get_schedule(r.schedule, r.lr, r.iterations, **r.schedule_options).boundaries == [32_000, 48_000]
    assert "He" in r.reference


def test_alexnet_recipe_uses_plateau_and_5e4_decay():
    r = get_recipe("alexnet")
    assert (r.lr, r.momentum, r.weight_decay, r.schedule) == (0.01, 0.9, 5e-4, "plateau")


@pytest.mark.parametrize("name", RECIPES)
def test_recipes_are_frozen_and_consistent(name):
    r = get_recipe(name)
    assert r.optimizer in OPTIMIZERS and r.schedule in SCHEDULES and r.reference
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.lr = 1.0
    with pytest.raises(TypeError):
        r.schedule_options["x"] = 1


def test_unknown_recipe_lists_choices():
    with pytest.raises(ValueError, match=r"unknown recipe 'vgg'.*resnet_cifar"):
        get_recipe("vgg")
