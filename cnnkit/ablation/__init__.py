"""Ablation studies: variants × seeds, a resumable on-disk store, tidy results, summaries, plots.

Typical use::

    from cnnkit.ablation import Experiment, run_experiment, summarize, plot_curves
    exp = Experiment("degradation", base, grid={"model": ["plain20", "plain56"]}, seeds=(0, 1, 2))
    results = run_experiment(exp, root="runs")        # skips finished runs, resumes the rest
    summarize(results.runs(), "train_error")           # mean, std, sem, 95 % t CI per variant
    plot_curves(results.history(), "error", splits=("train", "test"))   # against iterations, in %

Kills, several runners on one store, failing runs and full disks are handled by the runner
(:mod:`cnnkit.ablation.runner`, claims in :mod:`cnnkit.ablation.lease`); runs execute in this
process, a process pool or Ray (:mod:`cnnkit.ablation.executors`). See docs/reliability.md.

The plotting functions (which import seaborn) are loaded on first use.
"""

from __future__ import annotations

import importlib

from cnnkit.ablation.executors import LocalExecutor, ProcessExecutor, RayExecutor
from cnnkit.ablation.experiment import Experiment, RunSpec, apply_overrides, slug
from cnnkit.ablation.results import Results, split_metric
from cnnkit.ablation.runner import GridInterrupted, RunsFailedError, is_out_of_memory, run_experiment
from cnnkit.ablation.store import SCHEMA_VERSION, SchemaError, Store, StoreWriteError
from cnnkit.ablation.summary import compare, format_mean_ci, summarize, t_quantile_975

_PLOTS = ("plot_curves", "plot_differences", "plot_final", "plot_over_training", "plot_train_vs_test", "save_figure")


def __getattr__(name: str):
    if name in _PLOTS:
        return getattr(importlib.import_module("cnnkit.ablation.plots"), name)
    raise AttributeError(f"module 'cnnkit.ablation' has no attribute {name!r}")


__all__ = ["SCHEMA_VERSION", "Experiment", "GridInterrupted", "LocalExecutor", "ProcessExecutor", "RayExecutor",
           "Results", "RunSpec", "RunsFailedError", "SchemaError", "Store", "StoreWriteError", "apply_overrides", "compare",
           "format_mean_ci", "is_out_of_memory", "run_experiment", "slug", "split_metric", "summarize", "t_quantile_975",
           *_PLOTS]
