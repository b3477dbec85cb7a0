"""The top of ``index.html``: what the runs reproduced, at a glance.

* :func:`scoreboard_html`: one line per headline claim (a :class:`~cnnkit.notebook.report.Row`
  with ``headline=True``): notebook · claim · the paper says → measured → verdict, coloured;
  a summary that marks no headline row contributes its first row.
* :func:`gallery_html`: one card per report, a thumbnail of its main figure linking to it, and
  the run's preset, data set, seeds, wall time and versions.

:func:`main_figure` picks a report's figure: the one its summary names (``main_figure``), else
the first it saved (``figures``), else the first ``<NN>_*.png`` beside it, sorted.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path

__all__ = ["CSS", "verdict_css", "gallery_html", "headline_rows", "main_figure", "run_facts", "scoreboard_html", "verdict_class"]

CSS = """.board{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}.board td,.board th{border:0;
border-bottom:1px solid #e3e3e3;padding:5px 8px;vertical-align:top}.board .arrow{color:#999}
.verdict{display:inline-block;padding:1px 8px;border-radius:9px;color:#fff;font-size:88%;white-space:nowrap}
.tally span{margin-right:1em}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:14px;margin:1em 0 2em}
.card{border:1px solid #ddd;border-radius:6px;padding:8px;font-size:88%}.card img{width:100%;height:150px;
object-fit:contain;background:#fff;display:block}.card .none{height:150px;display:flex;align-items:center;
justify-content:center;color:#999;background:#f6f6f6}.card h3{font-size:100%;margin:.4em 0 .2em}
.card .facts{color:#555}"""


def verdict_css() -> str:
    """The colour of each verdict (:data:`cnnkit.ablation.verdicts.VERDICT_COLOURS`) as a badge and as table text."""
    from cnnkit.ablation.verdicts import VERDICT_COLOURS

    return "".join(f".verdict.{verdict_class(v)}{{background:{c}}}td.{verdict_class(v)}{{color:{c}}}"
                   for v, c in VERDICT_COLOURS.items())


def verdict_class(verdict: str) -> str:
    """CSS class of a verdict: ``"not comparable"`` → ``"v-not-comparable"``."""
    return "v-" + "-".join(str(verdict).split())


def _verdict(verdict: str) -> str:
    return f"<span class='verdict {verdict_class(verdict)}'>{html.escape(str(verdict))}</span>"


def headline_rows(summary: dict) -> list:
    """The rows of a summary the scoreboard shows: those marked ``headline``, else its first row."""
    rows = summary.get("rows") or []
    marked = [r for r in rows if getattr(r, "headline", False)]
    return marked or rows[:1]


def scoreboard_html(summaries: list[dict], folder: Path) -> list[str]:
    """The scoreboard: a tally of verdicts and one table line per headline claim."""
    lines = [(s, r) for s in summaries for r in headline_rows(s)]
    if not lines:
        return []
    esc = html.escape
    tally = Counter(r.verdict for _, r in lines)
    parts = ["<h2>Scoreboard</h2>", "<p class='tally'>" + "".join(
        f"<span>{_verdict(v)} × {n}</span>" for v, n in tally.most_common()) + "</p>",
        "<table class='board'><tr><th>notebook</th><th>claim</th><th>the paper says</th><th></th>"
        "<th>measured</th><th>verdict</th></tr>"]
    previous = None
    for s, r in lines:  # the notebook's title on its first line only: its claims read as a group
        name = "" if s["stem"] == previous else esc(s["title"])
        previous = s["stem"]
        link = f"<a href='{esc(s['stem'])}.html'>{name}</a>" if name and (folder / f"{s['stem']}.html").exists() \
            else name
        test = f" title='{esc(r.test)}'" if getattr(r, "test", "") else ""
        parts.append(f"<tr><td>{link}</td><td>{esc(r.quantity)}</td><td>{esc(r.reference)}</td>"
                     f"<td class='arrow'>→</td><td>{esc(r.measured)}</td><td{test}>{_verdict(r.verdict)}</td></tr>")
    return parts + ["</table>"]


def main_figure(summary: dict, folder: Path) -> str | None:
    """File name (relative to ``folder``) of the report's main figure, or ``None``."""
    named = [summary.get("main_figure"), *(summary.get("figures") or [])]
    for name in named:
        if name and (folder / name).is_file():
            return str(name)
    stem = str(summary.get("stem", ""))
    for pattern in (f"{stem}_*.png", f"{stem.split('_')[0]}_*.png"):
        found = sorted(p.name for p in folder.glob(pattern))
        if found and stem:
            return found[0]
    return None


def notebook_duration(folder: Path, stem: str) -> float | None:
    """Seconds the notebook ran, from the executed notebook's papermill metadata."""
    try:
        meta = json.loads((folder / f"{stem}.ipynb").read_text(encoding="utf-8"))["metadata"]["papermill"]
        return float(meta["duration"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def run_facts(summary: dict, folder: Path) -> dict[str, str]:
    """Preset, data set, seeds, wall time and versions of the run that wrote ``summary`` (what is known)."""
    params, env = summary.get("parameters") or {}, summary.get("environment") or {}
    facts = {"preset": params.get("preset"), "data": params.get("dataset"),
             "seeds": ", ".join(map(str, params["seeds"])) if isinstance(params.get("seeds"), list) else None}
    seconds = notebook_duration(folder, summary.get("stem", ""))
    if seconds is not None:
        facts["wall time"] = f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"
    versions = [f"{k} {env[k]}" for k in ("keras", "backend", "tensorflow", "jax", "torch") if env.get(k)]
    facts["versions"] = ", ".join(versions) or None
    facts["machine"] = env.get("machine")
    facts["date"] = env.get("date")
    return {k: str(v) for k, v in facts.items() if v not in (None, "")}


def gallery_html(summaries: list[dict], folder: Path) -> list[str]:
    """One card per report: thumbnail of its main figure (a link to the report) and the run's facts."""
    if not summaries:
        return []
    esc = html.escape
    parts = ["<h2>Reports</h2><div class='cards'>"]
    for s in summaries:
        report = f"{s['stem']}.html"
        has_report = (folder / report).exists()
        figure = main_figure(s, folder)
        picture = (f"<img src='{esc(figure)}' alt='main figure of {esc(s['title'])}'>" if figure
                   else "<div class='none'>no figure</div>")
        title = esc(s["title"])
        if has_report:
            picture, title = f"<a href='{esc(report)}'>{picture}</a>", f"<a href='{esc(report)}'>{title}</a>"
        facts = " · ".join(f"{esc(k)} <b>{esc(v)}</b>" if k in ("preset", "data", "seeds", "wall time")
                           else esc(v) for k, v in run_facts(s, folder).items())
        parts.append(f"<div class='card'>{picture}<h3>{title}</h3><div class='facts'>{facts}</div></div>")
    return parts + ["</div>"]
