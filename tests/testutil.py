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
