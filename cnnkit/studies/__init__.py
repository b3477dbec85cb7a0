"""The logic behind each numbered notebook: its experiment grid and its measured-vs-paper table.

One module per notebook (``depth`` → 01, ``activations`` → 02, ``lrn`` → 03). Each exposes
``experiment(**params) -> Experiment`` and ``summary_rows(runs) -> list[Row]``; the notebook only
passes its parameters, runs, plots and writes the summary.
"""

from cnnkit.studies import activations, depth, lrn
from cnnkit.studies._common import conclusion, diff_row, interval_verdict, pp

__all__ = ["activations", "conclusion", "depth", "diff_row", "interval_verdict", "lrn", "pp"]
