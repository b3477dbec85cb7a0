"""Deformable convolution v1 (Dai et al. 2017): a convolution whose sampling grid is learned."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from cnnkit.layers._utils import positive_int, to_pair

__all__ = ["DeformableConv2D"]


@keras.saving.register_keras_serializable(package="cnnkit")
class DeformableConv2D(keras.layers.Layer):
    """2-D deformable convolution (v1), channels-last.

    A standard k×k convolution reads the input on a fixed grid around each output position.
    A deformable convolution adds a learned 2-D offset to each of the k·k grid points:

    1. an internal ``offset_conv`` (a Conv2D with the same kernel size, strides, padding and
       dilation, initialised to zero) predicts ``2·k·k·offset_groups`` channels, one
       ``(dy, dx)`` per grid point (per offset group) and output position;
    2. the input is sampled at ``grid + offset`` by bilinear interpolation (points outside
       the image read 0, like zero padding);
    3. the sampled k·k·C values are multiplied by the layer's own kernel, as a Conv2D would.

    With zero offsets (the initial state) the layer equals ``keras.layers.Conv2D`` with the
    same kernel and bias. Offset groups split the input channels into ``offset_groups``
    contiguous groups that each get their own offsets (torchvision's ``offset_groups``).
    The offset channels are ordered ``(group, ky, kx, [dy, dx])``.

    Sampling is a gather of the four neighbouring pixels per point (vectorised, no loops
    over positions); memory grows as batch·H_out·W_out·k²·C, fine for small images.
    ``strides > 1`` together with ``dilation_rate > 1`` is not supported (as in Conv2D).

    Reference: Dai, Qi, Xiong, Li, Zhang, Hu & Wei, "Deformable Convolutional Networks",
    ICCV 2017.

    Args:
        filters: number of output channels.
        kernel_size: int or ``(kh, kw)`` (default 3).
        strides: int or pair (default 1).
        padding: ``"same"`` (default) or ``"valid"``.
        dilation_rate: int or pair (default 1).
        use_bias: add a bias (default ``True``).
        offset_groups: channel groups with separate offsets (default 1); must divide the
            input channels.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer: for the
            main kernel and bias, as in Conv2D (the offset conv always starts at zero).
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).
    """

    def __init__(self, filters: int, kernel_size: int | tuple[int, int] = 3, strides: int | tuple[int, int] = 1,
                 padding: str = "same", dilation_rate: int | tuple[int, int] = 1, use_bias: bool = True,
                 offset_groups: int = 1, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.filters = positive_int(filters, "filters")
        self.kernel_size = to_pair(kernel_size, "kernel_size")
        self.strides = to_pair(strides, "strides")
        self.dilation_rate = to_pair(dilation_rate, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"strides={self.strides} with dilation_rate={self.dilation_rate} is not "
                             "supported; use strides 1 or dilation_rate 1")
        self.padding = str(padding).lower()
        if self.padding not in ("same", "valid"):
            raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
        self.use_bias = bool(use_bias)
        self.offset_groups = positive_int(offset_groups, "offset_groups")
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)

    def build(self, input_shape):
        _, height, width, channels = input_shape
        if height is None or width is None or channels is None:
            raise ValueError(f"DeformableConv2D needs a known height, width and channel count, "
                             f"got input shape {input_shape}")
        if channels % self.offset_groups:
            raise ValueError(f"offset_groups={self.offset_groups} must divide the {channels} input channels")
        kh, kw = self.kernel_size
        self.offset_conv = keras.layers.Conv2D(
            2 * kh * kw * self.offset_groups, self.kernel_size, strides=self.strides, padding=self.padding,
            dilation_rate=self.dilation_rate, kernel_initializer="zeros", bias_initializer="zeros",
            name="offset_conv")
        self.offset_conv.build(input_shape)
        self.kernel = self.add_weight(name="kernel", shape=(kh, kw, channels, self.filters),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer)

    def call(self, inputs, training=None):
        _, height, width, channels = inputs.shape
        out_h, out_w = self._output_hw(height, width)
        kh, kw = self.kernel_size
        groups = self.offset_groups
        offsets = ops.cast(self.offset_conv(inputs), "float32")
        offsets = ops.reshape(offsets, (-1, out_h, out_w, groups, kh * kw, 2))
        grid_y, grid_x = self._base_grid(height, width)
        rows = grid_y + offsets[..., 0]  # (batch, out_h, out_w, groups, k·k)
        cols = grid_x + offsets[..., 1]
        samples = self._bilinear(inputs, rows, cols)  # (batch, out_h, out_w, groups, k·k, C/groups)
        samples = ops.transpose(samples, (0, 1, 2, 4, 3, 5))
        columns = ops.reshape(samples, (-1, out_h, out_w, kh * kw * channels))
        outputs = ops.matmul(columns, ops.reshape(self.kernel, (kh * kw * channels, self.filters)))
        if self.use_bias:
            outputs = outputs + self.bias
        return outputs

    def _base_grid(self, height: int, width: int):
        """Undeformed sampling rows/cols, shapes ``(out_h, 1, 1, k·k)`` and ``(out_w, 1, k·k)``."""
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.strides, self.dilation_rate
        out_h, out_w = self._output_hw(height, width)
        pad_top = pad_left = 0
        if self.padding == "same":
            pad_top = max((out_h - 1) * sh + (kh - 1) * dh + 1 - height, 0) // 2
            pad_left = max((out_w - 1) * sw + (kw - 1) * dw + 1 - width, 0) // 2
        ky, kx = np.meshgrid(np.arange(kh) * dh, np.arange(kw) * dw, indexing="ij")
        rows = np.arange(out_h)[:, None] * sh - pad_top + ky.reshape(1, -1)
        cols = np.arange(out_w)[:, None] * sw - pad_left + kx.reshape(1, -1)
        return (ops.convert_to_tensor(rows[:, None, None, :], "float32"),
                ops.convert_to_tensor(cols[:, None, :], "float32"))

    def _bilinear(self, inputs, rows, cols):
        """Bilinear samples of ``inputs`` at float ``rows``/``cols``; points outside the image read 0."""
        _, height, width, channels = inputs.shape
        groups = self.offset_groups
        batch = ops.shape(inputs)[0]
        # A (batch·groups·H·W, C/groups) table, so one gather reads a group's channels at a pixel.
        table = ops.reshape(inputs, (-1, height * width, groups, channels // groups))
        table = ops.reshape(ops.transpose(table, (0, 2, 1, 3)), (-1, channels // groups))
        first_row = (ops.arange(batch, dtype="int32")[:, None] * groups
                     + ops.arange(groups, dtype="int32")[None, :]) * (height * width)
        first_row = ops.reshape(first_row, (-1, 1, 1, groups, 1))
        row0, col0 = ops.floor(rows), ops.floor(cols)
        frac_r, frac_c = rows - row0, cols - col0
        result = 0.0
        for dr, dc, weight in ((0, 0, (1 - frac_r) * (1 - frac_c)), (0, 1, (1 - frac_r) * frac_c),
                               (1, 0, frac_r * (1 - frac_c)), (1, 1, frac_r * frac_c)):
            r, c = row0 + dr, col0 + dc
            inside = (r >= 0) & (r <= height - 1) & (c >= 0) & (c <= width - 1)
            pixel = (ops.cast(ops.clip(r, 0, height - 1), "int32") * width
                     + ops.cast(ops.clip(c, 0, width - 1), "int32"))
            values = ops.take(table, first_row + pixel, axis=0)
            weight = ops.cast(ops.where(inside, weight, ops.zeros_like(weight)), inputs.dtype)
            result = result + values * weight[..., None]
        return result

    def _output_hw(self, height: int, width: int) -> tuple[int, int]:
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.strides, self.dilation_rate
        if self.padding == "same":
            return math.ceil(height / sh), math.ceil(width / sw)
        return (height - (kh - 1) * dh - 1) // sh + 1, (width - (kw - 1) * dw - 1) // sw + 1

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self._output_hw(input_shape[1], input_shape[2]), self.filters)

    def get_config(self):
        base = super().get_config()
        return {**base, "filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "dilation_rate": self.dilation_rate, "use_bias": self.use_bias,
                "offset_groups": self.offset_groups,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer)}

