"""benchmarks/grid_share.py: notebook 01's grid with a backup at every point (before) and every 30 s (after)."""

import importlib.util
import json
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location("grid_share", Path(__file__).parents[2] / "benchmarks" / "grid_share.py")
grid_share = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(grid_share)


def test_the_table_gives_after_over_before():
    rows = [{"variant": "before", "wall_s": 100.0, "share": 0.40, "train_s": 80.0, "runs": 5,
             "run_iterations_per_s": 10.0},
            {"variant": "after", "wall_s": 80.0, "share": 0.50, "train_s": 80.0, "runs": 5,
             "run_iterations_per_s": 12.5}]
    text = grid_share.table(rows)
    assert text.splitlines()[-1] == ("after / before: wall 0.80x, share 1.25x, run-iterations per second 1.25x")
    assert "before" in text.splitlines()[1] and "40.0%" in text


@pytest.mark.slow
def test_smoke_trains_the_grid_twice_and_reads_the_records(tmp_path, capsys):
    out = tmp_path / "rows.json"
    assert grid_share.main(["--smoke", "--workers", "1", "--out", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert [r["variant"] for r in rows] == ["before", "after"]
    assert all(r["runs"] == 5 and 0 < r["share"] < 1 and r["run_iterations_per_s"] > 0 for r in rows)
    assert "after / before" in capsys.readouterr().out
