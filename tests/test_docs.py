"""Docs that run: every ```python block of README.md and docs/*.md is executed, in order, one namespace per file.

Blocks train with a smoke budget: :class:`cnnkit.ablation.Experiment` and :func:`cnnkit.train.fit` are wrapped so
that a grid keeps one seed and every run trains 2 iterations of one epoch on at most 64 images (the examples'
own numbers are for a GPU). CIFAR-10 is a tiny generated copy (it cannot be downloaded here), and an absolute
store root such as ``/shared/runs`` becomes ``runs`` in the test's folder. Nothing else is changed.
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
SMOKE = {"epochs": 1, "steps_per_epoch": 2, "subset": 64, "eval_subset": 32, "batch_size": 16}

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray")]  # the scale-out page starts a local Ray


def blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text(encoding="utf-8"))


def _smoke(config) -> dict:
    config = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    for key, value in SMOKE.items():
        if key not in ("subset", "eval_subset") or config.get(key) is None or config[key] > value:
            config[key] = value
    return config


@pytest.fixture
def smoke_budget(monkeypatch, tmp_path):
    """Every Experiment and fit() of the examples at the smoke budget, on a tiny CIFAR-10, in ``tmp_path``."""
    import cnnkit.ablation
    import cnnkit.train
    from cnnkit.ablation import experiment as _experiment

    original_init, original_fit = _experiment.Experiment.__init__, cnnkit.train.fit

    def init(self, name, base, *args, seeds=(0,), **kwargs):
        original_init(self, name, _smoke(base), *args, seeds=tuple(seeds)[:1], **kwargs)

    monkeypatch.setattr(_experiment.Experiment, "__init__", init)
    monkeypatch.setattr(cnnkit.train, "fit", lambda config, **kw: original_fit(_smoke(config), **kw))
    data = tmp_path / "data" / "cifar-10-batches-py"
    data.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, n in [*((f"data_batch_{i}", 20) for i in range(1, 6)), ("test_batch", 20)]:
        rows = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": [j % 10 for j in range(n)]}
        (data / name).write_bytes(pickle.dumps(rows))
    (data / "batches.meta").write_bytes(pickle.dumps({b"label_names": [f"c{i}".encode() for i in range(10)]}))
    monkeypatch.setenv("CNNKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CNNKIT_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    import ray

    if ray.is_initialized():
        ray.shutdown()


@pytest.mark.parametrize("path", [p for p in DOCS if blocks(p)], ids=lambda p: p.name)
def test_every_python_example_runs(path, smoke_budget):
    namespace: dict = {"__name__": "__docs__"}
    for number, code in enumerate(blocks(path), 1):
        code = code.replace('"/shared/runs"', '"runs"')
        try:
            exec(compile(code, f"{path.name} (python block {number})", "exec"), namespace)  # noqa: S102 - our docs
        except Exception as exc:  # noqa: BLE001 - say which block failed
            raise AssertionError(f"{path.name}, python block {number} failed: {type(exc).__name__}: {exc}\n{code}")
    assert namespace, f"{path.name}: nothing ran"


def test_the_docs_have_examples():
    assert sum(len(blocks(p)) for p in DOCS) >= 6
    assert os.path.basename(DOCS[0]) == "README.md"
