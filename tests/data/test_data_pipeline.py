"""load(): tf.data and PyDataset pipelines, normalisation, determinism, image folders."""

import sys

import keras
import numpy as np
import pytest
from data_testing import offline_env, requires_tf_data  # noqa: F401 (fixture)

from cnnkit import data
from cnnkit.data import DataFormatError, NumpyBatches

SYN = dict(image_shape=(8, 8, 3), num_classes=4, train_size=200, test_size=40)


def epochs(ds, count=2):
    out = []
    for _ in range(count):
        if isinstance(ds, NumpyBatches):
            out.append([ds[i] for i in range(len(ds))])
            ds.on_epoch_end()
        else:
            out.append([(np.asarray(x), np.asarray(y)) for x, y in ds])
    return out


def same(a, b) -> bool:
    return all(np.array_equal(x1, x2) and np.array_equal(y1, y2) for (x1, y1), (x2, y2) in zip(a, b))


# tf.data runs keras.ops in-graph on TensorFlow, through tf.numpy_function on other backends.
FORMATS = [pytest.param("tf", marks=[requires_tf_data(), pytest.mark.backend]),
           pytest.param("numpy", marks=pytest.mark.backend)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_seed_same_batches_epoch_after_epoch(fmt):
    make = lambda seed: data.load("synthetic", batch_size=32, augment="resnet_cifar", seed=seed, format=fmt, **SYN)
    a, b, c = epochs(make(1)), epochs(make(1)), epochs(make(2))
    assert same(a[0], b[0]) and same(a[1], b[1])
    assert not same(a[0], a[1])  # reshuffled and re-augmented each epoch
    assert not same(a[0], c[0])
    ys = np.concatenate([y for _, y in a[0]])
    assert sorted(ys.tolist()) == sorted(data.load_arrays("synthetic", **SYN)[1].tolist())


@pytest.mark.parametrize("fmt", FORMATS)
def test_batches_info_and_normalisation(fmt):
    ds = data.load("fashion_mnist", "train", subset=2000, resolution=32, batch_size=2000, format=fmt)
    assert ds.info.image_shape == (32, 32, 1) and ds.info.num_examples == 2000 and len(ds) == 1
    x, y = next(iter(ds)) if fmt == "tf" else ds[0]
    x, y = np.asarray(x), np.asarray(y)
    assert x.shape == (2000, 32, 32, 1) and x.dtype == np.float32 and y.dtype == np.int32
    assert abs(x.mean()) < 0.05 and abs(x.std() - 1) < 0.05
    rgb = data.load("synthetic", "train_full", batch_size=200, format=fmt, **SYN)
    xb = np.asarray(next(iter(rgb))[0] if fmt == "tf" else rgb[0][0])
    np.testing.assert_allclose(xb.reshape(-1, 3).mean(0), 0, atol=0.1)
    np.testing.assert_allclose(xb.reshape(-1, 3).std(0), 1, atol=0.1)


@pytest.mark.parametrize("fmt", FORMATS)
def test_unshuffled_test_split_keeps_order_and_remainder(fmt):
    x, y, info = data.load_arrays("synthetic", "test", **SYN)
    ds = data.load("synthetic", "test", batch_size=16, normalize=False, format=fmt, **SYN)
    batches = epochs(ds, 1)[0]
    assert [len(b[1]) for b in batches] == [16, 16, 8]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)
    np.testing.assert_allclose(np.concatenate([b[0] for b in batches]), x, rtol=1e-6)
    dropped = data.load("synthetic", "test", batch_size=16, drop_remainder=True, format=fmt, **SYN)
    assert len(dropped) == 2


@pytest.mark.backend
def test_pydataset_trains_a_model():
    ds = data.load("synthetic", batch_size=50, format="numpy", **SYN)
    assert isinstance(ds, keras.utils.PyDataset)
    model = keras.Sequential([keras.Input(ds.info.image_shape), keras.layers.Flatten(),
                              keras.layers.Dense(ds.info.num_classes, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and ds.epoch >= 2  # keras calls on_epoch_end per epoch


def test_bad_pipeline_arguments():
    for kwargs, message in ((dict(batch_size=0), "batch_size="), (dict(augment="cutout"), "resnet_cifar"),
                            (dict(format="torch"), "format=")):
        with pytest.raises(ValueError, match=message):
            data.load("synthetic", **kwargs)


def write_images(root, classes=("cat", "dog", "owl"), per_class=3, size=(6, 5)):
    rng = np.random.default_rng(0)
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            img = rng.integers(0, 256, size=(*size, 3), dtype=np.uint8)
            keras.utils.save_img(root / name / f"{i}.png", img)


def test_image_folder(tmp_path):
    write_images(tmp_path / "train")
    write_images(tmp_path / "test", per_class=1)
    x, y, info = data.load_arrays("folder", "train_full", path=tmp_path)
    assert x.shape == (9, 6, 5, 3) and x.dtype == np.uint8 and np.bincount(y).tolist() == [3, 3, 3]
    assert info.class_names == ("cat", "dog", "owl") and str(tmp_path) in info.source
    xt, yt, _ = data.load_arrays("folder", "test", path=tmp_path, image_size=(4, 4), color_mode="grayscale")
    assert xt.shape == (3, 4, 4, 1) and yt.tolist() == [0, 1, 2]
    original = keras.utils.img_to_array(keras.utils.load_img(tmp_path / "train" / "dog" / "0.png"))
    assert any(np.array_equal(img, original) for img in x[y == 1])


def test_image_folder_without_tensorflow_reads_the_same(tmp_path, monkeypatch):
    write_images(tmp_path)
    x, y, names = data.image_folder(tmp_path)
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # import tensorflow → ImportError
    x2, y2, names2 = data.image_folder(tmp_path)
    assert names == names2 and np.array_equal(y, y2) and np.array_equal(x, x2)
    with pytest.raises(ValueError, match="no test split"):
        data.load_arrays("folder", "test", path=tmp_path)


def test_empty_or_missing_image_folder(tmp_path):
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    with pytest.raises(DataFormatError, match="no images found") as err:
        data.load("folder", path=tmp_path)
    assert str(tmp_path) in str(err.value)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.image_folder(tmp_path / "nowhere")
