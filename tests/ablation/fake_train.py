"""Picklable train functions for tests that run grids in other processes (process pool, Ray).

They are module-level (a spawned worker imports this module by name: pytest puts this folder on
``sys.path``, and so do the executors' workers, which inherit it) and light: NumPy only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np


def numpy_train(config, *, workdir, log=None, epochs=2):
    """A deterministic fake of ``cnnkit.train.fit``: the history follows from (seed, lr).

    Appends ``{"pid", "run"}`` to the file ``log`` (if given) at every call, so a test can count
    how often each run was trained and by which process.
    """
    if log:
        with open(log, "a") as fh:
            fh.write(json.dumps({"pid": os.getpid(), "run": Path(workdir).name}) + "\n")
    rng = np.random.default_rng([config.seed, int((config.lr or 0.1) * 1000)])
    history = []
    for epoch in range(1, epochs + 1):
        err = 0.5 / epoch + 0.01 * float(rng.random())
        history.append({"epoch": epoch, "step": 10 * epoch, "loss": 2 * err, "error": err, "val_error": err + 0.1})
    final = {"train_error": history[-1]["error"], "test_error": history[-1]["val_error"] + 0.02}
    return {"status": "done", "history": history, "final": final, "wall_time": 0.01}


def slow_train(config, *, workdir, epochs=3, seconds=1.0, log=None):
    """A fake of ``cnnkit.train.fit`` that takes ``seconds`` per epoch and resumes where it stopped: each epoch
    appends a row to ``workdir/history.csv`` as ``fit`` does (what a grid's progress bar reads). Appends
    ``{"pid", "run", "from"}`` to ``log`` at every call (``from``: the epochs it found done)."""
    import time

    csv = Path(workdir) / "history.csv"
    if not csv.exists():
        csv.write_text("epoch,error\n")
    done = len(csv.read_text().splitlines()) - 1
    if log:
        with open(log, "a") as fh:
            fh.write(json.dumps({"pid": os.getpid(), "run": Path(workdir).name, "from": done}) + "\n")
    for epoch in range(done + 1, epochs + 1):
        time.sleep(seconds)
        with open(csv, "a") as fh:
            fh.write(f"{epoch},{0.5 / epoch}\n")
    history = [{"epoch": e, "step": 10 * e, "loss": 1.0 / e, "error": 0.5 / e} for e in range(1, epochs + 1)]
    return {"status": "done", "history": history, "final": {"train_error": 0.5 / epochs}, "wall_time": 0.01}
