"""The Inception module of GoogLeNet (Szegedy et al. 2015, "Going Deeper with Convolutions", Fig. 2).

Four parallel branches over the same input, concatenated along channels:
1x1 conv | 1x1 reduce → 3x3 conv | 1x1 reduce → 5x5 conv | 3x3 max pool (stride 1) → 1x1 projection.
The 1x1 "reductions" are the point: without them (the naive module, Fig. 2a) the 3x3/5x5
convolutions run over every input channel and the pooled input passes through unchanged, so
weights and output channels grow with each module.
"""

from __future__ import annotations

import keras

from cnnkit.blocks.conv import conv_bn_act

__all__ = ["inception_module", "inception_params"]

# He et al. 2015 scaling, uniform form: same variance as ``he_normal``, but JAX compiles a
# truncated-normal initialiser once per weight shape (seconds each on CPU), uniform ones not.
INITIALIZER = "he_uniform"


def inception_module(x, f1: int, f3r: int, f3: int, f5r: int, f5: int, pool_proj: int, *, name: str,
                     reductions: bool = True, norm: str | None = None, activation: str = "relu"):
    """Inception v1 module: four branches, concatenated (Szegedy et al. 2015).

    Every convolution is 'same'-padded, stride 1, followed by ``norm`` and ``activation``.

    Args:
        x: input tensor (channels-last).
        f1: filters of the 1x1 branch.
        f3r, f3: filters of the 1x1 reduction and of the 3x3 convolution.
        f5r, f5: filters of the 1x1 reduction and of the 5x5 convolution.
        pool_proj: filters of the 1x1 projection after the 3x3/1 max pooling.
        name: prefix of the layer names (``name_1x1``, ``name_3x3_reduce``, ..., ``name_concat``).
        reductions: ``True`` (default) is Fig. 2b; ``False`` is the naive module of Fig. 2a,
            which ignores ``f3r``, ``f5r`` and ``pool_proj`` (the pooled input is concatenated
            as it is, so the output has ``f1 + f3 + f5 + C_in`` channels).
        norm: ``None`` (default, the paper; convolutions then have a bias) or ``"batch"``.
        activation: default ``"relu"``.

    Returns:
        The concatenation of the branches: ``f1 + f3 + f5 + pool_proj`` channels.
    """

    def conv(t, filters: int, k: int, suffix: str):
        return conv_bn_act(t, filters, k, norm=norm, activation=activation, kernel_initializer=INITIALIZER,
                           name=f"{name}_{suffix}")

    b1 = conv(x, f1, 1, "1x1")
    b3 = conv(conv(x, f3r, 1, "3x3_reduce"), f3, 3, "3x3") if reductions else conv(x, f3, 3, "3x3")
    b5 = conv(conv(x, f5r, 1, "5x5_reduce"), f5, 5, "5x5") if reductions else conv(x, f5, 5, "5x5")
    pool = keras.layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    if reductions:
        pool = conv(pool, pool_proj, 1, "pool_proj")
    return keras.layers.Concatenate(axis=-1, name=f"{name}_concat")([b1, b3, b5, pool])


def inception_params(in_channels: int, f1: int, f3r: int, f3: int, f5r: int, f5: int, pool_proj: int, *,
                     reductions: bool = True, bias: bool = True) -> int:
    """Weights of :func:`inception_module` (``norm=None``) on ``in_channels`` input channels.

    Example: GoogLeNet's 3a (192 → 64, 96/128, 16/32, 32) has 163,696 weights with the 1x1
    reductions and 387,296 without (Fig. 2a) — 2.4x more (biases included).
    """
    def conv(cin: int, cout: int, k: int) -> int:
        return k * k * cin * cout + (cout if bias else 0)

    if not reductions:
        return conv(in_channels, f1, 1) + conv(in_channels, f3, 3) + conv(in_channels, f5, 5)
    return (conv(in_channels, f1, 1) + conv(in_channels, f3r, 1) + conv(f3r, f3, 3)
            + conv(in_channels, f5r, 1) + conv(f5r, f5, 5) + conv(in_channels, pool_proj, 1))
