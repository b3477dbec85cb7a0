"""LeNet-5, AlexNet (ImageNet and CIFAR forms), ZFNet, VGG and GoogLeNet: shapes, parameter
counts against hand formulas and keras.applications, ablation options, errors, one train step.

Forward passes, training steps and input checks are marked ``backend`` (CI runs them under JAX
too). Parameter counts and layer structure are backend-independent arithmetic over the graph,
so they run on the default backend only: under JAX every new weight shape costs an XLA compile
of its initialiser (about a second on a CPU), and these tests build ~100 M-parameter models.
(The forward pass of every registered model, VGG and GoogLeNet included, also runs under JAX
in tests/models/test_all_models.py.)
"""

import keras
import numpy as np
import pytest

from cnnkit.blocks.inception import inception_params
from cnnkit.layers.lrn import LocalResponseNormalization
from cnnkit.layers.pooling import StochasticPooling2D
from cnnkit.models import build
from cnnkit.models.googlenet import GOOGLENET_MODULES
from cnnkit.models.vgg import VGG_CONFIGS

backend = pytest.mark.backend


def conv(k: int, cin: int, cout: int, groups: int = 1) -> int:
    return k * k * (cin // groups) * cout + cout


def dense(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def layers_of(model, cls) -> list:
    return [layer for layer in model.layers if isinstance(layer, cls)]


def forward(model, batch: int = 2, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(batch, *model.input_shape[1:])).astype("float32")
    return keras.ops.convert_to_numpy(model(x, training=False))


# --- shapes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, opts", [
    ("lenet5", dict(input_shape=(32, 32, 1))),
    pytest.param("lenet5", dict(input_shape=(28, 28, 1)), marks=backend),
    pytest.param("alexnet_cifar", dict(input_shape=(32, 32, 3)), marks=backend),
    pytest.param("alexnet_cifar", dict(input_shape=(28, 28, 1), pooling="stochastic"), marks=backend),
    pytest.param("alexnet", dict(input_shape=(64, 64, 3), width=0.07, groups=2), marks=backend),
    pytest.param("alexnet", dict(input_shape=(28, 28, 1), width=0.125, resolution=64), marks=backend),
    pytest.param("zfnet", dict(input_shape=(53, 53, 3), width=0.125), marks=backend),
    ("vgg11", dict(input_shape=(28, 28, 1), width=0.125, cifar=True)),
    ("vgg13", dict(input_shape=(32, 32, 3), width=0.125)),
    ("googlenet", dict(input_shape=(32, 32, 3), width=0.125)),
])
def test_output_shape_and_finite(name, opts):
    out = forward(build(name, num_classes=7, **opts))
    assert out.shape == (2, 7)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)  # softmax by default


@backend
def test_classifier_activation_none_gives_logits():
    out = forward(build("lenet5", input_shape=(28, 28, 1), classifier_activation=None))
    assert not np.allclose(out.sum(axis=1), 1.0)


# --- parameter counts -------------------------------------------------------------------------

def test_vgg16_matches_keras_applications():
    ours = build("vgg16", input_shape=(224, 224, 3), num_classes=1000)
    ref = keras.applications.VGG16(weights=None)
    assert ours.count_params() == ref.count_params() == 138_357_544
    shapes = lambda m: sorted(tuple(w.shape) for w in m.weights)  # noqa: E731
    assert shapes(ours) == shapes(ref)


@pytest.mark.parametrize("name", ["vgg11", "vgg13", "vgg16", "vgg19"])
def test_vgg_cifar_count_matches_config(name):
    config = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}[name]
    model = build(name, input_shape=(32, 32, 3), num_classes=10, width=0.25, cifar=True)
    expected, cin = 0, 3
    for filters, n in zip((16, 32, 64, 128, 128), VGG_CONFIGS[config]):
        for _ in range(n):
            expected, cin = expected + conv(3, cin, filters), filters
    assert model.count_params() == expected + dense(128, 10)
    assert len(layers_of(model, keras.layers.Conv2D)) == int(name[3:]) - 3
    assert model.get_layer("avg_pool").output.shape == (None, 128)


def test_alexnet_paper_counts_and_group_split():
    one = build("alexnet", input_shape=(227, 227, 3), num_classes=1000)
    two = build("alexnet", input_shape=(227, 227, 3), num_classes=1000, groups=2)
    assert two.count_params() == 60_965_224  # the paper's "60 million" (Caffe bvlc_alexnet)
    assert one.count_params() == 62_378_344
    for layer in ("conv1", "conv2", "conv3", "conv4", "conv5"):
        k1, k2 = one.get_layer(layer).kernel, two.get_layer(layer).kernel
        factor = 2 if layer in ("conv2", "conv4", "conv5") else 1
        assert np.prod(k1.shape) == factor * np.prod(k2.shape), layer
    assert one.get_layer("conv1").output.shape[1:3] == (55, 55)
    assert one.get_layer("conv5_pool").output.shape[1:] == (6, 6, 256)


