"""The preset names. What each preset changes is declared by each study beside its ``Params``
(:mod:`cnnkit.studies._spec`): a preset lists only what it changes.

``smoke``  seconds: a tiny subset and a few iterations, so the test suite can execute every
           notebook end to end.
``quick``  the ``Params`` defaults: minutes on a 2-core CPU; what the README's main job runs.
``long``   the same designs trained to convergence on the embedded data, on a 2-core CPU
           (at most an hour per notebook): it checks the quick verdicts.
``paper``  the full recipe of the paper (a GPU job): full data, paper schedule, 5 seeds.
"""

from __future__ import annotations

PRESET_NAMES = ("smoke", "quick", "long", "paper")
