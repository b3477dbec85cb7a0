"""Layers with new math (each serializable, written with ``keras.ops``) and the layer factories.

* :class:`BatchNormalization` — Keras' BN, trained with TensorFlow's fused kernel (``get_norm("batch")``).
* :class:`LocalResponseNormalization` — AlexNet's LRN, equal to ``tf.nn.local_response_normalization``.
* :class:`StochasticPooling2D` — Zeiler & Fergus' stochastic pooling.
* :class:`RReLU` — randomized leaky ReLU.
* :class:`ChannelShuffle` — ShuffleNet's channel permutation.
* :class:`DeformableConv2D` — deformable convolution v1 (learned offsets, bilinear sampling).
* :class:`WeightedSum` — RandWire's node aggregation with positive learnable weights.
* :class:`SqueezeExcite`, :class:`CBAM`, :class:`BAM` — attention modules.
* :func:`get_activation`, :func:`get_norm`, :func:`get_pooling` — layers by name
  (choices in :data:`ACTIVATIONS`, :data:`NORMS`, :data:`POOLINGS`).
"""

from cnnkit.layers.activations import RReLU
from cnnkit.layers.attention import BAM, CBAM, SqueezeExcite
from cnnkit.layers.deformable import DeformableConv2D
from cnnkit.layers.factories import ACTIVATIONS, NORMS, POOLINGS, get_activation, get_norm, get_pooling
from cnnkit.layers.lrn import LocalResponseNormalization
from cnnkit.layers.normalization import BatchNormalization
from cnnkit.layers.pooling import StochasticPooling2D
from cnnkit.layers.randwire import WeightedSum
from cnnkit.layers.shuffle import ChannelShuffle

__all__ = [
    "ACTIVATIONS", "BAM", "BatchNormalization", "CBAM", "ChannelShuffle", "DeformableConv2D",
    "LocalResponseNormalization",
    "NORMS", "POOLINGS", "RReLU", "SqueezeExcite", "StochasticPooling2D", "WeightedSum",
    "get_activation", "get_norm", "get_pooling",
]
