"""benchmarks/data_pipeline.py --smoke runs end to end (subprocess, synthetic data, a ResNet-8)."""

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "data_pipeline.py"


def test_data_pipeline_benchmark_smoke(tmp_path):
    out = tmp_path / "result.json"
    env = {**os.environ, "CNNKIT_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--dataset", "synthetic", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith(("pipeline", "ResNet"))]
    assert len(lines) == 3 and "augment=resnet_cifar" in lines[1]
    rates = [line.split()[-3 if line.startswith("pipeline") else -2] for line in lines]  # images/s column
    assert all(float(rate.replace(",", "")) > 0 for rate in rates), lines
    assert not out.exists()  # --smoke writes no result file
