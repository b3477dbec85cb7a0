"""Shared pieces of the studies: base configs, verdicts from confidence intervals, formatting."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from cnnkit._status import FINISHED  # statuses whose numbers count (as in cnnkit.ablation.summarize)
from cnnkit.ablation.verdicts import NOT_CONVERGED, Claim, Decision, decide
from cnnkit.notebook.report import Row


def run_grid(exp: Any, root: str, *, workers: int = 2, **kwargs: Any):
    """Train ``exp`` in ``workers`` one-thread processes sharing the CPUs (1: inside this process).

    Two one-thread workers train ~1.4x more of these small runs per CPU-second than one two-thread
    process (:class:`~cnnkit.ablation.ProcessExecutor`). Finished runs are kept, interrupted ones
    resume; ``kwargs`` go to :func:`~cnnkit.ablation.run_experiment` (``train_fn``, ``require``, ...).
    """
    from cnnkit.ablation import ProcessExecutor, run_experiment

    executor = ProcessExecutor(workers) if workers > 1 else "local"
    return run_experiment(exp, root=root, executor=executor, **kwargs)


def base_config(*, model: str, dataset: str, subset: int | None, epochs: int, batch_size: int,
                augment: str, bn_momentum: float, recipe: str, resolution: int | None = None,
                **extra: Any) -> dict:
    """The RunConfig fields every study sets from its notebook parameters."""
    return {"model": model, "dataset": dataset, "subset": subset, "epochs": epochs, "batch_size": batch_size,
            "augment": augment, "bn_momentum": bn_momentum, "recipe": recipe, "resolution": resolution, **extra}


def check_iterations(iterations: int, log_every: int) -> None:
    """``iterations`` must be a positive multiple of ``log_every`` (one logged point per ``log_every``)."""
    if log_every < 1 or iterations < log_every or iterations % log_every:
        raise ValueError(f"iterations={iterations!r} must be a positive multiple of log_every={log_every!r}, "
                         "e.g. iterations=300, log_every=25")


def checked_variants(names: Sequence[str], rule: str, *, choices: Sequence[str] | None = None,
                     required: Sequence[str] = (), at_least: int = 1) -> list[str]:
    """``names`` as a list if they are distinct, at least ``at_least``, include ``required`` and lie in ``choices``.

    Raises:
        ValueError: ``f"{rule}; got {names!r}"`` — ``rule`` states what is allowed.
    """
    names = list(names)
    if (len(names) < at_least or len(set(names)) != len(names) or any(r not in names for r in required)
            or (choices is not None and any(n not in choices for n in names))):
        raise ValueError(f"{rule}; got {names!r}")
    return names


def pp(x: float) -> str:
    """A fraction as signed percentage points: ``0.021 → '+2.10 pp'``."""
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:+.2f} pp"




def finished(runs: pd.DataFrame, variant: str, metric: str) -> pd.Series:
    """The numeric ``metric`` values of ``variant``'s finished runs (missing values dropped)."""
    if metric not in runs.columns:
        return pd.Series(dtype=float)
    sel = runs[(runs["variant"] == variant) & runs["status"].isin(FINISHED)]
    return pd.to_numeric(sel[metric], errors="coerce").dropna()


def by_seed(runs: pd.DataFrame, variant: str, metric: str) -> pd.Series:
    """``metric`` of ``variant``'s finished runs indexed by seed (the unit that pairs runs across variants)."""
    if metric not in runs.columns or "seed" not in runs.columns:
        return pd.Series(dtype=float)
    sel = runs[(runs["variant"] == variant) & runs["status"].isin(FINISHED)]
    values = pd.Series(pd.to_numeric(sel[metric], errors="coerce").to_numpy(), index=sel["seed"].to_numpy())
    return values.dropna().groupby(level=0).mean().sort_index()


