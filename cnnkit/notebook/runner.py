"""Execute notebooks with papermill and export them as HTML reports.

``run_notebook`` resolves a notebook's parameters (its ``parameters`` cell, then a preset,
then explicit overrides), rejects unknown names and wrong types *before* anything runs
(papermill itself only warns), executes the notebook and writes ``<out>/<stem>.ipynb`` and
``<out>/<stem>.html``. A failing cell raises :class:`NotebookError` naming the cell, its
error and the partial notebook; the partial notebook is exported to HTML too and the failure
recorded in ``<out>/<stem>.failed.json`` (removed when the notebook next succeeds), so that
``index.html`` lists it. :func:`check_data` finds a missing data set before a kernel starts.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnkit._atomic import atomic_write_text


FAILED_SUFFIX = ".failed.json"  # <out>/<stem>.failed.json: why the last run of a notebook stopped


class NotebookError(RuntimeError):
    """A cell failed; ``partial`` is the path of the partially executed notebook, ``cause`` the
    failing cell's error (``"<Type>: <message>"``)."""

    def __init__(self, message: str, partial: Path, cause: str = ""):
        super().__init__(message)
        self.partial = partial
        self.cause = cause


@dataclass(frozen=True)
class Parameter:
    """One entry of a notebook's ``parameters`` cell."""

    name: str
    default: Any
    type_name: str
    help: str = ""


# --- parameters --------------------------------------------------------------------------------

def _register_tuple_translator() -> None:
    """Teach papermill's Python translator tuples (it otherwise passes ``"(1, 2)"`` as a string)."""
    from papermill.translators import PythonTranslator, papermill_translators

    class _Translator(PythonTranslator):
        @classmethod
        def translate(cls, val):
            if isinstance(val, tuple):
                inner = ", ".join(cls.translate(v) for v in val)
                return f"({inner}{',' if len(val) == 1 else ''})"
            return super().translate(val)

    papermill_translators.register("python", _Translator)


def notebook_parameters(path: str | Path) -> dict[str, Parameter]:
    """The parameters a notebook declares in its cell tagged ``parameters``."""
    import papermill

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"notebook not found: {path}")
    out = {}
    for p in papermill.inspect_notebook(str(path)).values():
        try:
            default = ast.literal_eval(p["default"])
        except (ValueError, SyntaxError):
            default = p["default"]
        out[p["name"]] = Parameter(p["name"], default, p["inferred_type_name"], p.get("help", ""))
    if not out:
        raise ValueError(f"{path} has no cell tagged 'parameters' (tag one cell 'parameters' in Jupyter)")
    _check_all_parsed(path, out)
    return out


def _check_all_parsed(path: Path, parsed: dict) -> None:
    """papermill silently skips a parameter line with two '=' (e.g. in its comment): make that an error."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    for number, line in enumerate(cell.source.splitlines(), 1):
        name = line.split("=", 1)[0].split(":", 1)[0].strip()
        if "=" in line and not line.lstrip().startswith("#") and name.isidentifier() and name not in parsed:
            raise ValueError(f"{path.name}: papermill cannot parse line {number} of the parameters cell "
                             f"({line.strip()!r}); remove any '=' from its comment")


def parse_value(text: str) -> Any:
    """A ``-p NAME VALUE`` value: a Python literal (``3``, ``0.1``, ``[20, 56]``, ``None``) or a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        low = text.strip().lower()
        if low in ("true", "false"):
            return low == "true"
        return text


def coerce(name: str, value: Any, default: Any) -> Any:
    """Check ``value`` against the type of the notebook's default; return it converted.

    ints are accepted for floats; lists and tuples convert into each other; a ``None``
    default accepts anything. Raises ``ValueError`` naming the parameter and the expected type.
    """
    if default is None or value is None:
        return value
    expected = type(default)
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, (list, tuple)):
        ok = isinstance(value, (list, tuple))
        value = expected(value) if ok else value
    else:
        ok = isinstance(value, expected)
    if not ok:
        raise ValueError(f"parameter {name!r} expects {expected.__name__} (default {default!r}), "
                         f"got {type(value).__name__} {value!r}")
    return value


