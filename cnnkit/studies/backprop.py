"""00 · Backpropagation by hand: the notebook's parameters and what differs from the article.

A teaching notebook: nothing is trained on data and nothing is judged by a test over seeds. The
arithmetic (NumPy by hand, the same network in Keras) lives in :mod:`cnnkit.teach.backprop`; this
module declares the notebook's parameters, like every numbered notebook's study, and the
"what differs from the article" table.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cnnkit.ablation.verdicts import Claim
from cnnkit.reference import BACKPROP_ARTICLE, BACKPROP_SOURCE
from cnnkit.studies._spec import StudyParams
from cnnkit.teach.backprop import decimals

NOTEBOOK = "00_backprop_by_hand"
WORKERS = None  # nothing is trained on a grid

# No claim is judged by a test over seeds: each printed number of the article is reproduced to its last digit
# or not (cnnkit.teach.backprop.summary_rows). A claim added here judges no trained net: judged_at=None.
CLAIMS: dict[str, Claim] = {}


@dataclass(frozen=True)
class Params(StudyParams):
    """Notebook 00's parameters; the defaults are the article's (and the quick preset)."""

    steps: int = 10000  # gradient-descent steps of the long run (the article: 10,000)
    keras_steps: int = 10000  # steps of the Keras long run (model.fit, batch 1)

    def __post_init__(self):
        super().__post_init__()
        if self.steps < 1 or self.keras_steps < 1:
            raise ValueError(f"steps and keras_steps must be positive ints, got steps={self.steps!r}, "
                             f"keras_steps={self.keras_steps!r}; the article runs 10000")


# Every preset runs the article's steps (NumPy and Keras take seconds), so no preset changes anything.
PRESETS: dict[str, dict] = {}


def differences(p: Params, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """What the notebook with the parameters ``p`` does differently from the article (a table for the report).

    ``runs`` is accepted for the studies' common form and unused: nothing trains on a grid.
    """
    places = sorted({decimals(v) for v in BACKPROP_ARTICLE.values()})
    rows = [("long run, NumPy", f"{p.steps} steps", "10,000 steps"),
            ("long run, Keras", f"{p.keras_steps} steps (model.fit, batches of one)", "— (by hand)"),
            ("arithmetic", "float64 (NumPy and Keras)", f"printed rounded to {places[0]}–{places[-1]} decimals"),
            ("order of the updates", "simultaneous (gradient descent) and output-first, side by side",
             "the text derives simultaneous; its one-step error and long-run outputs fit output-first"),
            ("biases", "never updated", "never updated")]
    return pd.DataFrame([(k, str(a), str(b)) for k, a, b in rows], columns=["", "here", BACKPROP_SOURCE])
