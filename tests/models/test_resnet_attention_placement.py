"""``attention_placement`` of the ResNets: on every residual branch (SE, CBAM) or after stages (BAM)."""

import pytest

from cnnkit.models import build
from cnnkit.stats import shapes_only


def attention_layers(model, kind: str) -> list[str]:
    return [layer.name for layer in model.layers if layer.name.endswith(f"_{kind}")]


def test_stage_placement_puts_one_module_after_each_stage_but_the_last():
    with shapes_only():
        model = build("resnet_cifar", input_shape=(16, 16, 1), num_classes=3, depth=14, attention="bam",
                      attention_placement="stage")
    assert attention_layers(model, "bam") == ["conv2_bam", "conv3_bam"]
    # it sits between the stages: the next stage's first block reads it
    assert model.get_layer("conv3_bam").output.shape[1:] == (8, 8, 32)


def test_block_placement_is_the_default():
    with shapes_only():
        model = build("resnet_cifar", input_shape=(16, 16, 1), num_classes=3, depth=14, attention="se")
    assert len(attention_layers(model, "se")) == 6 and "conv2_se" not in attention_layers(model, "se")


def test_imagenet_resnet_stage_placement_and_bad_value():
    with shapes_only():
        model = build("resnet18", input_shape=(64, 64, 3), num_classes=5, attention="cbam",
                      attention_placement="stage")
    assert attention_layers(model, "cbam") == ["conv2_cbam", "conv3_cbam", "conv4_cbam"]
    with pytest.raises(ValueError, match="'everywhere'"):
        build("resnet20", input_shape=(16, 16, 1), num_classes=3, attention="se", attention_placement="everywhere")
