"""12 · Attention modules on a ResNet: SE, CBAM and BAM — what they cost and what they buy.

* SE (Hu, Shen & Sun 2018): a channel gate on every residual branch. SE-ResNet-50 adds ~2.5 M
  parameters (~10 %) and lowers ImageNet top-1 error by 1.5 pp.
* CBAM (Woo, Park, Lee & Kweon 2018): channel then spatial attention on every residual branch;
  about SE's parameters, −1.9 pp on ResNet-50.
* BAM (Park, Woo, Lee & Kweon 2018): channel + spatial attention, once at each bottleneck where
  the network downsamples (3 modules on ResNet-50); +0.36 M parameters, −0.5 pp.

The parameter overheads are exact and checked against the papers' ResNet-50 tables; the
accuracy effects are measured on ResNet-20 over seeds (the direction only: the papers' numbers
are ImageNet top-1 errors).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from cnnkit.ablation import Experiment
from cnnkit.notebook.report import Row
from cnnkit.reference import ATTENTION
from cnnkit.studies._common import absolute_row, base_config, checked_variants, diff_row, mean_text

ATTENTIONS = ("se", "cbam", "bam")
# The papers' placements: SE and CBAM on every residual branch, BAM after each downsampling stage.
PAPER_PLACEMENT = {"se": "block", "cbam": "block", "bam": "stage"}
_LAYERS = {"SqueezeExcite": "se", "CBAM": "cbam", "BAM": "bam"}


def _check_attentions(attentions: Sequence[str]) -> list[str]:
    return checked_variants(attentions, f"attentions must name each of {list(ATTENTIONS)} at most once "
                                        "(at least one)", choices=ATTENTIONS)


def module_params(kind: str, channels: int, ratio: int = 16, *, kernel_size: int = 7, dilation_convs: int = 2) -> int:
    """Trainable parameters of one attention module on ``channels`` channels (hidden ``h = max(1, C // r)``).

    SE: ``C·h + h + h·C + C``. CBAM: the same MLP + ``2·k² + 1`` (spatial conv). BAM: channel
    branch ``C·h + h + 2h (BN) + h·C + C``; spatial branch ``C·h + h + 2h`` + per dilated conv
    ``9h² + h + 2h`` + ``h + 1``. Biases and BN's gamma/beta count; BN moving statistics do not.
    """
    if kind not in ATTENTIONS:
        raise ValueError(f"unknown attention {kind!r}; choose one of {list(ATTENTIONS)}")
    c, h = int(channels), max(1, int(channels) // int(ratio))
    mlp = c * h + h + h * c + c
    if kind == "se":
        return mlp
    if kind == "cbam":
        return mlp + 2 * kernel_size**2 + 1
    channel = mlp + 2 * h
    spatial = (c * h + h + 2 * h) + dilation_convs * (9 * h * h + h + 2 * h) + (h + 1)
    return channel + spatial


def count_modules(model) -> dict[str, int]:
    """How many SE / CBAM / BAM layers a model holds, e.g. ``{"se": 9, "cbam": 0, "bam": 0}``."""
    counts = dict.fromkeys(ATTENTIONS, 0)
    for layer in model.layers:
        kind = _LAYERS.get(type(layer).__name__)
        if kind:
            counts[kind] += 1
    return counts


def overhead_table(attentions: Sequence[str] = ATTENTIONS, *, model: str = "resnet20",
                   input_shape: tuple[int, ...] = (28, 28, 1), num_classes: int = 10,
                   placements: dict[str, str] | None = None, **model_options: Any) -> pd.DataFrame:
    """Exact parameter (and MAC) overhead of each attention module on ``model``.

    Models are built with :func:`cnnkit.stats.shapes_only` (no weights initialised), so even
    ResNet-50 at 224x224 takes about a second.

    Args:
        attentions: modules to add (``"se"``, ``"cbam"``, ``"bam"``).
        model: a registered ResNet with the ``attention`` option (``"resnet20"``, ``"resnet50"``).
        input_shape, num_classes: passed to the builder.
        placements: ``attention_placement`` per module; default :data:`PAPER_PLACEMENT`.
        **model_options: further builder options (``depth``, ``width`` of ``resnet_cifar``).

    Returns:
        One row for the plain model (``attention`` "none") and one per module: ``placement``,
        ``modules`` (how many were inserted), ``trainable``, ``added`` (trainable parameters
        added), ``added_pct`` (% of the plain model), ``macs``, ``macs_added_pct``. MACs count
        convolutions and dense layers only; CBAM's shared MLP, applied twice, is counted once.
    """
    from cnnkit.models import build
    from cnnkit.stats import count_params, macs, shapes_only

    placements = {**PAPER_PLACEMENT, **(placements or {})}
    rows = []
    with shapes_only():
        for kind in ["none", *_check_attentions(attentions)]:
            opts = {} if kind == "none" else {"attention": kind, "attention_placement": placements[kind]}
            net = build(model, input_shape=tuple(input_shape), num_classes=num_classes, **model_options, **opts)
            rows.append({"attention": kind, "placement": "—" if kind == "none" else placements[kind],
                         "modules": sum(count_modules(net).values()), "trainable": count_params(net)["trainable"],
                         "macs": macs(net)})
    table = pd.DataFrame(rows)
    base = table.iloc[0]
    table["added"] = table["trainable"] - base["trainable"]
    table["added_pct"] = 100.0 * table["added"] / base["trainable"]
    table["macs_added_pct"] = 100.0 * (table["macs"] - base["macs"]) / base["macs"]
    return table[["attention", "placement", "modules", "trainable", "added", "added_pct", "macs", "macs_added_pct"]]


def experiment(*, attentions: Sequence[str] = ATTENTIONS, trained: Sequence[str] | None = None,
               seeds: Sequence[int] = (0, 1),
               dataset: str = "fashion_mnist", subset: int | None = 1000, epochs: int = 2, batch_size: int = 32,
               augment: str = "none", bn_momentum: float = 0.9, depth: int = 20, width: int = 16,
               bam_placement: str = "stage", recipe: str = "resnet_cifar", resolution: int | None = None,
               eval_subset: int | None = None, name: str = "attention") -> Experiment:
    """ResNet-``depth`` without attention (variant ``"none"``) and with each module × seeds.

    Args:
        attentions: modules to compare with the plain net (``"se"``, ``"cbam"``, ``"bam"``).
        trained: the modules trained (None: every one of ``attentions``); the notebook counts
            ``attentions`` and trains these.
        depth, width: the ``resnet_cifar`` net (ResNet-20: 20, 16).
        bam_placement: ``"stage"`` (the BAM paper: after stages 1 and 2) or ``"block"``.
        seeds, dataset, subset, epochs, batch_size, augment, bn_momentum, recipe, resolution, eval_subset:
            see :class:`cnnkit.config.RunConfig`.
        name: the experiment's name (its folder in the results store).
    """
    placement = {**PAPER_PLACEMENT, "bam": bam_placement}
    base = base_config(model="resnet_cifar", dataset=dataset, subset=subset, epochs=epochs, batch_size=batch_size,
                       augment=augment, bn_momentum=bn_momentum, recipe=recipe, resolution=resolution,
                       eval_subset=eval_subset, model_options={"depth": depth, "width": width})
    variants = {"none": {}}
    variants.update({a: {"model_options.attention": a, "model_options.attention_placement": placement[a]}
                     for a in _check_attentions(attentions if trained is None else trained)})
    return Experiment(name, base, variants=variants, seeds=tuple(seeds))


def _overhead_row(imagenet: pd.DataFrame, kind: str) -> Row:
    """Added parameters on ResNet-50 against the paper's table, to its rounding (±0.005 M)."""
    ref = ATTENTION[f"{kind}_params_added"]
    added = int(imagenet.loc[imagenet["attention"] == kind, "added"].iloc[0])
    verdict = "agrees" if abs(added - ref.value) <= 0.005e6 else "disagrees"
    return Row(f"parameters added to ResNet-50, {kind.upper()}", f"+{added:,}",
               f"+{ref.value / 1e6:.2f} M ({ref.source})", verdict,
               "ImageNet ResNet-50, 1000 classes; papers' tables round to 0.01 M", kind == "se",
               "exact count, to the table's rounding (±0.005 M)")


def summary_rows(runs: pd.DataFrame, overhead: pd.DataFrame, imagenet: pd.DataFrame | None = None) -> list[Row]:
    """Measured vs papers: parameter overheads (exact), then test-error changes over seeds.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
        overhead: :func:`overhead_table` of the trained net (ResNet-20 on the data's shape).
        imagenet: :func:`overhead_table` of ``resnet50`` at 224x224x3 / 1000 classes, or ``None``.

    Returns:
        ResNet-50 overheads vs the papers (exact, if given; SE's is a headline); the trained net's
        overheads (not comparable: another net); ``module − none`` test error per trained module
        (the papers: negative; one-sided paired t by seed; SE's is a headline); each variant's test
        error (not comparable).
    """
    rows = [] if imagenet is None else [_overhead_row(imagenet, k) for k in imagenet["attention"] if k != "none"]
    for _, r in overhead.iloc[1:].iterrows():
        ref = ATTENTION[f"{r['attention']}_params_added"]
        rows.append(absolute_row(f"parameters added to the trained net, {r['attention'].upper()}",
                                 f"+{int(r['added']):,} (+{r['added_pct']:.2f} %)",
                                 f"+{100 * ref.value / ATTENTION['resnet50_params'].value:.1f} % on ResNet-50",
                                 f"{int(r['modules'])} modules ({r['placement']}); another base net"))
    variants = [v for v in dict.fromkeys(runs["variant"]) if v != "none"]
    for v in variants:
        ref = ATTENTION[f"{v}_top1_gain"]
        rows.append(diff_row(runs, "none", v, "test_error", quantity=f"test error, {v.upper()} − none",
                             reference=f"{-100 * ref.value:+.2f} pp top-1 ({ref.source})", expect="negative",
                             headline=v == "se", note="direction only: the papers' numbers are ImageNet top-1"))
    rows += [absolute_row(f"test error, {v}", mean_text(runs, v, "test_error"), "—",
                          "Fashion-MNIST; not comparable with ImageNet errors") for v in ["none", *variants]]
    return rows
