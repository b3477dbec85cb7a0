"""Residual blocks (basic, bottleneck, wide, ResNeXt) and the option-A shortcut layer."""

import keras
import numpy as np
import pytest
from testutil import BACKEND

from cnnkit.blocks.residual import ZeroPadShortcut, basic_block, bottleneck_block, wide_block
from cnnkit.blocks.resnext import resnext_block
from cnnkit.stats import basic_vs_bottleneck, shapes_only


def _block_model(block, input_shape, *args, **kwargs) -> keras.Model:
    """A one-block model; its weights are not initialised (shape and count tests only)."""
    with shapes_only():
        inputs = keras.Input(shape=input_shape)
        return keras.Model(inputs, block(inputs, *args, name="b", **kwargs))


def _names(model) -> set[str]:
    return {layer.name for layer in model.layers}


def _types(model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("shortcut", ["identity", "zero_pad", "projection", "projection_all"])
@pytest.mark.parametrize("block, out", [(basic_block, 32), (bottleneck_block, 128)])
def test_shapes_and_shortcut_layers(block, out, shortcut, version):
    kept = _block_model(block, (8, 8, out), out // (1 if block is basic_block else 4), version=version,
                        shortcut=shortcut)
    assert kept.output_shape == (None, 8, 8, out)
    assert ("b_0_conv" in _names(kept)) == (shortcut == "projection_all")
    assert "ZeroPadShortcut" not in _types(kept)

    grown = _block_model(block, (9, 9, 16), out // (1 if block is basic_block else 4), stride=2,
                         version=version, shortcut=shortcut)
    assert grown.output_shape == (None, 5, 5, out)  # "same" padding: ceil(9 / 2)
    projection = shortcut.startswith("projection")
    assert ("b_0_conv" in _names(grown)) == projection
    assert ("b_0_bn" in _names(grown)) == (projection and version == 1)
    assert ("b_0_pad" in _names(grown)) == (not projection)
    # v1 ends with an activation after the sum, v2 with the bare sum
    assert _types(grown)[-1] == ("Activation" if version == 1 else "Add")


def test_zero_pad_shortcut_is_parameter_free_subsampling():
    layer = ZeroPadShortcut(5, strides=2)
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 3)).astype("float32")
    y = keras.ops.convert_to_numpy(layer(x))
    assert layer.weights == [] and y.shape == (2, 3, 3, 5)
    np.testing.assert_array_equal(y[..., :3], x[:, ::2, ::2, :])
    np.testing.assert_array_equal(y[..., 3:], 0.0)
    assert layer.compute_output_shape((None, 5, 5, 3)) == (None, 3, 3, 5)
    clone = ZeroPadShortcut.from_config(layer.get_config())
    assert (clone.filters, clone.strides) == (5, 2)
    with pytest.raises(ValueError, match="cannot reduce channels"):
        ZeroPadShortcut(2)(x)


def test_zero_pad_block_counts_only_its_convolutions():
    model = _block_model(basic_block, (8, 8, 16), 32, stride=2, shortcut="zero_pad")
    convs = 3 * 3 * 16 * 32 + 3 * 3 * 32 * 32
    assert model.count_params() == convs + 2 * 4 * 32  # + two BN layers (γ, β, moving mean, variance)
    projected = _block_model(basic_block, (8, 8, 16), 32, stride=2, shortcut="projection")
    assert projected.count_params() - model.count_params() == 16 * 32 + 4 * 32


@pytest.mark.parametrize("version", [1, 2])
def test_plain_block_has_no_addition(version):
    model = _block_model(basic_block, (8, 8, 16), 32, stride=2, plain=True, version=version)
    assert "Add" not in _types(model) and "ZeroPadShortcut" not in _types(model)
    assert model.output_shape == (None, 4, 4, 32)


