"""Running notebooks (papermill), presets, figures shown and saved (``save_figure``), and the HTML report index."""

from __future__ import annotations

from pathlib import Path

from cnnkit.notebook.figures import save_figure, saved_figures
from cnnkit.notebook.params import current, results_dir
from cnnkit.notebook.presets import PRESET_NAMES
from cnnkit.notebook.report import Row, build_index, read_summaries, write_summary
from cnnkit.notebook.runner import (NotebookError, export_html, notebook_parameters, resolve_parameters,
                                    run_notebook)

# The repository's notebooks/ in a checkout; an installed wheel's copy of them (cnnkit/_suite/notebooks) elsewhere.
REPOSITORY_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOK_DIR = (REPOSITORY_NOTEBOOKS if REPOSITORY_NOTEBOOKS.is_dir()
                else Path(__file__).resolve().parents[1] / "_suite" / "notebooks")


def numbered_notebooks(folder: str | Path = NOTEBOOK_DIR) -> list[Path]:
    """The numbered notebooks (``00_*.ipynb`` …) of the repository (or the installed package), in order."""
    found = sorted(p for p in Path(folder).glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise FileNotFoundError(f"no numbered notebooks in {folder}")
    return found


__all__ = ["NOTEBOOK_DIR", "NotebookError", "PRESET_NAMES", "REPOSITORY_NOTEBOOKS", "Row", "build_index",
           "current", "export_html", "notebook_parameters", "numbered_notebooks", "read_summaries",
           "resolve_parameters", "results_dir", "run_notebook", "save_figure", "saved_figures", "write_summary"]
