"""How much of a job's CPU time went into training: the share of steady-state training steps.

Computed from the run records a job wrote (nothing is timed twice): each run's epochs are counted at the
median time of its epochs *after the first* (the first epoch also builds and traces the step), so the sum is
the time the runs would have taken with every fixed cost removed. The share is that sum over the machine's
CPU time, ``wall × cores`` (a worker trains on one core; the thread budget is the machine's cores).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Efficiency", "efficiency", "steady_seconds"]


@dataclass(frozen=True)
class Efficiency:
    """What a job's CPU time bought.

    Attributes:
        runs: run records counted (trained during the job).
        train_seconds: steady-state training, summed over the runs (worker-seconds).
        run_seconds: the runs' own wall time, summed (worker-seconds: build, restore, train, record).
        cpu_seconds: ``wall × cores``.
        share: ``train_seconds / cpu_seconds``.
        run_iterations: training iterations of those runs.
        iterations_per_second: ``run_iterations / wall``.
    """

    runs: int
    train_seconds: float
    run_seconds: float
    cpu_seconds: float
    share: float
    run_iterations: int
    iterations_per_second: float

    def text(self) -> str:
        """``'training share 63 % (1,150 of 1,832 CPU-s in steady-state steps; 135 runs, 31.3 run-iterations/s)'``."""
        return (f"training share {100 * self.share:.0f} % ({self.train_seconds:,.0f} of {self.cpu_seconds:,.0f} CPU-s "
                f"in steady-state training steps; {self.runs} runs, {self.iterations_per_second:.1f} "
                "run-iterations per second)")


def steady_seconds(history: list[dict]) -> float:
    """A run's epochs counted at the median of its epochs after the first (one epoch: its own time)."""
    times = [h["epoch_time"] for h in history if isinstance(h.get("epoch_time"), (int, float))
             and math.isfinite(h["epoch_time"])]
    if not times:
        return 0.0
    later = times[1:] or times
    return len(times) * statistics.median(later)


def _records(roots: Iterable[Path]) -> Iterable[dict]:
    for root in roots:
        for path in sorted(Path(root).glob("*/runs/*.json")):
            try:
                yield json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue


def efficiency(roots: Iterable[str | os.PathLike], wall: float, *, since: _dt.datetime | None = None,
               cores: int | None = None) -> Efficiency:
    """The training share of a job that ran ``wall`` seconds and stored its runs under ``roots``.

    Args:
        roots: result stores (folders of experiments, e.g. ``reports/runs``).
        wall: the job's wall time in seconds.
        since: count only runs started at or after this time (the job's start); default all.
        cores: the machine's cores (default ``os.cpu_count()``).
    """
    cores = cores or os.cpu_count() or 1
    runs = train = run_wall = 0.0
    iterations = 0
    for rec in _records(Path(r) for r in roots):
        started = rec.get("started")
        if since is not None and (not started or _dt.datetime.fromisoformat(started) < since):
            continue
        history = rec.get("history") or []
        runs += 1
        train += steady_seconds(history)
        run_wall += float(rec.get("wall_time") or 0.0)
        steps = [h.get("step") for h in history if isinstance(h.get("step"), (int, float))]
        iterations += int(max(steps)) if steps else 0
    cpu = max(wall, 1e-9) * cores
    return Efficiency(int(runs), train, run_wall, cpu, train / cpu, iterations, iterations / max(wall, 1e-9))
