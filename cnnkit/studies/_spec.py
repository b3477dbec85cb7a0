"""One study, one place: a notebook's parameters, presets and claims declared once, in its study module.

A study module backs one numbered notebook and declares::

    NOTEBOOK = "01_depth_degradation"

    @dataclass(frozen=True)
    class Params(StudyParams):
        dataset: str = "fashion_mnist"  # the paper: "cifar10"
        depths: tuple[int, ...] = (20, 56)  # two 6n+2 depths, shallow first

    PRESETS = {"smoke": {...}, "long": {...}, "paper": {...}}  # only what each changes
    WORKERS = 2  # training processes of the notebook's grid (None: the notebook trains nothing)

* ``Params``' defaults *are* the quick preset; the comment after each field is its help text
  (``papermill --help-notebook`` shows it, ``cnnkit notebooks --sync`` renders it into the cell);
* a preset lists only what it changes; :data:`COMMON` holds what every training study's smoke
  and paper presets share (applied only to the fields a study has);
* overrides come in one way, checked by name and type: ``cnnkit run -p``, papermill's ``-p`` and
  an edit in Jupyter all reach :meth:`StudyParams.replace`, which names a bad value, what is allowed
  and the closest valid name. An explicit value wins over the preset even when it equals the default.

The notebook's parameters cell is :func:`render_cell` of its study, written by
``cnnkit notebooks --sync``; a test fails when the two differ.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import importlib
import inspect
import io
import pkgutil
import tokenize
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["COMMON", "NOTEBOOK_FIELDS", "PRESET_NAMES", "StudyParams", "explicit_names", "find_study",
           "notebook_studies", "preset_changes", "preset_for_notebook", "render_cell", "resolve", "setup",
           "sync_notebooks"]

from cnnkit.notebook.presets import PRESET_NAMES

# What the training studies share per preset, applied to the fields a study declares (its own PRESETS win).
COMMON: dict[str, dict[str, Any]] = {
    # 256 examples per split in batches of 32, one seed: every code path in seconds, no verdict.
    "smoke": {"subset": 256, "eval_subset": None, "epochs": 1, "seeds": (0,), "batch_size": 32},
    "quick": {},
    "long": {},
    # Full data, the papers' batch of 128, 5 seeds (a GPU job).
    "paper": {"subset": None, "eval_subset": None, "seeds": (0, 1, 2, 3, 4), "batch_size": 128},
}
# Settings of the notebook itself, not of the study: (default, help) — and per preset, the workers.
NOTEBOOK_FIELDS = {
    "preset": ("quick", "smoke, quick, long or paper: the study's PRESETS change only what they list"),
    "workers": (2, "training processes sharing the CPUs (1: train inside this kernel)"),
    "out_dir": (".", "results, figures, summary; \".\": reports/ at the repository root (cnnkit run --out sets it)"),
}
WORKERS_BY_PRESET = {"smoke": 1, "paper": 1}  # tiny runs train fastest in the kernel; a GPU job in one process


@dataclass(frozen=True)
class StudyParams:
    """Base of a study's ``Params``: a frozen dataclass whose defaults are the quick preset.

    Values are checked against the field's annotation when the object is made: ints are
    accepted for floats, lists for tuples (and stored as tuples), ``None`` only where the
    annotation allows it.
    """

    def __post_init__(self):
        hints = _hints(type(self))
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _checked(type(self), f.name, getattr(self, f.name), hints[f.name]))

    @classmethod
    def names(cls) -> list[str]:
        """The parameter names, in declaration order."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def help(cls) -> dict[str, str]:
        """Each field's comment in the class body (its help text)."""
        return _comments(cls)

    def replace(self, **changes: Any) -> StudyParams:
        """A copy with ``changes``; an unknown name is a ``ValueError`` with the closest valid name."""
        unknown = [k for k in changes if k not in self.names()]
        if unknown:
            raise ValueError(_unknown_message(type(self), unknown))
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """The values by name (tuples kept), e.g. for the run summary."""
        return {name: getattr(self, name) for name in self.names()}


def _unknown_message(cls: type, unknown: list[str]) -> str:
    hints = [f"{u!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(u, cls.names(), 1)) else repr(u)
             for u in unknown]
    return (f"unknown parameter(s) {', '.join(hints)} for {cls.__module__}.{cls.__qualname__}; "
            f"valid parameters: {', '.join(cls.names())}")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _checked(cls: type, name: str, value: Any, hint: Any) -> Any:
    """``value`` converted to ``hint`` (list → tuple, int → float), or a ValueError naming the field."""
    ok, converted = _convert(value, hint)
    if not ok:
        default = next(f.default for f in dataclasses.fields(cls) if f.name == name)
        raise ValueError(f"parameter {name!r} of {cls.__module__} expects {_type_text(hint)} "
                         f"(default {default!r}), got {type(value).__name__} {value!r}")
    return converted


