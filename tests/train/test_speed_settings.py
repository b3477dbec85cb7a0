"""Speed settings: RunConfig overrides that pass validation; large batches scale the recipe's lr."""

import keras
import pytest

from cnnkit.train.config import RunConfig
from cnnkit.train.device_data import require_channels_last
from cnnkit.train.recipes import SPEED_SETTINGS, speed_settings


@pytest.mark.parametrize("name", SPEED_SETTINGS)
def test_speed_settings_are_valid_run_configs(name):
    cfg = RunConfig(model="resnet20", **speed_settings(name)).resolved()
    assert cfg.data_path == "device"
    expected_lr = 0.1 * cfg.batch_size / 128  # linear scaling from the paper's batch 128
    assert cfg.lr == pytest.approx(expected_lr)


def test_gpu_settings_use_bf16_xla_and_a_large_batch_scales_lr():
    gpu, large = speed_settings("gpu"), speed_settings("gpu_large_batch")
    assert gpu["mixed_precision"] == "mixed_bfloat16" and gpu["jit_compile"] is True
    assert RunConfig(**large).resolved().lr == pytest.approx(0.4)
    large["batch_size"] = 1  # a fresh dict each call
    assert speed_settings("gpu_large_batch")["batch_size"] == 512


def test_unknown_speed_settings_name_the_choices():
    with pytest.raises(ValueError, match="'tpu'.*'gpu'"):
        speed_settings("tpu")


def test_channels_first_is_rejected(monkeypatch):
    require_channels_last()
    monkeypatch.setattr(keras.config, "image_data_format", lambda: "channels_first")
    with pytest.raises(ValueError, match="channels_first.*set_image_data_format"):
        require_channels_last()