def decision_text(d: Decision, *, scale: float = 100.0, suffix: str = " pp", digits: int = 2) -> str:
    """``'+29.50 pp [90 % CI +20.10, +38.90], p = 0.004 (n = 3)'``."""
    def f(x: float) -> str:
        return "n/a" if math.isnan(x) else f"{scale * x:+.{digits}f}"

    ci = "" if math.isnan(d.low) else f" [{100 * d.confidence:.0f} % CI {f(d.low)}, {f(d.high)}]"
    p = "" if math.isnan(d.p) else f", p = {d.p:.2g}"
    return f"{f(d.diff)}{suffix}{ci}{p} (n = {d.n})"


def needed_text(d: Decision) -> str:
    """For an inconclusive decision: how many seeds would decide at the measured spread."""
    if d.verdict != "inconclusive":
        return ""
    if d.seeds_needed is None or math.isinf(d.seeds_needed):
        return "no number of seeds decides at this difference (it sits on the claim's boundary)"
    return f"≈ {int(d.seeds_needed)} seeds per arm would decide at this spread"


def judged_row(quantity: str, a, b, claim: Claim, *, reference: str, paired: bool = True, headline: bool = False,
               note: str = "", scale: float = 100.0, suffix: str = " pp", paper: float | None = None,
               converged: bool | None = None) -> Row:
    """A Row whose verdict is ``claim``'s test (:func:`cnnkit.ablation.verdicts.decide`) on ``b − a``.

    ``paper``: the paper's value of the difference as a number (for the differences plot), if it gives one.
    ``converged``: whether every run behind ``a`` and ``b`` converged (:func:`runs_converged`). A claim
    judged on *trained* nets (``claim.judged_at == "trained"``) whose runs did not converge gets the
    verdict ``"not converged"``: the measured difference is shown, but it decides nothing.
    """
    d = decide(a, b, claim, paired=paired)
    verdict, needed = d.verdict, needed_text(d)
    if claim.judged_at == "trained" and converged is False:
        verdict = NOT_CONVERGED
        needed = "" if _WHY in note else "the runs had not converged: train longer (preset long) before judging"
    notes = "; ".join(x for x in (note, needed) if x)
    return Row(quantity, decision_text(d, scale=scale, suffix=suffix), reference, verdict, notes, headline,
               claim.describe(paired, unit=scale, suffix=suffix), _number(d.diff), _number(d.low), _number(d.high),
               paper, claim.judged_at, converged if claim.judged_at else None)


def runs_converged(runs: pd.DataFrame, variants: Sequence[str], seeds: Sequence[int] | None = None) -> bool | None:
    """Whether every finished run of ``variants`` (of ``seeds``, if given) converged (``final.converged``).

    ``None`` when the frame does not say (no ``converged`` column: a ``train_fn`` that does not measure it).
    """
    if "converged" not in runs.columns:
        return None
    sel = runs[runs["variant"].isin(list(variants)) & runs["status"].isin(FINISHED)]
    if seeds is not None and "seed" in sel.columns:
        sel = sel[sel["seed"].isin(list(seeds))]
    if "beats_linear" in sel.columns and (sel["beats_linear"] == False).any():  # noqa: E712 - NaN: no floor
        return False  # an arm that does not beat a linear model has learnt nothing a claim could be about
    values = sel["converged"]
    if values.isna().all():
        return None
    return bool(values.fillna(False).astype(bool).all())


LINEAR = "linear"  # the floor arm: the suite's linear model on the same data and budget


def with_floor(runs: pd.DataFrame, metric: str = "test_error", linear: str = LINEAR) -> pd.DataFrame:
    """``runs`` with a column ``beats_linear``: whether each run's ``metric`` is below the linear model's mean.

    The floor of every claim about what a CNN learns: an arm that does not beat a linear model on the same
    data and budget has learnt nothing the claim could be about, so :func:`runs_converged` counts its rows as
    not converged. Without finished ``linear`` runs the column is missing (no floor is applied).
    """
    floor = finished(runs, linear, metric)
    if floor.empty or metric not in runs.columns:
        return runs
    out = runs.copy()
    values = pd.to_numeric(out[metric], errors="coerce")
    # object dtype: True/False per run, None where nothing is measured (pandas 3 refuses None in a bool column)
    measured = values.notna() & (out["variant"] != linear)
    out["beats_linear"] = (values < floor.mean()).astype(object).where(measured, None)
    return out


