"""Atomic writes honour the umask: files others may read stay readable (mkstemp alone makes them 0600)."""

import os
import stat
import threading

import pytest

from cnnkit._atomic import atomic_write_bytes, current_umask, tmp_path


@pytest.fixture
def umask():
    """Set the process umask for one test, and restore it."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield lambda mask: os.umask(mask)
    os.umask(saved)


def _mode_of_a_temporary_file(folder):
    tmp = tmp_path(folder / "x.json")
    try:
        return tmp.stat().st_mode
    finally:
        tmp.unlink()


@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_write_honours_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    path = atomic_write_bytes(tmp_path / "report.html", b"<p>hi</p>")
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert stat.S_IMODE(_mode_of_a_temporary_file(tmp_path)) == mode  # the temporary file too (claims, weights)


def test_current_umask_reads_without_changing_it(umask):
    umask(0o027)
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(current_umask())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [0o027] * 8 and current_umask() == 0o027