def test_paper_parameter_counts_basic_vs_bottleneck():
    counts = basic_vs_bottleneck(256)
    basic = _block_model(basic_block, (14, 14, 256), 256, norm=None, use_bias=False)
    bottleneck = _block_model(bottleneck_block, (14, 14, 256), 64, norm=None, use_bias=False)
    assert basic.count_params() == counts["basic"] == 1_179_648
    assert bottleneck.count_params() == counts["bottleneck"] == 69_632


def test_bottleneck_stride_sits_on_the_3x3():
    model = _block_model(bottleneck_block, (8, 8, 64), 16, stride=2)
    strides = {layer.name: layer.strides for layer in model.layers if isinstance(layer, keras.layers.Conv2D)}
    assert strides["b_1_conv"] == (1, 1) and strides["b_2_conv"] == (2, 2) and strides["b_3_conv"] == (1, 1)


def test_use_bias_default_only_where_no_batch_norm_follows():
    v1 = _block_model(bottleneck_block, (8, 8, 64), 16, stride=2, shortcut="projection")
    v2 = _block_model(bottleneck_block, (8, 8, 64), 16, stride=2, shortcut="projection", version=2)
    bias = {m.name: {la.name: la.use_bias for la in m.layers if isinstance(la, keras.layers.Conv2D)}
            for m in (v1, v2)}
    assert not any(bias[v1.name].values())
    assert bias[v2.name] == {"b_0_conv": True, "b_1_conv": False, "b_2_conv": False, "b_3_conv": True}


def test_resnext_block_groups_and_paper_count():
    model = _block_model(resnext_block, (14, 14, 256), 256, cardinality=32, bottleneck_width=4, norm=None,
                         use_bias=False)
    grouped = model.get_layer("b_2_conv")
    assert grouped.groups == 32 and grouped.filters == 128
    # Xie et al. Fig. 1: ~70k parameters, like the ResNet bottleneck it replaces
    assert model.count_params() == 256 * 128 + 9 * 4 * 128 + 128 * 256 == 70_144
    with pytest.raises(ValueError, match="cardinality"):
        _block_model(resnext_block, (8, 8, 16), 16, cardinality=0)


def test_wide_block_is_preactivation_with_dropout():
    model = _block_model(wide_block, (8, 8, 16), 32, stride=2, dropout=0.3)
    assert "b_1_drop" in _names(model) and "b_preact_bn" in _names(model)
    assert not any(la.use_bias for la in model.layers if isinstance(la, keras.layers.Conv2D))
    assert _types(model)[-1] == "Add"


@pytest.mark.parametrize("attention, layer", [("se", "SqueezeExcite"), ("cbam", "CBAM"), ("bam", "BAM")])
def test_attention_on_the_residual_branch(attention, layer):
    model = _block_model(basic_block, (8, 8, 32), 32, attention=attention)
    att = model.get_layer(f"b_{attention}")
    assert type(att).__name__ == layer and model.output_shape == (None, 8, 8, 32)
    add = model.get_layer("b_add")
    assert any(t is att.output for t in add.input)  # applied before the addition, on the branch


@pytest.mark.parametrize("kwargs, message", [
    (dict(shortcut="option_b"), "unknown shortcut 'option_b'"),
    (dict(version=3), "version must be 1"),
    (dict(attention="eca"), "unknown attention 'eca'"),
    (dict(dropout=1.0), "dropout must be in"),
])
def test_bad_options_name_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _block_model(basic_block, (8, 8, 16), 16, **kwargs)


def test_zero_pad_block_trains():
    inputs = keras.Input(shape=(8, 8, 16))
    model = keras.Model(inputs, basic_block(inputs, 32, stride=2, name="b"))
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 16)).astype("float32")
    model.compile(optimizer="sgd", loss="mse", run_eagerly=BACKEND != "jax")  # jit is quicker on JAX
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.trainable_weights]
    loss = model.train_on_batch(x, np.ones((2, 4, 4, 32), "float32"))
    assert np.isfinite(loss)
    assert any(not np.allclose(b, keras.ops.convert_to_numpy(w)) for b, w in zip(before, model.trainable_weights))