def _convert(value: Any, hint: Any) -> tuple[bool, Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True, value
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        for arg in args:
            ok, out = _convert(value, arg)
            if ok:
                return True, out
        return False, value
    if hint is type(None):
        return value is None, value
    if hint is bool:
        return isinstance(value, bool), value
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if hint is str:
        return isinstance(value, str), value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            return False, value
        item = args[0] if len(args) == 2 and args[1] is Ellipsis else Any
        converted = [_convert(v, item) for v in value]
        return all(ok for ok, _ in converted), tuple(v for _, v in converted)
    if origin is dict or hint is dict:
        return isinstance(value, Mapping), dict(value) if isinstance(value, Mapping) else value
    return isinstance(value, hint), value


def _type_text(hint: Any) -> str:
    return getattr(hint, "__name__", None) if not typing.get_args(hint) else str(hint).replace("typing.", "")


@cache
def _comments(cls: type) -> dict[str, str]:
    """The trailing comments of each field of ``cls`` (read from its source)."""
    source = inspect.getsource(cls)
    lines = source.splitlines()
    tree = ast.parse(inspect.cleandoc(source) if source.startswith((" ", "\t")) else source)
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    out = {}
    for node in tree.body[0].body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            text = [comments[n] for n in range(node.lineno, node.end_lineno + 1) if n in comments]
            # a comment on the lines just after a multi-line field continues it
            n = node.end_lineno + 1
            while n in comments and n <= len(lines) and lines[n - 1].lstrip().startswith("#"):
                text.append(comments[n])
                n += 1
            out[node.target.id] = " ".join(text)
    return out


# --- the studies and their notebooks -------------------------------------------------------------

@cache
def notebook_studies() -> dict[str, ModuleType]:
    """Every study module that backs a notebook, by the notebook's stem (``NOTEBOOK``)."""
    import cnnkit.studies as package

    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"cnnkit.studies.{info.name}")
        stem = getattr(module, "NOTEBOOK", None)
        if stem:
            if stem in found:
                raise RuntimeError(f"notebook {stem!r} is backed by two studies: {found[stem].__name__} "
                                   f"and {module.__name__}")
            found[stem] = module
    return found


def find_study(stem: str) -> ModuleType | None:
    """The study module behind notebook ``stem`` (e.g. ``"01_depth_degradation"``), or None."""
    return notebook_studies().get(Path(stem).stem)


def _check_preset(preset: Any) -> str:
    if preset not in PRESET_NAMES:
        raise ValueError(f"unknown preset {preset!r}; choose one of {list(PRESET_NAMES)} "
                         "(e.g. --preset quick, or preset = \"quick\" in the parameters cell)")
    return preset


def preset_changes(study: ModuleType, preset: str) -> dict[str, Any]:
    """What ``preset`` changes for ``study``: :data:`COMMON` (for the fields it has), then its own ``PRESETS``."""
    names = set(study.Params.names())
    common = {k: v for k, v in COMMON[_check_preset(preset)].items() if k in names}
    return {**common, **getattr(study, "PRESETS", {}).get(preset, {})}


def resolve(study: ModuleType, preset: str = "quick", explicit: Mapping[str, Any] | None = None) -> StudyParams:
    """``Params()`` with ``preset``'s changes, then the ``explicit`` values (which always win), checked."""
    return study.Params().replace(**preset_changes(study, preset)).replace(**dict(explicit or {}))


def notebook_defaults(study: ModuleType) -> dict[str, Any]:
    """The notebook's own settings (preset, workers if it trains, out_dir) with their defaults."""
    keep = [n for n in NOTEBOOK_FIELDS if n != "workers" or getattr(study, "WORKERS", None)]
    values = {n: NOTEBOOK_FIELDS[n][0] for n in keep}
    if "workers" in values:
        values["workers"] = study.WORKERS
    return values


def render_cell(study: ModuleType) -> str:
    """The notebook's ``parameters`` cell: the notebook settings and every field of ``Params()`` with its comment."""
    defaults = notebook_defaults(study)
    params = study.Params()
    helps = study.Params.help()
    entries = [("preset", defaults["preset"], NOTEBOOK_FIELDS["preset"][1])]
    entries += [(n, getattr(params, n), helps.get(n, "")) for n in params.names()]
    entries += [(n, defaults[n], NOTEBOOK_FIELDS[n][1]) for n in ("workers", "out_dir") if n in defaults]
    left = [f"{name} = {_literal(value)}" for name, value, _ in entries]
    width = min(max(map(len, left)) + 2, 40)
    lines = [f"{code:<{max(width, len(code) + 2)}}# {text}" if text else code for code, (_, _, text) in zip(left, entries)]
    return "\n".join(lines)


