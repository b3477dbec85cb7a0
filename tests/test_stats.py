"""Parameter and multiply–accumulate counting, and the teaching formulas."""

import keras
import pytest

from cnnkit import stats
from cnnkit.layers import CBAM, SqueezeExcite
from cnnkit.models import build


def _cifar(name: str) -> keras.Model:
    with stats.shapes_only():
        return build(name, input_shape=(32, 32, 3), num_classes=10)


@pytest.mark.parametrize("name, exact, paper", [
    ("resnet20", 40_551_040, 40.6e6),  # 3x3 convs + dense at 32, 16, 8 px
    ("resnet56", 125_485_696, 125.5e6),
])
def test_resnet_macs_match_the_usual_figures(name, exact, paper):
    model = _cifar(name)
    assert stats.macs(model) == exact
    assert abs(exact - paper) / paper < 0.02


def test_resnet20_macs_by_hand():
    # stem 32²·27·16; stage i: 6 convs at (32/2^i)² px, the first one widening the channels
    stem = 32 * 32 * 9 * 3 * 16
    stages = sum((32 // 2**i) ** 2 * 9 * (c_in * c + 5 * c * c)
                 for i, (c_in, c) in enumerate([(16, 16), (16, 32), (32, 64)]))
    assert stats.macs(_cifar("resnet20")) == stem + stages + 64 * 10


def test_count_params_splits_batch_norm_statistics():
    model = _cifar("resnet20")
    counts = stats.count_params(model)
    assert counts == {"trainable": 269_722, "non_trainable": 1_376, "total": 271_098}
    assert counts["total"] == model.count_params()
    bn_channels = sum(la.gamma.shape[0] for la in model.layers if isinstance(la, keras.layers.BatchNormalization))
    assert counts["non_trainable"] == 2 * bn_channels  # moving mean and variance


def test_layer_macs_of_each_layer_type():
    with stats.shapes_only():
        inputs, x = keras.Input(shape=(10, 10, 8)), None
        layers = [
            keras.layers.Conv2D(16, 3, groups=4, dilation_rate=2),       # 6x6 out, 3·3·(8/4)·16 weights
            keras.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2),  # 6x6, 3·3·16·2
            keras.layers.SeparableConv2D(8, 3, strides=2, padding="same"),        # 3x3, 3·3·32 + 32·8
            keras.layers.Conv2DTranspose(4, 3, strides=2),                        # 3x3 in, 3·3·8·4
            keras.layers.BatchNormalization(),
            keras.layers.MaxPooling2D(),
            keras.layers.Dense(5),                                                # on 3x3 positions, 4·5
        ]
        x = inputs
        for layer in layers:
            x = layer(x)
        model = keras.Model(inputs, x)
    table = stats.layer_table(model).set_index("type")["macs"]
    expected = {"Conv2D": 36 * 9 * 2 * 16, "DepthwiseConv2D": 36 * 9 * 16 * 2,
                "SeparableConv2D": 9 * (9 * 32 + 32 * 8), "Conv2DTranspose": 9 * 9 * 8 * 4,
                "BatchNormalization": 0, "MaxPooling2D": 0, "Dense": 9 * 4 * 5}
    assert table.drop("InputLayer").to_dict() == expected


def test_layer_table_rows_sum_to_the_totals():
    model = _cifar("resnet20")
    table = stats.layer_table(model)
    assert list(table.columns) == ["name", "type", "output_shape", "params", "macs"]
    assert len(table) == len(model.layers)
    assert table["params"].sum() == model.count_params() and table["macs"].sum() == stats.macs(model)
    row = table.set_index("name").loc["conv3_block1_1_conv"]
    assert row["output_shape"] == (None, 16, 16, 32) and row["params"] == 9 * 16 * 32


