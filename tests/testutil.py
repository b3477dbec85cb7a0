"""Helpers shared by test modules (import as ``from testutil import ...``; tests/ is on pytest's pythonpath).

Kept out of conftest.py: several folders have their own conftest, and ``from conftest import``
would pick whichever was imported first.
"""

import keras
import pytest

BACKEND = keras.backend.backend()


def requires_tensorflow():
    """Skip a test that needs TensorFlow itself (tf.data, tf.nn parity) on other backends."""
    return pytest.mark.skipif(BACKEND != "tensorflow", reason="needs the TensorFlow backend")


class InterruptAtEpoch(keras.callbacks.Callback):
    """Raises KeyboardInterrupt when epoch ``epoch`` (0-based) begins: a run killed mid-training."""

    def __init__(self, epoch: int = 1):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt("killed")


class CountEpochs(keras.callbacks.Callback):
    """Records the (0-based) epochs that begin, e.g. to see where a resumed run starts."""

    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)
