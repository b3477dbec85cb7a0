import json

import pytest

from cnnkit.train.config import RunConfig


def test_defaults_are_valid_and_json_round_trip():
    cfg = RunConfig()
    assert cfg.bn_momentum == 0.9 and cfg.recipe == "resnet_cifar"
    d = cfg.to_dict()
    assert RunConfig.from_dict(json.loads(json.dumps(d))) == cfg


def test_from_dict_coerces_safe_types():
    cfg = RunConfig.from_dict({"epochs": "3", "lr": 1, "val_fraction": "0.2", "eval_test": "false",
                               "model_options": {"depth": 20}, "schedule_options": {"milestones": [0.3, 0.6]}})
    assert cfg.epochs == 3 and isinstance(cfg.lr, float) and cfg.val_fraction == 0.2 and cfg.eval_test is False
    assert cfg.schedule_options["milestones"] == (0.3, 0.6)
    assert RunConfig.from_dict(cfg.to_dict()) == cfg
    assert RunConfig(jit_compile="true").jit_compile is True and RunConfig(jit_compile="auto").jit_compile == "auto"


@pytest.mark.parametrize("overrides, match", [
    ({"learning_rate": 0.1}, r"unknown RunConfig key\(s\) \['learning_rate'\].*Valid keys: model"),
    ({"epoch": 3}, r"did you mean 'epochs'"),
    ({"epochs": 2.5}, r"RunConfig.epochs=2.5 has type float; expected int"),
    ({"epochs": True}, r"epochs=True has type bool"),
    ({"batch_size": "128.0"}, "expected int"),
    ({"lr": "fast"}, r"lr='fast' has type str; expected float or None"),
    ({"eval_test": 1}, "expected bool"),
    ({"model_options": [1, 2]}, "expected dict"),
    ({"val_fraction": 0.0}, r"val_fraction must be in \(0, 1\)"),
    ({"val_fraction": 1.0}, r"val_fraction must be in \(0, 1\)"),
    ({"batch_size": 0}, "batch_size must be >= 1"),
    ({"bn_momentum": 1.0}, r"bn_momentum must be in \[0, 1\)"),
    ({"lr": -0.1}, "lr must be > 0"),
    ({"target_train_error": 25}, "target_train_error must be in"),
    ({"recipe": "vgg"}, r"RunConfig.recipe='vgg' is not valid.*resnet_cifar"),
    ({"optimizer": "adm"}, r"optimizer='adm'.*Did you mean 'adam'"),
    ({"schedule": "triangle"}, r"schedule='triangle' is not valid"),
    ({"model": "resnet21"}, r"RunConfig.model='resnet21' is not valid"),
    ({"model_options": {"deep": 3}}, r"unknown option\(s\) \['deep'\] for model 'resnet_cifar'"),
    ({"dataset": "imagenet21k"}, r"dataset='imagenet21k' is not valid"),
    ({"augment": "mixup"}, r"augment='mixup' is not valid.*resnet_cifar"),
    ({"data_options": {"colour": 1}}, r"RunConfig.data_options=.*does not accept option\(s\) \['colour'\]"),
    ({"mixed_precision": "float16"}, r"mixed_precision='float16'.*mixed_float16"),
    ({"distribute": "model_parallel"}, "distribute='model_parallel'"),
    ({"jit_compile": "yes"}, "jit_compile='yes'"),
    ({"optimizer": "adam", "momentum": 0.9}, "has no momentum"),
    ({"schedule_options": {"milestone": 0.5}}, r"schedule 'step'.*unknown option\(s\) \['milestone'\]"),
    ({"schedule": "plateau", "warmup_steps": 10}, "warmup"),
])
def test_bad_values_raise_clear_errors(overrides, match):
    with pytest.raises(ValueError, match=match):
        RunConfig().replace(**overrides)
    with pytest.raises(ValueError, match=match):
        RunConfig.from_dict(overrides)


def test_resolved_fills_recipe_defaults():
    r = RunConfig().resolved()
    assert (r.optimizer, r.lr, r.momentum, r.weight_decay, r.schedule) == ("momentum", 0.1, 0.9, 1e-4, "step")
    assert r.schedule_options == {"milestones": (0.5, 0.75), "factor": 0.1}
    assert r.resolved() == r  # idempotent
    alex = RunConfig(recipe="alexnet").resolved()
    assert (alex.lr, alex.weight_decay, alex.schedule) == (0.01, 5e-4, "plateau")


def test_resolved_overrides_and_optimizer_families():
    assert RunConfig(lr=0.05).resolved().lr == 0.05
    nesterov = RunConfig(optimizer="nesterov").resolved()
    assert (nesterov.lr, nesterov.momentum) == (0.1, 0.9)  # same family: the recipe's lr
    adam = RunConfig(optimizer="adam").resolved()
    assert (adam.lr, adam.momentum, adam.schedule) == (1e-3, None, "step")
    assert RunConfig(optimizer="sgd").resolved().momentum == 0.0  # plain SGD means no momentum
    cosine = RunConfig(schedule="cosine").resolved()
    assert cosine.schedule_options == {}  # the recipe's step options do not leak into another schedule


def test_linear_lr_scaling_uses_recipe_batch():
    assert RunConfig(batch_size=256, lr_scaling=True).resolved().lr == pytest.approx(0.2)
    assert RunConfig(batch_size=256, lr_scaling=True, lr=0.1).resolved().lr == 0.1
    assert RunConfig(batch_size=256).resolved().lr == 0.1
