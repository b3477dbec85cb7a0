"""Presets: one place for the parameter sets each notebook runs with.

``smoke``  seconds: a tiny subset and one short epoch, so the test suite can execute
           every notebook end to end.
``quick``  minutes on a 2-core laptop CPU: a data subset, a few epochs, 2 seeds. The
           default, and what the README's main job runs.
``paper``  the full recipe of the paper (a GPU job): full data, paper schedule, 5 seeds.

A notebook's ``parameters`` cell holds its ``quick`` values; a preset lists only what it
changes. Notebooks without an entry accept every preset name and change nothing.
"""

from __future__ import annotations

PRESET_NAMES = ("smoke", "quick", "paper")

# What every training notebook shares, per preset (merged under the notebook's own entry).
_COMMON: dict[str, dict] = {
    # 250 examples per split (25 per class) in batches of 32: 7 iterations, enough for the step
    # schedule's two milestones (50 %, 75 %) to fall on distinct iterations.
    "smoke": {"subset": 256, "epochs": 1, "seeds": [0], "batch_size": 32},
    "quick": {},
    # Full data, the papers' batch of 128, 5 seeds.
    "paper": {"subset": None, "seeds": [0, 1, 2, 3, 4], "batch_size": 128},
}

PRESETS: dict[str, dict[str, dict]] = {
    "01_depth_degradation": {
        "smoke": {"depths": [8, 14]},
        # He et al. 2016 §4.2: CIFAR-10, 64k iterations of batch 128 (≈ 182 epochs of 45k), augmented.
        "paper": {"dataset": "cifar10", "epochs": 182, "augment": "resnet_cifar"},
    },
    "02_relu_vs_tanh": {
        # Krizhevsky et al. 2012, Fig. 1: CIFAR-10, 4-layer CNN, until 25 % training error.
        "paper": {"dataset": "cifar10", "epochs": 40},
    },
    "03_lrn": {
        # cuda-convnet layers-18pct: CIFAR-10 without augmentation, ~13 % → ~11 % test error.
        "paper": {"dataset": "cifar10", "epochs": 100},
    },
}


def preset_parameters(notebook_stem: str, preset: str, declared: set[str] | None = None) -> dict:
    """The parameters ``preset`` sets for the notebook ``notebook_stem`` (e.g. ``"01_depth_degradation"``).

    Shared settings apply only where the notebook declares that parameter (``declared``);
    the notebook's own entries always apply (the runner rejects them if undeclared).
    """
    if preset not in PRESET_NAMES:
        raise ValueError(f"unknown preset {preset!r}; choose one of {list(PRESET_NAMES)}")
    common = {k: v for k, v in _COMMON[preset].items() if declared is None or k in declared}
    params = {"preset": preset} if declared is None or "preset" in declared else {}
    return {**params, **common, **PRESETS.get(notebook_stem, {}).get(preset, {})}
