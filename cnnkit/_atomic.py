"""Crash-safe file writes shared by the run store and the training workdir.

A file is written under a temporary name in the same folder, flushed and fsync'ed, renamed
over its target with :func:`os.replace`, and the folder is fsync'ed: a kill (or a power cut)
leaves either the old file or the new one, never half of one. Temporary names carry the
writer's pid and host, ``.<name>.<pid>@<host>.<random>.tmp``, so a later process can tell the
leftover of a dead writer (safe to delete, see :func:`is_orphan_tmp`) from a write in progress.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import tempfile
import time
from pathlib import Path

__all__ = ["HOST", "atomic_write_bytes", "atomic_write_text", "current_umask", "fsync_dir", "fsync_file",
           "is_orphan_tmp", "pid_alive", "process_start", "replace_block", "tmp_path"]

HOST = re.sub(r"[^A-Za-z0-9_-]+", "-", socket.gethostname()).strip("-")[:60] or "host"
_TMP = re.compile(r"^\..+\.(?P<pid>\d+)@(?P<host>[A-Za-z0-9_-]*)\.[A-Za-z0-9_]+\.tmp(?:\.weights\.h5)?$")


def tmp_path(path: str | os.PathLike, suffix: str = ".tmp") -> Path:
    """Create an empty temporary file beside ``path`` named after this process and return it.

    Its mode is that of a file created normally (``0o666`` less the umask: 0644 under umask
    022), so the file it is renamed to is as readable as any other the user writes.

    ``suffix`` must start with ``.tmp`` (``".tmp.weights.h5"`` for Keras weight files, whose
    names must end in ``.weights.h5``).
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}@{HOST}.", suffix=suffix)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp makes it 0600; the published file honours the umask
    except (AttributeError, OSError):  # no fchmod (Windows) or a file system without modes
        pass
    finally:
        os.close(fd)
    return Path(name)


def current_umask() -> int:
    """The process's umask, read without changing it (``/proc/self/status`` on Linux ≥ 4.7).

    Elsewhere it is read by setting and restoring it, which a thread creating a file at that
    very moment could observe; that fallback is the only way POSIX offers.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def fsync_file(path: str | os.PathLike) -> None:
    """Flush a written file's data to the disk (so a power cut cannot lose it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: str | os.PathLike) -> None:
    """Make renames and deletions inside ``folder`` durable (POSIX; a no-op on Windows)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_synced(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file ``path`` and fsync it (the step before a publishing rename or link)."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, fsync, rename).

    Raises:
        OSError: the write failed (disk full, no permission, ...); the old file is untouched
            and the temporary file removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(path)
    try:
        write_synced(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def process_start(pid: int) -> int | None:
    """Start time of process ``pid`` in clock ticks since boot (Linux), else ``None``.

    Together with the pid it names a process uniquely: a recycled pid has another start time.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def pid_alive(pid: int, start: int | None = None) -> bool:
    """Whether process ``pid`` of *this* machine runs (zombies count as dead).

    Args:
        pid: the process id.
        start: its :func:`process_start`, if known: a process with that pid but another start
            time is a later process that reuses the number, so the original one is dead.
    """
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there; claims then rely on heartbeats
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists but belongs to another user
        pass
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        if state in (b"Z", b"X"):
            return False
    except (OSError, IndexError):
        return True
    now = process_start(pid)
    return start is None or now is None or now == start


def is_orphan_tmp(path: str | os.PathLike, *, max_age: float) -> bool:
    """Whether ``path`` is a temporary file of :func:`tmp_path` whose writer is gone.

    A temp file of a dead process of this host is an orphan at once; one written on another
    host (whose processes cannot be checked) once it is older than ``max_age`` seconds.
    """
    path = Path(path)
    match = _TMP.match(path.name)
    if not match:
        return False
    if match["host"] == HOST:
        return not pid_alive(int(match["pid"]))
    try:
        return time.time() - path.stat().st_mtime > max_age
    except OSError:
        return False


def replace_block(path: str | os.PathLike, begin: str, end: str, body: str) -> Path:
    """Rewrite the text between the marker lines ``begin`` and ``end`` of a text file (atomically).

    Raises:
        ValueError: a marker is missing or they are out of order (add them where the block belongs).
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"{path} has no block to rewrite: add the lines {begin!r} and {end!r} where it goes")
    atomic_write_text(path, text[: start + len(begin)] + "\n" + body.rstrip("\n") + "\n" + text[stop:])
    return path
