"""The package's shape: imports run downhill, and no module grows past a size a reader can hold.

The layers, lowest first (a module may import its own layer and those below it):
helpers (``_atomic``, ``_console``, ``_autoload``, ``reference``) ← ``layers`` ← ``blocks``/``stats``
← ``models`` ← ``data`` ← ``train`` ← ``ablation`` ← ``notebook`` ← ``studies``/``teach`` ← ``cli``.
Imports are read with :mod:`ast`, so an import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cnnkit"
MAX_LINES = 500

RANKS = {
    "cnnkit._atomic": 0, "cnnkit._console": 0, "cnnkit._autoload": 0, "cnnkit.reference": 0,
    "cnnkit": 0,    # the package root (``__version__``): it loads its subpackages on first use, not on import
    "cnnkit.layers": 1,
    "cnnkit.blocks": 2, "cnnkit.stats": 2,
    "cnnkit.models": 3,
    "cnnkit.data": 4,
    "cnnkit.train": 5,
    "cnnkit.ablation": 6,
    "cnnkit.notebook": 7,
    "cnnkit.studies": 8, "cnnkit.teach": 8,
    "cnnkit.cli": 9, "cnnkit.__main__": 9,
}
# (importer, imported) pairs that run up and are known; each names why it is still here.
KNOWN_UPWARD: set = set()  # (importer, imported) pairs allowed to run up a layer: none


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (PACKAGE.parent / rel).with_suffix(".py").is_file() or (PACKAGE.parent / rel / "__init__.py").is_file()


def _imports(path: Path) -> list[tuple[str, int]]:
    """The cnnkit modules ``path`` imports (``from pkg import mod`` counts as ``pkg.mod``), with line numbers."""
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for a in node.names:
                full = f"{base}.{a.name}"
                found.append((full if _is_module(full) else base, node.lineno))
    return [(name, line) for name, line in found if name == "cnnkit" or name.startswith("cnnkit.")]


def _rank(name: str) -> int | None:
    """The layer of module ``name`` (that of its nearest listed package), ``None`` if none is listed."""
    while name and name not in RANKS:
        name = name.rpartition(".")[0]
    return RANKS.get(name)


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    unlisted = [_module_name(path) for path in _modules() if _rank(_module_name(path)) is None]
    assert not unlisted, f"modules in no layer (add them to RANKS): {unlisted}"


def test_no_import_runs_up_a_layer():
    upward = []
    for path in _modules():
        me = _module_name(path)
        for name, line in _imports(path):
            if _rank(name) > _rank(me) and (me, name) not in KNOWN_UPWARD:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} {me} -> {name}")
    assert not upward, "imports that run up a layer:\n" + "\n".join(upward)


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    fake = tmp_path / "cnnkit" / "layers"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("from cnnkit.models import build\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "cnnkit")
    assert _imports(fake / "bad.py") == [("cnnkit.models", 1)]
    assert _rank("cnnkit.models") > _rank(_module_name(fake / "bad.py"))


def test_no_module_exceeds_500_lines():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them by concern): {long}"


def _private_imports(path: Path) -> list[str]:
    """``from cnnkit.x import _name`` where ``_name`` is not a module: a private name used across modules."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cnnkit"):
            for a in node.names:
                if a.name.startswith("_") and not a.name.startswith("__") and not _is_module(f"{node.module}.{a.name}"):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.module}.{a.name}")
    return found


def test_no_private_name_is_imported_across_modules():
    found = [hit for path in _modules() for hit in _private_imports(path)]
    assert not found, "private names imported from another module (make them public or move them):\n" + "\n".join(found)


def test_the_check_sees_a_private_import(tmp_path, monkeypatch):
    fake = tmp_path / "cnnkit" / "notebook"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("from cnnkit.notebook.runner import _secret\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "cnnkit")
    assert _private_imports(fake / "bad.py") == ["cnnkit/notebook/bad.py:1 cnnkit.notebook.runner._secret"]


def test_the_old_config_path_is_gone():
    assert not (PACKAGE / "config.py").exists(), "cnnkit.config was renamed cnnkit.train.config"
    users = [f"{p.relative_to(PACKAGE.parent)}:{line}" for p in _modules() for name, line in _imports(p)
             if name == "cnnkit.config"]
    assert not users, f"imports of the removed cnnkit.config: {users}"