def test_alexnet_224_input_uses_padding_to_reach_the_papers_maps():
    model = build("alexnet", input_shape=(224, 224, 3), num_classes=10, width=0.125)
    assert model.get_layer("conv1").output.shape[1:3] == (55, 55)
    assert model.get_layer("conv5_pool").output.shape[1:3] == (6, 6)
    no_pad = build("alexnet", input_shape=(227, 227, 3), width=0.125)
    assert "conv1_pad" not in {layer.name for layer in no_pad.layers}  # 227: (227 - 11) / 4 + 1 = 55


def test_zfnet_feature_maps_follow_the_paper():
    model = build("zfnet", input_shape=(224, 224, 3), num_classes=10, width=0.125)
    sizes = {name: model.get_layer(name).output.shape[1] for name in
             ("conv1", "conv1_pool", "conv2", "conv2_pool", "conv5", "conv5_pool")}
    assert sizes == dict(conv1=110, conv1_pool=55, conv2=26, conv2_pool=13, conv5=13, conv5_pool=6)
    assert len(layers_of(model, LocalResponseNormalization)) == 2


def test_lenet5_count_and_padding():
    expected = conv(5, 1, 6) + conv(5, 6, 16) + dense(400, 120) + dense(120, 84) + dense(84, 10)
    paper = build("lenet5", input_shape=(32, 32, 1))
    mnist = build("lenet5", input_shape=(28, 28, 1))
    assert paper.count_params() == mnist.count_params() == expected == 61_706
    assert paper.get_layer("c1").output.shape[1:] == (28, 28, 6)
    assert mnist.get_layer("c1").output.shape[1:] == (28, 28, 6)  # padded like LeCun's 32x32 digits
    assert paper.get_layer("c3_pool").output.shape[1:] == (5, 5, 16)
    assert isinstance(paper.get_layer("c1_pool"), keras.layers.AveragePooling2D)
    assert paper.get_layer("c1_act").get_config()["activation"] == "tanh"


def test_alexnet_cifar_is_the_cuda_convnet_18pct_net():
    model = build("alexnet_cifar", input_shape=(32, 32, 3))
    expected = conv(5, 3, 32) + conv(5, 32, 32) + conv(5, 32, 64) + dense(4 * 4 * 64, 10)
    assert model.count_params() == expected == 89_578
    kinds = [type(layer).__name__ for layer in model.layers[1:]]
    assert kinds == ["Conv2D", "Activation", "MaxPooling2D", "LocalResponseNormalization",
                     "Conv2D", "Activation", "AveragePooling2D", "LocalResponseNormalization",
                     "Conv2D", "Activation", "AveragePooling2D", "Flatten", "Dense"]
    pools = layers_of(model, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D))
    assert all(p.pool_size == (3, 3) and p.strides == (2, 2) for p in pools)
    assert build("alexnet_cifar", input_shape=(28, 28, 1)).get_layer("conv3_pool").output.shape[1:] == (4, 4, 64)


def test_googlenet_count_matches_table_1():
    model = build("googlenet", input_shape=(224, 224, 3), num_classes=1000)
    expected, cin = conv(7, 3, 64) + conv(1, 64, 64) + conv(3, 64, 192), 192
    for item in GOOGLENET_MODULES:
        if item != "pool":
            expected += inception_params(cin, *item[1])
            cin = item[1][0] + item[1][2] + item[1][4] + item[1][5]
    assert cin == 1024
    assert model.count_params() == expected + dense(1024, 1000) == 6_998_552
    assert model.get_layer("inception5b_concat").output.shape[1:] == (7, 7, 1024)
    assert len(layers_of(model, LocalResponseNormalization)) == 2


def test_googlenet_aux_logits():
    model = build("googlenet", input_shape=(65, 65, 3), num_classes=5, width=0.125, aux_logits=True)
    outs = [keras.ops.convert_to_numpy(o) for o in model(np.zeros((1, 65, 65, 3), "float32"))]
    assert [o.shape for o in outs] == [(1, 5)] * 3
    assert model.output_names == ["predictions", "aux1", "aux2"]


# --- ablation options change the layers -------------------------------------------------------

@pytest.mark.parametrize("norm, cls, count", [("lrn", LocalResponseNormalization, 2),
                                              ("batch", keras.layers.BatchNormalization, 2),
                                              (None, LocalResponseNormalization, 0)])
def test_alexnet_cifar_norm_option(norm, cls, count):
    model = build("alexnet_cifar", input_shape=(28, 28, 1), norm=norm)
    assert len(layers_of(model, cls)) == count
    if norm is None:
        assert not layers_of(model, keras.layers.BatchNormalization)


@pytest.mark.parametrize("pooling, cls, size", [("max", keras.layers.MaxPooling2D, 2),
                                                ("overlap", keras.layers.MaxPooling2D, 3),
                                                ("avg", keras.layers.AveragePooling2D, 2),
                                                ("stochastic", StochasticPooling2D, 2)])
