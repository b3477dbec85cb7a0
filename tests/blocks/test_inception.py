"""The Inception v1 module: shapes, parameter counts against a hand formula, naive vs reduced."""

import keras
import numpy as np
import pytest

from cnnkit.blocks.inception import inception_module, inception_params

# GoogLeNet's inception (3a): 192 input channels → 64, 96/128, 16/32, 32 (Table 1).
C_IN = 192
FILTERS_3A = (64, 96, 128, 16, 32, 32)


def _model(channels: int, filters, size: int = 8, **kwargs) -> keras.Model:
    inputs = keras.Input((size, size, channels))
    return keras.Model(inputs, inception_module(inputs, *filters, name="inc", **kwargs))


def _hand_count_3a(reductions: bool) -> int:
    """Written out layer by layer (weights + biases), independent of ``inception_params``."""
    if reductions:
        return ((192 * 64 + 64)                           # 1x1
                + (192 * 96 + 96) + (9 * 96 * 128 + 128)  # 1x1 reduce → 3x3
                + (192 * 16 + 16) + (25 * 16 * 32 + 32)   # 1x1 reduce → 5x5
                + (192 * 32 + 32))                        # pool → 1x1 projection
    return (192 * 64 + 64) + (9 * 192 * 128 + 128) + (25 * 192 * 32 + 32)


@pytest.mark.parametrize("reductions", [True, False])
def test_parameter_count_matches_hand_formula(reductions):
    model = _model(C_IN, FILTERS_3A, reductions=reductions)
    expected = _hand_count_3a(reductions)
    assert model.count_params() == expected
    assert inception_params(C_IN, *FILTERS_3A, reductions=reductions) == expected


def test_reductions_make_the_module_cheaper():
    reduced, naive = _hand_count_3a(True), _hand_count_3a(False)
    assert (reduced, naive) == (163_696, 387_296)
    assert naive / reduced > 2.3


@pytest.mark.parametrize("reductions, channels", [(True, 64 + 128 + 32 + 32), (False, 64 + 128 + 32 + C_IN)])
def test_output_shape_and_finite(reductions, channels):
    model = _model(C_IN, FILTERS_3A, size=7, reductions=reductions)
    x = np.random.default_rng(0).normal(size=(2, 7, 7, C_IN)).astype("float32")
    out = keras.ops.convert_to_numpy(model(x))
    assert out.shape == (2, 7, 7, channels)
    assert np.all(np.isfinite(out))


def test_layer_names_are_deterministic():
    names = {layer.name for layer in _model(8, (4, 2, 4, 2, 4, 4)).layers}
    for suffix in ("1x1_conv", "3x3_reduce_conv", "3x3_conv", "5x5_reduce_conv", "5x5_conv", "pool",
                   "pool_proj_conv", "concat"):
        assert f"inc_{suffix}" in names
    naive = {layer.name for layer in _model(8, (4, 2, 4, 2, 4, 4), reductions=False).layers}
    assert "inc_3x3_reduce_conv" not in naive and "inc_pool_proj_conv" not in naive


def test_batch_norm_replaces_biases():
    model = _model(8, (4, 2, 4, 2, 4, 4), norm="batch")
    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(bns) == 6
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert all(not conv.use_bias for conv in convs)
    weights = inception_params(8, 4, 2, 4, 2, 4, 4, bias=False)
    assert model.count_params() == weights + 4 * (4 + 2 + 4 + 2 + 4 + 4)  # BN: γ, β, mean, variance
