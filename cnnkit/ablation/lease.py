"""Lease files: which runner is training which run, so runners sharing a store never train a run twice.

Several runners may work on one store at once: a second terminal started on the same grid,
one process per GPU, Ray tasks on several machines over a shared file system. Before training a run a
runner *claims* it by creating ``claims/<run_id>.<generation>.claim`` exclusively (the content is
written to a temporary file first and hard-linked into place, so the claim appears whole or not at
all; on file systems without hard links ``O_CREAT | O_EXCL`` is used). The file holds the runner's
pid, host, boot id, process start time and a random token; its modification time is the
*heartbeat*, refreshed by a background thread every ``timeout / 10`` seconds.

A claim is **stale** when its holder is a dead process of this machine (same host and boot,
pid gone, a zombie, or the pid recycled by a later process), or its heartbeat is older than
``timeout`` (holders on other machines, a hung or suspended process, a machine that rebooted).
A stale claim is taken over: the newcomer creates the next generation's file and then deletes
the stale ones. Protocol of :func:`acquire`:

1. list the run's claim files; a fresh (not stale) one means the run is held: give up;
2. create generation ``max + 1`` exclusively; if that name exists, another runner got there
   first: start again;
3. list again; if another fresh claim appeared meanwhile (a runner that read an older listing),
   delete ours and give up. Of two simultaneous claimers at least one gives up, never neither;
4. delete the stale files and hold the claim.

A runner also checks that it still holds its claim before it writes the run's result
(:meth:`Lease.held`): a holder whose heartbeat stalled longer than ``timeout`` may have been taken
over and must not overwrite the newcomer's work. Clocks of machines sharing a store must agree
to well within ``timeout``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import random
import secrets
import threading
import time
from pathlib import Path

from cnnkit._atomic import HOST, fsync_dir, pid_alive, process_start, tmp_path, write_synced

__all__ = ["DEFAULT_TIMEOUT", "Lease", "Holder", "acquire", "holders"]

DEFAULT_TIMEOUT = 300.0  # seconds without a heartbeat after which a claim of another machine is stale
_SUFFIX = ".claim"


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


BOOT = _boot_id()


@dataclasses.dataclass(frozen=True)
class Holder:
    """Who holds a claim file, as read from it.

    Attributes:
        run_id: the claimed run.
        generation: the number in the file name.
        path: the claim file.
        pid, host, boot, start: the holding process (``start`` in clock ticks since boot; may be None).
        token: random id of this claim.
        heartbeat: the file's modification time (seconds since the epoch).
    """

    run_id: str
    generation: int
    path: Path
    pid: int | None
    host: str
    boot: str
    start: int | None
    token: str
    heartbeat: float

    def stale(self, timeout: float, now: float | None = None) -> bool:
        """Whether this claim may be taken over (see the module docstring)."""
        age = (time.time() if now is None else now) - self.heartbeat
        if age > timeout:
            return True
        if self.host == HOST and self.boot == BOOT and self.pid is not None:
            return not pid_alive(self.pid, self.start)
        return False

    def describe(self) -> str:
        """``"pid 4242 on gpu-box, heartbeat 3 s ago"``."""
        return f"pid {self.pid} on {self.host}, heartbeat {max(time.time() - self.heartbeat, 0):.0f} s ago"


def _parse_name(name: str, run_id: str) -> int | None:
    if not (name.startswith(run_id + ".") and name.endswith(_SUFFIX)):
        return None
    gen = name[len(run_id) + 1:-len(_SUFFIX)]
    return int(gen) if gen.isdigit() else None


def _read(path: Path, run_id: str, generation: int) -> Holder | None:
    try:
        heartbeat = path.stat().st_mtime
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
        pid, start = data.get("pid"), data.get("start")
        return Holder(run_id, generation, path, int(pid), str(data.get("host", "")), str(data.get("boot", "")),
                      None if start is None else int(start), str(data.get("token", "")), heartbeat)
    except (ValueError, TypeError, AttributeError):  # empty (O_EXCL fallback, being written) or damaged
        return Holder(run_id, generation, path, None, "", "", None, "", heartbeat)


def holders(claims_dir: str | os.PathLike, run_id: str) -> list[Holder]:
    """Every claim file of ``run_id``, oldest generation first."""
    try:
        names = os.listdir(claims_dir)
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        gen = _parse_name(name, run_id)
        if gen is not None:
            holder = _read(Path(claims_dir) / name, run_id, gen)
            if holder is not None:
                found.append(holder)
    return sorted(found, key=lambda h: h.generation)


def _create_exclusive(path: Path, content: bytes) -> bool:
    """Create ``path`` with ``content`` unless it exists; True if this call created it."""
    tmp = tmp_path(path)
    try:
        write_synced(tmp, content)
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
        except OSError as err:  # no hard links here (some network/FUSE file systems)
            if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        fsync_dir(path.parent)


class Lease:
    """A claim this process holds; use it as a context manager (heartbeat while inside, release at exit).

    Attributes:
        run_id, path, token: the claimed run, the claim file and this claim's random id.
    """

    def __init__(self, run_id: str, path: Path, token: str, timeout: float):
        self.run_id, self.path, self.token, self.timeout = run_id, path, token, float(timeout)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False

    def __repr__(self) -> str:
        return f"Lease({self.run_id!r}, {str(self.path)!r})"

    def held(self) -> bool:
        """Whether the claim file is still ours (False once another runner took it over)."""
        holder = _read(self.path, self.run_id, 0)
        ok = holder is not None and holder.token == self.token
        self.lost = self.lost or not ok
        return ok

    def beat(self) -> bool:
        """Refresh the heartbeat now; False (and ``lost``) if the claim was taken over."""
        try:
            os.utime(self.path)
        except FileNotFoundError:
            self.lost = True
            return False
        return self.held()

    def _beat_forever(self, interval: float) -> None:
        while not self._stop.wait(interval):
            with contextlib.suppress(OSError):
                if not self.beat():
                    return

    def __enter__(self) -> "Lease":
        interval = max(self.timeout / 10.0, 0.05)
        self._thread = threading.Thread(target=self._beat_forever, args=(interval,), daemon=True,
                                        name=f"cnnkit-claim-{self.run_id}")
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def release(self) -> None:
        """Stop the heartbeat and delete the claim file (if it is still ours)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        if self.held():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            fsync_dir(self.path.parent)


