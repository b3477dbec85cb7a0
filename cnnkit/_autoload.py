"""Import every public submodule of a package and re-export its ``__all__``.

Used by ``cnnkit.blocks`` and ``cnnkit.models`` so that a new family module is picked up
(and its models registered) without editing a central list.
"""

from __future__ import annotations

import importlib
import pkgutil


def export_submodules(package_name: str, package_path, namespace: dict) -> list[str]:
    exported: list[str] = []
    for info in sorted(pkgutil.iter_modules(package_path), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package_name}.{info.name}")
        for attr in getattr(module, "__all__", ()):
            namespace[attr] = getattr(module, attr)
            exported.append(attr)
    return exported
