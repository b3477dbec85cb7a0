"""Notebooks use cnnkit's public names only: a private name (``_``-prefixed module or object) is no API."""

import re

import nbformat
import pytest

from cnnkit.notebook import numbered_notebooks

PRIVATE = re.compile(r"(?:from\s+cnnkit[\w.]*\._\w+\s+import|from\s+cnnkit[\w.]*\s+import\s+[^\n]*\b_\w+|"
                     r"\bcnnkit(?:\.\w+)*\._\w+)")


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's per-test ``clear_session``: nothing here builds a model."""
    yield


def test_the_pattern_catches_private_imports():
    assert PRIVATE.search("from cnnkit.studies._common import data_shape")
    assert PRIVATE.search("from cnnkit.studies import _helper")
    assert not PRIVATE.search("from cnnkit.studies import data_shape, depth")


@pytest.mark.parametrize("path", numbered_notebooks(), ids=lambda p: p.stem)
def test_notebook_imports_no_private_name(path):
    nb = nbformat.read(path, as_version=4)
    bad = [line for cell in nb.cells if cell.cell_type == "code" for line in cell.source.splitlines()
           if PRIVATE.search(line)]
    assert not bad, f"{path.name} uses private cnnkit names: {bad}"
