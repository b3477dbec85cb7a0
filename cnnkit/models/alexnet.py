"""AlexNet (Krizhevsky, Sutskever & Hinton 2012, "ImageNet Classification with Deep Convolutional
Neural Networks"), the small CIFAR-10 net that paper measured ReLU and LRN on, and ZFNet
(Zeiler & Fergus 2013, "Visualizing and Understanding Convolutional Networks").

AlexNet, as in the paper (Fig. 2, section 3.5): 96 11x11/4 → ReLU → LRN → max pool 3/2 →
256 5x5 → ReLU → LRN → max pool 3/2 → 384 3x3 → 384 3x3 → 256 3x3 → max pool 3/2 → fc 4096 →
dropout 0.5 → fc 4096 → dropout 0.5 → classifier. ``groups=2`` restores the two-GPU split:
conv2, conv4 and conv5 only see the 48/192/192 channels of "their" GPU (conv1's two halves
read the whole image, conv3 and the dense layers read both GPUs). With ``groups=2`` and 1000
classes the model has the paper's 60,965,224 parameters (Caffe's ``bvlc_alexnet``); the default
``groups=1`` (one GPU, full connections) has 62,378,344. Channel counts are always the paper's
96/256/384/384/256, not the single-GPU 64/192/384/256/256 of "one weird trick" / torchvision.

The 224/227 issue: the paper says 224x224 inputs, but an 11x11 stride-4 window over 224
pixels gives 54.25 positions, not the 55 of its figure. Caffe feeds 227x227 (no padding:
(227 − 11)/4 + 1 = 55); torchvision feeds 224 with 2 pixels of zero padding. ``stem_padding=None``
picks 0 when (side − 11) is divisible by 4 (227) and 2 otherwise (224 → 55x55); both reach the
same 6x6x256 map before the dense layers, so parameter counts do not depend on the choice.

Depth ablation (paper §4: "removing any of the middle layers results in a loss of about 2 % for
the top-1 performance"): ``drop_layer=i`` leaves out convolution i and its ReLU; the
normalisation and pooling that followed it stay, so every later map keeps its size and the next
convolution simply reads the channels of the one before.
"""

from __future__ import annotations

import keras

from cnnkit._checks import check_choice
from cnnkit.models._classic import ConvSpec, convnet, spatial_ops
from cnnkit.models._registry import register_model

__all__ = ["alexnet", "alexnet_cifar", "zfnet"]

# The convolutions ``drop_layer`` may remove (1-based): the middle ones of each net.
MIDDLE_LAYERS = {"alexnet": (2, 3, 4), "alexnet_cifar": (2,)}
_SMALL_HINT = "use alexnet_cifar (32x32 or 28x28 inputs) or resize with resolution=227"


def _alexnet_specs(stem_padding: int) -> list[ConvSpec]:
    return [ConvSpec("conv1", 96, 11, stride=4, padding=stem_padding, after="np"),
            ConvSpec("conv2", 256, 5, grouped=True, after="np"),
            ConvSpec("conv3", 384, 3),
            ConvSpec("conv4", 384, 3, grouped=True),
            ConvSpec("conv5", 256, 3, grouped=True, after="p")]


def _drop(model: str, specs: list[ConvSpec], layer: int | None) -> list[ConvSpec]:
    """``specs`` with convolution ``layer`` (1-based) left out; ``None`` keeps every layer."""
    if layer is None:
        return specs
    middle = MIDDLE_LAYERS[model]
    if isinstance(layer, bool) or layer not in middle:
        raise ValueError(f"{model}: drop_layer must be None or the index of a middle convolution "
                         f"{list(middle)} (1-based; the paper removes middle layers), got {layer!r}")
    return [spec._replace(conv=False) if i == layer else spec for i, spec in enumerate(specs, start=1)]


def _stem_padding(stem_padding: int | None, side: int) -> int:
    if stem_padding is not None:
        if not (isinstance(stem_padding, int) and stem_padding >= 0):
            raise ValueError(f"alexnet: stem_padding must be a non-negative int or None (auto), "
                             f"got {stem_padding!r}")
        return stem_padding
    return 0 if (side - 11) % 4 == 0 else 2


