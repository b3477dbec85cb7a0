"""Channel shuffle (ShuffleNet, Zhang et al. 2018)."""

from __future__ import annotations

import keras
from keras import ops

from cnnkit.layers._utils import positive_int

__all__ = ["ChannelShuffle"]


@keras.saving.register_keras_serializable(package="cnnkit")
class ChannelShuffle(keras.layers.Layer):
    """Interleave the channels of ``groups`` groups so that the next grouped conv mixes them.

    Stacked grouped convolutions never exchange information between groups. ShuffleNet
    permutes the channels between them: view the ``C`` channels as a ``(groups, C / groups)``
    matrix, transpose it, and flatten again. With 2 groups of 3 channels ``[a0 a1 a2 b0 b1 b2]``
    becomes ``[a0 b0 a1 b1 a2 b2]``. No parameters; the last axis is the channel axis.

    Reference: Zhang, Zhou, Lin & Sun, "ShuffleNet: An Extremely Efficient Convolutional
    Neural Network for Mobile Devices", CVPR 2018, section 3.1.

    Args:
        groups: number of groups; the channel count must be a multiple of it.
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).
    """

    def __init__(self, groups: int, **kwargs):
        super().__init__(**kwargs)
        self.groups = positive_int(groups, "groups")

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None or channels % self.groups:
            raise ValueError(f"ChannelShuffle(groups={self.groups}) needs a channel count divisible by "
                             f"{self.groups}, got input shape {input_shape}; pick groups that divide "
                             f"the channels")

    def call(self, inputs, training=None):
        shape = ops.shape(inputs)
        rank = len(inputs.shape)
        channels = inputs.shape[-1]
        grouped = ops.reshape(inputs, (*shape[:-1], self.groups, channels // self.groups))
        swapped = ops.transpose(grouped, (*range(rank - 1), rank, rank - 1))
        return ops.reshape(swapped, shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        base = super().get_config()
        return {**base, "groups": self.groups}
