"""Dense, depthwise-separable (MobileNet / Xception) and ShuffleNet blocks: shapes, parameter
counts from the papers' formulas, what each block must preserve, and the errors."""

import keras
import numpy as np
import pytest
from keras import ops

from cnnkit.blocks.dense import dense_block, dense_layer, transition
from cnnkit.blocks.separable import mobilenet_block, separable_block, xception_block
from cnnkit.blocks.shuffle import shufflenet_unit
from cnnkit.layers.shuffle import ChannelShuffle


def _model(shape, block, **kwargs):
    inputs = keras.Input(shape)
    return keras.Model(inputs, block(inputs, **kwargs))


def _shapes_only(shape, block, **kwargs):
    """The block as a model with uninitialised weights: enough for shapes and parameter counts,
    and cheap on JAX, where every new weight shape costs an XLA compilation."""
    with keras.StatelessScope(initialize_variables=False):
        return _model(shape, block, **kwargs)


def _bn(c):  # gamma, beta, moving mean, moving variance
    return 4 * c


# --- dense ------------------------------------------------------------------------------------

@pytest.mark.parametrize("bottleneck", [True, False])
def test_dense_block_adds_growth_rate_per_layer(bottleneck):
    model = _shapes_only((8, 8, 16), dense_block, num_layers=3, growth_rate=12, bottleneck=bottleneck, name="d")
    assert model.output_shape == (None, 8, 8, 16 + 3 * 12)


def test_dense_block_passes_its_input_on():
    model = _model((4, 4, 6), dense_block, num_layers=2, growth_rate=4, name="d")
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 6)).astype("float32")
    out = ops.convert_to_numpy(model(x))
    # Dense connectivity: the input is the first channels, unchanged; each layer appends k maps.
    assert out.shape == (2, 4, 4, 6 + 2 * 4)
    np.testing.assert_array_equal(out[..., :6], x)
    assert np.all(np.isfinite(out[..., 6:])) and np.any(out[..., 6:] != 0)


@pytest.mark.parametrize("bottleneck", [True, False])
def test_dense_layer_parameter_count(bottleneck):
    c, k = 20, 8
    model = _shapes_only((6, 6, c), dense_layer, growth_rate=k, bottleneck=bottleneck, name="l")
    expected = _bn(c) + c * 4 * k + _bn(4 * k) + 9 * 4 * k * k if bottleneck else _bn(c) + 9 * c * k
    assert model.count_params() == expected


@pytest.mark.parametrize("theta, channels", [(0.5, 30), (1.0, 60), (0.3, 18)])
def test_transition_compresses_and_halves(theta, channels):
    model = _shapes_only((9, 9, 60), transition, compression=theta, name="t")
    assert model.output_shape == (None, 4, 4, channels)
    assert model.count_params() == _bn(60) + 60 * channels


@pytest.mark.parametrize("theta", [0.0, 1.5, -0.5])
def test_transition_rejects_bad_compression(theta):
    with pytest.raises(ValueError, match="compression"):
        _model((8, 8, 16), transition, compression=theta, name="t")


def test_dense_block_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_layers"):
        _model((8, 8, 4), dense_block, num_layers=0, growth_rate=4, name="d")
    with pytest.raises(ValueError, match="growth_rate"):
        _model((8, 8, 4), dense_block, num_layers=2, growth_rate=0, name="d")


# --- separable --------------------------------------------------------------------------------

@pytest.mark.parametrize("stride, size", [(1, 9), (2, 5)])
@pytest.mark.parametrize("multiplier", [1, 2])
def test_separable_block_shape_and_count(stride, size, multiplier):
    c, f = 8, 24
    model = _shapes_only((9, 9, c), separable_block, filters=f, stride=stride, depth_multiplier=multiplier, name="s")
    assert model.output_shape == (None, size, size, f)
    cm = c * multiplier
    assert model.count_params() == 9 * cm + _bn(cm) + cm * f + _bn(f)  # k²C·m + C·m·C', no biases


@pytest.mark.parametrize("alpha, width", [(1.0, 64), (0.75, 48), (0.5, 32), (0.25, 16)])
def test_mobilenet_block_scales_width(alpha, width):
    model = _shapes_only((8, 8, 16), mobilenet_block, filters=64, alpha=alpha, name="m")
    assert model.output_shape[-1] == width


