"""Measured-vs-paper summaries written by notebooks, and the ``index.html`` over all reports.

A notebook ends with :func:`write_summary`, which stores its key measured numbers beside
the paper's (``<out_dir>/<stem>.summary.json``); :func:`build_index` collects every summary
in a folder into one page that links each notebook's HTML report.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cnnkit._atomic import atomic_write_text
from cnnkit._json import json_default
from cnnkit.ablation.verdicts import VERDICTS
from cnnkit.notebook import scoreboard as _scoreboard
from cnnkit.notebook.runner import FAILED_SUFFIX

SUMMARY_SUFFIX = ".summary.json"


@dataclass(frozen=True)
class Row:
    """One line of a measured-vs-reference table.

    Attributes:
        quantity: what is compared ("test error, plain-56 − plain-20").
        measured: the measured value as text, with its spread ("+2.1 ± 0.8 % (n=2)").
        reference: the paper's value as text ("≈ +4 % (Fig. 6, read off)").
        verdict: one of :data:`VERDICTS`, decided from the data by the study: "agrees" /
            "disagrees" (the declared test decides, for or against the paper), "inconclusive"
            (it cannot decide at this number of seeds), "not converged" (a claim about trained nets
            whose runs had not converged: no verdict) or "not comparable" (an absolute number
            measured on another data set or budget than the paper's).
        note: optional remark (which split, which model selection, how many seeds would decide).
        headline: the row states one of the notebook's main claims (the index's scoreboard lists it).
        test: the test declared for the row before running, e.g. "one-sided Welch t, α = 0.05".
        diff, low, high: the measured difference and its interval as numbers (the metric's units),
            where the row judges a difference; ``None`` otherwise.
        paper: the paper's value of the same quantity as a number, where it gives one.
        judged_at: when the row's claim is judged: ``"trained"``, ``"early"`` or ``None`` (no training or
            no claim); :data:`cnnkit.ablation.verdicts.JUDGED_AT`.
        converged: whether every run behind the row converged (``None`` where it does not apply).
    """

    quantity: str
    measured: str
    reference: str
    verdict: str = "inconclusive"
    note: str = ""
    headline: bool = False
    test: str = ""
    diff: float | None = None
    low: float | None = None
    high: float | None = None
    paper: float | None = None
    judged_at: str | None = None
    converged: bool | None = None

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {list(VERDICTS)}, got {self.verdict!r}")


def environment() -> dict[str, str]:
    """Library versions (:func:`cnnkit.train.loop.versions`) plus machine and date, recorded with every summary."""
    from cnnkit.train.loop import versions

    return {**versions(), "machine": f"{platform.machine()}, {_cpu_count()} CPU cores",
            "date": _dt.date.today().isoformat()}


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def write_summary(stem: str, title: str, rows: list[Row], *, parameters: dict[str, Any] | None = None,
                  conclusion: str = "", out_dir: str | Path = ".", main_figure: str | None = None) -> Path:
    """Write ``<out_dir>/<stem>.summary.json`` (atomically) and return its path.

    The summary also lists the figures :func:`~cnnkit.notebook.figures.save_figure` wrote into
    ``out_dir`` in this process (``figures``; those named like the notebook, ``<NN>_*``, if any are) and
    the one the index shows as the report's thumbnail
    (``main_figure``: the file or stem given, e.g. ``"01_curves"``; default the first figure saved).
    ``parameters`` defaults to those :func:`cnnkit.notebook.params.setup` resolved for ``stem``.
    """
    from cnnkit.notebook.figures import saved_figures

    path = Path(out_dir) / f"{stem}{SUMMARY_SUFFIX}"
    figures = list(dict.fromkeys(str(p.resolve().relative_to(Path(out_dir).resolve()))
                                 for p in saved_figures(out_dir)))
    number = stem.split("_")[0]  # a numbered notebook's figures are "01_*" (one process may run several)
    own = [f for f in figures if f.startswith(f"{number}_")]
    figures = own if number.isdigit() else own or figures
    if main_figure is not None and Path(main_figure).suffix == "":
        main_figure = next((f for f in figures if Path(f).stem == Path(main_figure).name), f"{main_figure}.png")
    if parameters is None:  # the notebook's parameters as cnnkit.notebook.setup resolved them
        from cnnkit.notebook.params import current

        parameters = current(stem)
    doc = {"stem": stem, "title": title, "rows": [asdict(r) for r in rows], "conclusion": conclusion,
           "parameters": parameters or {}, "environment": environment(), "figures": figures,
           "main_figure": main_figure or (figures[0] if figures else None)}
    atomic_write_text(path, json.dumps(doc, indent=2, default=json_default))
    return path


def read_summaries(folder: str | Path) -> list[dict]:
    """Every readable summary in ``folder``, sorted by notebook; unreadable ones are reported inline."""
    out = []
    for path in sorted(Path(folder).glob(f"*{SUMMARY_SUFFIX}")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            doc["rows"] = [Row(**r) for r in doc["rows"]]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            doc = {"stem": path.name[: -len(SUMMARY_SUFFIX)], "title": path.name, "rows": [],
                   "conclusion": f"unreadable summary {path}: {exc}", "parameters": {}, "environment": {}}
        out.append(doc)
    return out


def read_failures(folder: str | Path) -> list[dict]:
    """The notebooks whose last run in ``folder`` failed (``<stem>.failed.json``, written by
    :func:`~cnnkit.notebook.runner.run_notebook`), sorted by notebook; unreadable records are reported inline."""
    out = []
    for path in sorted(Path(folder).glob(f"*{FAILED_SUFFIX}")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            doc["stem"], doc["first_line"] = str(doc["stem"]), str(doc["first_line"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            doc = {"stem": path.name[: -len(FAILED_SUFFIX)], "where": "?", "first_line": f"unreadable {path}: {exc}"}
        out.append(doc)
    return out


def _failures_html(failures: list[dict], folder: Path, reported: set[str]) -> list[str]:
    """index.html's list of failed notebooks: the cause's first line and a link to the partial report."""
    if not failures:
        return []
    esc = html.escape
    parts = ["<h2 class='disagrees'>Failed notebooks</h2><ul>"]
    for f in failures:
        partial = f.get("partial_html")
        link = (f" (<a href='{esc(partial)}'>partial report</a>)" if partial and (folder / partial).exists()
                else "")
        stale = "; the table below is from an earlier run" if f["stem"] in reported else ""
        parts.append(f"<li><b>{esc(f['stem'])}</b>: {esc(str(f.get('where', '?')))} failed: "
                     f"<code>{esc(f['first_line'])}</code>{link}{stale}</li>")
    return parts + ["</ul>"]


_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}.meta{color:#666;font-size:90%}h2{margin-top:1.6em}
.tables table{font-size:90%}.tables h3{margin:1.2em 0 .2em}""" + _scoreboard.CSS + _scoreboard.verdict_css()


