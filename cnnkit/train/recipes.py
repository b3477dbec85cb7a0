"""Training recipes from the papers, by name.

A recipe is the paper's optimizer, learning rate, schedule, weight decay and batch size.
:class:`cnnkit.train.config.RunConfig` fills every training setting the user leaves ``None`` from
its recipe (``RunConfig.resolved()``), so a run states which paper it follows.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any, Mapping

from cnnkit._checks import check_choice


@dataclasses.dataclass(frozen=True)
class Recipe:
    """One paper's training recipe.

    Attributes:
        name: the registry name.
        optimizer: a name from :data:`cnnkit.train.optimizers.OPTIMIZERS`.
        lr: base learning rate at ``batch_size``.
        momentum: optimizer momentum (``None`` for optimizers without one).
        weight_decay: coupled L2 decay ``wd`` (gradient ``wd * w``; decoupled for AdamW).
        schedule: a name from :data:`cnnkit.train.schedules.SCHEDULES`.
        schedule_options: options of that schedule (read-only mapping).
        batch_size: the reference batch size (the base of linear LR scaling).
        augment: the augmentation the paper used (a ``cnnkit.data`` augmentation name).
        iterations: the paper's training length in iterations (``None`` if it states none).
        init: the weight initialisation the paper used.
        reference: the paper.
    """

    name: str
    optimizer: str
    lr: float
    momentum: float | None
    weight_decay: float
    schedule: str
    schedule_options: Mapping[str, Any]
    batch_size: int
    augment: str
    iterations: int | None
    init: str
    reference: str


def _recipe(**kw: Any) -> Recipe:
    kw["schedule_options"] = MappingProxyType(dict(kw.get("schedule_options", {})))
    return Recipe(**kw)


_RECIPES: dict[str, Recipe] = {
    "resnet_cifar": _recipe(
        name="resnet_cifar", optimizer="momentum", lr=0.1, momentum=0.9, weight_decay=1e-4,
        schedule="step", schedule_options={"milestones": (0.5, 0.75), "factor": 0.1},  # 32k/48k of 64k
        batch_size=128, augment="resnet_cifar", iterations=64_000, init="he_normal",
        reference="He, Zhang, Ren & Sun 2016, Deep Residual Learning for Image Recognition, sec. 4.2"),
    "alexnet": _recipe(
        name="alexnet", optimizer="momentum", lr=0.01, momentum=0.9, weight_decay=5e-4,
        schedule="plateau", schedule_options={}, batch_size=128, augment="alexnet", iterations=None,
        init="normal(0, 0.01)",
        reference="Krizhevsky, Sutskever & Hinton 2012, ImageNet Classification with Deep CNNs, sec. 5"),
    "adam": _recipe(
        name="adam", optimizer="adam", lr=1e-3, momentum=None, weight_decay=0.0,
        schedule="cosine", schedule_options={}, batch_size=128, augment="none", iterations=None,
        init="glorot_uniform", reference="Kingma & Ba 2015, Adam: A Method for Stochastic Optimization"),
}
RECIPES = tuple(_RECIPES)


def get_recipe(name: str) -> Recipe:
    """The recipe registered as ``name`` (one of :data:`RECIPES`); unknown names raise ``ValueError``."""
    check_choice("recipe", name, RECIPES)
    return _RECIPES[name]


# --- speed settings ----------------------------------------------------------------------------
# RunConfig overrides that change how fast a recipe trains, not what it computes (up to float
# rounding; "gpu_large_batch" also changes the batch size, with the recipe's lr scaled linearly,
# Goyal et al. 2017). Use: RunConfig(model=..., **speed_settings("gpu")). Every cnnkit model is
# channels-last (NHWC): XLA and cuDNN pick tensor-core kernels for bf16 in that layout.
_SPEED = {
    "cpu": {
        "data_path": "device",              # the data set in memory, augmented inside the train step
        "jit_compile": "auto",              # TF on CPU: no XLA (oneDNN kernels are faster; XLA halved images/s)
        "steps_per_execution": 1,           # a CPU step takes ~0.1-1 s: host round trips do not matter
    },
    "gpu": {
        "data_path": "device",              # no host pipeline, no per-step copies
        "mixed_precision": "mixed_bfloat16",  # tensor cores; weights and BN statistics stay float32
        "jit_compile": True,                # XLA fuses BN, ReLU, the shortcut and the augmentation
        "steps_per_execution": 8,           # 8 steps per compiled call: hides Python/dispatch time of small nets
    },
    "gpu_large_batch": {
        "data_path": "device", "mixed_precision": "mixed_bfloat16", "jit_compile": True, "steps_per_execution": 8,
        "batch_size": 512,                  # 4x the paper's 128: fills a large GPU with a 0.27 M-parameter net
        "lr_scaling": True,                 # lr x 512/128 (0.4 for resnet_cifar); consider warmup_steps ~ 1 epoch
    },
}
SPEED_SETTINGS = tuple(_SPEED)


def speed_settings(name: str) -> dict[str, Any]:
    """RunConfig overrides for fast training on ``"cpu"``, ``"gpu"`` or ``"gpu_large_batch"`` (a fresh dict)."""
    check_choice("speed settings", name, SPEED_SETTINGS)
    return dict(_SPEED[name])


__all__ = ["RECIPES", "Recipe", "SPEED_SETTINGS", "get_recipe", "speed_settings"]
