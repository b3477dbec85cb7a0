"""A grid's live progress: runs done / total, the runs training now with their epoch, elapsed and time left.

One tqdm bar, shown where the user looks and never in a report (:func:`cnnkit._console.progress_mode`):

* a notebook kernel of ``cnnkit run`` (``CNNKIT_PROGRESS=terminal``): on the terminal behind the kernel,
  when it is one (:class:`~cnnkit._console.TerminalStream`); the bar takes the line of papermill's
  per-cell bar while the grid runs and gives it back when the grid ends;
* an interactive Jupyter session: ``tqdm.auto`` in the grid cell (a widget where ipywidgets is
  installed); the bar is removed when the grid ends, and :func:`strip_progress` drops any bar an
  exported report would otherwise keep;
* ``CNNKIT_PROGRESS=off`` (``cnnkit run --no-progress``), ``run_experiment(progress=False)`` and
  scripts (which print a line per epoch and per run): no bar.

Worker processes print nothing (a notebook kernel's workers write into the cell's output); the bar
reads how far each run is from the store, as any runner could: a run with a claim file is training,
the rows of its ``history.csv`` are its finished epochs. So it works for every executor.
"""

from __future__ import annotations

import importlib.util
import os
import re
import threading
from typing import Any, Iterable

from cnnkit import _console

__all__ = ["GridProgress", "strip_progress"]

# depth: runs 3/16  31%|###8        | 01:02<02:18, now plain-56 seed 1 epoch 4/12; resnet-20 seed 2 epoch 9/12
_FORMAT = "{desc} {percentage:3.0f}%|{bar:12}| {elapsed}<{remaining}{postfix}"


def _epochs(spec) -> int:
    """The epochs a run trains (its config's, else RunConfig's default), at least 1."""
    epochs = spec.config.get("epochs")
    if not isinstance(epochs, int) or isinstance(epochs, bool):
        try:
            from cnnkit.ablation.experiment import run_config_class

            epochs = run_config_class().from_dict(spec.config).epochs
        except Exception:  # noqa: BLE001 - an invalid config fails in its run, not in its progress bar
            epochs = 1
    return max(1, int(epochs))


def _rows(path) -> int:
    """Data rows of a CSV log (0 when it does not exist)."""
    try:
        with open(path, "rb") as fh:
            return max(0, fh.read().count(b"\n") - 1)
    except OSError:
        return 0


def _bar_class(mode: str):
    if mode == "notebook" and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm  # the widget
    else:
        from tqdm.std import tqdm  # text: the terminal, or a cell's stderr where ipywidgets is missing
    return tqdm


