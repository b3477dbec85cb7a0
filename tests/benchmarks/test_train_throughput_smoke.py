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


def test_rows_record_the_shape_and_both_sides_train_it(tmp_path):
    bench = cli._bench_module()
    out = tmp_path / "small.json"
    assert bench.main(["--models", "resnet8", "--batch-sizes", "8", "--precisions", "fp32", "--resolution", "12",
                       "--width", "4", "--channels", "1", "--steps", "1", "--warmup", "1", "--dataset-size", "32",
                       "--in-process", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["complete"] and set(data["cpu"]) == {"model", "flags"} and data["date"].count("-") == 2
    net = models.build("resnet_cifar", depth=8, width=4, input_shape=(12, 12, 1), num_classes=10)
    for row in data["rows"]:
        assert (row["resolution"], row["width"], row["channels"], row["batch_size"]) == (12, 4, 1, 8)
        if "error" not in row:
            assert row["params"]["total"] == net.count_params()  # torch's net has the same shape too
    cnnkit_row, torch_row = data["rows"]
    assert "error" not in cnnkit_row and ("error" not in torch_row if TORCH else torch_row["error"])


def test_quick_preset_reads_notebook_01s_settings():
    settings = cli._bench_module().quick_preset()
    assert settings == {"models": "plain56,resnet56,plain20,resnet20", "batch_sizes": "64", "resolution": 16,
                        "width": 8, "channels": 1}


def test_bad_shape_options_are_named(capsys):
    assert cli.main(["bench", "--resolution", "4"]) == 2
    assert "--resolution 4" in capsys.readouterr().err


def _result_file(path, *, complete=True):
    versions = {"tensorflow": "2.21.0", "keras": "3.15.1"}
    shape = dict(model="resnet20", resolution=16, width=8, channels=1, batch_size=64, precision="bf16")
    rows = [dict(shape, framework="cnnkit", data_path="device", images_per_s=3000.0, ratio_to_torch=0.95,
                 cpu_ratio_to_torch=1.07, versions=versions),
            dict(shape, framework="torch", data_path="device", images_per_s=3158.0, versions={"torch": "2.13.0"})]
    path.write_text(json.dumps({"complete": complete, "rows": rows, "date": "2026-12-05", "cpus": 2,
                                "cpu": {"model": "Xeon X", "flags": ["avx512_bf16", "amx_bf16"]},
                                "load_average": [0.5, 1.25], "settings": {"threads": 0, "steps": 20, "warmup": 5}}))
    return path


def test_readme_table_is_written_from_the_json(tmp_path):
    bench = cli._bench_module()
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{bench.README_BEGIN}\nold table\n{bench.README_END}\nafter\n")
    assert bench.main(["--readme", str(readme), "--results", str(_result_file(tmp_path / "r.json"))]) == 0
    text = readme.read_text()
    assert "old table" not in text and text.startswith("intro\n") and text.endswith(f"{bench.README_END}\nafter\n")
    assert "| resnet20 | 16x16x1 | 8 | 64 | bf16 | 3,000 | 3,158 | 0.95x | **1.07x** |" in text
    assert "Xeon X" in text and "avx512_bf16, amx_bf16" in text and "torch 2.13.0" in text and "0.5–1.2" in text
    with pytest.raises(ValueError, match="not a complete run"):
        bench.readme_markdown([_result_file(tmp_path / "partial.json", complete=False)])
    assert bench.main(["--readme", str(readme), "--results", str(tmp_path / "missing.json")]) == 2
    assert bench.main(["--readme", str(tmp_path / "r.json"), "--results", str(tmp_path / "r.json")]) == 2
    assert "| resnet20 | 16x16x1 |" in readme.read_text()  # a failed rewrite leaves the README as it was


def test_cpu_info_reads_the_model_and_the_flags_that_matter(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("model name\t: Test CPU @ 2GHz\nflags\t\t: fpu avx2 avx512f amx_bf16 sse\n")
    assert cli._bench_module().cpu_info(str(info)) == {"model": "Test CPU @ 2GHz",
                                                       "flags": ["avx2", "avx512f", "amx_bf16"]}


def test_readme_table_is_the_committed_results():
    """README's benchmark block is what --readme generates from benchmarks/results (never typed by hand)."""
    bench = cli._bench_module()
    files = sorted(bench.RESULTS.glob("train_throughput_*.json"))
    readme = (bench.HERE.parent / "README.md").read_text()
    block = readme[readme.index(bench.README_BEGIN) + len(bench.README_BEGIN):readme.index(bench.README_END)]
    assert files and block.strip() == bench.readme_markdown(files).strip()
