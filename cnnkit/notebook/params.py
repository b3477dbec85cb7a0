"""A notebook's parameters resolved inside the notebook: the same run under ``cnnkit run``, papermill and Jupyter.

Each numbered notebook calls :func:`setup` right after its ``parameters`` cell::

    params = setup("01_depth_degradation", globals())

* the preset named by ``preset`` fills every parameter still at its default in the parameters cell,
  so ``papermill … -p preset smoke`` runs the smoke budget exactly like ``cnnkit run --preset smoke``;
  a value given explicitly (``-p`` of either tool, or an edit in Jupyter) wins. A value given
  explicitly that equals the default cannot be told from the default, so the preset's applies;
* ``out_dir = "."`` (not set by ``cnnkit run``) becomes the one results folder ``reports/`` at the
  repository root (in a checkout) or in the working folder, never the folder of the sources;
* the resolved parameters are remembered, and :func:`~cnnkit.notebook.report.write_summary`
  records them: a notebook writes its parameters once, in its parameters cell.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Callable

__all__ = ["current", "results_dir", "setup", "study_kwargs"]

_CURRENT: dict[str, dict[str, Any]] = {}


def results_dir() -> Path:
    """``reports/`` at the repository root in a checkout, else ``./reports``: where interactive runs write."""
    from cnnkit.notebook import _REPOSITORY_NOTEBOOKS, NOTEBOOK_DIR

    root = NOTEBOOK_DIR.parent if NOTEBOOK_DIR == _REPOSITORY_NOTEBOOKS else Path.cwd()
    return root / "reports"


def setup(stem: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """Resolve the notebook ``stem``'s parameters in ``namespace`` (its ``globals()``) and return them.

    Raises:
        ValueError: an unknown preset, or a value of the wrong type for its parameter.
        FileNotFoundError: no notebook ``stem`` among the suite's notebooks.
    """
    from cnnkit.notebook import NOTEBOOK_DIR
    from cnnkit.notebook.presets import preset_parameters
    from cnnkit.notebook.runner import coerce, notebook_parameters

    declared = notebook_parameters(NOTEBOOK_DIR / f"{stem}.ipynb")
    preset = namespace.get("preset", "quick")
    for name, value in preset_parameters(stem, preset, set(declared)).items():
        if name in declared and namespace.get(name) == declared[name].default:
            namespace[name] = coerce(name, value, declared[name].default)
    if "out_dir" in declared and namespace.get("out_dir") in (".", ""):
        namespace["out_dir"] = str(results_dir())
    if "out_dir" in declared:
        Path(namespace["out_dir"]).mkdir(parents=True, exist_ok=True)
    params = {name: namespace.get(name, p.default) for name, p in declared.items() if name != "out_dir"}
    _CURRENT[stem] = params
    return dict(params)


def current(stem: str) -> dict[str, Any] | None:
    """The parameters :func:`setup` resolved for ``stem`` in this process (None if it did not run)."""
    return dict(_CURRENT[stem]) if stem in _CURRENT else None


def study_kwargs(params: dict[str, Any], fn: Callable, **extra: Any) -> dict[str, Any]:
    """The entries of ``params`` that ``fn`` takes as keyword arguments, plus ``extra``."""
    accepted = inspect.signature(fn).parameters
    return {**{k: v for k, v in params.items() if k in accepted}, **extra}
