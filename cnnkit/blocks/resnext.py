"""ResNeXt block: a bottleneck whose 3x3 convolution is split into ``cardinality`` groups.

Xie, Girshick, Dollár, Tu & He 2017, "Aggregated Residual Transformations for Deep Neural
Networks" (arXiv:1611.05431). The block aggregates C parallel paths of width d
(1x1 → 3x3 → 1x1); Fig. 3(c) shows this equals one bottleneck with a *grouped* 3x3 convolution
of C groups and C·d channels. At equal parameters, more paths (higher cardinality) beat a
wider or deeper network: ResNeXt-50 (32x4d) has 25.0 M parameters like ResNet-50 and 1.7 points
lower ImageNet top-1 error.
"""

from __future__ import annotations

from typing import Any

from cnnkit.blocks.residual import bottleneck_block

__all__ = ["resnext_block"]


def resnext_block(x, filters: int, *, stride: int = 1, cardinality: int = 32, bottleneck_width: int = 4,
                  shortcut: str = "projection", name: str, **options: Any):
    """ResNeXt block ``1x1 (C·d) → grouped 3x3 (C groups, C·d) → 1x1 (filters)`` (Xie et al. 2017, Fig. 3c).

    Args:
        x: input tensor (channels-last).
        filters: output channels (256 in ResNeXt-50's first stage).
        stride: stride of the grouped 3x3 convolution and of the shortcut. Default 1.
        cardinality: C, the number of groups (paths). Default 32.
        bottleneck_width: d, the width of each path. Default 4 (ResNeXt-50 32x4d's first stage).
        shortcut: as in :func:`cnnkit.blocks.residual.basic_block`; default ``"projection"``
            (option B, the paper's choice).
        name: prefix of every layer name.
        **options: ``version``, ``plain``, ``activation``, ``norm``, ``attention``, ``dropout``,
            ``use_bias``, ``kernel_regularizer`` of :func:`cnnkit.blocks.residual.bottleneck_block`.

    Returns:
        A tensor with ``filters`` channels, spatially subsampled by ``stride``.
    """
    if not (isinstance(cardinality, int) and cardinality >= 1):
        raise ValueError(f"cardinality must be an int >= 1, got {cardinality!r}")
    if not (isinstance(bottleneck_width, int) and bottleneck_width >= 1):
        raise ValueError(f"bottleneck_width must be an int >= 1, got {bottleneck_width!r}")
    return bottleneck_block(x, cardinality * bottleneck_width, stride=stride, out_filters=filters,
                            groups=cardinality, shortcut=shortcut, name=name, **options)
