"""Notebooks in lanes: ``jobs`` notebooks at a time, each training single-threaded inside its own kernel.

A 2-core machine trains the suite's small nets best as two one-thread trainers (two one-thread workers trained
~1.4x more iterations per CPU-second than one two-thread process). Inside one notebook that needs worker
processes, each importing TensorFlow and loading the data again, and the second core idles at the tail of
every grid and through every notebook that trains little. In lanes the notebooks themselves share the cores:
each runs as its own ``cnnkit run`` with ``workers=1`` (training inside its kernel, no worker processes) and one
TensorFlow thread, the longest first, so the cores stay busy until the last notebook ends.

Each lane is a ``cnnkit run`` process in a session of its own: Ctrl-C reaches this process only, which passes
one interrupt to every running lane (each stops its kernel and exits 130, keeping what finished) and starts
no further notebook; a second Ctrl-C kills the lanes at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LANE_ENV", "Lane", "WALL_TIMES", "order_longest_first", "record_wall_times", "run_in_lanes",
           "shipped_wall_times"]

# One thread per lane: the thread budget is the machine's cores, one lane per core.
LANE_ENV = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1",
            "CNNKIT_PROGRESS": "off"}
GUESS_TRAINING, GUESS_OTHER = 100.0, 10.0  # seconds, for a notebook never run here nor in WALL_TIMES
WALL_TIMES = "wall_times.json"  # beside the notebooks: {preset: {notebook: seconds}} of the last recorded job


def shipped_wall_times(preset: str, folder: str | os.PathLike | None = None) -> dict[str, float]:
    """The wall times per notebook of the last job of ``preset`` recorded beside the notebooks (``cnnkit report
    --readme`` writes them with the README's results block); empty when there is none."""
    import json

    from cnnkit.notebook import NOTEBOOK_DIR

    try:
        table = json.loads((Path(folder or NOTEBOOK_DIR) / WALL_TIMES).read_text(encoding="utf-8"))
        return {str(k): float(v) for k, v in table.get(preset, {}).items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def record_wall_times(preset: str, seconds: dict[str, float], folder: str | os.PathLike | None = None) -> Path:
    """Write ``seconds`` (notebook → wall time) as ``preset``'s entry of :data:`WALL_TIMES`, atomically."""
    import json

    from cnnkit._atomic import atomic_write_text
    from cnnkit.notebook import NOTEBOOK_DIR

    path = Path(folder or NOTEBOOK_DIR) / WALL_TIMES
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        table = {}
    table[preset] = {k: round(float(v), 1) for k, v in sorted(seconds.items())}
    return atomic_write_text(path, json.dumps(table, indent=1, sort_keys=True) + "\n")


def order_longest_first(paths: Sequence[str | os.PathLike], out: str | os.PathLike,
                        trains: Callable[[Path], bool], preset: str = "quick",
                        notebooks: str | os.PathLike | None = None) -> list[Path]:
    """``paths`` ordered by their expected wall time, longest first: the last one in ``out`` (papermill's record),
    else the shipped one of ``preset`` (:func:`shipped_wall_times`), else :data:`GUESS_TRAINING` seconds if the
    notebook ``trains`` (:data:`GUESS_OTHER` if not). Without an estimate a long notebook started last leaves
    one core idle at the end of the job. ``notebooks``: where :data:`WALL_TIMES` lies (default: the notebooks')."""
    from cnnkit.notebook.scoreboard import notebook_duration

    shipped = shipped_wall_times(preset, notebooks)

    def expected(path: Path) -> float:
        last = notebook_duration(Path(out), path.stem)
        if last is None:
            last = shipped.get(path.stem)
        return last if last is not None else (GUESS_TRAINING if trains(path) else GUESS_OTHER)

    return sorted((Path(p) for p in paths), key=expected, reverse=True)


@dataclass
class Lane:
    """One notebook running as its own ``cnnkit run`` process."""

    path: Path
    process: subprocess.Popen
    start: float = field(default_factory=time.perf_counter)
    reader: threading.Thread | None = None


def _relay(process: subprocess.Popen, write: Callable[[str], None]) -> None:
    for line in process.stdout:  # the lane's stdout and stderr, a line at a time
        write(line.rstrip("\n"))


def run_in_lanes(paths: Sequence[Path], argv: Callable[[Path], list[str]], *, jobs: int, command: str,
                 write: Callable[[str], None] = print) -> tuple[dict[str, float], int, bool]:
    """Run ``cnnkit`` with ``argv(path)`` for each notebook, ``jobs`` at a time, in the order given.

    Returns:
        ``(wall time per notebook stem, notebooks that failed, interrupted)``.
    """
    env = {**os.environ, **LANE_ENV}
    pending, running, times, failed = list(paths), [], {}, 0
    state = {"interrupts": 0}

    def on_sigint(signum, frame) -> None:
        state["interrupts"] += 1
        for lane in running:
            if lane.process.poll() is None:
                try:
                    lane.process.send_signal(signal.SIGKILL if state["interrupts"] > 1 else signal.SIGINT)
                except OSError:
                    pass

    previous = signal.signal(signal.SIGINT, on_sigint) if threading.current_thread() is threading.main_thread() \
        else None
    try:
        while pending or running:
            while pending and len(running) < jobs and not state["interrupts"]:
                path = pending.pop(0)
                process = subprocess.Popen([sys.executable, "-m", "cnnkit", *argv(path)], env=env, text=True,
                                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1,
                                           start_new_session=True)
                lane = Lane(path, process)
                lane.reader = threading.Thread(target=_relay, args=(process, write), daemon=True)
                lane.reader.start()
                running.append(lane)
            if state["interrupts"] and not running:
                break
            time.sleep(0.2)
            for lane in [lane for lane in running if lane.process.poll() is not None]:
                running.remove(lane)
                lane.reader.join(timeout=5)
                times[lane.path.stem] = round(time.perf_counter() - lane.start, 1)
                if lane.process.returncode not in (0, 130):
                    failed += 1
                done = len(times)
                write(f"cnnkit {command}: {lane.path.stem} ended in {times[lane.path.stem]:.0f} s "
                      f"(exit {lane.process.returncode}; {done} of {done + len(running) + len(pending)} notebooks)")
            if state["interrupts"]:
                pending.clear()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return times, failed, bool(state["interrupts"])
