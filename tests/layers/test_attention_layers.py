import keras
import numpy as np
import pytest
from layer_testing import call, check_layer

from cnnkit.layers import BAM, CBAM, SqueezeExcite
from cnnkit.models import bn_defaults

pytestmark = pytest.mark.backend


def se_params(c, r):
    h = max(1, c // r)
    return c * h + h + h * c + c


def cbam_params(c, r, k):
    h = max(1, c // r)
    return 2 * c * h + h + c + 2 * k * k + 1


def bam_params(c, r):
    h = max(1, c // r)
    channel = c * h + h + 4 * h + h * c + c  # dense, BN (γ, β, mean, var), dense
    spatial = c * h + h + 4 * h + 2 * (9 * h * h + h + 4 * h) + h + 1
    return channel + spatial


def relu(z):
    return np.maximum(z, 0)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("channels, ratio", [(8, 4), (8, 16)])  # hidden width 2 and max(1, 0) = 1
def test_parameter_counts(channels, ratio):
    x = keras.Input((5, 5, channels))
    for layer, expected in ((SqueezeExcite(ratio), se_params(channels, ratio)),
                            (CBAM(ratio, kernel_size=3), cbam_params(channels, ratio, 3)),
                            (BAM(ratio), bam_params(channels, ratio))):
        assert tuple(layer(x).shape) == (None, 5, 5, channels)
        assert layer.count_params() == expected


def test_squeeze_excite_scales_channels_by_a_gate_in_0_1():
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 8)).astype("float32")
    layer = SqueezeExcite(ratio=4)
    out = call(layer, x)
    gate = out / x
    np.testing.assert_allclose(gate, np.broadcast_to(gate[:, :1, :1, :], gate.shape), rtol=1e-4)
    assert np.all((gate > 0) & (gate < 1))
    w1, b1 = (np.asarray(v) for v in layer.reduce.weights)
    w2, b2 = (np.asarray(v) for v in layer.expand.weights)
    expected_gate = sigmoid(relu(x.mean(axis=(1, 2)) @ w1 + b1) @ w2 + b2)
    np.testing.assert_allclose(gate[:, 0, 0, :], expected_gate, rtol=1e-4)


def test_cbam_is_channel_gate_then_spatial_gate():
    x = np.random.default_rng(1).normal(size=(2, 5, 5, 8)).astype("float32")
    layer = CBAM(ratio=4, kernel_size=3)
    out = call(layer, x)
    w1, b1 = (np.asarray(v) for v in layer.mlp_hidden.weights)
    w2, b2 = (np.asarray(v) for v in layer.mlp_out.weights)
    mlp = lambda d: relu(d @ w1 + b1) @ w2 + b2  # noqa: E731
    channel_gate = sigmoid(mlp(x.mean(axis=(1, 2))) + mlp(x.max(axis=(1, 2))))[:, None, None, :]
    spatial_gate = out / (x * channel_gate)  # the same for every channel, in (0, 1)
    np.testing.assert_allclose(spatial_gate, np.broadcast_to(spatial_gate[..., :1], spatial_gate.shape),
                               rtol=1e-4)
    assert np.all((spatial_gate > 0) & (spatial_gate < 1))


def test_bam_amplifies_by_one_plus_a_gate():
    x = np.random.default_rng(2).normal(size=(2, 5, 5, 8)).astype("float32")
    scale = call(BAM(ratio=4, dilation=2), x) / x
    assert np.all((scale > 1) & (scale < 2))


def test_bam_takes_bn_settings_from_bn_defaults(tmp_path):
    with bn_defaults(momentum=0.9):
        layer = BAM(ratio=4)
    inputs = keras.Input((5, 5, 8))
    model = keras.Model(inputs, layer(inputs))
    bns = [sub for sub in layer._flatten_layers() if isinstance(sub, keras.layers.BatchNormalization)]
    assert len(bns) == 4 and all(bn.momentum == 0.9 for bn in bns)
    model.save(tmp_path / "bam.keras")
    loaded = keras.saving.load_model(tmp_path / "bam.keras").layers[-1]
    assert loaded.bn_momentum == 0.9
    assert all(sub.momentum == 0.9 for sub in loaded._flatten_layers()
               if isinstance(sub, keras.layers.BatchNormalization))


@pytest.mark.parametrize("make", [lambda: SqueezeExcite(0), lambda: CBAM(kernel_size=0), lambda: BAM(dilation=0)])
def test_bad_arguments_raise(make):
    with pytest.raises(ValueError, match="positive int"):
        make()


def test_needs_feature_maps():
    with pytest.raises(ValueError, match="height, width, channels"):
        SqueezeExcite()(keras.Input((8,)))


@pytest.mark.parametrize("make, trainable, non_trainable, params", [
    (lambda: SqueezeExcite(4), 4, 0, se_params(8, 4)),
    (lambda: CBAM(4, kernel_size=3), 6, 0, cbam_params(8, 4, 3)),
    (lambda: BAM(4, dilation=2), 20, 8, bam_params(8, 4)),
])
def test_layer_round_trip(tmp_path, make, trainable, non_trainable, params):
    check_layer(make, (5, 5, 8), (5, 5, 8), tmp_path=tmp_path, trainable_weights=trainable,
                non_trainable_weights=non_trainable, params=params)
