"""Fixtures for the ablation tests: a fast, deterministic fake train function."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest


@dataclasses.dataclass
class FakeResult:
    """Stands in for cnnkit.train.RunResult."""

    status: str
    error: str | None
    history: list
    final: dict
    wall_time: float
    versions: dict
    device: str


class FakeTrain:
    """Deterministic fake of ``cnnkit.train.fit``: the history follows from (seed, depth, plain).

    ``fail``/``diverge``/``interrupt`` are sets of (depth, seed) pairs: failing raises, diverging
    returns status "diverged", interrupting writes a checkpoint into the workdir and raises
    KeyboardInterrupt the first time, then resumes from that checkpoint.
    """

    def __init__(self, epochs: int = 3, fail=(), diverge=(), interrupt=()):
        self.epochs, self.fail, self.diverge, self.interrupt = epochs, set(fail), set(diverge), set(interrupt)
        self.calls: list[tuple[int, int, str]] = []
        self.resumed: list[tuple[int, int]] = []

    def __call__(self, config, *, workdir):
        opts = config.model_options or {}
        depth, plain, seed = opts.get("depth", 20), opts.get("plain", False), config.seed
        self.calls.append((depth, seed, workdir))
        checkpoint = Path(workdir) / "checkpoint.txt"
        if checkpoint.exists():
            self.resumed.append((depth, seed))
        elif (depth, seed) in self.interrupt:
            checkpoint.write_text("epoch 1")
            raise KeyboardInterrupt
        if (depth, seed) in self.fail:
            raise RuntimeError(f"boom at depth {depth}")
        rng = np.random.default_rng(seed * 1000 + depth + 7 * plain)
        base = 0.05 + 0.002 * depth * plain
        history = []
        for epoch in range(1, self.epochs + 1):
            err = base + 0.5 / epoch + 0.01 * rng.random()
            history.append({"epoch": epoch, "step": 10 * epoch, "loss": 2 * err, "accuracy": 1 - err,
                            "error": err, "val_loss": 2 * err + 0.1, "val_accuracy": 0.9 - err,
                            "val_error": err + 0.1, "test_error": err + 0.12, "lr": 0.1 / epoch,
                            "images_per_sec": 1000.0 + epoch, "epoch_time": np.float32(0.5)})
        status = "diverged" if (depth, seed) in self.diverge else "done"
        if status == "diverged":
            history[-1]["loss"] = float("nan")
        last = history[-1]
        final = {"train_error": last["error"], "val_error": last["val_error"], "test_error": last["test_error"],
                 "test_accuracy": 1 - last["test_error"], "params": 1000 * depth, "iterations_to_target": None}
        return FakeResult(status, None, history, final, 0.01, {"keras": "3"}, "cpu")


@pytest.fixture(scope="session")
def fake_train():
    return FakeTrain


@pytest.fixture(autouse=True)
def _seed():
    """Overrides the root conftest's fixture: these tests build no Keras models (the fakes are
    NumPy), so its per-test ``clear_session`` (about 1 s each) is skipped; the integration test
    clears the session itself."""
    yield
