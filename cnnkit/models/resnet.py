"""ResNet (He et al. 2016), v1 and v2 (pre-activation), CIFAR and ImageNet forms, plain variants.

* CIFAR (``resnet_cifar``, paper §4.2): 3x3 conv (16) → three stages of n blocks with 16/32/64
  filters (stride 2 at the start of stages 2 and 3) → global average pooling → dense;
  depth 6n+2 with basic blocks (9n+2 with bottlenecks, e.g. the v2 paper's ResNet-164).
  Shortcuts default to option A (zero-padding, parameter-free). Measured at 32x32x3 / 10
  classes: ResNet-20 has 269,722 trainable parameters (271,098 with the BN moving statistics
  Keras counts), ResNet-56 853,018 (857,082) — the paper's 0.27 M and 0.85 M; 40.55 M and
  125.49 M multiply-accumulates per image. ``plain20``/``plain56`` drop the shortcuts
  (the degradation experiment, Fig. 6).
* ImageNet (``resnet18`` … ``resnet152``, ``…v2``, Table 1): 7x7/2 conv → 3x3/2 max pool →
  four stages (64, 128, 256, 512 filters) → global average pooling → dense, projection
  shortcuts (option B). At 224x224x3 / 1000 classes resnet50/101/152 and their v2 forms count
  exactly the parameters of ``keras.applications.ResNet50`` etc. (ResNet50: 25,636,712), because
  they use its conventions: BN epsilon 1.001e-5 and, in v1, a bias on every convolution.
  resnet18/34 use no conv biases, like torchvision (11,689,512 / 21,797,672 trainable).
  Inputs below 64x64 get a CIFAR stem by default (``cifar_stem``: one 3x3/1 conv, no pooling).

Variants are thin: ``@register_model`` + :func:`variant_of` fixes some options of a generic
builder and keeps the rest (``build("resnet20", version=2, attention="se")`` works).
"""

from __future__ import annotations

from typing import Any, Callable

import keras

from cnnkit._checks import check_choice
from cnnkit.blocks.conv import conv_layer, norm_act
from cnnkit.blocks.residual import ATTENTIONS, attention_module, basic_block, bottleneck_block, conv_bias
from cnnkit.layers.normalization import bn_defaults
from cnnkit.models._input_size import choose_stem
from cnnkit.models._registry import register_model, variant_of

__all__ = ["resnet_cifar", "resnet_imagenet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
           "resnet18v2", "resnet34v2", "resnet50v2", "resnet101v2", "resnet152v2",
           "resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "plain20", "plain56"]

_BLOCKS = {"basic": basic_block, "bottleneck": bottleneck_block}
# ImageNet depth → (block, blocks per stage), He et al. 2016 Table 1.
IMAGENET_STAGES = {18: ("basic", (2, 2, 2, 2)), 34: ("basic", (3, 4, 6, 3)), 50: ("bottleneck", (3, 4, 6, 3)),
                   101: ("bottleneck", (3, 4, 23, 3)), 152: ("bottleneck", (3, 8, 36, 3))}
KERAS_BN_EPSILON = 1.001e-5  # keras.applications' ResNets
# Where ``attention`` goes: "block" = on every residual branch before the addition (SE, CBAM papers);
# "stage" = once after every stage but the last, where the next stage downsamples (BAM paper, §3.2).
ATTENTION_PLACEMENTS = ("block", "stage")


def blocks_per_stage(depth: int, per_block: int, extra: int, examples: str) -> int:
    """n from ``depth = per_block·n + extra``; a ``ValueError`` with examples otherwise."""
    if not (isinstance(depth, int) and depth > extra and (depth - extra) % per_block == 0):
        raise ValueError(f"depth must be {per_block}n+{extra}, e.g. {examples}; got {depth!r}")
    return (depth - extra) // per_block


def residual_network(stages: list[dict[str, Any]], *, stem: Callable, block_fn: Callable, version: int,
                     input_shape, num_classes: int, classifier_activation, name: str,
                     norm: str | None = "batch", activation: str | None = "relu",
                     stage_attention: str | None = None, **block_options: Any):
    """Generic residual network: stem → stages of blocks → [BN-act for v2] → GAP → dense.

    Args:
        stages: one dict per stage with ``blocks``, ``stride`` and the per-stage block arguments
            (``filters``, ...); the stride applies to the first block. Stage i's blocks are named
            ``conv{i+2}_block{j}`` (keras.applications' names, from 1).
        stem: ``stem(inputs) -> tensor``.
        block_fn: a block function of :mod:`cnnkit.blocks`.
        version: 1 or 2; version 2 adds the final BN-act (``post_bn``, ``post_act``).
        stage_attention: ``None`` or an attention module (``"se"``, ``"cbam"``, ``"bam"``) added
            once after every stage but the last, named ``conv{i}_{kind}`` (BAM's placement).
        **block_options: passed to every block (``shortcut``, ``plain``, ``attention``, ...).
    """
    check_choice("version", version, (1, 2))
    check_choice("stage_attention", stage_attention, ATTENTIONS)
    inputs = keras.Input(shape=input_shape, name="input")
    x = stem(inputs)
    for i, stage in enumerate(stages, start=2):
        stage = dict(stage)
        blocks, stride = stage.pop("blocks"), stage.pop("stride")
        for j in range(1, blocks + 1):
            x = block_fn(x, stride=stride if j == 1 else 1, version=version, norm=norm, activation=activation,
                         name=f"conv{i}_block{j}", **stage, **block_options)
        if stage_attention is not None and i < len(stages) + 1:
            x = attention_module(x, stage_attention, name=f"conv{i}_{stage_attention}")
    if version == 2:
        x = norm_act(x, norm=norm, activation=activation, name="post")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def _placed(attention: str | None, placement: str) -> dict[str, str | None]:
    """``attention`` / ``stage_attention`` options for :func:`residual_network` from a placement."""
    check_choice("attention_placement", placement, ATTENTION_PLACEMENTS)
    block = placement == "block"
    return {"attention": attention if block else None, "stage_attention": None if block else attention}


def stem_cifar(filters: int, *, version: int, norm: str | None = "batch", activation: str | None = "relu",
               use_bias: bool | None = None) -> Callable:
    """3x3/1 conv (+ BN-act in v1; in v2 the first block's pre-activation follows)."""
    def stem(x):
        x = conv_layer(filters, 3, use_bias=conv_bias(use_bias, version == 1, norm), name="conv1_conv")(x)
        return norm_act(x, norm=norm, activation=activation, name="conv1") if version == 1 else x

    return stem


def stem_imagenet(*, version: int, norm: str | None = "batch", activation: str | None = "relu",
                  use_bias: bool | None = None) -> Callable:
    """pad 3 → 7x7/2 conv (64) → [BN-act in v1] → pad 1 → 3x3/2 max pool, as keras.applications."""
    def stem(x):
        x = keras.layers.ZeroPadding2D(3, name="conv1_pad")(x)
        x = conv_layer(64, 7, strides=2, padding="valid", use_bias=conv_bias(use_bias, version == 1, norm),
                       name="conv1_conv")(x)
        if version == 1:
            x = norm_act(x, norm=norm, activation=activation, name="conv1")
        x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(x)
        return keras.layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)

    return stem