class GridProgress:
    """The live bar of one :func:`~cnnkit.ablation.run_experiment` call (a no-op where there is none to show).

    ``run_experiment`` tells it which runs it skips (:meth:`skipped`) and which finish
    (:meth:`finished`); a background thread reads the store every ``interval`` seconds for the
    runs in between. Use as a context manager; :meth:`start` draws the bar (once).
    """

    def __init__(self, store, specs: Iterable, *, enabled: bool = True, interval: float = 1.0,
                 mode: str | None = None, file: Any = None):
        self.store, self.interval = store, interval
        self.specs = {s.run_id: s for s in specs}
        self.epochs = {run_id: _epochs(s) for run_id, s in self.specs.items()}
        self.done: set[str] = set()
        self.mode = "off" if not enabled else (mode or _console.progress_mode())
        self.file = file
        self.bar = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- what run_experiment reports ----------------------------------------------------------
    def skipped(self, run_id: str) -> None:
        """A run that was finished before this call (counted as done, not as progress made now)."""
        self.done.add(run_id)

    def finished(self, run_id: str) -> None:
        """A run that ended in this call (done, diverged or failed)."""
        self.done.add(run_id)
        self.update()

    # -- drawing ------------------------------------------------------------------------------
    def _file(self):
        if self.file is not None:
            return self.file
        if self.mode == "terminal":
            stream = _console.TerminalStream()
            return stream if stream.isatty() else None
        if self.mode == "notebook":
            import sys

            return sys.stderr
        return None

    def start(self) -> "GridProgress":
        """Draw the bar and start reading the store (nothing where the mode shows no bar)."""
        if self.bar is not None or self.mode not in ("terminal", "notebook") or len(self.done) == len(self.specs):
            return self
        file = self._file()
        if file is None:
            return self
        n, _, _ = self._measure()
        tqdm = _bar_class(self.mode)
        options = {"file": file} if tqdm.__module__ == "tqdm.std" else {}
        self.bar = tqdm(total=sum(self.epochs.values()), initial=n, desc=self._desc(), bar_format=_FORMAT,
                        leave=False, smoothing=0, dynamic_ncols=self.mode == "terminal", **options)
        self.update()
        if self.mode == "terminal":
            _console.set_live_bar(self.bar)
        self._thread = threading.Thread(target=self._poll, name="cnnkit-grid-progress", daemon=True)
        self._thread.start()
        return self

    def _measure(self) -> tuple[int, int, list[str]]:
        """(epochs done, runs done, what trains now) from the store."""
        try:  # claims/<run_id>.<generation>.claim: a runner trains it (or has just died; the next poll says)
            claimed = {name.rsplit(".", 2)[0] for name in os.listdir(self.store.claims_dir) if name.endswith(".claim")}
        except OSError:
            claimed = set()
        epochs, training = 0, []
        for run_id, total in self.epochs.items():
            if run_id in self.done:
                epochs += total
                continue
            rows = min(_rows(self.store.work_dir(run_id) / "history.csv"), total)
            epochs += rows
            if run_id in claimed:
                spec = self.specs[run_id]
                training.append(f"{spec.variant} seed {spec.seed} epoch {min(rows + 1, total)}/{total}")
        return epochs, len(self.done), training

    def update(self) -> None:
        bar = self.bar
        if bar is None:
            return
        n, runs, training = self._measure()
        with bar.get_lock():
            bar.n = n
            bar.initial = min(bar.initial, n)  # a resumed run's log drops the epochs its backup lacks: no negative rate
            bar.set_description_str(self._desc(runs), refresh=False)
            bar.set_postfix_str(f"now {'; '.join(training)}" if training else "", refresh=False)
        bar.refresh()

    def _desc(self, runs: int | None = None) -> str:
        return f"{self.store.name}: runs {len(self.done) if runs is None else runs}/{len(self.specs)}"

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.update()
            except Exception:  # noqa: BLE001 - a bar that cannot draw must not stop the grid
                return

    def close(self) -> None:
        """Stop reading the store and remove the bar (it leaves no line behind)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.bar is not None:
            _console.set_live_bar(None, self.bar)
            self.bar.close()
            self.bar = None

    def __enter__(self) -> "GridProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- reports: no progress bars -----------------------------------------------------------------

_WIDGET = "application/vnd.jupyter.widget-view+json"
_BAR_TEXT = re.compile(r"\d+%\|[^|\n]*\|")  # tqdm's " 40%|####      | 4/10 [...]"


def _without_bars(text: str) -> str:
    """A stream's text less tqdm's bar states (each drawn over the last after a carriage return): of each line,
    what is left to see once the bars are gone."""
    lines = []
    for line in text.split("\n"):
        parts = [p for p in line.split("\r") if p.strip() and not _BAR_TEXT.search(p)]
        if parts or not line:
            lines.append(parts[-1] if parts else "")
    return "\n".join(lines)


def strip_progress(nb) -> int:
    """Remove progress bars from an executed notebook (in place): tqdm widgets and bar text in stderr
    streams, e.g. left by a notebook run with plain papermill. Returns how many outputs changed."""
    changed = 0
    for cell in nb.get("cells", []):
        kept = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if _WIDGET in data and _BAR_TEXT.search(str(data.get("text/plain", ""))):
                changed += 1
                continue
            if out.get("output_type") == "stream" and out.get("name") == "stderr" and _BAR_TEXT.search(out.get("text", "")):
                changed += 1
                out["text"] = _without_bars(out["text"])
                if not out["text"].strip():
                    continue
            kept.append(out)
        if "outputs" in cell:
            cell["outputs"] = kept
    widgets_left = any(_WIDGET in out.get("data", {}) for c in nb.get("cells", []) for out in c.get("outputs", []))
    if changed and not widgets_left:
        nb.get("metadata", {}).pop("widgets", None)
    return changed
