"""The training share: each run's epochs at the median of its later epochs, over wall × cores."""

import datetime as dt
import json

import pytest

from cnnkit.ablation.efficiency import efficiency, steady_seconds


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's per-test ``clear_session``: nothing here builds a model."""
    yield


def test_the_first_epoch_counts_at_the_median_of_the_later_ones():
    history = [{"epoch_time": 9.0, "step": 25}, {"epoch_time": 2.0, "step": 50}, {"epoch_time": 3.0, "step": 75},
               {"epoch_time": 2.5, "step": 100}]
    assert steady_seconds(history) == pytest.approx(4 * 2.5)
    assert steady_seconds([{"epoch_time": 4.0}]) == 4.0 and steady_seconds([]) == 0.0


def test_the_share_of_a_job_counts_only_the_runs_it_started(tmp_path):
    runs = tmp_path / "runs" / "exp" / "runs"
    runs.mkdir(parents=True)
    history = [{"epoch_time": t, "step": 10 * (i + 1)} for i, t in enumerate((5.0, 1.0, 1.0, 1.0))]
    for i, started in enumerate(("2026-01-01T10:00:00+00:00", "2026-01-01T10:01:00+00:00", "2025-12-31T09:00:00+00:00")):
        (runs / f"r{i}.json").write_text(json.dumps({"started": started, "history": history, "wall_time": 9.0}))
    since = dt.datetime(2026, 1, 1, 9, 59, tzinfo=dt.timezone.utc)
    out = efficiency([tmp_path / "runs"], wall=10.0, since=since, cores=2)
    assert out.runs == 2 and out.train_seconds == pytest.approx(8.0) and out.cpu_seconds == 20.0
    assert out.share == pytest.approx(0.4) and out.run_iterations == 80 and out.iterations_per_second == 8.0
    assert "training share 40 %" in out.text()
