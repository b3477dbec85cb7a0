"""Did a run finish learning? The measure every claim about *trained* nets is judged on.

A run has **converged** when both hold at its end:

* its learning rate has decayed: the last logged rate is at most :data:`LR_DECAYED` of the
  largest (a schedule written for the budget anneals to about zero; Li, Yumer & Ramanan 2020,
  *Budgeted Training*, found linear decay to zero the best for a fixed iteration budget);
* its training error has flattened: over the last quarter of the run, the mean of the second
  half's logged points is less than :data:`FLAT_PP` below that of the first half (runs without
  an error metric, e.g. metric learning, use the loss and a relative change of :data:`FLAT_LOSS`).

Both numbers are recorded (``final.last_quarter_drop``, ``final.lr_ratio``) beside
``final.converged``, so a report can say by how much a run missed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["FLAT_LOSS", "FLAT_PP", "LR_DECAYED", "convergence"]

FLAT_PP = 0.01      # training error may fall by less than 1 pp between the two halves of the last quarter
FLAT_LOSS = 0.02    # without an error metric: the loss may fall by less than 2 % (relative)
LR_DECAYED = 0.1    # the final learning rate is at most a tenth of the peak


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def convergence(history: Sequence[dict]) -> dict:
    """``{"converged": bool, "last_quarter_drop": float, "lr_ratio": float}`` of a run's per-epoch history.

    ``history`` rows have ``step`` (iterations so far), ``error`` or ``loss`` (the training value over the
    logging interval) and ``lr`` (the rate at the interval's end). ``last_quarter_drop`` is the fall of
    the training error (absolute) or loss (relative) between the halves of the last quarter (> 0: still
    falling); ``lr_ratio`` the last rate over the largest. Too short a history (fewer than two points in
    its last quarter and fewer than two in all) is not converged.
    """
    key = "error" if any(_finite(h.get("error")) for h in history) else "loss"
    points = [(h["step"], h[key]) for h in history if _finite(h.get("step")) and _finite(h.get(key))]
    rates = [h["lr"] for h in history if _finite(h.get("lr"))]
    lr_ratio = rates[-1] / max(rates) if rates and max(rates) > 0 else math.nan
    if len(points) < 2:
        return {"converged": False, "last_quarter_drop": math.nan, "lr_ratio": lr_ratio}
    total = points[-1][0]
    quarter = [v for s, v in points if s > 0.75 * total]
    if len(quarter) < 2:
        quarter = [v for _, v in points[-2:]]
    half = len(quarter) // 2
    first, second = sum(quarter[:half]) / half, sum(quarter[half:]) / (len(quarter) - half)
    drop = first - second
    flat = drop < FLAT_PP if key == "error" else drop < FLAT_LOSS * max(abs(first), 1e-12)
    if key == "loss":
        drop = drop / max(abs(first), 1e-12)
    decayed = _finite(lr_ratio) and lr_ratio <= LR_DECAYED
    return {"converged": bool(flat and decayed), "last_quarter_drop": float(drop), "lr_ratio": float(lr_ratio)}
