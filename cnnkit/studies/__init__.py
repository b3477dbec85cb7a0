"""The logic behind each numbered notebook, one study module per notebook, declared in one place.

A study module names its notebook (``NOTEBOOK = "01_depth_degradation"``) and declares its
parameters (``Params``, a frozen dataclass whose defaults are the quick preset, one comment per
field), its ``PRESETS`` (only what each changes), its ``CLAIMS`` (fixed before any run), and the
functions the notebook calls: ``experiment(p)``/``run(p, root, workers=)``, ``summary_rows(runs, p)``,
``differences(p, runs)``. The notebook's parameters cell is ``Params`` rendered
(``cnnkit notebooks --sync``), and its first code cell calls ``setup(study, globals())``.
Studies are found by their ``NOTEBOOK`` (:func:`find_study`); import one as
``from cnnkit.studies import depth``.
"""

from cnnkit.studies._common import (absolute_row, conclusion, data_shape, diff_row, differences_frame, findings,
                                    judged_row, pp, rows_table, run_grid, tally)
from cnnkit.studies._spec import (PRESET_NAMES, StudyParams, find_study, notebook_studies, preset_changes,
                                  preset_for_notebook, render_cell, resolve, setup, sync_notebooks)

__all__ = ["PRESET_NAMES", "StudyParams", "absolute_row", "conclusion", "data_shape", "diff_row",
           "differences_frame", "find_study", "findings", "judged_row", "notebook_studies", "pp", "preset_changes",
           "preset_for_notebook", "render_cell", "resolve", "rows_table", "run_grid", "setup", "sync_notebooks",
           "tally"]
