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