@register_model
def alexnet(*, input_shape: tuple[int, int, int] = (227, 227, 3), num_classes: int = 1000,
            activation: str = "relu", norm: str | None = "lrn", pooling: str = "overlap", dropout: float = 0.5,
            groups: int = 1, width: float = 1.0, stem_padding: int | None = None, resolution: int | None = None,
            drop_layer: int | None = None, classifier_activation: str | None = "softmax") -> keras.Model:
    """AlexNet as in the paper (ImageNet form; see the module docstring for the 224/227 issue).

    Minimum input: 64x64 (automatic stem padding; 36x36 with 2x2 pooling). Smaller images: ``alexnet_cifar``,
    or ``resolution=`` to resize them inside the model.

    Args:
        input_shape: ``(height, width, channels)``; default 227x227x3.
        num_classes: classifier outputs (default 1000).
        activation: ``"relu"`` (default, the paper) or any name in ``factories.ACTIVATIONS``.
        norm: ``"lrn"`` (default: k=2, n=5, α=1e-4, β=0.75 after the ReLU of conv1 and conv2),
            ``"batch"`` (BatchNormalization in the same two places) or ``None``.
        pooling: ``"overlap"`` (default, 3x3/2), ``"max"`` (2x2/2, the paper's non-overlapping
            baseline), ``"avg"`` or ``"stochastic"`` (2x2/2).
        dropout: rate after fc6 and fc7 (default 0.5).
        groups: 1 (default, single GPU) or 2 (the paper's two-GPU split of conv2/4/5).
        width: multiplier of every channel count and dense width.
        stem_padding: zero padding of conv1; ``None`` = automatic (see module docstring).
        resolution: if set, inputs are resized to ``resolution x resolution`` first.
        drop_layer: ``None`` (default, all five convolutions) or 2, 3 or 4: leave that middle
            convolution out (the paper's depth ablation; see the module docstring).
        classifier_activation: ``"softmax"`` (default) or ``None`` for logits.
    """
    check_choice("groups", groups, (1, 2), where="alexnet")
    side = resolution or min(input_shape[:2])
    specs = _drop("alexnet", _alexnet_specs(_stem_padding(stem_padding, side)), drop_layer)
    return convnet("alexnet", specs, (4096, 4096), input_shape=input_shape, num_classes=num_classes,
                   activation=activation, norm=norm, pooling=pooling, dropout=dropout, groups=groups,
                   width=width, resolution=resolution, classifier_activation=classifier_activation,
                   hint=_SMALL_HINT,
                   ops_for=lambda n: spatial_ops(_alexnet_specs(_stem_padding(stem_padding, n)), pooling))


# The CIFAR-10 net of the AlexNet paper's Fig. 1 and section 3.3: cuda-convnet's
# example-layers/layers-18pct.cfg ("18% error on CIFAR-10 in 20 minutes").
_CIFAR_SPECS = [ConvSpec("conv1", 32, 5, after="pn", pool_padding="same", pool=("max", 3)),
                ConvSpec("conv2", 32, 5, after="pn", pool_padding="same", pool=("avg", 3)),
                ConvSpec("conv3", 64, 5, after="p", pool_padding="same", pool=("avg", 3))]