def build_index(folder: str | Path = "reports") -> Path:
    """Write ``<folder>/index.html``: the scoreboard of headline claims, a thumbnail of each report's main
    figure with the run's facts (:mod:`cnnkit.notebook.scoreboard`), then per notebook its measured-vs-paper table."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no report folder {folder}; run `cnnkit run notebooks/*.ipynb --out {folder}` first")
    esc = html.escape
    parts = [f"<!doctype html><meta charset='utf-8'><title>cnnkit reports</title><style>{_CSS}</style>",
             "<h1>cnnkit reports</h1>"]
    summaries = read_summaries(folder)
    reported = {s["stem"] for s in summaries}
    failures = read_failures(folder)
    parts += _failures_html(failures, folder, reported)
    parts += _scoreboard.scoreboard_html(summaries, folder) + _scoreboard.gallery_html(summaries, folder)
    parts += ["<h2>Measured vs paper, per notebook</h2><div class='tables'>"] if summaries else []
    for s in summaries:
        link = f"{s['stem']}.html"
        head = f"<a href='{esc(link)}'>{esc(s['title'])}</a>" if (folder / link).exists() else esc(s["title"])
        env = s.get("environment", {})
        meta = ", ".join(f"{k} {v}" for k, v in env.items())
        preset = s.get("parameters", {}).get("preset", "?")
        parts.append(f"<h3 id='{esc(s['stem'])}'>{head}</h3><p class='meta'>preset <b>{esc(str(preset))}</b>; "
                     f"{esc(meta)}</p>")
        parts.append("<table><tr><th>quantity</th><th>measured</th><th>paper</th><th>verdict</th><th>note</th></tr>")
        for r in s["rows"]:
            parts.append(f"<tr><td>{esc(r.quantity)}</td><td>{esc(r.measured)}</td><td>{esc(r.reference)}</td>"
                         f"<td class='{_scoreboard.verdict_class(r.verdict)}'>{esc(r.verdict)}</td>"
                         f"<td>{esc(r.note)}</td></tr>")
        parts.append("</table>")
        if s.get("conclusion"):
            parts.append(f"<p>{esc(s['conclusion'])}</p>")
    parts += ["</div>"] if summaries else []
    failed = {f["stem"] for f in failures}  # their partial reports are linked above
    others = sorted(p for p in folder.glob("*.html")
                    if p.name != "index.html" and p.stem not in reported and p.stem not in failed)
    if others:
        parts.append("<h2>Other reports</h2><ul>")
        parts += [f"<li><a href='{esc(p.name)}'>{esc(p.stem)}</a></li>" for p in others]
        parts.append("</ul>")
    if not summaries and not others and not failures:
        parts.append("<p>No executed notebooks in this folder yet.</p>")
    index = folder / "index.html"
    atomic_write_text(index, "\n".join(parts))
    return index