def test_pooling_option(pooling, cls, size):
    for name, opts in [("alexnet_cifar", dict(input_shape=(28, 28, 1))),
                       ("alexnet", dict(input_shape=(64, 64, 3), width=0.125)),
                       ("lenet5", dict(input_shape=(28, 28, 1)))]:
        pools = [layer for layer in build(name, pooling=pooling, **opts).layers if "pool" in layer.name]
        assert pools and all(isinstance(p, cls) for p in pools), (name, pools)
        assert all(tuple(p.pool_size) == (size, size) for p in pools), name


def test_activation_option():
    model = build("alexnet_cifar", input_shape=(28, 28, 1), activation="tanh")
    acts = [layer.get_config()["activation"] for layer in layers_of(model, keras.layers.Activation)]
    assert acts == ["tanh"] * 3
    leaky = build("lenet5", input_shape=(28, 28, 1), activation="leaky_relu")
    assert len(layers_of(leaky, keras.layers.LeakyReLU)) == 4


def test_vgg_norm_variants():
    bn = build("vgg16", input_shape=(32, 32, 3), width=0.125, norm="batch", cifar=True)
    assert len(layers_of(bn, keras.layers.BatchNormalization)) == 13
    assert not any(c.use_bias for c in layers_of(bn, keras.layers.Conv2D))
    lrn = build("vgg11", input_shape=(32, 32, 3), width=0.125, norm="lrn")  # the paper's A-LRN
    assert len(layers_of(lrn, LocalResponseNormalization)) == 1


def test_googlenet_batch_norm_everywhere():
    model = build("googlenet", input_shape=(32, 32, 3), width=0.125, norm="batch")
    assert len(layers_of(model, keras.layers.BatchNormalization)) == 3 + 9 * 6
    assert not layers_of(model, LocalResponseNormalization)


def test_dropout_and_width_options():
    model = build("alexnet", input_shape=(64, 64, 3), width=0.25, dropout=0.3)
    assert [d.rate for d in layers_of(model, keras.layers.Dropout)] == [0.3, 0.3]
    assert model.get_layer("conv1").filters == 24 and model.get_layer("fc6").units == 1024
    assert not layers_of(build("alexnet_cifar", input_shape=(28, 28, 1)), keras.layers.Dropout)


# --- errors -----------------------------------------------------------------------------------

@backend
@pytest.mark.parametrize("name, opts, message", [
    ("alexnet", dict(input_shape=(32, 32, 3)),
     r"alexnet needs inputs of at least 64x64; got 32x32.*alexnet_cifar"),
    ("zfnet", dict(input_shape=(32, 32, 3)), r"zfnet needs inputs of at least 53x53.*resolution"),
    ("vgg16", dict(input_shape=(28, 28, 1)), r"vgg16 needs inputs of at least 32x32; got 28x28.*cifar=True"),
    ("lenet5", dict(input_shape=(14, 14, 1), padding="valid"), r"lenet5 needs inputs of at least 16x16"),
    ("googlenet", dict(input_shape=(32, 32, 3), aux_logits=True), r"at least 65x65.*aux_logits=False"),
    ("alexnet", dict(input_shape=(227, 227, 3), resolution=32), r"got 32x32"),
])
def test_too_small_input(name, opts, message):
    with pytest.raises(ValueError, match=message):
        build(name, num_classes=10, **opts)


@backend
@pytest.mark.parametrize("name, opts, message", [
    ("alexnet", dict(groups=3), r"groups 3.*\[1, 2\]"),
    ("alexnet", dict(stem_padding=-1), r"stem_padding"),
    ("alexnet_cifar", dict(dropout=1.5), r"dropout.*1.5"),
    ("alexnet_cifar", dict(norm="group"), r"norm 'group'"),
    ("alexnet_cifar", dict(pooling="median"), r"pooling 'median'"),
    ("alexnet_cifar", dict(activation="bogus"), r"activation 'bogus'"),
    ("lenet5", dict(padding="full"), r"padding 'full'"),
    ("lenet5", dict(width=0), r"width.*0"),
    ("vgg16", dict(norm="layer", cifar=True), r"norm 'layer'"),
    ("googlenet", dict(norm="lrn2"), r"norm 'lrn2'"),
    ("zfnet", dict(resolution=0), r"resolution.*0"),
])
def test_bad_options(name, opts, message):
    with pytest.raises(ValueError, match=message):
        build(name, input_shape=(28, 28, 1), num_classes=10, **opts)


# --- training ---------------------------------------------------------------------------------

@backend
@pytest.mark.parametrize("name, opts", [("lenet5", {}), ("alexnet_cifar", {}),
                                        ("alexnet_cifar", dict(activation="tanh", norm="batch", dropout=0.5))])
def test_one_train_step(name, opts):
    model = build(name, input_shape=(28, 28, 1), num_classes=10, **opts)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 10, size=8)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.trainable_weights]
    loss = model.train_on_batch(x, y)
    after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    assert np.isfinite(loss)
    assert all(not np.allclose(b, a) for b, a in zip(before, after))
