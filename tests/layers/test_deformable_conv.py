import keras
import numpy as np
import pytest
from layer_testing import call, check_layer

from cnnkit.layers import DeformableConv2D

pytestmark = pytest.mark.backend


def shifted_conv(x, kernel, bias, shift, stride, padding):
    """A k×k convolution by loops that reads every tap ``shift = (dy, dx)`` pixels away (0 outside)."""
    _, height, width, _ = x.shape
    k = kernel.shape[0]
    if padding == "same":
        out_h, out_w = -(-height // stride), -(-width // stride)
        top = max((out_h - 1) * stride + k - height, 0) // 2
        left = max((out_w - 1) * stride + k - width, 0) // 2
    else:
        out_h, out_w, top, left = (height - k) // stride + 1, (width - k) // stride + 1, 0, 0
    out = np.zeros((x.shape[0], out_h, out_w, kernel.shape[3])) + bias
    for oy in range(out_h):
        for ox in range(out_w):
            for i in range(k):
                for j in range(k):
                    r, c = oy * stride - top + i + shift[0], ox * stride - left + j + shift[1]
                    if 0 <= r < height and 0 <= c < width:
                        out[:, oy, ox] += x[:, r, c] @ kernel[i, j]
    return out


def built_layer(x, **kwargs):
    layer = DeformableConv2D(3, bias_initializer="random_normal", **kwargs)
    layer.build(x.shape)
    return layer


def set_offsets(layer, shifts):
    """Make the offset conv output the constant ``shifts[g] = (dy, dx)`` for every tap of group g."""
    k = layer.kernel_size[0] * layer.kernel_size[1]
    bias = np.concatenate([np.tile(np.asarray(shift, "float32"), k) for shift in shifts])
    layer.offset_conv.bias.assign(bias)


@pytest.mark.parametrize("strides", [1, 2])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_zero_offsets_equal_conv2d(strides, padding):
    x = np.random.default_rng(strides).normal(size=(2, 7, 6, 4)).astype("float32")
    layer = built_layer(x, strides=strides, padding=padding)
    conv = keras.layers.Conv2D(3, 3, strides=strides, padding=padding)
    conv.build(x.shape)
    conv.set_weights([np.asarray(layer.kernel), np.asarray(layer.bias)])
    np.testing.assert_allclose(call(layer, x), call(conv, x), rtol=1e-5, atol=1e-5)


def test_zero_offsets_equal_dilated_conv2d():
    x = np.random.default_rng(0).normal(size=(1, 7, 7, 2)).astype("float32")
    layer = built_layer(x, dilation_rate=2, offset_groups=2)
    conv = keras.layers.Conv2D(3, 3, padding="same", dilation_rate=2)
    conv.build(x.shape)
    conv.set_weights([np.asarray(layer.kernel), np.asarray(layer.bias)])
    np.testing.assert_allclose(call(layer, x), call(conv, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shift, strides, padding", [((1, -1), 1, "same"), ((-2, 1), 2, "same"),
                                                     ((0, 2), 1, "valid")])
def test_integer_offset_is_shifted_sampling(shift, strides, padding):
    x = np.random.default_rng(1).normal(size=(2, 6, 5, 2)).astype("float32")
    layer = built_layer(x, strides=strides, padding=padding)
    set_offsets(layer, [shift])
    expected = shifted_conv(x, np.asarray(layer.kernel), np.asarray(layer.bias), shift, strides, padding)
    np.testing.assert_allclose(call(layer, x), expected, rtol=1e-5, atol=1e-5)


def test_fractional_offset_interpolates_bilinearly():
    x = np.random.default_rng(2).normal(size=(1, 5, 5, 2)).astype("float32")
    layer = built_layer(x)
    set_offsets(layer, [(0.25, -0.5)])
    kernel, bias = np.asarray(layer.kernel), np.asarray(layer.bias)
    corners = [((0, -1), 0.75 * 0.5), ((0, 0), 0.75 * 0.5), ((1, -1), 0.25 * 0.5), ((1, 0), 0.25 * 0.5)]
    expected = bias + sum(w * (shifted_conv(x, kernel, bias, s, 1, "same") - bias) for s, w in corners)
    np.testing.assert_allclose(call(layer, x), expected, rtol=1e-5, atol=1e-5)


def test_offset_groups_move_their_own_channels():
    x = np.random.default_rng(3).normal(size=(1, 5, 4, 4)).astype("float32")
    layer = built_layer(x, offset_groups=2)
    set_offsets(layer, [(1, 0), (0, -1)])
    kernel, bias = np.asarray(layer.kernel), np.asarray(layer.bias)
    expected = (shifted_conv(x[..., :2], kernel[:, :, :2], bias, (1, 0), 1, "same")
                + shifted_conv(x[..., 2:], kernel[:, :, 2:], 0.0, (0, -1), 1, "same"))
    np.testing.assert_allclose(call(layer, x), expected, rtol=1e-5, atol=1e-5)


def test_gradients_reach_the_offset_conv():
    inputs = keras.Input((6, 6, 2))
    layer = DeformableConv2D(2, name="deform")
    model = keras.Model(inputs, layer(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(4, 6, 6, 2)).astype("float32"), rng.normal(size=(4, 6, 6, 2)).astype("float32")
    assert not np.any(np.asarray(layer.offset_conv.kernel))
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert np.any(np.asarray(layer.offset_conv.kernel) != 0)
    assert np.any(np.asarray(layer.offset_conv.bias) != 0)


@pytest.mark.parametrize("kwargs, match", [(dict(filters=0), "filters"), (dict(filters=2, padding="full"), "padding"),
                                           (dict(filters=2, strides=2, dilation_rate=2), "dilation_rate"),
                                           (dict(filters=2, kernel_size=(3, 3, 3)), "kernel_size")])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DeformableConv2D(**kwargs)


def test_offset_groups_must_divide_channels():
    with pytest.raises(ValueError, match="offset_groups=2"):
        DeformableConv2D(4, offset_groups=2)(keras.Input((5, 5, 3)))


def test_layer_round_trip(tmp_path):
    # kernel 3x3x3x4 + bias 4, offset conv 3x3x3x18 + 18
    params = 3 * 3 * 3 * 4 + 4 + 3 * 3 * 3 * 18 + 18
    check_layer(lambda: DeformableConv2D(4, strides=2, kernel_regularizer="l2"), (5, 5, 3), (3, 3, 4),
                tmp_path=tmp_path, trainable_weights=4, params=params)
