"""What cnnkit lets through to the terminal and into notebook reports.

* TensorFlow's start-up noise ("oneDNN custom operations are on", "Could not find cuda
  drivers", "failed call to cuInit", "This TensorFlow binary is optimized to use ...") is
  dropped: :func:`quiet_environment` sets ``TF_CPP_MIN_LOG_LEVEL=3`` (and gRPC's and absl's
  levels) unless the user set them, and :func:`install_tensorflow_import_filter` makes the
  first ``import tensorflow`` run with the process's stderr (file descriptor 2) caught, since
  TensorFlow's C++ libraries log those lines before any log level is read. Lines of the
  import that are not log lines below the level (a real error) are written back to stderr.
* Per-epoch progress lines: :func:`progress_writer` sends them to the terminal (a script's
  stdout, or the terminal behind a notebook kernel when ``CNNKIT_PROGRESS=terminal``) and
  never into a notebook's output, where a report would show them. A grid's live progress bar
  goes where :func:`progress_mode` says (:class:`TerminalStream` for the terminal behind a kernel).
"""

from __future__ import annotations

import contextlib
import importlib.abc
import os
import re
import sys
import tempfile
from typing import Callable

__all__ = ["KERNEL_ARGUMENTS", "PROGRESS_ENV", "QUIET_ENV", "TerminalStream", "in_notebook_kernel",
           "install_tensorflow_import_filter", "kernel_environment", "progress_mode", "progress_writer",
           "quiet_environment", "set_live_bar", "without_log_noise"]

QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",   # TensorFlow C++: errors too (cuInit fails on every machine without a GPU)
    "GRPC_VERBOSITY": "ERROR",     # gRPC's C core, loaded by TensorFlow
    "ABSL_MIN_LOG_LEVEL": "3",     # absl C++ logging where a library reads it
}
PROGRESS_ENV = "CNNKIT_PROGRESS"   # "terminal": epoch lines of a notebook kernel go to its terminal; "off": none

# An absl/glog C++ log line: severity letter, MMDD, time, thread id, file:line]
_LOG_LINE = re.compile(r"^(?P<sev>[IWEF])\d{4} [\d:.]+\s+\d+ [^\]\s]+:\d+\] ")
_NOISE = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
          "To enable the following instructions:")  # the second line of cpu_feature_guard's message


def quiet_environment(env: dict | None = None) -> dict:
    """Set :data:`QUIET_ENV` in ``env`` (default ``os.environ``) where not set already; returns ``env``."""
    env = os.environ if env is None else env
    for key, value in QUIET_ENV.items():
        env.setdefault(key, value)
    return env


def _min_level() -> int:
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def without_log_noise(text: str, min_level: int | None = None) -> str:
    """``text`` less the C++ log lines below ``min_level`` (0 I, 1 W, 2 E, 3 F; default ``TF_CPP_MIN_LOG_LEVEL``)
    and absl's "before InitializeLog" banner; everything else is kept."""
    min_level = _min_level() if min_level is None else min_level
    kept = []
    for line in text.splitlines(keepends=True):
        match = _LOG_LINE.match(line)
        if match and "IWEF".index(match["sev"]) < min_level:
            continue
        if min_level > 0 and line.startswith(_NOISE):
            continue
        kept.append(line)
    return "".join(kept)


@contextlib.contextmanager
def _stderr_filtered():
    """Catch what anything in this process writes to file descriptor 2, then write back the non-noise."""
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr descriptor (a service): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            rest = without_log_noise(sink.read().decode("utf-8", errors="replace"))
            if rest:
                os.write(2, rest.encode("utf-8"))


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        with _stderr_filtered():
            self.loader.exec_module(module)


