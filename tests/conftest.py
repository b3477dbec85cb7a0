import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("CNNKIT_OFFLINE", "1")  # tests never touch the network
os.environ.setdefault("CNNKIT_BACKUP_SECONDS", "0")  # a backup at every epoch end: the resume tests kill mid-run

import keras  # noqa: E402
import pytest  # noqa: E402

from testutil import BACKEND, requires_tensorflow  # noqa: E402,F401  (re-exported for old imports)


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)
    yield
    keras.backend.clear_session(free_memory=False)  # its gc.collect() costs ~1 s a test


def pytest_collection_modifyitems(config, items):
    """Slow tests first (a stable sort), so that under ``-n 2`` the longest ones start at once and the short
    ones fill the gaps, instead of one notebook run finishing alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
