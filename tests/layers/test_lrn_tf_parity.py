"""LRN against TensorFlow's own op (Keras 3 has no LRN; tf.nn.local_response_normalization is the reference)."""

import numpy as np
import pytest
from testutil import requires_tensorflow

from cnnkit.layers import LocalResponseNormalization

SETTINGS = [  # (depth_radius, bias, alpha, beta)
    (2, 2.0, 1e-4, 0.75),  # AlexNet
    (0, 1.0, 0.5, 0.5),
    (1, 1.0, 1.0, 1.0),
    (3, 0.5, 0.1, 1.3),
    (5, 2.0, 0.01, 0.75),  # window wider than the channels below
]


@requires_tensorflow()
@pytest.mark.parametrize("depth_radius, bias, alpha, beta", SETTINGS)
def test_matches_tf_nn_local_response_normalization(depth_radius, bias, alpha, beta):
    import tensorflow as tf

    rng = np.random.default_rng(depth_radius)
    for channels in (1, 3, 8, 16):  # 1 and 3 are fewer channels than most windows
        x = (rng.normal(size=(2, 5, 4, channels)) * 2).astype("float32")
        expected = tf.nn.local_response_normalization(x, depth_radius=depth_radius, bias=bias,
                                                      alpha=alpha, beta=beta).numpy()
        layer = LocalResponseNormalization(depth_radius, bias=bias, alpha=alpha, beta=beta)
        np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=1e-6, atol=1e-6)


@requires_tensorflow()
def test_gradient_matches_tf():
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(0).normal(size=(1, 3, 3, 7)).astype("float32"))
    layer = LocalResponseNormalization(depth_radius=2, alpha=0.2)
    grads = []
    for fn in (layer, lambda t: tf.nn.local_response_normalization(t, depth_radius=2, bias=2.0, alpha=0.2,
                                                                   beta=0.75)):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(fn(x) * tf.range(7, dtype="float32"))
        grads.append(tape.gradient(y, x).numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)
