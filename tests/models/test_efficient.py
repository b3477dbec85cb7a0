"""DenseNet, MobileNet, Xception and ShuffleNet builders: parameter parity with
keras.applications (built here with weights=None), DenseNet-BC's count against the paper's
layer arithmetic, input-size limits, small-input shapes and one training step.

Counts and shapes need no weight values, so those models are built inside a
``StatelessScope`` that leaves the weights uninitialised: creating DenseNet-121's weights
costs ~5 s of CPU on TensorFlow and ~35 s on JAX (one XLA compilation per new weight
shape), building it uninitialised ~1 s on either.
"""

import keras
import numpy as np
import pytest
from testutil import requires_tensorflow

from cnnkit.models import build


def _shapes_only(builder, *args, **kwargs):
    """``builder(*args, **kwargs)`` with uninitialised weights (shapes and counts only)."""
    with keras.StatelessScope(initialize_variables=False):
        return builder(*args, **kwargs)


def _trainable(model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


# --- parity with keras.applications -----------------------------------------------------------

@pytest.mark.parametrize("name, reference", [
    ("densenet121", keras.applications.DenseNet121),
    ("densenet169", keras.applications.DenseNet169),
    ("densenet201", keras.applications.DenseNet201),
])
def test_densenet_matches_keras_applications(name, reference):
    ours = _shapes_only(build, name, input_shape=(224, 224, 3), num_classes=1000)
    expected = _shapes_only(reference, weights=None).count_params()
    assert ours.count_params() == expected
    assert "pool1" in {layer.name for layer in ours.layers}  # the ImageNet stem at 224
    if name == "densenet121":
        assert expected == 8_062_504  # REFERENCE.md


def test_mobilenet_matches_keras_applications_and_scales_with_alpha():
    counts = {}
    for alpha in (1.0, 0.5):
        ours = _shapes_only(build, "mobilenet", input_shape=(224, 224, 3), num_classes=1000, alpha=alpha)
        counts[alpha] = ours.count_params()
        assert counts[alpha] == _shapes_only(keras.applications.MobileNet, weights=None, alpha=alpha).count_params()
        assert ours.get_layer("block13_pw_conv").filters == int(1024 * alpha)
    assert counts[1.0] == 4_253_864  # REFERENCE.md
    assert counts[0.5] < counts[1.0] / 3  # pointwise weights, the bulk, scale with alpha²


def test_xception_matches_keras_applications():
    ours = _shapes_only(build, "xception", input_shape=(299, 299, 3), num_classes=1000)
    reference = _shapes_only(keras.applications.Xception, weights=None)
    assert ours.count_params() == reference.count_params() == 22_910_480
    assert ours.get_layer("block13_add").output.shape == (None, 10, 10, 1024)


# --- DenseNet-BC ------------------------------------------------------------------------------

def _densenet_bc_trainable(depth: int, k: int, classes: int) -> int:
    """Trainable parameters by the paper's recipe: BN has 2 per channel, convs have no bias."""
    layers, channels = (depth - 4) // 6, 2 * k
    total = 3 * 9 * channels  # 3x3 stem, 2k filters
    for block in range(3):
        for _ in range(layers):
            total += 2 * channels + channels * 4 * k + 2 * 4 * k + 9 * 4 * k * k
            channels += k
        if block < 2:
            total += 2 * channels + channels * (channels // 2)
            channels //= 2
    return total + 2 * channels + channels * classes + classes


def test_densenet_bc_100_12_count():
    model = _shapes_only(build, "densenet_bc", input_shape=(32, 32, 3), num_classes=10)  # depth 100, k 12
    assert _trainable(model) == _densenet_bc_trainable(100, 12, 10)
    assert 0.75e6 < _trainable(model) < 0.85e6  # paper Table 2: 0.8 M
    assert model.output_shape == (None, 10)


@pytest.mark.parametrize("depth", [50, 4, 101])
def test_densenet_bc_rejects_depth(depth):
    with pytest.raises(ValueError, match=rf"\(depth - 4\) % 6 == 0.*depth={depth}"):
        build("densenet_bc", depth=depth)


# --- input sizes ------------------------------------------------------------------------------

@pytest.mark.parametrize("name, opts, minimum", [
    ("densenet121", {"cifar_stem": False}, 32),
    ("densenet201", {}, 8),
    ("densenet_bc", {"depth": 40}, 4),
    ("mobilenet", {"cifar_stem": False}, 32),
    ("mobilenet", {}, 16),
    ("xception", {"cifar_stem": False}, 71),
    ("xception", {}, 16),
    ("shufflenet", {"cifar_stem": False}, 32),
    ("shufflenet", {}, 8),
])
def test_too_small_input_names_the_minimum(name, opts, minimum):
    small = minimum - 1
    with pytest.raises(ValueError, match=f"at least {minimum}x{minimum}"):
        build(name, input_shape=(small, small, 3), **opts)


@pytest.mark.parametrize("name, opts, shape, final", [
    ("densenet121", {"cifar_stem": False}, (32, 32, 3), 1),
    ("densenet169", {}, (8, 8, 1), 1),
    ("xception", {"cifar_stem": False}, (71, 71, 3), 3),   # keras' minimum
    ("xception", {}, (16, 16, 1), 1),
    ("mobilenet", {"cifar_stem": False}, (32, 32, 3), 1),
    ("mobilenet", {}, (16, 16, 1), 1),
    ("shufflenet", {"groups": 8, "cifar_stem": False}, (32, 32, 3), 1),
    ("shufflenet", {"groups": 8}, (8, 8, 1), 1),
    ("densenet_bc", {"depth": 40}, (4, 4, 3), 1),
])
def test_builds_at_its_minimum(name, opts, shape, final):
    model = _shapes_only(build, name, input_shape=shape, num_classes=5, **opts)
    assert model.output_shape == (None, 5)
    last = [layer.output.shape for layer in model.layers if len(layer.output.shape) == 4][-1]
    assert last[1:3] == (final, final)


@pytest.mark.parametrize("name, shape, last", [
    ("densenet121", (28, 28, 1), ("conv5_block16_concat", 3)),   # CIFAR stem: 28 → 14 → 7 → 3
    ("mobilenet", (28, 28, 1), ("block13_pw_act", 2)),           # stride-1 stem: 16-fold
    ("xception", (32, 32, 3), ("block13_add", 2)),
    ("shufflenet", (32, 32, 3), ("stage4_unit4_out", 4)),        # CIFAR stem: 8-fold
])
def test_small_inputs_use_the_cifar_stem(name, shape, last):
    model = _shapes_only(build, name, input_shape=shape, num_classes=10)
    layer, size = last
    assert model.output_shape == (None, 10)
    assert model.get_layer(layer).output.shape[1:3] == (size, size)


# --- ShuffleNet options -----------------------------------------------------------------------

@pytest.mark.parametrize("groups, scale", [(5, 1.0), (3, 0.0), (3, 0.1)])
def test_shufflenet_rejects_groups_and_scale(groups, scale):
    with pytest.raises(ValueError, match="groups must be one of|scale"):
        build("shufflenet", groups=groups, scale=scale)


def test_shufflenet_stage_widths_follow_table_1():
    model = _shapes_only(build, "shufflenet", input_shape=(32, 32, 3), groups=8, scale=0.5)
    widths = [model.get_layer(f"stage{s}_unit1_out").output.shape[-1] for s in (2, 3, 4)]
    assert widths == [192, 384, 768]  # Table 1, g = 8: 384/768/1536, halved
    assert model.get_layer("stage3_unit2_gconv1_conv").groups == 8


# --- training ---------------------------------------------------------------------------------
# TensorFlow only: on JAX creating these weights and compiling the step costs ~25-30 s of CPU per
# model; tests/models/test_all_models.py trains every registered model on both backends.

@requires_tensorflow()
@pytest.mark.parametrize("name, opts, shape", [
    ("densenet_bc", {"depth": 40}, (32, 32, 3)),
    ("shufflenet", {"groups": 3, "scale": 0.25}, (28, 28, 1)),
])
def test_one_training_step(name, opts, shape):
    model = build(name, input_shape=shape, num_classes=10, bn_momentum=0.9, **opts)
    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert bns and all(bn.momentum == 0.9 for bn in bns)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, *shape)).astype("float32")
    y = keras.utils.to_categorical(np.arange(4) % 10, 10)
    before = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    # Eager: one step does not repay tracing (TF on CPU also compiles every grouped conv with XLA).
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy", run_eagerly=True)
    loss = model.train_on_batch(x, y)
    assert np.isfinite(loss)
    after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    changed = sum(not np.array_equal(b, a) for b, a in zip(before, after))
    assert changed == len(after)  # every weight took part in the step
