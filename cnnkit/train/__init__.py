"""Training: the run configuration, recipes from the papers, optimizers and schedules by name, and ``fit``.

``fit(RunConfig(...), workdir=...)`` trains one configured run and returns a ``RunResult``;
``get_recipe``, ``get_optimizer``, ``get_schedule`` and ``apply_weight_decay`` are its parts.
"""

import importlib.util

from cnnkit.train.callbacks import (EpochLogs, IterationsToTarget, ProgressLogger, TerminateOnNaN,
                                    ThroughputRecorder, current_lr, run_callbacks)
from cnnkit.train.optimizers import (OPTIMIZERS, apply_weight_decay, decay_variables, get_optimizer)
from cnnkit.train.recipes import RECIPES, Recipe, get_recipe
from cnnkit.train.schedules import (SCHEDULES, CyclicLR, StepDecay, WarmUp, get_schedule, lr_at,
                                    plateau_callback)
from cnnkit.train.config import RunConfig  # noqa: E402  (after the parts it checks)
from cnnkit.train.loop import HISTORY_KEYS, RunResult, fit  # noqa: E402  (after the parts it uses)
from cnnkit.train.lr_finder import LRRangeTest, lr_range_test, suggest_lr  # noqa: E402  (uses fit)

__all__ = ["HISTORY_KEYS", "OPTIMIZERS", "RECIPES", "SCHEDULES", "CyclicLR", "EpochLogs",
           "IterationsToTarget", "ProgressLogger", "Recipe", "RunConfig", "RunResult", "StepDecay",
           "TerminateOnNaN", "ThroughputRecorder", "WarmUp", "apply_weight_decay", "current_lr", "decay_variables", "fit",
           "get_optimizer", "get_recipe", "get_schedule", "lr_at", "plateau_callback", "run_callbacks",
           "LRRangeTest", "lr_range_test", "suggest_lr"]

# Metric-learning losses (contrastive, triplet) live in cnnkit.train.losses when present.
if importlib.util.find_spec("cnnkit.train.losses") is not None:
    from cnnkit.train.losses import *  # noqa: F401,F403
    from cnnkit.train.losses import __all__ as _losses_all

    __all__ += list(_losses_all)