def resolve_parameters(path: str | Path, preset: str = "quick",
                       overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """What papermill injects: ``preset`` and the explicit ``overrides``, checked against the ``parameters`` cell.

    The preset's own values are applied inside the kernel by the study's ``setup``
    (:mod:`cnnkit.studies._spec`), so an explicit value wins even when it equals the default.
    Types must match the notebook's defaults; parameters named like a ``RunConfig`` field
    (``epochs``, ``dataset``, ``batch_size``, ...) must also pass that field's check.
    """
    from cnnkit.notebook.presets import PRESET_NAMES

    if preset not in PRESET_NAMES:
        raise ValueError(f"unknown preset {preset!r}; choose one of {list(PRESET_NAMES)}")
    declared = notebook_parameters(path)
    params = {"preset": preset, **(overrides or {})} if "preset" in declared else dict(overrides or {})
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for {Path(path).name}; "
                         f"valid parameters: {', '.join(sorted(declared))}")
    resolved = {k: coerce(k, v, declared[k].default) for k, v in params.items()}
    _check_run_config_fields(Path(path).name, resolved)
    return resolved


def _check_run_config_fields(notebook: str, params: dict[str, Any]) -> None:
    """A parameter named like a :class:`~cnnkit.train.config.RunConfig` field gets that field's range/name check.

    Each such parameter is checked alone (other fields at their defaults); only an error about
    that field counts, so combinations are left to the notebook. Catches ``-p epochs -1`` or
    ``-p dataset cifar11`` before a kernel starts.
    """
    import dataclasses

    if not set(params) - {"preset"}:  # nothing to check: the command need not import Keras (5 s a notebook)
        return
    from cnnkit.train.config import RunConfig

    fields = {f.name for f in dataclasses.fields(RunConfig)}
    for name in sorted(fields & set(params)):
        try:
            RunConfig.from_dict({name: params[name]})
        except ValueError as exc:
            if str(exc).startswith(f"RunConfig.{name}"):
                raise ValueError(f"parameter {name!r} of {notebook}: {exc}") from None


def check_data(path: str | Path, preset: str = "quick", overrides: dict[str, Any] | None = None,
               changes: dict[str, Any] | None = None) -> str | None:
    """Check that the data set a notebook will load is there, without loading it or starting a kernel.

    The data set is the notebook's ``dataset`` parameter from ``overrides``, else from ``changes``
    (what ``preset`` changes, :func:`cnnkit.studies.preset_changes`), else its default in the
    ``parameters`` cell; notebooks without that parameter need no files. Names that are not data
    sets are left to :func:`resolve_parameters`.

    Returns:
        Where the data set will come from (:func:`cnnkit.data.sources.check_available`), or None.

    Raises:
        FileNotFoundError: it is not on disk and ``CNNKIT_OFFLINE=1``; the data layer's message,
            naming the data set and every place searched, after the notebook's name.
    """
    from cnnkit.data.sources import available, check_available

    declared = notebook_parameters(path)
    if "dataset" not in declared:
        return None
    params = {**(changes or {}), **(overrides or {})}
    name = params.get("dataset", declared["dataset"].default)
    if not isinstance(name, str) or name not in available():
        return None
    try:
        return check_available(name)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{Path(path).name} (dataset={name!r}, preset {preset}): {exc}\nOr choose another "
                                "data set, e.g. -p dataset fashion_mnist (embedded in the repository).") from None


# --- execution and export ----------------------------------------------------------------------

def export_html(executed: str | Path, html_path: str | Path | None = None, *, code: str = "fold") -> Path:
    """Export an executed notebook to a self-contained HTML file (images embedded).

    Args:
        executed: the executed ``.ipynb``.
        html_path: where to write (default: beside it, ``.html``).
        code: ``"show"``, ``"fold"`` (each code cell in a collapsed ``<details>``) or ``"hide"``.
    """
    import nbformat
    from nbconvert import HTMLExporter

    from cnnkit.ablation.progress import strip_progress

    if code not in ("show", "fold", "hide"):
        raise ValueError(f"code must be 'show', 'fold' or 'hide', got {code!r}")
    executed = Path(executed)
    html_path = Path(html_path) if html_path else executed.with_suffix(".html")
    exporter = HTMLExporter(template_name="cnnkit", embed_images=True, exclude_input=code == "hide",
                            extra_template_basedirs=[str(Path(__file__).parent / "templates")])
    nb = nbformat.read(executed, as_version=4)
    strip_progress(nb)  # progress bars a run by plain papermill or Jupyter left in the cells
    body, _ = exporter.from_notebook_node(nb, resources={"cnnkit_fold_code": code == "fold"})
    atomic_write_text(html_path, body)
    return html_path


