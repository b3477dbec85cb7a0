"""ResNet (CIFAR and ImageNet, v1/v2, plain), Wide ResNet and ResNeXt builders.

Parameter counts are measured on models built with :func:`cnnkit.stats.shapes_only` (no weight
initialisation); the keras.applications references are built the same way in the same test.
"""

import keras
import numpy as np
import pytest
from testutil import BACKEND

from cnnkit.models import build, options
from cnnkit.stats import count_params, shapes_only

CIFAR_VARIANTS = {"resnet20": 20, "resnet32": 32, "resnet44": 44, "resnet56": 56, "resnet110": 110,
                  "plain20": 20, "plain56": 56}


def _counts(name: str, **kwargs) -> dict[str, int]:
    with shapes_only():
        return count_params(build(name, **kwargs))


def _layer_types(model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


@pytest.mark.parametrize("name, total, trainable", [
    # option-A shortcuts, 32x32x3, 10 classes; Keras also counts the BN moving mean/variance
    ("resnet20", 271_098, 269_722),  # paper: 0.27 M
    ("resnet56", 857_082, 853_018),  # paper: 0.85 M
])
def test_cifar_resnet_parameter_counts(name, total, trainable):
    counts = _counts(name)
    assert (counts["total"], counts["trainable"]) == (total, trainable)


@pytest.mark.parametrize("name, depth", CIFAR_VARIANTS.items())
def test_cifar_variants_build_on_small_inputs(name, depth):
    with shapes_only():
        model = build(name, input_shape=(32, 32, 3), num_classes=2)
    assert model.output_shape == (None, 2) and model.name == name
    convs = [la for la in model.layers if isinstance(la, keras.layers.Conv2D)]
    assert len(convs) + 1 == depth  # depth = weighted layers: convolutions + the dense layer
    adds = _layer_types(model).count("Add")
    assert adds == (0 if name.startswith("plain") else (depth - 2) // 2)
    assert "depth" not in options(name) and "version" in options(name)


def test_fashion_mnist_input_and_variant_options():
    with shapes_only():
        model = build("resnet20", input_shape=(28, 28, 1), num_classes=10, version=2, attention="se")
    assert model.output_shape == (None, 10) and model.name == "resnet20v2"
    assert model.get_layer("conv4_block3_add").output.shape == (None, 7, 7, 64)
    assert "post_bn" in {la.name for la in model.layers}
    with pytest.raises(ValueError, match="unknown option"):
        build("resnet56", depth=20)


@pytest.mark.parametrize("name, kwargs, message", [
    ("resnet_cifar", dict(depth=21), r"depth must be 6n\+2, e.g. 20, 32, 44, 56, 110; got 21"),
    ("resnet_cifar", dict(depth=30, block="bottleneck"), r"depth must be 9n\+2, e.g. 29, 56, 110, 164; got 30"),
    ("resnet_cifar", dict(block="wide"), "unknown block 'wide'"),
    ("resnet_cifar", dict(input_shape=(6, 6, 3)), "at least 8x8"),
    ("wide_resnet", dict(depth=26), r"depth must be 6n\+4"),
    ("resnext", dict(depth=30), r"depth must be 9n\+2"),
    ("resnet18", dict(input_shape=(24, 24, 3), cifar_stem=False), "at least 32x32"),
])
def test_bad_options_raise_value_error(name, kwargs, message):
    with pytest.raises(ValueError, match=message), shapes_only():
        build(name, **kwargs)


@pytest.mark.parametrize("name, reference, expected", [
    ("resnet50", "ResNet50", 25_636_712), ("resnet101", "ResNet101", 44_707_176),
    ("resnet152", "ResNet152", 60_419_944), ("resnet50v2", "ResNet50V2", 25_613_800),
    # measured from keras.applications 3.15 once; not rebuilt here to keep the suite short
    ("resnet101v2", None, 44_675_560), ("resnet152v2", None, 60_380_648),
])
def test_imagenet_parameter_parity_with_keras_applications(name, reference, expected):
    if reference is not None:
        with shapes_only():
            assert getattr(keras.applications, reference)(weights=None).count_params() == expected
    assert _counts(name, input_shape=(224, 224, 3), num_classes=1000)["total"] == expected


@pytest.mark.parametrize("name, trainable, paper", [
    ("resnet18", 11_689_512, 11.7e6),  # torchvision's count (no conv bias)
    ("resnet34", 21_797_672, 21.8e6),
    ("resnext50", 25_028_904, 25.0e6),  # Xie et al. Table 1: 25.0 M; torchvision resnext50_32x4d
])
def test_imagenet_models_without_keras_reference(name, trainable, paper):
    counts = _counts(name, input_shape=(224, 224, 3), num_classes=1000)
    assert counts["trainable"] == trainable
    assert abs(counts["trainable"] - paper) / paper < 0.01


@pytest.mark.parametrize("name, trainable, paper", [
    ("wrn28_10", 36_479_194, 36.5e6),
    ("wrn40_4", 8_949_210, 8.9e6),
    ("wrn16_4", 2_748_890, 2.7e6),
    ("resnext29_8x64d", 34_426_698, 34.4e6),
])
def test_cifar_wide_and_resnext_counts_match_the_papers(name, trainable, paper):
    counts = _counts(name, input_shape=(32, 32, 3), num_classes=10)
    assert counts["trainable"] == trainable
    assert abs(counts["trainable"] - paper) / paper < 0.02


def test_imagenet_variants_build_on_small_inputs():
    """ImageNet-form variants at 32x32x3 / 2 classes (the CIFAR stem is picked automatically).

    The others are built at 224x224 by the parameter-count tests above.
    """
    for name in ("resnet18", "resnet18v2", "resnet34v2"):
        with shapes_only():
            model = build(name, input_shape=(32, 32, 3), num_classes=2)
        assert model.output_shape == (None, 2), name
        assert "pool1_pool" not in {la.name for la in model.layers}, name  # CIFAR stem: no max pooling


def test_plain_imagenet_and_stride_of_each_stage():
    with shapes_only():
        plain = build("resnet34", input_shape=(64, 64, 3), num_classes=5, plain=True, cifar_stem=False)
        v2 = build("resnet50v2", input_shape=(64, 64, 3), num_classes=5)
    assert plain.name == "plain34" and "Add" not in _layer_types(plain)
    sizes = [v2.get_layer(f"conv{s}_block1_add").output.shape[1] for s in range(2, 6)]
    assert sizes == [16, 8, 4, 2]  # 64 / 4 after the stem, then /2 at stages 3, 4, 5


@pytest.mark.parametrize("kwargs", [
    dict(depth=8, version=1),  # option-A zero-padding shortcuts
    pytest.param(dict(depth=11, version=2, block="bottleneck", shortcut="projection", attention="se"),
                 marks=pytest.mark.skipif(BACKEND == "jax", reason="slow to compile on JAX; "
                                          "test_all_models trains resnet50v2 there")),
])
def test_one_training_step(kwargs):
    """Small configurations; every registered model is trained one step in tests/models/test_all_models.py.

    Default width and 3 classes: the weight shapes of resnet20 & co., whose initialisers JAX has
    then compiled already when the whole suite runs.
    """
    model = build("resnet_cifar", input_shape=(16, 16, 3), num_classes=3, **kwargs)
    x = np.random.default_rng(0).normal(size=(2, 16, 16, 3)).astype("float32")
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  run_eagerly=BACKEND != "jax")  # jit is quicker on JAX
    before = keras.ops.convert_to_numpy(model.get_layer("predictions").kernel).copy()
    assert np.isfinite(model.train_on_batch(x, np.array([0, 2])))
    assert not np.allclose(before, keras.ops.convert_to_numpy(model.get_layer("predictions").kernel))