def floor_row(runs: pd.DataFrame, arms: Sequence[str], metric: str = "test_error", linear: str = LINEAR) -> Row:
    """The floor beside the arms: the linear model's ``metric`` and how many arm runs beat it."""
    floor = finished(runs, linear, metric)
    if floor.empty:
        return absolute_row(f"{metric.replace('_', ' ')}, linear model (the floor)", "no finished linear run", "—")
    runs = with_floor(runs, metric, linear)
    sel = runs[runs["variant"].isin(list(arms)) & runs["status"].isin(FINISHED)]
    beat = int((sel["beats_linear"] == True).sum())  # noqa: E712
    return absolute_row(f"{metric.replace('_', ' ')}, linear model (the floor every arm must beat)",
                        f"{100 * floor.mean():.2f} %; {beat} of {len(sel)} arm runs beat it", "—",
                        "a net that does not beat a linear model on the same data and budget has learnt nothing "
                        "a claim could be about: its rows read 'not converged'")


def converged_text(runs: pd.DataFrame, variants: Sequence[str] | None = None) -> str:
    """``'10 of 12 runs converged (final rate ≤ 10 % of the peak, training error flat over the last quarter)'``."""
    if "status" not in runs.columns or "converged" not in runs.columns:
        return "not measured"
    sel = runs[runs["status"].isin(FINISHED)]
    if variants is not None:
        sel = sel[sel["variant"].isin(list(variants))]
    if "converged" not in sel.columns:
        return "not measured"
    n = int(sel["converged"].fillna(False).astype(bool).sum())
    return (f"{n} of {len(sel)} runs converged (final rate ≤ 10 % of the peak, training error falling < 1 pp "
            "over the last quarter)")


