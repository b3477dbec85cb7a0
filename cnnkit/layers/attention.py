"""Attention modules that rescale a feature map: SE (channel), CBAM (channel then spatial), BAM (both, summed).

Each is a composition of stock layers wrapped in one serializable layer, so a block can add
it with one call, e.g. ``x = SqueezeExcite(16)(x)``. All take channels-last feature maps
``(batch, height, width, channels)`` and return the same shape. The hidden width of every
bottleneck is ``max(1, channels // ratio)``.
"""

from __future__ import annotations

import keras
from keras import ops

from cnnkit.layers._utils import positive_int
from cnnkit.layers.normalization import bn_setting

__all__ = ["BAM", "CBAM", "SqueezeExcite"]


def _channels(layer: keras.layers.Layer, input_shape) -> int:
    if len(input_shape) != 4 or input_shape[-1] is None:
        raise ValueError(f"{type(layer).__name__} needs inputs (batch, height, width, channels) with known "
                         f"channels, got input shape {input_shape}")
    return int(input_shape[-1])


@keras.saving.register_keras_serializable(package="cnnkit")
class SqueezeExcite(keras.layers.Layer):
    """Squeeze-and-excitation: rescale each channel by a gate computed from all channels.

    Squeeze: global average pooling gives one number per channel. Excite: a bottleneck MLP
    ``C → C/r (ReLU) → C (sigmoid)`` turns it into a gate ``s ∈ (0, 1)^C``. Output ``x · s``.
    Parameters: ``C·(C/r) + C/r + (C/r)·C + C``.

    Reference: Hu, Shen & Sun, "Squeeze-and-Excitation Networks", CVPR 2018.

    Args:
        ratio: reduction ratio ``r`` of the bottleneck (default 16).
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).
    """

    def __init__(self, ratio: int = 16, **kwargs):
        super().__init__(**kwargs)
        self.ratio = positive_int(ratio, "ratio")

    def build(self, input_shape):
        channels = _channels(self, input_shape)
        hidden = max(1, channels // self.ratio)
        self.reduce = keras.layers.Dense(hidden, activation="relu", name="reduce")
        self.expand = keras.layers.Dense(channels, activation="sigmoid", name="expand")
        self.reduce.build((None, channels))
        self.expand.build((None, hidden))

    def call(self, inputs, training=None):
        squeezed = ops.mean(inputs, axis=(1, 2), keepdims=True)
        return inputs * self.expand(self.reduce(squeezed))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "ratio": self.ratio}


@keras.saving.register_keras_serializable(package="cnnkit")
class CBAM(keras.layers.Layer):
    """Convolutional block attention module: channel attention, then spatial attention.

    * Channel: a shared MLP ``C → C/r (ReLU) → C`` is applied to the average- and the
      max-pooled descriptors; ``M_c = σ(MLP(avg) + MLP(max))``; ``x' = x · M_c``.
    * Spatial: the channel-wise mean and max of ``x'`` form a 2-channel map;
      ``M_s = σ(conv_{k×k}([mean; max]))`` (one output channel, with bias); output ``x' · M_s``.

    Parameters: ``2·C·(C/r) + C/r + C`` (MLP) ``+ 2·k² + 1`` (spatial conv). The authors' code
    puts a BN after the spatial conv; this layer follows the paper's formula (no BN).

    Reference: Woo, Park, Lee & Kweon, "CBAM: Convolutional Block Attention Module", ECCV 2018.

    Args:
        ratio: reduction ratio ``r`` of the channel MLP (default 16).
        kernel_size: size ``k`` of the spatial attention conv (default 7).
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).
    """

    def __init__(self, ratio: int = 16, kernel_size: int = 7, **kwargs):
        super().__init__(**kwargs)
        self.ratio = positive_int(ratio, "ratio")
        self.kernel_size = positive_int(kernel_size, "kernel_size")

    def build(self, input_shape):
        channels = _channels(self, input_shape)
        hidden = max(1, channels // self.ratio)
        self.mlp_hidden = keras.layers.Dense(hidden, activation="relu", name="mlp_hidden")
        self.mlp_out = keras.layers.Dense(channels, name="mlp_out")
        self.spatial_conv = keras.layers.Conv2D(1, self.kernel_size, padding="same", activation="sigmoid",
                                                name="spatial_conv")
        self.mlp_hidden.build((None, channels))
        self.mlp_out.build((None, hidden))
        self.spatial_conv.build((*input_shape[:3], 2))

    def call(self, inputs, training=None):
        avg = ops.mean(inputs, axis=(1, 2), keepdims=True)
        peak = ops.max(inputs, axis=(1, 2), keepdims=True)
        channel_gate = ops.sigmoid(self.mlp_out(self.mlp_hidden(avg)) + self.mlp_out(self.mlp_hidden(peak)))
        x = inputs * channel_gate
        pooled = ops.concatenate([ops.mean(x, axis=-1, keepdims=True), ops.max(x, axis=-1, keepdims=True)],
                                 axis=-1)
        return x * self.spatial_conv(pooled)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "ratio": self.ratio, "kernel_size": self.kernel_size}


