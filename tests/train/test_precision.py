"""Mixed precision: "auto" resolves by hardware, narrow layers stay float32, runs record what they computed in."""

import keras
import numpy as np
import pytest

from cnnkit import models
from cnnkit.train.config import RunConfig
from cnnkit.layers import BatchNormalization
from cnnkit.train import fit
from cnnkit.train import precision as prec
from testutil import requires_tensorflow

AMX = frozenset({"avx512f", "avx512_bf16", "amx_bf16", "amx_tile"})


@pytest.mark.parametrize("backend, flags, policy, words", [
    ("tensorflow", AMX, "mixed_bfloat16", ["AMX-BF16", "AVX-512 BF16"]),
    ("tensorflow", frozenset({"avx512_bf16"}), "mixed_bfloat16", ["AVX-512 BF16"]),
    ("tensorflow", frozenset({"avx2", "fma"}), "float32", ["no bf16 hardware"]),
    ("jax", AMX, "float32", ["no bf16 hardware"]),  # XLA's CPU bf16 is not measured faster: stays fp32
])
def test_auto_picks_bf16_only_where_the_hardware_has_it(backend, flags, policy, words, monkeypatch):
    monkeypatch.setattr(prec, "_gpu_bf16", lambda backend: None)
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    chosen = prec.resolve("auto", backend=backend, cpu_flags=flags)
    assert chosen.policy == policy and chosen.reason.startswith("auto: ")
    assert all(w in chosen.reason for w in words)


def test_auto_follows_onednn_and_a_bf16_gpu(monkeypatch):
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")  # oneDNN off: TF's own bf16 kernels are slow
    monkeypatch.setattr(prec, "_gpu_bf16", lambda backend: None)
    assert prec.resolve("auto", backend="tensorflow", cpu_flags=AMX).policy == "float32"
    monkeypatch.setattr(prec, "_gpu_bf16", lambda backend: "GPU H100 (compute capability 9.0)")
    chosen = prec.resolve("auto", backend="jax", cpu_flags=frozenset())
    assert chosen.policy == "mixed_bfloat16" and "H100" in chosen.reason


def test_explicit_choices_are_kept_and_bad_ones_named():
    assert prec.resolve(None) == prec.Precision("float32", "mixed_precision=None")
    assert prec.resolve("mixed_float16").policy == "mixed_float16"
    with pytest.raises(ValueError, match="'bf16'.*'auto'"):
        prec.resolve("bf16")
    with pytest.raises(ValueError, match="mixed_precision='float16'.*'auto'"):
        RunConfig(mixed_precision="float16").resolved()


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Xeon X\nflags\t\t: fpu sse avx512_bf16 amx_bf16\n\n"
                    "processor\t: 1\nmodel name\t: other\nflags\t\t: fpu\n")
    assert prec.cpu_info(str(info)) == ("Xeon X", {"fpu", "sse", "avx512_bf16", "amx_bf16"})
    assert prec.cpu_info(str(tmp_path / "missing")) == ("unknown", frozenset())


def test_narrow_layers_compute_in_float32_under_a_mixed_policy():
    with prec.policy_scope(prec.Precision("mixed_bfloat16", "test")):
        net = models.build("resnet_cifar", depth=8, width=8, input_shape=(16, 16, 1), num_classes=10)
        changed = prec.keep_narrow_layers_in_float32(net)
    compute = {layer.name: layer.dtype_policy.compute_dtype for layer in net.layers}
    channels = {layer.name: layer.output.shape[-1] for layer in net.layers[1:]}
    narrow = [name for name, c in channels.items() if c < prec.MIN_BF16_CHANNELS]
    assert changed == len(narrow) > 0 and all(compute[name] == "float32" for name in narrow)
    wide = [name for name, c in channels.items() if c >= prec.MIN_BF16_CHANNELS]
    assert wide and all(compute[name] == "bfloat16" for name in wide)
    assert all(v.dtype == "float32" for v in net.weights)  # variables stay float32 under both policies
    assert keras.mixed_precision.global_policy().name == "float32"  # the scope restored it
    assert prec.keep_narrow_layers_in_float32(net) == 0  # nothing to do under float32


def test_a_bf16_run_trains_records_its_precision_and_survives_save(tmp_path):
    config = dict(model="resnet_cifar", model_options={"depth": 8, "width": 8}, dataset="synthetic",
                  data_options={"image_shape": [16, 16, 1], "train_size": 128, "test_size": 32},
                  batch_size=32, epochs=1, steps_per_epoch=4, lr=0.05, mixed_precision="mixed_bfloat16")
    result = fit(config, workdir=tmp_path / "run", verbose=0)
    assert result.status == "done", result.message
    assert result.precision == "mixed_bfloat16 (mixed_precision='mixed_bfloat16')"
    assert np.isfinite(result.final["train_loss"]) and keras.mixed_precision.global_policy().name == "float32"
    plain = fit(dict(config, mixed_precision=None), verbose=0)
    assert plain.precision.startswith("float32")
    auto = fit(dict(config, mixed_precision="auto"), verbose=0)
    assert auto.precision.split()[0] == prec.resolve("auto").policy


@requires_tensorflow()
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_fused_bn_takes_half_precision_activations_without_casts(dtype):
    import tensorflow as tf

    x = np.random.default_rng(0).normal(2.0, 3.0, size=(6, 5, 5, 8)).astype("float32")
    layer = BatchNormalization(momentum=0.9, dtype=f"mixed_{dtype}")
    reference = BatchNormalization(momentum=0.9)
    want = keras.ops.convert_to_numpy(reference(x, training=True))
    got = layer(tf.cast(x, dtype), training=True)
    assert got.dtype == dtype
    np.testing.assert_allclose(keras.ops.convert_to_numpy(tf.cast(got, "float32")), want, atol=0.05)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.moving_mean),
                               keras.ops.convert_to_numpy(reference.moving_mean), rtol=1e-2)
    graph = tf.function(lambda t: layer(t, training=True)).get_concrete_function(tf.cast(x, dtype)).graph
    assert "Cast" not in {op.type for op in graph.get_operations() if "FusedBatchNorm" in op.type or
                          any("FusedBatchNorm" in i.op.type for i in op.inputs)}