def _number(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def differences_frame(rows: list[Row]) -> pd.DataFrame:
    """The judged differences of ``rows`` as the frame :func:`cnnkit.ablation.plot_differences` draws."""
    data = [{"quantity": r.quantity.split(":")[0], "diff": r.diff, "low": r.low, "high": r.high,
             "paper": math.nan if r.paper is None else r.paper, "verdict": r.verdict}
            for r in rows if r.diff is not None]
    frame = pd.DataFrame(data, columns=["quantity", "diff", "low", "high", "paper", "verdict"])
    return frame.astype({"diff": float, "low": float, "high": float, "paper": float})


def diff_row(runs: pd.DataFrame, a: str, b: str, metric: str, *, quantity: str, reference: str,
             expect: str | Claim, note: str = "", margin: float = 0.0, headline: bool = False, paired: bool = True,
             paper: float | None = None) -> Row:
    """A table row for ``b − a`` of ``metric``, judged by the claim ``expect``: a declared :class:`Claim`,
    or a :data:`CLAIM_KINDS` name (with ``margin`` for the kinds that take one).

    Runs are paired by seed (the seeds both variants finished) unless ``paired=False`` (Welch). A
    variant without a finished run gives an ``inconclusive`` row that says so, instead of an
    error, so a notebook whose runs partly failed still writes its table.
    """
    claim = expect if isinstance(expect, Claim) else Claim(expect, margin)
    xa, xb = by_seed(runs, a, metric), by_seed(runs, b, metric)
    missing = [v for v, x in ((a, xa), (b, xb)) if x.empty]
    if missing:
        return Row(quantity, f"no finished run of {', '.join(missing)}", reference, "inconclusive", note, headline,
                   claim.describe(paired), judged_at=claim.judged_at)
    if paired:
        common = xa.index.intersection(xb.index)
        xa, xb = xa[common], xb[common]
    converged = runs_converged(runs, (a, b), list(xa.index) + list(xb.index))
    if converged is False:
        note = "; ".join(x for x in (note, why_not_converged(runs, (a, b))) if x)
    return judged_row(quantity, xa.to_numpy(), xb.to_numpy(), claim, reference=reference, paired=paired,
                      headline=headline, note=note, paper=paper, converged=converged)


_WHY = "not judged: "


def why_not_converged(runs: pd.DataFrame, variants: Sequence[str]) -> str:
    """Why the runs of ``variants`` do not count as trained: which did not converge, which lose to the linear floor."""
    sel = runs[runs["variant"].isin(list(variants)) & runs["status"].isin(FINISHED)]
    parts = []
    for v, group in sel.groupby("variant", sort=False):
        if "converged" in group and not group["converged"].fillna(False).astype(bool).all():
            parts.append(f"{v}: {int(group['converged'].fillna(False).astype(bool).sum())} of {len(group)} runs "
                         "converged")
        if "beats_linear" in group and (group["beats_linear"] == False).any():  # noqa: E712
            parts.append(f"{v}: {int((group['beats_linear'] == True).sum())} of {len(group)} runs beat the "  # noqa: E712
                         "linear model")
    return _WHY + "; ".join(parts) if parts else ""


def absolute_row(quantity: str, measured: str, reference: str, note: str = "") -> Row:
    """An absolute number beside the paper's, measured on another data set or budget: ``not comparable``."""
    return Row(quantity, measured, reference, "not comparable",
               note or "an absolute number; it compares only on the paper's data set and budget")


def mean_text(runs: pd.DataFrame, variant: str, metric: str) -> str:
    """``'8.75 ± 0.40 % (n=3)'``: mean ± 95 % CI half-width of an error/accuracy, in percent."""
    from cnnkit.ablation import format_mean_ci, summarize

    s = summarize(runs, metric)
    row = s[s["variant"] == variant]
    if row.empty:
        return "no finished run"
    return format_mean_ci(row.iloc[0], scale=100).replace(" (n", " % (n")


def tally(rows: list[Row]) -> str:
    """``'Of 5 judged rows, 3 agree with the paper, …; 2 absolute numbers are not comparable …'``."""
    judged = [r for r in rows if r.verdict != "not comparable"]
    counts = {v: sum(r.verdict == v for r in judged) for v in ("agrees", "disagrees", "inconclusive", NOT_CONVERGED)}
    waiting = f", {counts[NOT_CONVERGED]} not converged" if counts[NOT_CONVERGED] else ""
    text = (f"Of {len(judged)} judged rows, {counts['agrees']} agree with the paper, {counts['disagrees']} disagree"
            f"{waiting} and {counts['inconclusive']} are inconclusive")
    other = len(rows) - len(judged)
    return text + (f"; {other} absolute numbers are not comparable (another data set or budget)." if other else ".")


_WORDS = {"agrees": "agrees with the paper", "disagrees": "disagrees with the paper",
          "inconclusive": "is inconclusive at this number of seeds",
          NOT_CONVERGED: "is not judged: its runs had not converged", "not comparable": "is not comparable"}


def convergence_text(rows: list[Row]) -> str:
    """Whether the rows about trained nets were judged on runs that converged (one sentence, or "")."""
    trained = [r for r in rows if r.judged_at == "trained"]
    if not trained:
        return ""
    done = sum(r.converged is True for r in trained)
    if done == len(trained):
        return f"All {len(trained)} rows about trained nets are judged on runs that converged."
    return (f"{done} of {len(trained)} rows about trained nets are judged on runs that converged; the others read "
            f"'{NOT_CONVERGED}' (train longer: preset long).")


def conclusion(rows: list[Row], over: pd.DataFrame | None = None) -> str:
    """The notebook's findings, generated from its rows: each headline row in a sentence, then the counts,
    whether the trained rows converged and, with ``over`` (:func:`cnnkit.ablation.over_training.over_training`),
    whether each followed verdict held over the last quarter of training."""
    from cnnkit.ablation.over_training import held_text

    sentences = [f"{r.quantity}: measured {r.measured}; paper {r.reference} — this {_WORDS[r.verdict]}."
                 for r in rows if r.headline]
    extra = [convergence_text(rows), held_text(over) if over is not None and not over.empty else ""]
    return " ".join([*sentences, tally(rows), *[x for x in extra if x]])


def findings(rows: list[Row], lead: str = "", over: pd.DataFrame | None = None):
    """The conclusion for the notebook, as Markdown: one bullet per headline row (verdict in bold), the tally,
    whether the trained rows converged and (with ``over``) whether each verdict held over the last quarter.

    Generated from ``rows`` like :func:`conclusion`, so the notebook states only what its run measured.
    """
    from IPython.display import Markdown

    from cnnkit.ablation.over_training import held_text

    bullets = [f"- **{r.quantity}**: measured {r.measured}; paper {r.reference}. This **{_WORDS[r.verdict]}**."
               for r in rows if r.headline]
    tail = [x for x in (tally(rows), convergence_text(rows)) if x]
    if over is not None and not over.empty:
        tail.append(held_text(over))
    return Markdown("\n".join(([lead, ""] if lead else []) + bullets + [""] + tail))


def rows_table(rows: list[Row]) -> pd.DataFrame:
    """The measured-vs-paper table for display: quantity, measured, paper, verdict, note, declared test."""
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame = frame.drop(columns=["paper"]).rename(columns={"reference": "paper", "test": "declared test"})
    return frame[["quantity", "measured", "paper", "verdict", "note", "declared test"]]


def data_shape(dataset: str = "fashion_mnist", resolution: int | None = None, **options: Any) -> tuple[tuple, int]:
    """``(image_shape, num_classes)`` of a data set as the runs will see it (for counting MACs/params)."""
    from cnnkit.data import load_arrays

    _, _, info = load_arrays(dataset, "test", resolution=resolution, **options)
    return tuple(info.image_shape), int(info.num_classes)


def iterations_to_target(runs: pd.DataFrame, history: pd.DataFrame, variant: str) -> pd.DataFrame:
    """Per finished run of ``variant``, by seed: the iterations to the target training error, or a lower bound.

    A run records ``iterations_to_target`` when its running training error first fell below the
    config's ``target_train_error``. A run that never got there counts the iterations it trained
    (its largest ``step`` in ``history``): a lower bound, *censored* (``reached`` False). Where that
    is unknown too, ``iterations`` is NaN.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` (``run_id``, ``variant``, ``seed``, ``status``,
            ``iterations_to_target``).
        history: :meth:`cnnkit.ablation.Results.history` (``run_id``, ``step``).
        variant: the variant whose runs to read.

    Returns:
        A frame indexed by ``seed`` (sorted) with columns ``iterations`` (float) and ``reached`` (bool).
    """
    sel = runs[(runs["variant"] == variant) & runs["status"].isin(FINISHED)]
    column = "iterations_to_target"
    reached = (pd.to_numeric(sel[column], errors="coerce") if column in sel.columns
               else pd.Series(math.nan, index=sel.index, dtype=float))
    trained = (pd.to_numeric(history["step"], errors="coerce").groupby(history["run_id"]).max()
               if {"run_id", "step"} <= set(history.columns) else pd.Series(dtype=float))
    total = pd.to_numeric(sel["run_id"].map(trained), errors="coerce")
    frame = pd.DataFrame({"iterations": reached.where(reached.notna(), total).to_numpy(dtype=float),
                          "reached": reached.notna().to_numpy(dtype=bool)},
                         index=pd.Index(sel["seed"].to_numpy(), name="seed"))
    return frame.sort_index()