@keras.saving.register_keras_serializable(package="cnnkit")
class BAM(keras.layers.Layer):
    """Bottleneck attention module: channel and spatial branches summed, output ``x · (1 + σ(M_c + M_s))``.

    * Channel branch ``M_c`` (1×1×C): global average pool → Dense ``C/r`` → BN → ReLU → Dense ``C``.
    * Spatial branch ``M_s`` (H×W×1): 1×1 conv to ``C/r`` → BN → ReLU → two 3×3 convs with
      dilation ``d`` (each → BN → ReLU) → 1×1 conv to one channel.

    The two maps broadcast to H×W×C and are added before the sigmoid; the residual form
    ``1 + σ(·)`` means the module can only amplify, never zero out, a feature. BN placement
    follows the authors' code (after each hidden layer; the paper's formulas write one BN on
    each branch output). BatchNormalization takes its momentum/epsilon from
    :func:`~cnnkit.layers.normalization.bn_defaults` when the layer is created (``build(..., bn_momentum=)``),
    and stores them in its config.

    Reference: Park, Woo, Lee & Kweon, "BAM: Bottleneck Attention Module", BMVC 2018.

    Args:
        ratio: reduction ratio ``r`` of both branches (default 16).
        dilation: dilation ``d`` of the spatial 3×3 convs (default 4).
        bn_momentum, bn_epsilon: BatchNormalization settings (default: cnnkit's current ones).
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).
    """

    def __init__(self, ratio: int = 16, dilation: int = 4, bn_momentum: float | None = None,
                 bn_epsilon: float | None = None, **kwargs):
        super().__init__(**kwargs)
        self.ratio = positive_int(ratio, "ratio")
        self.dilation = positive_int(dilation, "dilation")
        self.bn_momentum = float(bn_setting("momentum") if bn_momentum is None else bn_momentum)
        self.bn_epsilon = float(bn_setting("epsilon") if bn_epsilon is None else bn_epsilon)

    def _bn(self, name: str) -> keras.layers.BatchNormalization:
        return keras.layers.BatchNormalization(momentum=self.bn_momentum, epsilon=self.bn_epsilon, name=name)

    def build(self, input_shape):
        channels = _channels(self, input_shape)
        hidden = max(1, channels // self.ratio)
        self.channel_layers = [keras.layers.Dense(hidden, name="channel_hidden"), self._bn("channel_bn"),
                               keras.layers.ReLU(), keras.layers.Dense(channels, name="channel_out")]
        self.spatial_layers = [keras.layers.Conv2D(hidden, 1, name="spatial_reduce"), self._bn("spatial_bn0"),
                               keras.layers.ReLU()]
        for i in (1, 2):
            self.spatial_layers += [keras.layers.Conv2D(hidden, 3, padding="same", dilation_rate=self.dilation,
                                                        name=f"spatial_dilated{i}"),
                                    self._bn(f"spatial_bn{i}"), keras.layers.ReLU()]
        self.spatial_layers.append(keras.layers.Conv2D(1, 1, name="spatial_out"))
        for layers, shape in ((self.channel_layers, (None, 1, 1, channels)), (self.spatial_layers, input_shape)):
            for layer in layers:
                layer.build(shape)
                shape = layer.compute_output_shape(shape)

    def call(self, inputs, training=None):
        channel = ops.mean(inputs, axis=(1, 2), keepdims=True)
        for layer in self.channel_layers:
            channel = layer(channel, training=training)
        spatial = inputs
        for layer in self.spatial_layers:
            spatial = layer(spatial, training=training)
        return inputs * (1.0 + ops.sigmoid(channel + spatial))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "ratio": self.ratio, "dilation": self.dilation,
                "bn_momentum": self.bn_momentum, "bn_epsilon": self.bn_epsilon}