def test_mobilenet_block_rejects_bad_alpha_and_stride():
    with pytest.raises(ValueError, match="alpha"):
        _model((8, 8, 16), mobilenet_block, filters=64, alpha=0.0, name="m")
    with pytest.raises(ValueError, match="stride"):
        _model((8, 8, 16), separable_block, filters=8, stride=3, name="s")


def test_xception_block_downsampling_module_projects_shortcut():
    model = _shapes_only((10, 10, 16), xception_block, filters=(32, 48), stride=2, name="x")
    assert model.output_shape == (None, 5, 5, 48)
    names = {layer.name for layer in model.layers}
    assert {"x_proj_conv", "x_pool", "x_sepconv1_act", "x_sepconv2_act"} <= names
    sep = (9 * 16 + 16 * 32 + _bn(32)) + (9 * 32 + 32 * 48 + _bn(48))
    assert model.count_params() == sep + 16 * 48 + _bn(48)


def test_xception_middle_module_is_identity_residual():
    model = _model((6, 6, 24), xception_block, filters=(24, 24, 24), name="x")
    assert model.output_shape == (None, 6, 6, 24)
    assert "x_proj_conv" not in {layer.name for layer in model.layers}
    # With the last BN's gamma at zero the residual branch vanishes: the module is the identity.
    model.get_layer("x_sepconv3_bn").gamma.assign(np.zeros(24, "float32"))
    x = np.random.default_rng(1).normal(size=(2, 6, 6, 24)).astype("float32")
    np.testing.assert_allclose(ops.convert_to_numpy(model(x, training=False)), x, atol=1e-6)


def test_xception_entry_module_without_first_activation():
    model = _shapes_only((8, 8, 8), xception_block, filters=(16, 16), stride=2, first_activation=False, name="x")
    names = {layer.name for layer in model.layers}
    assert "x_sepconv1_act" not in names and "x_sepconv2_act" in names


# --- shuffle ----------------------------------------------------------------------------------

def test_shufflenet_unit_stride1_keeps_shape_and_shuffles():
    model = _shapes_only((8, 8, 48), shufflenet_unit, out_channels=48, groups=3, stride=1, name="u")
    assert model.output_shape == (None, 8, 8, 48)
    assert isinstance(model.get_layer("u_shuffle"), ChannelShuffle)
    mid = 12  # 48 / 4
    expected = 48 * mid // 3 + _bn(mid) + 9 * mid + _bn(mid) + mid * 48 // 3 + _bn(48)
    assert model.count_params() == expected


def test_shufflenet_unit_stride2_concatenates_pooled_input():
    model = _model((8, 8, 24), shufflenet_unit, out_channels=240, groups=3, stride=2,
                   first_grouped=False, name="u")
    assert model.output_shape == (None, 4, 4, 240)
    x = np.random.default_rng(2).normal(size=(2, 8, 8, 24)).astype("float32")
    pooled = keras.layers.AveragePooling2D(3, strides=2, padding="same")(x)
    expected = ops.convert_to_numpy(ops.relu(pooled))
    np.testing.assert_allclose(ops.convert_to_numpy(model(x))[..., :24], expected, rtol=1e-5, atol=1e-6)
    # The first 1x1 is ungrouped (input of 24 channels), so no shuffle follows it.
    assert model.get_layer("u_gconv1_conv").groups == 1
    assert not any(isinstance(layer, ChannelShuffle) for layer in model.layers)


def test_shufflenet_unit_without_groups_has_no_shuffle():
    model = _shapes_only((4, 4, 16), shufflenet_unit, out_channels=16, groups=1, name="u")
    assert not any(isinstance(layer, ChannelShuffle) for layer in model.layers)


@pytest.mark.parametrize("channels, out, groups, stride, match", [
    (48, 48, 5, 1, "divisible by groups=5"),   # bottleneck 12 does not split into 5 groups
    (24, 48, 3, 1, "must equal the input"),     # stride 1 cannot change the width
    (48, 48, 3, 2, "must exceed"),              # stride 2 concatenates the input
    (20, 48, 8, 2, "divisible by groups=8"),    # grouped first 1x1 on 20 channels
])
def test_shufflenet_unit_errors(channels, out, groups, stride, match):
    with pytest.raises(ValueError, match=match):
        _model((8, 8, channels), shufflenet_unit, out_channels=out, groups=groups, stride=stride, name="u")
