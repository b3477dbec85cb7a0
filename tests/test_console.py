"""What cnnkit lets through to the terminal: no TensorFlow start-up noise, progress lines where they belong."""

import os
import subprocess
import sys

import pytest

from cnnkit._console import PROGRESS_ENV, kernel_environment, progress_writer, without_log_noise

STARTUP = """WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796479152.745969    4313 port.cc:153] oneDNN custom operations are on.
I0000 00:00:1796479152.746631    4313 cudart_stub.cc:31] Could not find cuda drivers on your machine.
W0000 00:00:1796479152.746631    4313 some.cc:31] a warning
E0000 00:00:1796479167.979665    4370 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)
To enable the following instructions: AVX2 AVX512F, in other operations, rebuild TensorFlow.
Traceback (most recent call last): a real error
"""


@pytest.mark.parametrize("level,kept", [
    (3, ["Traceback (most recent call last): a real error"]),
    (2, ["E0000", "Traceback"]),
    (1, ["W0000", "E0000", "Traceback"]),
    (0, ["WARNING: All log", "I0000", "I0000", "W0000", "E0000", "To enable", "Traceback"]),
])
def test_log_lines_below_the_level_are_dropped(level, kept):
    lines = without_log_noise(STARTUP, level).splitlines()
    assert [line[:len(k)] for line, k in zip(lines, kept)] == kept and len(lines) == len(kept)


def _import_tensorflow(level=None):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update({"TF_CPP_MIN_LOG_LEVEL": level} if level is not None else {})
    code = "import cnnkit, tensorflow as tf; print(int(tf.reduce_sum(tf.ones(3))))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
def test_importing_tensorflow_after_cnnkit_is_quiet():
    quiet = _import_tensorflow()
    assert quiet.returncode == 0 and quiet.stdout == "3\n"
    assert quiet.stderr == "", quiet.stderr
    loud = _import_tensorflow("0")  # the user asked for every log line: nothing is filtered
    assert "cuda" in loud.stderr.lower() or "oneDNN" in loud.stderr, loud.stderr


def test_progress_lines_are_printed_in_a_script_unless_switched_off(monkeypatch, capsys):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    progress_writer()("epoch 1/2")
    assert capsys.readouterr().out == "epoch 1/2\n"
    monkeypatch.setenv(PROGRESS_ENV, "off")
    assert progress_writer() is None


def test_kernel_environment_is_restored(monkeypatch):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    monkeypatch.delenv("GRPC_VERBOSITY", raising=False)
    with kernel_environment(progress=False) as env:
        assert env[PROGRESS_ENV] == "off" and env["GRPC_VERBOSITY"] == "ERROR"
    assert PROGRESS_ENV not in os.environ and "GRPC_VERBOSITY" not in os.environ
    monkeypatch.setenv(PROGRESS_ENV, "off")
    with kernel_environment(progress=True) as env:
        assert env[PROGRESS_ENV] == "off"  # the user's choice wins
