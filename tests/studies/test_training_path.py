"""One training path: studies train through cnnkit.train.fit, never a loop of their own."""

from pathlib import Path

import cnnkit

FORBIDDEN = (".fit(", "GradientTape", "apply_gradients", "train_on_batch")


def test_no_study_has_its_own_training_loop():
    studies = Path(cnnkit.__file__).parent / "studies"
    sources = sorted(studies.rglob("*.py"))
    assert sources, f"no study modules under {studies}"
    found = [f"{path.relative_to(studies)}:{n}: {line.strip()}" for path in sources
             for n, line in enumerate(path.read_text().splitlines(), 1) if any(s in line for s in FORBIDDEN)]
    assert not found, "a study trains outside cnnkit.train.fit (pass a loss/data/evaluate_fn to fit):\n" + \
        "\n".join(found)