def test_nested_model_called_twice_counts_twice():
    with stats.shapes_only():
        inner_in = keras.Input(shape=(8, 8, 3))
        inner = keras.Model(inner_in, keras.layers.Conv2D(4, 3, padding="same", use_bias=False)(inner_in))
        a, b = keras.Input(shape=(8, 8, 3)), keras.Input(shape=(8, 8, 3))
        outer = keras.Model([a, b], keras.layers.Add()([inner(a), inner(b)]))
    assert stats.macs(inner) == 64 * 27 * 4
    assert stats.macs(outer) == 2 * stats.macs(inner)


def test_sub_layers_of_custom_layers_are_counted():
    with stats.shapes_only():
        inputs = keras.Input(shape=(8, 8, 32))
        se = keras.Model(inputs, SqueezeExcite(ratio=16)(inputs))
        cbam = keras.Model(inputs, CBAM(ratio=16, kernel_size=7)(inputs))
    assert stats.macs(se) == 32 * 2 + 2 * 32  # the two dense layers of the gate, per image
    assert stats.macs(cbam) == 32 * 2 + 2 * 32 + 64 * 49 * 2  # shared MLP counted once + 7x7 conv 2→1


def test_unbuilt_model_needs_an_input_shape():
    model = keras.Sequential([keras.layers.Conv2D(4, 3, use_bias=False), keras.layers.GlobalAveragePooling2D()])
    with pytest.raises(ValueError, match="input_shape"):
        stats.macs(model)
    with stats.shapes_only():
        assert stats.macs(model, input_shape=(6, 6, 2)) == 16 * 9 * 2 * 4


def test_shapes_only_models_have_unset_weights_but_counts():
    with stats.shapes_only():
        model = build("resnet_cifar", depth=8, width=4, num_classes=2)
    assert stats.count_params(model)["total"] == model.count_params() > 0


def test_teaching_formulas():
    assert stats.basic_vs_bottleneck(256) == pytest.approx(
        {"basic": 1_179_648, "bottleneck": 69_632, "ratio": 16.94}, abs=5e-3)
    c = 64
    assert stats.two_3x3_vs_5x5(c) == pytest.approx({"two_3x3": 18 * c * c, "one_5x5": 25 * c * c, "saving": 0.28})
    k, c_in, c_out = 3, 32, 64
    assert stats.separable_params(k, c_in, c_out) == k * k * c_in + c_in * c_out
    sep = stats.separable_vs_standard(k, c_in, c_out)
    assert sep["ratio"] == pytest.approx(1 / c_out + 1 / k**2)
    assert stats.conv_params(3, 128, 128, groups=32) == 9 * 4 * 128
    assert stats.conv_params(1, 3, 8, bias=True) == 32
    assert stats.conv_macs(3, 16, 32, 16, 16) == 256 * 9 * 16 * 32
    with pytest.raises(ValueError, match="divisible by groups"):
        stats.conv_params(3, 30, 64, groups=4)


def test_formulas_agree_with_keras_layers():
    layers = {stats.conv_params(5, 8, 16, groups=4, bias=True): keras.layers.Conv2D(16, 5, groups=4),
              stats.conv_params(5, 8, 16, bias=True): keras.layers.Conv2D(16, 5),
              stats.separable_params(3, 8, 16): keras.layers.SeparableConv2D(16, 3, use_bias=False)}
    with stats.shapes_only():
        for formula, layer in layers.items():
            layer.build((None, 9, 9, 8))
            assert layer.count_params() == formula


def test_shapes_only_leaves_no_variables_for_the_next_build_to_fill():
    """Keras initialises every variable a non-initialising scope made at the next model build; a catalogue of the
    zoo left 27k of them, and the next training run spent a minute filling shapes nobody uses."""
    from keras.src.backend.common import global_state

    import cnnkit
    from cnnkit.stats import count_params, shapes_only

    def pending() -> int:
        return len(global_state.get_global_attribute("uninitialized_variables", None) or [])

    before = pending()
    with shapes_only():
        model = cnnkit.build("resnet20", input_shape=(32, 32, 3), num_classes=10)
    assert count_params(model)["total"] > 0 and pending() == before
