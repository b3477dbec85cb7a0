"""Where a notebook's resolved parameters are kept and where interactive runs write.

The parameters themselves are declared once, in the study module behind the notebook
(:mod:`cnnkit.studies._spec`): its ``setup`` resolves them in the kernel and calls :func:`remember`,
so :func:`~cnnkit.notebook.report.write_summary` records what ran.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["current", "remember", "results_dir"]

_CURRENT: dict[str, dict[str, Any]] = {}


def results_dir() -> Path:
    """``reports/`` at the repository root in a checkout, else ``./reports``: where interactive runs write."""
    from cnnkit.notebook import NOTEBOOK_DIR, REPOSITORY_NOTEBOOKS

    root = NOTEBOOK_DIR.parent if NOTEBOOK_DIR == REPOSITORY_NOTEBOOKS else Path.cwd()
    return root / "reports"


def remember(stem: str, params: dict[str, Any]) -> None:
    """Keep the parameters notebook ``stem`` resolved in this process (for its summary)."""
    _CURRENT[stem] = dict(params)


def current(stem: str) -> dict[str, Any] | None:
    """The parameters resolved for ``stem`` in this process (None if its setup did not run)."""
    return dict(_CURRENT[stem]) if stem in _CURRENT else None
