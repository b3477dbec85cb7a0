"""Every bad input of tests/hostile_cases.py gives one clear error, loses nothing, and is in the docs.

API cases must raise the expected error type with a message naming the bad value and what is
allowed; CLI cases (``cnnkit.cli.main`` in process, one in a subprocess) must exit non-zero
without a Python traceback. A "warning" case must go on and print a warning naming the cause; a
recovery case (error None) must succeed. Files that existed before a case (a results store, data
files) must be byte-for-byte unchanged after it, except those the case rewrites on purpose.
"""

import os
import subprocess
import sys

import pytest

from hostile_cases import CASES, DOC, NOTEBOOK, REPO, perform


def _snapshot(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _type_ok(error, expected) -> bool:
    if isinstance(expected, str):
        return expected in [t.__name__ for t in type(error).__mro__]
    return isinstance(error, expected)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gives_one_clear_error_and_loses_nothing(case, tmp_path):
    if case.setup:
        case.setup(tmp_path)
    before = _snapshot(tmp_path)
    outcome = perform(case, tmp_path, setup=False)
    if case.cli:
        assert outcome.exit_code == case.exit_code, outcome.stderr
        assert "Traceback (most recent call last)" not in outcome.stderr, outcome.stderr
    elif case.error in ("warning", None):  # goes on (with a warning) or recovers
        assert outcome.error is None, f"{case.input} raised {outcome.error!r}"
        assert ("warning:" in outcome.output) == (case.error == "warning"), outcome.output
    else:
        assert outcome.error is not None, f"{case.input} raised nothing"
        if type(outcome.error).__name__ == "_Reported":  # fit reports errors as RunResult(status="failed")
            assert outcome.message.startswith(f"{case.error.__name__}: "), outcome.message
        else:
            assert _type_ok(outcome.error, case.error), repr(outcome.error)
    missing = [m for m in case.mentions if m not in outcome.message]
    assert not missing, f"message lacks {missing}:\n{outcome.message}"
    after = _snapshot(tmp_path)
    changed = [str(p.relative_to(tmp_path)) for p, data in before.items()
               if after.get(p) != data and str(p.relative_to(tmp_path)) not in case.may_change]
    assert not changed, f"{case.input} changed or deleted {changed}"


def test_docs_list_every_case():
    text = DOC.read_text()
    absent = [c.id for c in CASES if f"`{c.id}`" not in text]
    assert not absent, f"docs/hostile-inputs.md lacks {absent}; run `python tests/hostile_cases.py`"


def test_case_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


def test_cli_user_error_in_a_real_process_has_no_traceback(tmp_path):
    env = {**os.environ, "CNNKIT_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-m", "cnnkit.cli", "run", NOTEBOOK, "-p", "epoch", "3",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=300)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "unknown parameter(s) ['epoch']" in proc.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "out").exists()  # nothing written before the parameters were checked
