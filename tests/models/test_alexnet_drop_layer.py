"""AlexNet's depth ablation option ``drop_layer`` (Krizhevsky et al. 2012 §4): one middle
convolution left out, the pooling/normalisation after it kept, the later maps unchanged."""

import keras
import numpy as np
import pytest

from cnnkit import stats
from cnnkit.models import build


def _convs(model) -> list[str]:
    return [layer.name for layer in model.layers if type(layer).__name__ == "Conv2D"]


def test_alexnet_cifar_without_its_middle_convolution():
    with stats.shapes_only():  # counting and shapes need no weight values (JAX initialises slowly)
        full = build("alexnet_cifar", input_shape=(28, 28, 1))
        dropped = build("alexnet_cifar", input_shape=(28, 28, 1), drop_layer=2)
    assert _convs(full) == ["conv1", "conv2", "conv3"]
    assert _convs(dropped) == ["conv1", "conv3"]
    # conv2 (5x5, 32 → 32, with bias) is gone; conv3 still reads 32 channels, so nothing else changes
    assert full.count_params() - dropped.count_params() == 5 * 5 * 32 * 32 + 32
    names = [layer.name for layer in dropped.layers]
    assert {"conv2_pool", "conv2_norm"} <= set(names) and "conv2_act" not in names
    assert dropped.get_layer("conv3_pool").output.shape[1:] == (4, 4, 64)
    assert dropped.output.shape[1:] == (10,)


# (layer, its weights with bias, extra weights the next convolution loses: it reads fewer channels)
DROPS = [(2, 5 * 5 * 96 * 256 + 256, 3 * 3 * (256 - 96) * 384),   # conv3 reads conv1's 96 maps
         (3, 3 * 3 * 256 * 384 + 384, 3 * 3 * (384 - 256) * 384),  # conv4 reads conv2's 256 maps
         (4, 3 * 3 * 384 * 384 + 384, 0)]                          # conv5 reads conv3's 384 maps, as before


@pytest.mark.parametrize("layer, removed, next_change", DROPS)
def test_alexnet_drop_a_middle_layer_counts(layer, removed, next_change):
    with stats.shapes_only():  # 62 M weights: count without initialising them
        full = build("alexnet", input_shape=(227, 227, 3), num_classes=1000)
        dropped = build("alexnet", input_shape=(227, 227, 3), num_classes=1000, drop_layer=layer)
    assert full.count_params() - dropped.count_params() == removed + next_change
    assert _convs(dropped) == [f"conv{i}" for i in range(1, 6) if i != layer]
    assert dropped.get_layer("conv5_pool").output.shape[1:] == (6, 6, 256)


@pytest.mark.parametrize("model, bad", [("alexnet_cifar", 1), ("alexnet_cifar", 3), ("alexnet", 1),
                                        ("alexnet", 5), ("alexnet", True), ("alexnet", "2")])
def test_drop_layer_rejects_layers_that_are_not_middle_ones(model, bad):
    shape = (28, 28, 1) if model == "alexnet_cifar" else (64, 64, 3)
    with pytest.raises(ValueError, match=r"drop_layer must be None or the index of a middle convolution"), \
            stats.shapes_only():
        build(model, input_shape=shape, drop_layer=bad)


def test_drop_layer_default_keeps_the_paper_count():
    with stats.shapes_only():
        model = build("alexnet", input_shape=(227, 227, 3), num_classes=1000, groups=2, drop_layer=None)
    assert model.count_params() == 60_965_224


def test_alexnet_cifar_without_conv2_runs_forward():
    model = build("alexnet_cifar", input_shape=(16, 16, 1), num_classes=3, drop_layer=2)
    out = keras.ops.convert_to_numpy(model(np.ones((2, 16, 16, 1), "float32")))
    assert out.shape == (2, 3) and np.allclose(out.sum(axis=1), 1.0, atol=1e-5)