def run_notebook(path: str | Path, *, preset: str = "quick", parameters: dict[str, Any] | None = None,
                 out_dir: str | Path = "reports", cell_timeout: int | None = None, code: str = "fold",
                 progress: bool = True, kernel_name: str = "python3", changes: dict[str, Any] | None = None) -> Path:
    """Execute one notebook and export it; returns the HTML report's path.

    The notebook runs with its working directory set to ``out_dir`` and receives
    ``out_dir`` (absolute) if it declares a parameter of that name, so its result store and
    summary land beside the report. Papermill injects ``preset`` and the explicit ``parameters``
    only; the kernel applies the preset (``changes``, what it changes, serves the data check).

    Raises:
        ValueError: bad parameters (before a kernel starts).
        FileNotFoundError: the notebook or its data set is missing (:func:`check_data`, before a kernel starts).
        NotebookError: a cell failed, timed out or killed the kernel; the partial notebook is exported
            to ``<stem>.html`` and the failure recorded in ``<stem>.failed.json``.
        NotebookInterrupted: Ctrl-C (SIGINT) interrupted the kernel (:mod:`cnnkit.notebook.interrupts`);
            the kernel and its workers have ended, finished runs are kept.
    """
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    from cnnkit._console import KERNEL_ARGUMENTS, kernel_environment
    from cnnkit.notebook.interrupts import interruptible

    path = Path(path)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    declared = notebook_parameters(path)
    params = resolve_parameters(path, preset, parameters)
    check_data(path, preset, parameters, changes)
    if "out_dir" in declared and "out_dir" not in (parameters or {}):
        params["out_dir"] = str(out_dir)
    executed = out_dir / f"{path.stem}.ipynb"
    _register_tuple_translator()
    try:
        # quiet TensorFlow; epoch lines and progress to the terminal, not the report; Ctrl-C interrupts the kernel
        with kernel_environment(progress), interruptible(path, out_dir) as control:
            papermill.execute_notebook(str(path), str(executed), parameters=params, progress_bar=progress,
                                       kernel_name=kernel_name, cwd=str(out_dir), execution_timeout=cell_timeout,
                                       extra_arguments=list(KERNEL_ARGUMENTS), **control)
    except PapermillExecutionError as exc:
        _failed(path, executed, f"cell {exc.exec_count}", f"{exc.ename}: {exc.evalue}", code)
    except (CellTimeoutError, DeadKernelError) as exc:
        _failed(path, executed, "a cell", f"{type(exc).__name__}: {exc}", code)
    failure = out_dir / f"{path.stem}{FAILED_SUFFIX}"
    html = export_html(executed, code=code)
    failure.unlink(missing_ok=True)
    return html


def _failed(path: Path, executed: Path, where: str, cause: str, code: str) -> None:
    """Export the partial notebook, record the failure beside it and raise :class:`NotebookError`."""
    import datetime
    import json

    html = None
    if executed.is_file():
        try:
            html = export_html(executed, code=code)
        except Exception:  # noqa: BLE001 - the cell's error is what to report; its partial HTML is a bonus
            html = None
    record = {"notebook": path.name, "stem": path.stem, "where": where, "cause": cause,
              "first_line": next((line for line in cause.splitlines() if line.strip()), cause),
              "partial_notebook": executed.name if executed.is_file() else None,
              "partial_html": html.name if html else None,
              "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    atomic_write_text(executed.with_name(f"{path.stem}{FAILED_SUFFIX}"), json.dumps(record, indent=2))
    partial = f"partial report: {html}" if html else f"partial notebook: {executed}"
    raise NotebookError(f"{path.name}: {where} failed: {cause}\n{partial}", executed, cause) from None
