"""A learning-rate sweep that gives each arm of a study its own rate (notebooks 02 and 03).

Krizhevsky et al. (2012, Fig. 1) chose "the learning rates for each network independently to make training
as fast as possible": a comparison of two nets at one shared rate measures, in part, which net that rate
suits. A sweep trains each arm at every rate of a short list with one seed that is *not* a main seed
(:data:`SWEEP_SEED`, so the choice is not fitted to the seeds that are judged), and each arm keeps the rate
with the lowest *mean* training error over its sweep run (the area under its curve: fast early progress
counts, not only the end). Diverged and failed runs drop out.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure

from cnnkit._status import DIVERGED, FINISHED

SWEEP_SEED = 100  # the sweep's one seed, outside the main seeds


def check_lrs(lrs: Sequence[float]) -> None:
    """``lrs`` must be a non-empty list of distinct positive rates."""
    if (not lrs or any(isinstance(x, bool) or not isinstance(x, (int, float)) or x <= 0 for x in lrs)
            or len(set(lrs)) != len(lrs)):
        raise ValueError(f"lrs must be distinct positive learning rates, e.g. (0.01, 0.03, 0.1); got {lrs!r}")


def sweep_name(arm: str, lr: float) -> str:
    """``'tanh lr=0.05'``: the sweep's variant for ``arm`` at rate ``lr``."""
    return f"{arm} lr={lr:g}"


def sweep_arms(arms: Sequence[str], lrs: Sequence[float]) -> dict[str, tuple[str, float]]:
    """The sweep's variants, ``{name: (arm, lr)}``: every arm at every rate."""
    return {sweep_name(a, lr): (a, float(lr)) for a in arms for lr in lrs}


def last_quarter(curve: pd.DataFrame) -> float:
    """The mean ``value`` over the last quarter of a curve's points (steadier than its last point)."""
    curve = curve.sort_values("step")
    return float(curve["value"].iloc[-max(1, len(curve) // 4):].mean())


def sweep_table(runs: pd.DataFrame, history: pd.DataFrame, arms: dict[str, tuple[str, float]]) -> pd.DataFrame:
    """Per sweep run: arm, lr, status, mean training error over the run (the criterion), the final training
    error (the mean over the last quarter of the run) and whether it is its arm's choice.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of the sweep (other variants are ignored).
        history: :meth:`cnnkit.ablation.Results.history` of the sweep.
        arms: :func:`sweep_arms`: the arm and rate of each sweep variant (never parsed from its name).
    """
    runs = runs[runs["variant"].isin(arms)]
    train = history[(history["split"] == "train") & (history["metric"] == "error")]
    mean_error = train.groupby("run_id")["value"].mean()
    final = train.groupby("run_id")[["step", "value"]].apply(last_quarter)
    table = pd.DataFrame({"arm": runs["variant"].map(lambda v: arms[v][0]),
                          "lr": runs["variant"].map(lambda v: arms[v][1]).astype(float), "status": runs["status"],
                          "mean training error": runs["run_id"].map(mean_error).astype(float),
                          "final training error": runs["run_id"].map(final).astype(float)})
    ok = table["status"].isin(FINISHED) & (table["status"] != DIVERGED) & table["mean training error"].notna()
    table["chosen"] = False
    for _, group in table[ok].groupby("arm", sort=False):
        table.loc[group["mean training error"].idxmin(), "chosen"] = True
    return table.sort_values(["arm", "lr"]).reset_index(drop=True)


def picked(table: pd.DataFrame) -> dict[str, float]:
    """``{arm: lr}``: each arm's chosen rate in a :func:`sweep_table`.

    Raises:
        ValueError: an arm has no usable sweep run (every rate diverged or failed).
    """
    picks = table[table["chosen"]].set_index("arm")
    missing = sorted(set(table["arm"]) - set(picks.index))
    if missing:
        raise ValueError(f"no usable sweep run for {missing}: every learning rate diverged or failed; "
                         "add smaller rates to lrs")
    return {a: float(lr) for a, lr in picks["lr"].items()}


def sweep_figure(table: pd.DataFrame, title: str = "Learning-rate sweep: each arm gets its fastest rate (ringed)",
                 xlabel: str = "learning rate (SGD, momentum 0.9)") -> Figure:
    """Mean training error against the learning rate per arm, the chosen rates ringed."""
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    for arm, group in table.groupby("arm", sort=False):
        group = group.sort_values("lr")
        line, = ax.plot(group["lr"], 100 * group["mean training error"], marker="o", label=arm)
        pick = group[group["chosen"]]
        ax.scatter(pick["lr"], 100 * pick["mean training error"], s=160, facecolors="none",
                   edgecolors=line.get_color(), linewidths=2)
    ax.set(xscale="log", xlabel=xlabel, ylabel="mean training error over the run (%)", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def rates_text(lrs: dict[str, float]) -> str:
    """``'none 0.03, lrn 0.1'``."""
    return ", ".join(f"{a} {lr:g}" for a, lr in lrs.items())
