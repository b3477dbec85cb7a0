"""The device data path: same batches as the NumPy pipeline, pad-crop-flip in the step, seeded, trains."""

import sys

import h5py
import keras
import numpy as np
import pytest

from cnnkit import data, models
from cnnkit.train.config import RunConfig
from cnnkit.train import fit
from cnnkit.train.device_data import AUTO_DEVICE_BYTES, DeviceData, IndexBatches, choose_data_path
from testutil import BACKEND

pytestmark = pytest.mark.backend

SYNTH = dict(image_shape=(8, 8, 3), num_classes=4, train_size=96, test_size=16)
TINY = dict(model="resnet_cifar", model_options={"depth": 8, "width": 4}, dataset="synthetic",
            data_options={"image_shape": [12, 12, 1], "num_classes": 4, "train_size": 160, "test_size": 32},
            batch_size=32, epochs=2, augment="resnet_cifar", data_path="device", schedule="constant", eval_test=False)


def _uint8_split(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 8, 8, 3), dtype=np.uint8), (np.arange(n) % 4).astype("int32")


def _device(augment="none", seed=0):
    x, y = _uint8_split()
    info = data.load_arrays("synthetic", "train", **SYNTH)[2]
    return DeviceData.from_arrays({"train": (x[:32], y[:32]), "val": (x[32:], y[32:])}, info, augment=augment,
                                  seed=seed), x, info


def _net(shape=(8, 8, 3)):
    inputs = keras.Input(shape)
    return keras.Model(inputs, keras.layers.Dense(4)(keras.layers.GlobalAveragePooling2D()(inputs)))


def test_index_batches_follow_the_numpy_pipeline_order():
    x, y, info = data.load_arrays("synthetic", "train", seed=3, **SYNTH)
    ref = data.load("synthetic", "train", batch_size=16, seed=3, shuffle=True, drop_remainder=True, format="numpy",
                    **SYNTH)
    ours = IndexBatches(y, info, offset=5, batch_size=16, shuffle=True, seed=3, drop_remainder=True)
    assert len(ours) == len(ref) == len(y) // 16
    for _ in range(2):  # a new permutation every epoch, the same one on both paths
        for i in range(len(ours)):
            idx, labels = ours[i]
            np.testing.assert_array_equal(labels, ref[i][1])
            np.testing.assert_array_equal(y[idx - 5], labels)
            assert idx.dtype == np.int32
        first = ours[0][0].copy()
        ours.on_epoch_end()
        ref.on_epoch_end()
    assert not np.array_equal(first, ours[0][0])
    with pytest.raises(IndexError, match="out of range"):
        ours[len(ours)]


def test_eval_batches_keep_order_and_remainder():
    device, _, _ = _device()
    val = device.batches("val", batch_size=3)
    assert len(val) == 3 and val[2][0].tolist() == [38, 39]  # val starts after 32 training images


def test_preprocess_without_augmentation_is_the_pipelines_normalisation():
    device, x, info = _device()
    model = device.wrap(_net())
    out = keras.ops.convert_to_numpy(model.preprocess(np.array([3, 0, 35], "int32"), training=True))
    expected = data.prepare_batch(x[[3, 0, 35]], info, augment="none")
    np.testing.assert_allclose(out, keras.ops.convert_to_numpy(expected), atol=1e-5)


def test_training_augmentation_is_pad_crop_flip_of_the_source():
    device, x, info = _device(augment="resnet_cifar")
    model = device.wrap(_net())
    idx = np.arange(32, dtype="int32")
    out = keras.ops.convert_to_numpy(model.preprocess(idx, training=True))
    pixels = np.round((out * np.asarray(info.std) + np.asarray(info.mean)) * 255).astype(int)
    padded = np.pad(x[idx].astype(int), ((0, 0), (4, 4), (4, 4), (0, 0)))
    seen = set()
    for b in range(len(idx)):
        crops = {(t, s, f) for t in range(9) for s in range(9) for f in (0, 1)
                 if np.array_equal(pixels[b], (lambda c: c[:, ::-1] if f else c)(padded[b, t:t + 8, s:s + 8]))}
        assert crops, f"image {b} is not a pad-4 crop (flipped or not) of its source"
        seen |= crops
    assert len({f for *_, f in seen}) == 2 and len({(t, s) for t, s, _ in seen}) > 5  # both flips, many offsets
    again = keras.ops.convert_to_numpy(model.preprocess(idx, training=True))
    assert not np.allclose(out, again)  # the seed generator advances: new draws every step
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.preprocess(idx, training=False)),
                               keras.ops.convert_to_numpy(data.prepare_batch(x[idx], info)), atol=1e-5)


def test_wrapper_counts_and_saves_only_the_network(tmp_path):
    device, _, _ = _device()
    net = _net()
    model = device.wrap(net)
    model(np.arange(4, dtype="int32"))
    assert model.count_params() == net.count_params() == 16
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    with h5py.File(path) as f:  # the data set is not in the checkpoint
        shapes = []
        f.visititems(lambda _, item: shapes.append(item.shape) if isinstance(item, h5py.Dataset) else None)
    assert (3, 4) in shapes and device.images.shape not in shapes
    other = device.wrap(_net())
    other(np.arange(4, dtype="int32"))
    other.load_weights(path)
    np.testing.assert_array_equal(other.network.get_weights()[0], net.get_weights()[0])


def test_choose_data_path_rule():
    assert choose_data_path("auto", AUTO_DEVICE_BYTES) == "device"
    assert choose_data_path("auto", AUTO_DEVICE_BYTES + 1) == "tfdata"
    assert choose_data_path("auto", 10, distribute="data_parallel") == "tfdata"
    assert choose_data_path("device", 10**12) == "device" and choose_data_path("tfdata", 1) == "tfdata"
    with pytest.raises(ValueError, match="data_path='gpu'.*'device'"):
        choose_data_path("gpu", 1)
    with pytest.raises(ValueError, match="RunConfig.data_path='gpu'"):
        RunConfig(data_path="gpu")


def test_fit_on_device_trains_and_is_seeded(monkeypatch):
    if BACKEND == "jax":  # the GPU machine has no TensorFlow: the device path must not need it
        monkeypatch.setitem(sys.modules, "tensorflow", None)
    first = fit({**TINY, "seed": 0, "eval_test": True}, verbose=0)
    assert first.status == "done", first.traceback
    assert [h["step"] for h in first.history] == [4, 8]
    again = fit({**TINY, "seed": 0, "epochs": 1}, verbose=0)
    other = fit({**TINY, "seed": 1, "steps_per_epoch": 3}, verbose=0)  # epochs of 3 steps: the index batches repeat
    assert other.status == "done" and [h["step"] for h in other.history] == [3, 6]
    losses = [[h["loss"] for h in r.history] for r in (first, again, other)]
    assert losses[0][:1] == losses[1] and losses[0][0] != losses[2][0]
    assert all(np.isfinite(losses[0])) and 0 <= first.final["test_error"] <= 1
    net = models.build("resnet_cifar", depth=8, width=4, input_shape=(12, 12, 1), num_classes=4)
    assert first.final["params"] == net.count_params()  # the network's parameters, not the data set
