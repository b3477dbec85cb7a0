import keras
import numpy as np
import pytest
from layer_testing import call, check_layer

from cnnkit.layers import ChannelShuffle

pytestmark = pytest.mark.backend


def shuffled_order(channels, groups):
    """Output channel i * groups + j is input channel j * (channels // groups) + i."""
    per_group = channels // groups
    return [j * per_group + i for i in range(per_group) for j in range(groups)]


def test_two_groups_interleave():
    x = np.arange(6, dtype="float32").reshape(1, 1, 1, 6)  # [a0 a1 a2 b0 b1 b2]
    np.testing.assert_array_equal(call(ChannelShuffle(2), x).ravel(), [0, 3, 1, 4, 2, 5])


@pytest.mark.parametrize("channels, groups", [(12, 3), (12, 4), (8, 8), (5, 1)])
def test_matches_numpy_permutation(channels, groups):
    x = np.random.default_rng(channels + groups).normal(size=(2, 3, 4, channels)).astype("float32")
    expected = x[..., shuffled_order(channels, groups)]
    np.testing.assert_array_equal(call(ChannelShuffle(groups), x), expected)


def test_shuffle_by_the_other_factor_undoes_it():
    x = np.random.default_rng(1).normal(size=(1, 2, 2, 12)).astype("float32")
    np.testing.assert_array_equal(call(ChannelShuffle(4), call(ChannelShuffle(3), x)), x)


def test_unknown_spatial_size():
    inputs = keras.Input((None, None, 6))
    model = keras.Model(inputs, ChannelShuffle(3)(inputs))
    x = np.random.default_rng(2).normal(size=(2, 5, 3, 6)).astype("float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), x[..., shuffled_order(6, 3)])


def test_indivisible_channels_raise_at_build():
    layer = ChannelShuffle(4)
    with pytest.raises(ValueError, match="divisible by 4"):
        layer(keras.Input((4, 4, 6)))


@pytest.mark.parametrize("groups", [0, 2.5, None])
def test_bad_groups_raise(groups):
    with pytest.raises(ValueError, match="groups"):
        ChannelShuffle(groups)


def test_layer_round_trip(tmp_path):
    check_layer(lambda: ChannelShuffle(2), (3, 3, 8), (3, 3, 8), tmp_path=tmp_path, trainable_weights=0, params=0)