@register_model
def resnet_cifar(*, input_shape=(32, 32, 3), num_classes: int = 10, depth: int = 20, version: int = 1,
                 plain: bool = False, shortcut: str = "identity", width: int = 16, block: str = "basic",
                 activation: str | None = "relu", norm: str | None = "batch", attention: str | None = None,
                 dropout: float = 0.0, classifier_activation: str | None = "softmax",
                 attention_placement: str = "block") -> keras.Model:
    """CIFAR ResNet of He et al. 2016 §4.2: depth 6n+2 (basic) or 9n+2 (bottleneck), 3 stages.

    Stage filters ``width``, 2·width, 4·width (the bottleneck's inner width; its output is 4x).
    Options are those of :func:`cnnkit.blocks.residual.basic_block`. Inputs from 8x8 (28x28
    Fashion-MNIST works). Name: ``resnet{depth}`` (``plain{depth}``, ``…v2``).
    ``attention_placement``: ``"block"`` (default: ``attention`` on every residual branch, as
    the SE and CBAM papers) or ``"stage"`` (once after each stage but the last, as the BAM paper).
    """
    check_choice("block", block, tuple(_BLOCKS))
    examples = "20, 32, 44, 56, 110" if block == "basic" else "29, 56, 110, 164"
    n = blocks_per_stage(depth, 6 if block == "basic" else 9, 2, examples)
    if min(input_shape[:2]) < 8:
        raise ValueError(f"resnet_cifar needs inputs of at least 8x8, got input_shape={tuple(input_shape)}")
    block_fn = _BLOCKS[block]
    stages = [dict(filters=width * 2**i, blocks=n, stride=1 if i == 0 else 2) for i in range(3)]
    kind = "plain" if plain else "resnet"
    return residual_network(stages, stem=stem_cifar(width, version=version, norm=norm, activation=activation),
                            block_fn=block_fn, version=version, input_shape=input_shape, num_classes=num_classes,
                            classifier_activation=classifier_activation, norm=norm, activation=activation,
                            shortcut=shortcut, plain=plain, dropout=dropout, **_placed(attention, attention_placement),
                            name=f"{kind}{depth}" + ("v2" if version == 2 else ""))


