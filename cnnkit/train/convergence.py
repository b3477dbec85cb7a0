"""Did a run finish learning? The measure every claim about *trained* nets is judged on.

A run has **converged** when both hold at its end:

* its learning rate has decayed: the last logged rate is at most :data:`LR_DECAYED` of the
  largest (a schedule written for the budget anneals to about zero; Li, Yumer & Ramanan 2020,
  *Budgeted Training*, found linear decay to zero the best for a fixed iteration budget);
* its training error has flattened: over the last quarter of the run, the means of the two halves'
  logged points differ by less than :data:`FLAT_PP` plus one standard error of that difference (each
  logged point is the error over ``log_every × batch_size`` training examples, a binomial count, so
  a short interval is noisy: a change within the noise is no evidence of learning). Runs without an
  error metric (metric learning) use the loss and a relative change of :data:`FLAT_LOSS`.

The numbers are recorded (``final.last_quarter_drop``, ``final.last_quarter_noise``, ``final.lr_ratio``)
beside ``final.converged``, so a report can say by how much a run missed.
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


def convergence(history: Sequence[dict], batch_size: int | None = None) -> dict:
    """``{"converged", "last_quarter_drop", "last_quarter_noise", "lr_ratio"}`` of a run's per-epoch history.

    ``history`` rows have ``step`` (iterations so far), ``error`` or ``loss`` (the training value over the
    logging interval) and ``lr`` (the rate at the interval's end). ``last_quarter_drop`` is the fall of
    the training error (absolute) or loss (relative) between the halves of the last quarter (> 0: still
    falling); ``last_quarter_noise`` its standard error (0 without ``batch_size``); ``lr_ratio`` the last
    rate over the largest. Too short a history (fewer than two points in all) is not converged.
    """
    key = "error" if any(_finite(h.get("error")) for h in history) else "loss"
    points = [(h["step"], h[key]) for h in history if _finite(h.get("step")) and _finite(h.get(key))]
    rates = [h["lr"] for h in history if _finite(h.get("lr"))]
    lr_ratio = rates[-1] / max(rates) if rates and max(rates) > 0 else math.nan
    if len(points) < 2:
        return {"converged": False, "last_quarter_drop": math.nan, "last_quarter_noise": math.nan,
                "lr_ratio": lr_ratio}
    total = points[-1][0]
    quarter = [(s, v) for s, v in points if s > 0.75 * total]
    if len(quarter) < 2:
        quarter = points[-2:]
    half = len(quarter) // 2
    first = sum(v for _, v in quarter[:half]) / half
    second = sum(v for _, v in quarter[half:]) / (len(quarter) - half)
    drop, noise = first - second, 0.0
    if key == "error":
        if batch_size:  # each point: the error over (its interval's iterations × batch_size) examples
            interval = max(1.0, (quarter[-1][0] - quarter[0][0]) / max(1, len(quarter) - 1))
            mean = min(max((first + second) / 2, 0.0), 1.0)
            point = math.sqrt(mean * (1 - mean) / (interval * batch_size))
            noise = point * math.sqrt(1 / half + 1 / (len(quarter) - half))
        flat = abs(drop) < FLAT_PP + noise
    else:
        drop = drop / max(abs(first), 1e-12)
        flat = abs(drop) < FLAT_LOSS
    decayed = _finite(lr_ratio) and lr_ratio <= LR_DECAYED
    return {"converged": bool(flat and decayed), "last_quarter_drop": float(drop),
            "last_quarter_noise": float(noise), "lr_ratio": float(lr_ratio)}
