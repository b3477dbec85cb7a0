"""Guard: every test function can fail. An AST scan of tests/: each ``def test_*`` holds an ``assert``,
a ``pytest.raises``/``pytest.warns``, or a call to a helper named ``assert*``/``check*``/``expect*``
(``np.testing.assert_allclose``, ``_check_stores``; whole words: ``expected_ids`` is no checker); and
each such helper defined in tests/ obeys the same rule, so a helper cannot pass a test by checking nothing."""

import ast
import re
from pathlib import Path

TESTS = Path(__file__).parent
HELPER = re.compile(r"_?(assert|check|expect)([_A-Z]|$)")  # assert_close, assertEqual, check; not expected_ids
RAISES = {"raises", "warns"}


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def asserts(fn: ast.FunctionDef) -> bool:
    """Whether ``fn``'s body (nested functions included) asserts, expects an exception or calls a checker."""
    for node in ast.walk(fn):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            name = _called_name(node)
            if name in RAISES or HELPER.match(name):
                return True
    return False


def functions() -> list[tuple[str, ast.FunctionDef]]:
    out = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.append((f"{path.relative_to(TESTS)}:{node.lineno} {node.name}", node))
    return out


def test_the_scan_tells_asserting_from_silent_functions():
    tree = ast.parse("def test_a():\n    x = 1\n"
                     "def test_b():\n    assert 1\n"
                     "def test_c():\n    with pytest.raises(ValueError):\n        f()\n"
                     "def test_d():\n    np.testing.assert_allclose(1, 1)\n"
                     "def test_e():\n    _check_stores(1)\n"
                     "def test_f():\n    expected_ids()\n")
    verdicts = {fn.name: asserts(fn) for fn in tree.body}
    assert verdicts == {"test_a": False, "test_b": True, "test_c": True, "test_d": True, "test_e": True,
                        "test_f": False}


def test_every_test_function_asserts():
    silent = [where for where, fn in functions() if fn.name.startswith("test") and not asserts(fn)]
    assert not silent, f"test functions that assert nothing (add an assert or pytest.raises): {silent}"


def test_every_checking_helper_asserts():
    silent = [where for where, fn in functions() if HELPER.match(fn.name) and not asserts(fn)]
    assert not silent, f"helpers named assert*/check*/expect* that check nothing: {silent}"
