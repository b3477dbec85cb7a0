"""Ctrl-C during ``cnnkit run``: the notebook's kernel is interrupted, the command stops and exits 130.

papermill starts the kernel (jupyter_client) in a session of its own, so the SIGINT a terminal
sends on Ctrl-C reaches the ``cnnkit`` process and never the kernel. Inside :func:`interruptible`:

* the first Ctrl-C interrupts the kernel (jupyter_client's ``interrupt_kernel``): the running cell
  stops (a grid ends its workers and raises :class:`~cnnkit.ablation.GridInterrupted`, saying what
  is kept), no further cell starts, the kernel is shut down and :class:`NotebookInterrupted` is
  raised with the cell's one-line message. A kernel that has not stopped ``grace`` seconds later
  is killed, with its process group (its worker processes);
* a second Ctrl-C kills the kernel and its process group at once, prints one line and exits 130.

The command prints :class:`NotebookInterrupted` as one line and exits 130 (:func:`cnnkit.cli.main`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from pathlib import Path
from typing import Any

__all__ = ["EXIT_INTERRUPTED", "NotebookInterrupted", "interruptible"]

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C
RESUME = "run the same command again to resume (an interrupted run continues from its last checkpoint)"


class NotebookInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a notebook run by ``cnnkit run``; the message says where and what was kept."""


class _Watch:
    """The SIGINT handler of one notebook run and the kernel manager it interrupts."""

    def __init__(self, notebook: str, out_dir: Path, grace: float):
        self.notebook, self.out_dir, self.grace = notebook, out_dir, grace
        self.km: Any = None
        self.interrupts = 0
        self.killed = False
        self.timer: threading.Timer | None = None
        watch = self

        from jupyter_client import AsyncKernelManager

        class TrackedKernelManager(AsyncKernelManager):
            """nbclient's kernel manager, made known to the watch that interrupts it."""

            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                watch.km = self

        self.kernel_manager_class = TrackedKernelManager

    # -- the kernel -----------------------------------------------------------------------------
    def _pgid(self) -> int | None:
        provisioner = getattr(self.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        return getattr(provisioner, "pgid", None) or getattr(process, "pid", None)

    def _kernel_running(self) -> bool:
        provisioner = getattr(self.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        return process is not None and process.poll() is None

    def _interrupt_kernel(self) -> None:
        """jupyter_client's interrupt_kernel on nbclient's event loop; a signal to the kernel's group without one."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            loop.call_soon_threadsafe(lambda: loop.create_task(self._async_interrupt()))
        else:
            self._signal_kernel(signal.SIGINT)

    async def _async_interrupt(self) -> None:
        try:
            await self.km.interrupt_kernel()
        except Exception:  # noqa: BLE001 - e.g. the kernel is shutting down: its process group gets the signal
            self._signal_kernel(signal.SIGINT)

    def _signal_kernel(self, signum: int) -> None:
        pgid = self._pgid()
        if pgid:
            with contextlib.suppress(OSError):
                os.killpg(pgid, signum)

    def kill_kernel(self) -> None:
        """SIGKILL to the kernel's process group: the kernel and the grid's workers it started."""
        if self._kernel_running():
            self.killed = True
            self._signal_kernel(signal.SIGKILL)

    # -- the signal -----------------------------------------------------------------------------
    def handler(self, signum, frame) -> None:
        self.interrupts += 1
        if self.km is None or not self._kernel_running():
            raise NotebookInterrupted(f"{self.notebook}: before its kernel ran a cell; {self.kept()}")
        if self.interrupts == 1:
            self._interrupt_kernel()
            with contextlib.suppress(Exception):  # no graceful exit needed: the kernel is shut down right after
                self.km.shutdown_wait_time = min(self.km.shutdown_wait_time, 2.0)
            self.timer = threading.Timer(self.grace, self.kill_kernel)
            self.timer.daemon = True
            self.timer.start()
            return
        self.kill_kernel()
        with contextlib.suppress(OSError):
            os.write(2, f"\ncnnkit: stopped {self.notebook} (kernel killed); {self.kept()}; {RESUME}\n".encode())
        with contextlib.suppress(OSError):
            os.unlink(self.km.connection_file)
        os._exit(EXIT_INTERRUPTED)

    def check(self, **_) -> None:
        """nbclient's ``on_cell_execute`` hook: no cell starts after an interrupt."""
        if self.interrupts:
            raise NotebookInterrupted(f"{self.notebook}: stopped before a cell; {self.kept()}")

    def kept(self) -> str:
        return f"finished runs are kept in {self.out_dir / 'runs'}"

    def outcome(self, exc: BaseException) -> NotebookInterrupted:
        """What the command says about the error that ended the notebook after an interrupt."""
        if isinstance(exc, NotebookInterrupted):
            return exc
        ename, evalue = getattr(exc, "ename", ""), getattr(exc, "evalue", "")
        if ename == "GridInterrupted" and evalue:
            return NotebookInterrupted(f"{self.notebook}: {evalue}")
        where = f"cell {exc.exec_count}" if getattr(exc, "exec_count", None) else "a cell"
        how = "killed its kernel" if self.killed else "stopped"
        return NotebookInterrupted(f"{self.notebook}: {how} in {where}; {self.kept()}")


@contextlib.contextmanager
def interruptible(notebook: str | Path, out_dir: str | Path, *, grace: float = 15.0):
    """Pass Ctrl-C on to the kernel of the notebook executed inside the block (see the module's docstring).

    Yields the keyword arguments for ``papermill.execute_notebook`` (nbclient's ``kernel_manager_class``
    and ``on_cell_execute``). After an interrupt, whatever ended the execution is raised as
    :class:`NotebookInterrupted`. Outside the main thread (where Python takes no signal handler) the
    block runs as it is.
    """
    watch = _Watch(Path(notebook).name, Path(out_dir), grace)
    options = {"kernel_manager_class": watch.kernel_manager_class, "on_cell_execute": watch.check}
    if threading.current_thread() is not threading.main_thread():
        yield options
        return
    previous = signal.signal(signal.SIGINT, watch.handler)
    try:
        yield options
    except BaseException as exc:
        if watch.interrupts:
            raise watch.outcome(exc) from None
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
        if watch.timer is not None:
            watch.timer.cancel()
    if watch.interrupts:  # the cell stopped and the notebook still ended without an error
        raise NotebookInterrupted(f"{watch.notebook}: stopped; {watch.kept()}")
