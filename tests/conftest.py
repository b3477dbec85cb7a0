import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import keras  # noqa: E402
import pytest  # noqa: E402

BACKEND = keras.backend.backend()


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)
    yield
    keras.backend.clear_session()


def requires_tensorflow():
    """Skip a test that needs TensorFlow itself (tf.data, tf.nn parity) on other backends."""
    return pytest.mark.skipif(BACKEND != "tensorflow", reason="needs the TensorFlow backend")
