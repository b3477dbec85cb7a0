"""The logic behind each numbered notebook: its experiment grid and its measured-vs-paper table.

One module per notebook: ``depth`` → 01, ``activations`` → 02, ``lrn`` → 03, ``pooling`` → 04,
``activations`` → 06, ``regularization`` → 07, ``optimizers`` → 08, ``zoo`` → 09, ``levers`` → 10,
``randwire`` → 11, ``attention`` → 12, ``metric`` → 13 (00 and 05 are teaching code in
:mod:`cnnkit.teach`). Each exposes ``experiment(**params) -> Experiment`` and
``summary_rows(...) -> list[Row]``; the notebook only passes its parameters, runs, plots and writes the
summary. Import a study as ``from cnnkit.studies import depth``.
"""

from cnnkit.studies._common import (absolute_row, conclusion, data_shape, diff_row, differences_frame, findings,
                                    judged_row, pp, rows_table, run_grid, tally)

__all__ = ["absolute_row", "conclusion", "data_shape", "diff_row", "differences_frame", "findings",
           "judged_row", "pp", "rows_table", "run_grid", "tally"]
