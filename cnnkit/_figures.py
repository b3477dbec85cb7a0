"""Figures as part of a notebook's result: saved beside the report *and* shown in it.

:func:`save_figure` writes ``<stem>.png`` and ``<stem>.svg`` (atomically, readable under the
umask like every other report file) and, in a notebook kernel, displays the PNG it wrote, so
the executed notebook and its HTML report show exactly the saved figure without a second
call an author could forget. A pyplot figure is closed after it is shown, so the inline
backend does not show it a second time at the end of the cell.

Every figure saved in this process is remembered (:func:`saved_figures`), which lets
:func:`~cnnkit.notebook.report.write_summary` record the notebook's figures and its main one
for the index page.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from cnnkit._atomic import atomic_write_bytes
from cnnkit._console import in_notebook_kernel

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CSS_DPI", "FORMATS", "SavedFiles", "save_figure", "saved_figures", "show_png"]

FORMATS = ("png", "svg")
_SAVED: list[Path] = []  # PNG (else first format) of every save_figure call in this process, in order
CSS_DPI = 96             # a CSS pixel is 1/96 inch: the figure is shown at its own size in inches


class SavedFiles(list):
    """The paths :func:`save_figure` wrote: a list that shows nothing as a cell's last value (the figure is shown)."""

    def _ipython_display_(self) -> None:
        """IPython calls this instead of printing the list: the figure itself is already displayed."""


def save_figure(fig: Figure, path_stem: str | os.PathLike, formats: Sequence[str] = FORMATS, dpi: int = 150, *,
                show: bool | None = None) -> SavedFiles:
    """Write ``fig`` as ``<path_stem>.png`` and ``<path_stem>.svg`` and show it in the notebook.

    Args:
        fig: a matplotlib figure (from the plot functions of :mod:`cnnkit.ablation.plots`, or pyplot).
        path_stem: path without extension, e.g. ``f"{out_dir}/01_curves"``.
        formats: file formats to write. Default PNG and SVG (a PNG is rendered for display even if not written).
        dpi: resolution of the PNG. Default 150 (shown at 96 dpi, it stays sharp on high-density screens).
        show: display the PNG in the notebook. Default ``None``: when running in a notebook kernel.

    Returns:
        The written paths, in the order of ``formats`` (a list that prints nothing as a cell's last value,
        so a cell may end with ``save_figure(...)``).

    Raises:
        ValueError: an unknown format, or ``fig`` is not a matplotlib figure.
    """
    if not hasattr(fig, "savefig"):
        raise ValueError(f"save_figure needs a matplotlib Figure, got {type(fig).__name__} {fig!r:.80}")
    formats = tuple(formats)
    unknown = sorted(set(formats) - set(fig.canvas.get_supported_filetypes()))
    if unknown or not formats:
        raise ValueError(f"formats={list(formats)}: unknown {unknown}; use e.g. ('png', 'svg')")
    show = in_notebook_kernel() if show is None else show
    rendered = {}
    for fmt in dict.fromkeys((*formats, "png") if show else formats):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=dpi, bbox_inches="tight")
        rendered[fmt] = buffer.getvalue()
    paths = SavedFiles(atomic_write_bytes(Path(f"{os.fspath(path_stem)}.{fmt}"), rendered[fmt]) for fmt in formats)
    _SAVED.append(paths[formats.index("png")] if "png" in formats else paths[0])
    if show:
        show_png(rendered["png"], dpi=dpi)
        _close_if_pyplot(fig)
    return paths


def show_png(png: bytes, dpi: int = 150) -> None:
    """Display PNG bytes in the notebook at their size in inches (``IPython.display.Image``)."""
    from IPython.display import Image, display

    width = _png_width(png)
    display(Image(data=png, format="png", width=round(width * CSS_DPI / dpi) if width else None))


def _png_width(png: bytes) -> int | None:
    """Pixel width from a PNG's IHDR chunk (bytes 16-20), or None for anything else."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or len(png) < 24:
        return None
    return int.from_bytes(png[16:20], "big")


def _close_if_pyplot(fig: Figure) -> None:
    """Forget a pyplot-managed figure, so the inline backend does not show it again at the cell's end."""
    if "matplotlib.pyplot" in sys.modules and getattr(fig.canvas, "manager", None) is not None:
        sys.modules["matplotlib.pyplot"].close(fig)


def saved_figures(folder: str | os.PathLike | None = None) -> list[Path]:
    """The figures :func:`save_figure` wrote in this process, oldest first (one path each, its PNG if any),
    restricted to those inside ``folder`` if given."""
    if folder is None:
        return list(_SAVED)
    root = Path(folder).resolve()
    return [p for p in _SAVED if p.resolve().parent == root or root in p.resolve().parents]