def resnet_imagenet(*, input_shape=(224, 224, 3), num_classes: int = 1000, depth: int = 50, version: int = 1,
                    plain: bool = False, shortcut: str = "projection", use_bias: bool | None = None,
                    cifar_stem: bool | None = None, activation: str | None = "relu", norm: str | None = "batch",
                    attention: str | None = None, dropout: float = 0.0,
                    classifier_activation: str | None = "softmax", attention_placement: str = "block") -> keras.Model:
    """ImageNet ResNet of He et al. 2016 (Table 1): depth 18, 34, 50, 101 or 152 (the generic
    builder behind the registered ``resnet18`` … ``resnet152v2``).

    ``use_bias=None`` (default) follows keras.applications: a bias on every convolution of the v1
    bottleneck nets (50/101/152), elsewhere only on convolutions no BN follows. BN epsilon is
    1.001e-5. ``cifar_stem``: see :mod:`cnnkit.models._input_size` (None: CIFAR stem below 64x64).
    ``attention_placement``: as in :func:`resnet_cifar` (``"stage"``: BAM's three modules).
    """
    check_choice("depth", depth, tuple(IMAGENET_STAGES))
    block, repeats = IMAGENET_STAGES[depth]
    if use_bias is None and version == 1 and block == "bottleneck":
        use_bias = True
    name = f"{'plain' if plain else 'resnet'}{depth}" + ("v2" if version == 2 else "")
    small = choose_stem(input_shape, cifar_stem, model=name, imagenet_min=32, cifar_min=8)
    stem_kw = dict(version=version, norm=norm, activation=activation, use_bias=use_bias)
    stem = stem_cifar(64, **stem_kw) if small else stem_imagenet(**stem_kw)
    stages = [dict(filters=64 * 2**i, blocks=r, stride=1 if i == 0 else 2) for i, r in enumerate(repeats)]
    with bn_defaults(epsilon=KERAS_BN_EPSILON):
        return residual_network(stages, stem=stem, block_fn=_BLOCKS[block], version=version, input_shape=input_shape,
                                num_classes=num_classes, classifier_activation=classifier_activation, norm=norm,
                                activation=activation, shortcut=shortcut, plain=plain, dropout=dropout,
                                use_bias=use_bias, name=name, **_placed(attention, attention_placement))


# --- CIFAR variants (He et al. 2016 §4.2, Table 6: test error on CIFAR-10) ---------------------

@register_model
@variant_of(resnet_cifar, depth=20)
def resnet20():
    """ResNet-20: n=3, 0.27 M parameters, 8.75 % error."""


@register_model
@variant_of(resnet_cifar, depth=32)
def resnet32():
    """ResNet-32: n=5, 0.46 M parameters, 7.51 % error."""


@register_model
@variant_of(resnet_cifar, depth=44)
def resnet44():
    """ResNet-44: n=7, 0.66 M parameters, 7.17 % error."""


@register_model
@variant_of(resnet_cifar, depth=56)
def resnet56():
    """ResNet-56: n=9, 0.85 M parameters, 6.97 % error."""


@register_model
@variant_of(resnet_cifar, depth=110)
def resnet110():
    """ResNet-110: n=18, 1.7 M parameters, 6.43 % error (best of 5 runs; mean 6.61 %)."""


@register_model
@variant_of(resnet_cifar, depth=20, plain=True)
def plain20():
    """Plain-20: ResNet-20 without shortcuts (Fig. 6 left)."""


@register_model
@variant_of(resnet_cifar, depth=56, plain=True)
def plain56():
    """Plain-56: trains worse than plain-20 — the degradation problem (Fig. 6 left)."""


# --- ImageNet variants (He et al. 2016 Table 1; v2: "Identity Mappings") ------------------------

@register_model
@variant_of(resnet_imagenet, depth=18)
def resnet18():
    """ResNet-18: basic blocks (2, 2, 2, 2); 11,689,512 trainable parameters at 224/1000."""


@register_model
@variant_of(resnet_imagenet, depth=34)
def resnet34():
    """ResNet-34: basic blocks (3, 4, 6, 3); 21,797,672 trainable parameters at 224/1000."""


@register_model
@variant_of(resnet_imagenet, depth=50)
def resnet50():
    """ResNet-50: bottlenecks (3, 4, 6, 3); 25,636,712 parameters like keras.applications.ResNet50."""


@register_model
@variant_of(resnet_imagenet, depth=101)
def resnet101():
    """ResNet-101: bottlenecks (3, 4, 23, 3); 44,707,176 parameters like keras.applications."""


@register_model
@variant_of(resnet_imagenet, depth=152)
def resnet152():
    """ResNet-152: bottlenecks (3, 8, 36, 3); 60,419,944 parameters like keras.applications."""


@register_model
@variant_of(resnet_imagenet, depth=18, version=2)
def resnet18v2():
    """Pre-activation ResNet-18 (no keras.applications counterpart)."""


@register_model
@variant_of(resnet_imagenet, depth=34, version=2)
def resnet34v2():
    """Pre-activation ResNet-34 (no keras.applications counterpart)."""


@register_model
@variant_of(resnet_imagenet, depth=50, version=2)
def resnet50v2():
    """Pre-activation ResNet-50; 25,613,800 parameters like keras.applications.ResNet50V2."""


@register_model
@variant_of(resnet_imagenet, depth=101, version=2)
def resnet101v2():
    """Pre-activation ResNet-101; 44,675,560 parameters like keras.applications.ResNet101V2."""


@register_model
@variant_of(resnet_imagenet, depth=152, version=2)
def resnet152v2():
    """Pre-activation ResNet-152; 60,380,648 parameters like keras.applications.ResNet152V2."""
