"""PReLU from the factory: one slope per channel after dense and convolutional layers, serializable."""

import keras
import numpy as np
import pytest

from cnnkit.layers import get_activation
from cnnkit.models import build

pytestmark = pytest.mark.backend


@pytest.mark.parametrize("shape, alpha_shape", [((5,), (5,)), ((4, 4, 3), (1, 1, 3))])
def test_prelu_learns_one_slope_per_channel(shape, alpha_shape, tmp_path):
    inputs = keras.Input(shape)
    model = keras.Model(inputs, get_activation("prelu", layer_name="act")(inputs))
    assert tuple(model.get_layer("act").alpha.shape) == alpha_shape
    x = np.linspace(-2, 2, int(np.prod(shape)) * 2, dtype="float32").reshape(2, *shape)
    out = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(out, np.where(x > 0, x, 0.25 * x), rtol=1e-6)
    model.save(tmp_path / "m.keras")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras.models.load_model(tmp_path / "m.keras")(x)), out)


def test_lenet5_builds_with_prelu():
    """A hidden dense layer with PReLU (rank-2 input) used to fail with shared_axes=[1, 2]."""
    model = build("lenet5", input_shape=(28, 28, 1), num_classes=10, activation="prelu")
    assert model.output_shape == (None, 10)