class _TensorFlowImportFilter(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` like the normal finders do, and runs its import through :func:`_stderr_filtered`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow" or _min_level() < 1:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


def install_tensorflow_import_filter() -> None:
    """Make a later first ``import tensorflow`` quiet (idempotent; nothing to do once TensorFlow is loaded)."""
    quiet_environment()
    if "tensorflow" in sys.modules or any(isinstance(f, _TensorFlowImportFilter) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _TensorFlowImportFilter())


def in_notebook_kernel() -> bool:
    """Whether this code runs in a Jupyter kernel (where stdout becomes a cell's output)."""
    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _terminal_fd() -> int:
    """The process's terminal descriptor: in a kernel, the stderr the kernel was started with."""
    try:
        return sys.stderr.fileno()  # ipykernel, which captures descriptor 2, answers with a copy of the original
    except (AttributeError, OSError, ValueError):
        return 2  # a kernel that does not capture descriptors (ipykernel under pytest) left it alone


# The live progress bar drawn on the terminal (cnnkit.ablation.progress), if any: a line written to the terminal
# meanwhile clears it first and redraws it after, so the two do not share a line.
_live_bar = None


def set_live_bar(bar, replacing=None) -> None:
    """Make ``bar`` (a tqdm bar on the terminal, or None) the one :func:`_write_terminal` clears around its lines;
    with ``replacing``, only if that one is the live bar now."""
    global _live_bar
    if replacing is None or _live_bar is replacing:
        _live_bar = bar


def _write_terminal(line: str) -> None:
    """One line to the process's terminal: in a kernel that is the stderr the kernel was started with."""
    bar = _live_bar
    with bar.get_lock() if bar is not None else contextlib.nullcontext():
        if bar is not None:
            bar.clear(nolock=True)
        with contextlib.suppress(OSError):
            os.write(_terminal_fd(), (line + "\n").encode("utf-8", errors="replace"))
        if bar is not None:
            bar.refresh(nolock=True)


class TerminalStream:
    """A text stream onto the terminal behind this process (a kernel's: see :func:`_write_terminal`), for a
    progress bar (tqdm) that must not land in a notebook's output. A write that returns to the start of
    the line (``\\r``) also erases the rest of it (another bar drawn there, e.g. papermill's)."""

    def __init__(self, fd: int | None = None):
        self.fd = _terminal_fd() if fd is None else fd
        self.encoding = getattr(sys.__stderr__, "encoding", None) or "utf-8"  # tqdm draws blocks where it is UTF-8

    def isatty(self) -> bool:
        try:
            return os.isatty(self.fd)
        except OSError:
            return False

    def fileno(self) -> int:
        return self.fd

    def write(self, text: str) -> int:
        out = text.replace("\r", "\r\x1b[K") if self.isatty() else text
        with contextlib.suppress(OSError):
            os.write(self.fd, out.encode(self.encoding, errors="replace"))
        return len(text)

    def flush(self) -> None:
        pass


def progress_mode() -> str:
    """Where live progress (a grid's progress bar) goes: ``"off"`` (``CNNKIT_PROGRESS=off``), ``"terminal"``
    (a notebook kernel of ``cnnkit run``: the terminal behind it), ``"notebook"`` (a kernel of an interactive
    Jupyter session: a widget in the cell) or ``"script"`` (no kernel)."""
    mode = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if mode in ("off", "0", "none", "false"):
        return "off"
    if not in_notebook_kernel():
        return "script"
    return "terminal" if mode == "terminal" else "notebook"


def progress_writer() -> Callable[[str], None] | None:
    """Where per-epoch progress lines go, or ``None`` for nowhere.

    ``CNNKIT_PROGRESS=off`` silences them; outside a notebook kernel they are printed; inside one
    they go to the kernel's terminal if ``CNNKIT_PROGRESS=terminal`` (``cnnkit run`` sets it) and
    nowhere otherwise, so an executed notebook and its report keep only the table of runs.
    """
    mode = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if mode in ("off", "0", "none", "false"):
        return None
    if not in_notebook_kernel():
        return lambda line: print(line, flush=True)
    return _write_terminal if mode == "terminal" else None


# Arguments for a notebook kernel started by cnnkit: its own log at ERROR (no "Kernel is running over TCP
# without encryption" warning: the kernel listens on 127.0.0.1 only), the TensorFlow import filter
# installed before the first cell, so a notebook that imports keras before cnnkit starts quietly too, and
# asyncio's logger at CRITICAL (ipykernel's shutdown leaves a control task pending, which asyncio reports
# as "Task was destroyed but it is pending!" on the terminal).
KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=ERROR",
                    "--IPKernelApp.exec_lines=__import__('cnnkit') and "
                    "__import__('logging').getLogger('asyncio').setLevel(50)")


@contextlib.contextmanager
def kernel_environment(progress: bool = True):
    """``os.environ`` for a kernel started inside the block (kernels inherit it): :data:`QUIET_ENV`, and
    ``CNNKIT_PROGRESS=terminal`` (``off`` when ``progress`` is false) unless the user set it. Restored after."""
    saved = dict(os.environ)
    quiet_environment()
    os.environ.setdefault(PROGRESS_ENV, "terminal" if progress else "off")
    try:
        yield os.environ
    finally:
        for key in set(os.environ) - set(saved):
            del os.environ[key]
        os.environ.update(saved)