@register_model
def alexnet_cifar(*, input_shape: tuple[int, int, int] = (32, 32, 3), num_classes: int = 10,
                  activation: str = "relu", norm: str | None = "lrn", pooling: str | None = None,
                  dropout: float = 0.0, drop_layer: int | None = None, kernel_initializer: str = "glorot_uniform",
                  classifier_activation: str | None = "softmax") -> keras.Model:
    """The four-layer CIFAR-10 net of the AlexNet paper (ReLU vs tanh, Fig. 1; LRN 13 % → 11 %).

    cuda-convnet's ``layers-18pct.cfg``: conv 5x5 32 → max pool 3/2 → ReLU → LRN → conv 5x5 32 →
    ReLU → avg pool 3/2 → LRN → conv 5x5 64 → ReLU → avg pool 3/2 → fc 10. Convolutions are
    'same'-padded (cuda-convnet ``padding=2``), pooling windows cover the whole map
    (``outputsX=0`` ≙ 'same'), so 32x32 → 16 → 8 → 4 (28x28 → 14 → 7 → 4) and the dense layer
    always sees 4x4x64. 89,578 parameters on 32x32x3 (87,978 on 28x28x1). Applying ReLU before
    the first max pool equals cuda-convnet's pool-then-ReLU (both are monotone).

    Deviation: ``norm="lrn"`` is the AlexNet paper's cross-channel LRN (n=5, k=2, α=1e-4,
    β=0.75, cnnkit's ``LocalResponseNormalization``); the cfg's ``rnorm`` layers normalise over
    a 3x3 *spatial* window within each map (scale 5e-5, power 0.75).

    Minimum input: 1x1 (every window is 'same'-padded); meant for 28x28 and 32x32.

    Args:
        input_shape: ``(height, width, channels)``; default 32x32x3.
        num_classes: classifier outputs.
        activation: ``"relu"`` (default) or ``"tanh"`` for the paper's ReLU/tanh comparison.
        norm: ``"lrn"`` (default), ``None`` or ``"batch"``, after pool1 and pool2.
        pooling: ``None`` (default: the cfg's max, avg, avg, all 3x3/2); ``"overlap"`` (all max
            3x3/2), ``"max"``, ``"avg"``, ``"stochastic"`` (all 2x2/2).
        dropout: rate before the classifier (default 0).
        drop_layer: ``None`` (default) or 2: leave out the middle convolution (conv1's 32 maps then
            go through pool2 and norm2 straight into conv3; 25,632 fewer parameters).
        kernel_initializer: of the convolutions: Keras' ``"glorot_uniform"`` (default; suits tanh) or e.g.
            ``"he_normal"`` (He et al. 2015; suits ReLU). The paper drew every weight from N(0, 0.01).
        classifier_activation: ``"softmax"`` (default) or ``None`` for logits.
    """
    specs = _drop("alexnet_cifar", _CIFAR_SPECS, drop_layer)
    return convnet("alexnet_cifar", specs, (), input_shape=input_shape, num_classes=num_classes,
                   activation=activation, norm=norm, pooling=pooling, dropout=dropout,
                   kernel_initializer=kernel_initializer,
                   classifier_activation=classifier_activation, hint="use larger images")


# ZFNet (Fig. 3 of the paper): the first layer 7x7/2 instead of 11x11/4, conv2 5x5/2, and
# contrast normalisation after each of the first two poolings. Paddings chosen so that a
# 224x224 input gives the figure's 110 → 55 → 26 → 13 → 13 → 13 → 6 maps.
_ZF_SPECS = [ConvSpec("conv1", 96, 7, stride=2, padding=1, after="pn", pool_padding="same"),
             ConvSpec("conv2", 256, 5, stride=2, padding="valid", after="pn", pool_padding="same"),
             ConvSpec("conv3", 384, 3),
             ConvSpec("conv4", 384, 3),
             ConvSpec("conv5", 256, 3, after="p")]


@register_model
def zfnet(*, input_shape: tuple[int, int, int] = (224, 224, 3), num_classes: int = 1000,
          activation: str = "relu", norm: str | None = "lrn", pooling: str = "overlap", dropout: float = 0.5,
          width: float = 1.0, resolution: int | None = None,
          classifier_activation: str | None = "softmax") -> keras.Model:
    """ZFNet (Zeiler & Fergus 2013), the ILSVRC-2013 refinement of AlexNet.

    96 7x7/2 → ReLU → max pool 3/2 → norm → 256 5x5/2 → ReLU → max pool 3/2 → norm → 384 3x3 →
    384 3x3 → 256 3x3 → max pool 3/2 → fc 4096 → fc 4096 → classifier (dropout 0.5).
    62,357,608 parameters at 224x224x3, 1000 classes. The paper's "contrast normalization
    across feature maps" is approximated by AlexNet's LRN (``norm="lrn"``).

    Minimum input: 53x53 (37x37 with 2x2 pooling). Smaller images: ``resolution=`` or a CIFAR model.

    Args:
        input_shape: ``(height, width, channels)``; default 224x224x3.
        num_classes: classifier outputs (default 1000).
        activation, norm, pooling, dropout, width, resolution, classifier_activation:
            as for :func:`alexnet` (``norm`` sits after pool1 and pool2).
    """
    return convnet("zfnet", _ZF_SPECS, (4096, 4096), input_shape=input_shape, num_classes=num_classes,
                   activation=activation, norm=norm, pooling=pooling, dropout=dropout, width=width,
                   resolution=resolution, classifier_activation=classifier_activation,
                   hint="resize with resolution=224 or use alexnet_cifar")