def _literal(value: Any) -> str:
    """A Python literal papermill reads back to the same value (tuples keep their form, strings in double quotes)."""
    if isinstance(value, str):
        text = '"' + repr(value)[1:-1].replace('"', '\\"') + '"' if "'" not in value else repr(value)
    elif isinstance(value, tuple):
        text = "(" + ", ".join(map(_literal, value)) + ("," if len(value) == 1 else "") + ")"
    elif isinstance(value, list):
        text = "[" + ", ".join(map(_literal, value)) + "]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    else:
        text = repr(value)
    if ast.literal_eval(text) != value:  # every default must be a literal that reads back as itself
        raise ValueError(f"{value!r} is not a Python literal; a parameter's default must be one")
    return text


# --- inside the notebook kernel -------------------------------------------------------------------

def explicit_names(namespace: Mapping[str, Any]) -> set[str]:
    """Names papermill injected (its ``# Parameters`` cell, the last one run in this kernel's ``In``)."""
    for source in reversed(list(namespace.get("In", []) or [])):
        if isinstance(source, str) and source.lstrip().startswith("# Parameters"):
            try:
                tree = ast.parse(source)
            except SyntaxError:
                return set()
            return {t.id for node in tree.body if isinstance(node, ast.Assign)
                    for t in node.targets if isinstance(t, ast.Name)}
    return set()


def setup(study: ModuleType, namespace: dict[str, Any]) -> StudyParams:
    """Resolve the study's parameters in a notebook's ``namespace`` (its ``globals()``) and return them.

    The preset named by ``preset`` changes what it lists; a value given explicitly wins: one
    papermill injected (``cnnkit run -p`` or ``papermill -p``), or one edited in the parameters cell
    (it differs from ``Params()``). The resolved values are written back into ``namespace``, ``out_dir``
    ``"."`` becomes ``reports/`` (:func:`cnnkit.notebook.results_dir`), and
    :func:`cnnkit.notebook.write_summary` records them.

    Raises:
        ValueError: an unknown preset, or a value of the wrong type for its parameter.
    """
    from cnnkit.notebook.params import remember, results_dir

    defaults = study.Params()
    injected = explicit_names(namespace)
    preset = _check_preset(namespace.get("preset", "quick"))
    explicit = {n: namespace[n] for n in defaults.names()
                if n in namespace and (n in injected or _differs(namespace[n], getattr(defaults, n)))}
    params = resolve(study, preset, explicit)
    namespace.update(params.as_dict())
    if "workers" in namespace and "workers" not in injected and namespace["workers"] == study.WORKERS:
        namespace["workers"] = WORKERS_BY_PRESET.get(preset, study.WORKERS)
    if namespace.get("out_dir", ".") in (".", ""):
        namespace["out_dir"] = str(results_dir())
    Path(namespace["out_dir"]).mkdir(parents=True, exist_ok=True)
    remember(study.NOTEBOOK, {"preset": preset, **params.as_dict(),
                              **({"workers": namespace["workers"]} if "workers" in namespace else {})})
    return params


def _differs(value: Any, default: Any) -> bool:
    if isinstance(value, (list, tuple)) and isinstance(default, (list, tuple)):
        return list(value) != list(default)
    return value != default or type(value) is not type(default) and not (
        isinstance(value, (int, float)) and isinstance(default, (int, float)))


# --- before the kernel starts, and the notebooks' parameters cells -------------------------------

def preset_for_notebook(path: str | Path, preset: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check ``overrides`` against the study behind notebook ``path`` and return what ``preset`` changes.

    Notebooks without a study return ``{}`` (the runner still checks names and types against the cell).

    Raises:
        ValueError: an unknown preset, an unknown parameter (with the closest name) or a wrong type.
    """
    own = {k: v for k, v in dict(overrides or {}).items() if k not in NOTEBOOK_FIELDS}
    if _check_preset(preset) == "quick" and not own:  # Params() is the quick preset: no study (nor Keras) to import
        return {}
    study = find_study(Path(path).stem)
    if study is None:
        return {}
    resolve(study, preset, own)
    return preset_changes(study, preset)


def sync_notebooks(folder: str | Path | None = None, *, check: bool = False) -> list[Path]:
    """Write each notebook's ``parameters`` cell from its study (:func:`render_cell`); return those that differed.

    With ``check=True`` nothing is written (the test and ``cnnkit notebooks --sync --check`` use it).
    """
    import nbformat

    from cnnkit._atomic import atomic_write_text
    from cnnkit.notebook import NOTEBOOK_DIR

    folder = Path(folder or NOTEBOOK_DIR)
    changed = []
    for stem, study in sorted(notebook_studies().items()):
        path = folder / f"{stem}.ipynb"
        if not path.is_file():
            raise FileNotFoundError(f"{study.__name__} names NOTEBOOK {stem!r}, but {path} does not exist; "
                                    "create the notebook (a cell tagged 'parameters', then the study's calls)")
        nb = nbformat.read(path, as_version=4)
        cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
        if cell is None:
            raise ValueError(f"{path} has no cell tagged 'parameters'; tag the first code cell 'parameters'")
        text = render_cell(study)
        if cell.source != text:
            changed.append(path)
            if not check:
                cell.source = text
                atomic_write_text(path, nbformat.writes(nb) + "\n")
    return changed
