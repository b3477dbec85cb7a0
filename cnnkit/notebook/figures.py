"""Figures as part of a notebook's result: :func:`save_figure` writes PNG + SVG and shows the PNG.

Defined in :mod:`cnnkit._figures` (below every package, so the plot functions of
:mod:`cnnkit.ablation.plots` can offer it without importing upwards); this is its public home.
"""

from cnnkit._figures import CSS_DPI, FORMATS, SavedFiles, save_figure, saved_figures, show_png

__all__ = ["CSS_DPI", "FORMATS", "SavedFiles", "save_figure", "saved_figures", "show_png"]
