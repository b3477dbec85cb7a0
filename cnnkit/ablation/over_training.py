"""The verdict over training: would more training change the answer?

A paper's curves answer *when* one net gets ahead; a claim about trained nets is answered at the end.
Between the two lies the question a short budget raises: is the difference measured at the end still
moving? :func:`over_training` judges a headline difference ``b − a`` with its declared
:class:`~cnnkit.ablation.verdicts.Claim` at *every* logged point of the learning curves (runs paired by
seed), so a report can show the difference with its 90 % interval over training and say whether the
verdict held over the last quarter (:func:`held`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from cnnkit._status import FINISHED
from cnnkit.ablation.verdicts import Claim, decide

__all__ = ["COLUMNS", "Track", "held", "held_text", "over_training"]

COLUMNS = ("quantity", "step", "fraction", "diff", "low", "high", "verdict", "n")
LAST_QUARTER = 0.75  # points after 75 % of the run's iterations form its last quarter


@dataclass(frozen=True)
class Track:
    """One headline difference followed over training: ``b − a`` of the ``split`` curve of ``metric``.

    Attributes:
        quantity: its name in the figure and the sentences (e.g. ``"plain-56 − plain-20, training error"``).
        a, b: the two variants.
        claim: the declared claim that judges the difference.
        split: ``"train"`` (the running training value) or ``"val"`` (the validation split stands in
            for the test set during training).
        metric: the history's metric, default ``"error"``.
    """

    quantity: str
    a: str
    b: str
    claim: Claim
    split: str = "train"
    metric: str = "error"


def _curves(history: pd.DataFrame, runs: pd.DataFrame | None, track: Track) -> pd.DataFrame:
    """Per (variant, seed): the values at each step, as columns (variant, seed) × rows step."""
    data = history[(history["split"] == track.split) & (history["metric"] == track.metric)
                   & history["variant"].isin((track.a, track.b))]
    if runs is not None and "status" in runs:
        data = data[data["run_id"].isin(runs.loc[runs["status"].isin(FINISHED), "run_id"])]
    return data.pivot_table(index="step", columns=["variant", "seed"], values="value", aggfunc="mean")


def over_training(history: pd.DataFrame, tracks: Sequence[Track], runs: pd.DataFrame | None = None,
                  paired: bool = True) -> pd.DataFrame:
    """Each track's difference, interval and verdict at every logged step (columns :data:`COLUMNS`).

    Args:
        history: :meth:`cnnkit.ablation.Results.history` (run_id, variant, seed, step, split, metric, value).
        tracks: the differences to follow.
        runs: :meth:`~cnnkit.ablation.Results.runs`, to keep finished runs only (optional).
        paired: pair the runs by seed (the seeds both arms logged at that step).
    """
    rows = []
    for track in tracks:
        table = _curves(history, runs, track)
        if table.empty or track.a not in table.columns.get_level_values(0) \
                or track.b not in table.columns.get_level_values(0):
            continue
        last = float(table.index.max())
        for step, values in table.iterrows():
            xa, xb = values[track.a].dropna(), values[track.b].dropna()
            if paired:
                common = xa.index.intersection(xb.index)
                xa, xb = xa[common], xb[common]
            if min(len(xa), len(xb)) < 2:
                continue
            d = decide(xa.to_numpy(), xb.to_numpy(), track.claim, paired=paired)
            rows.append((track.quantity, int(step), float(step) / last, d.diff, d.low, d.high, d.verdict, d.n))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def held(frame: pd.DataFrame, quantity: str) -> tuple[bool, list[str]]:
    """Whether ``quantity``'s verdict was the same at every point of the last quarter, and those verdicts."""
    part = frame[(frame["quantity"] == quantity) & (frame["fraction"] > LAST_QUARTER)]
    verdicts = list(part.sort_values("step")["verdict"])
    return bool(verdicts) and len(set(verdicts)) == 1, verdicts


def held_text(frame: pd.DataFrame) -> str:
    """One sentence per followed difference: did its verdict hold over the last quarter of training?"""
    sentences = []
    for quantity in dict.fromkeys(frame["quantity"]):
        same, verdicts = held(frame, quantity)
        part = frame[frame["quantity"] == quantity]
        if not verdicts:
            sentences.append(f"{quantity}: too few logged points to follow it over training.")
        elif same:
            steps = part[part["fraction"] > LAST_QUARTER]["step"]
            sentences.append(f"{quantity}: the verdict held over the last quarter of training "
                             f"({verdicts[0]} at each of {len(verdicts)} logged points, iterations "
                             f"{int(steps.min())}–{int(steps.max())}).")
        else:
            counts = pd.Series(verdicts).value_counts()
            mix = ", ".join(f"{v} at {n}" for v, n in counts.items())
            sentences.append(f"{quantity}: the verdict changed over the last quarter of training ({mix} of "
                             f"{len(verdicts)} logged points; at the end: {verdicts[-1]}): more training could "
                             "change the answer.")
    return " ".join(sentences)
