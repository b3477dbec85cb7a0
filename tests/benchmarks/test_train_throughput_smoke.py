"""``cnnkit bench --smoke`` (benchmarks/train_throughput.py): ResNet-8, batch 16, 2 timed steps, both sides."""

import importlib.util
import json
import math

import pytest

from cnnkit import cli, models

TORCH = importlib.util.find_spec("torch") is not None


def test_bench_smoke_measures_cnnkit_and_torch_with_equal_parameters(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert cli.main(["bench", "--smoke", "--data-paths", "device,tfdata", "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert "cnnkit/torch" in table and "load average" in table
    rows = json.loads(out.read_text())["rows"]
    cnnkit_rows = [r for r in rows if r["framework"] == "cnnkit"]
    assert [r["data_path"] for r in cnnkit_rows] == ["device", "tfdata"]
    net = models.build("resnet_cifar", depth=8, input_shape=(32, 32, 3), num_classes=10)
    for row in cnnkit_rows:
        assert "error" not in row, row.get("error")
        assert row["images_per_s"] > 0 and math.isclose(row["ms_per_step"], 16_000 / row["images_per_s"])
        assert row["compile_s"] >= 0 and row["params"]["total"] == net.count_params()
    torch_row = next(r for r in rows if r["framework"] == "torch")
    if TORCH:
        assert "error" not in torch_row, torch_row.get("error")
        assert torch_row["params"] == cnnkit_rows[0]["params"]  # trainable and with BN statistics
        assert cnnkit_rows[0]["params_match"] and cnnkit_rows[0]["ratio_to_torch"] > 0
    else:
        assert torch_row["error"] == "torch not installed" and "ratio_to_torch" not in cnnkit_rows[0]


def test_missing_torch_is_a_row_not_a_failure(monkeypatch):
    bench = cli._bench_module()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    spec = dict(framework="torch", model="resnet8", batch_size=16, precision="fp32", data_path="device")
    result = bench._measure(spec, in_process=True)
    assert result == {"error": "torch not installed"}
    cnnkit_row = dict(images_per_s=100.0, ms_per_step=160.0, images_per_cpu_s=50.0, compile_s=1.0, peak_bytes=None,
                      params={"trainable": 1, "total": 2}, device="CPU")
    rows = bench._aggregate([dict(spec, framework="cnnkit"), spec], [[cnnkit_row, result]])
    assert "ratio_to_torch" not in rows[0] and "torch not installed" in bench._table(rows)


@pytest.mark.parametrize("argv, message", [(["--models", "resnet21"], "resnet21"),
                                           (["--precisions", "fp16"], "fp16"), (["--steps", "0"], "steps")])
def test_bad_options_are_named(argv, message, capsys):
    assert cli.main(["bench", *argv]) == 2
    assert message in capsys.readouterr().err


def test_append_keeps_rows_measured_in_an_earlier_chunk(tmp_path):
    bench = cli._bench_module()
    out = tmp_path / "chunks.json"
    old = dict(model="resnet56", batch_size=512, precision="bf16", framework="cnnkit", data_path="device",
               images_per_s=1.0)
    same_key = dict(old, model="resnet20", batch_size=16, precision="fp32", images_per_s=2.0)
    out.write_text(json.dumps({"rows": [old, same_key]}))
    args = bench.finalize(bench.build_parser().parse_args(["--models", "resnet20", "--batch-sizes", "16",
                                                           "--precisions", "fp32", "--no-torch", "--append",
                                                           "--out", str(out)]))
    spec = bench._specs(args)[0]
    measured = dict(images_per_s=3.0, ms_per_step=1.0, images_per_cpu_s=3.0, compile_s=0.0, peak_bytes=None,
                    params={"trainable": 1, "total": 1}, device="CPU")
    bench._save(args, [spec], [[measured]], [0.0], 0.0, bench._previous(args))
    rows = json.loads(out.read_text())["rows"]
    assert [(r["model"], r["images_per_s"]) for r in rows] == [("resnet56", 1.0), ("resnet20", 3.0)]