def acquire(claims_dir: str | os.PathLike, run_id: str, *, timeout: float = DEFAULT_TIMEOUT,
            attempts: int = 8) -> Lease | Holder:
    """Lease ``run_id`` for this process, taking over a stale claim.

    Args:
        claims_dir: folder of the claim files (created if missing).
        run_id: the run to claim.
        timeout: seconds without a heartbeat after which another machine's claim is stale.
        attempts: tries when other runners race for the same run.

    Returns:
        A :class:`Lease` (enter it to start the heartbeat) or, when another live runner holds
        the run, that runner's :class:`Holder`.
    """
    claims_dir = Path(claims_dir)
    claims_dir.mkdir(parents=True, exist_ok=True)
    fresh: list[Holder] = []
    for attempt in range(attempts):
        found = holders(claims_dir, run_id)
        fresh = [h for h in found if not h.stale(timeout)]
        if fresh:
            return fresh[-1]
        token = secrets.token_hex(8)
        path = claims_dir / f"{run_id}.{(found[-1].generation + 1) if found else 0}{_SUFFIX}"
        content = json.dumps({"run_id": run_id, "pid": os.getpid(), "host": HOST, "boot": BOOT,
                              "start": process_start(os.getpid()), "token": token, "claimed": time.time()})
        if _create_exclusive(path, content.encode("utf-8")):
            others = [h for h in holders(claims_dir, run_id) if h.path != path]
            fresh = [h for h in others if not h.stale(timeout)]
            if not fresh:
                for old in others:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(old.path)
                return Lease(run_id, path, token, timeout)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        time.sleep(random.uniform(0.0, 0.02 * (attempt + 1)))
    latest = fresh or holders(claims_dir, run_id)
    if latest:
        return latest[-1]
    raise RuntimeError(f"could not claim run {run_id!r} in {claims_dir} after {attempts} attempts "
                       "(other runners kept racing for it); run again")
