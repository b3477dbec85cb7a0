"""12 · Attention modules on a ResNet: SE, CBAM and BAM — what they cost and what they buy.

* SE (Hu, Shen & Sun 2018): a channel gate on every residual branch. SE-ResNet-50 adds ~2.5 M
  parameters (~10 %) and lowers ImageNet top-1 error by 1.5 pp.
* CBAM (Woo, Park, Lee & Kweon 2018): channel then spatial attention on every residual branch;
  about SE's parameters, −1.9 pp on ResNet-50.
* BAM (Park, Woo, Lee & Kweon 2018): channel + spatial attention, once at each bottleneck where
  the network downsamples (3 modules on ResNet-50); +0.36 M parameters, −0.5 pp.

The parameter overheads are exact and checked against the papers' ResNet-50 tables; the
accuracy effects are measured on a CIFAR ResNet (``resnet_cifar``) over seeds (the direction only: the papers' numbers
are ImageNet top-1 errors).

The accuracy claims are about *trained* nets, so they are judged only on runs that finished learning
(:mod:`cnnkit.train.convergence`) and beat a linear model on the same data and budget (the ``linear`` floor arm):

* every run's learning rate decays within its budget: He et al.'s step schedule (the ``resnet_cifar`` recipe: SGD
  0.1 at batch 128, divided by 10 at 50 % and 75 % of the iterations, after a short linear warm-up), written for the
  iterations the run has (not for 64k cut short), so the last quarter trains at a hundredth of the peak rate;
* a CPU budget buys a few hundred iterations of batch 128: the quick net is a ResNet-8 (one block per stage, so SE
  and CBAM sit on three residual branches), more than twice as many iterations per CPU-second as the paper preset's
  ResNet-20; ``--preset long`` trains the same design several times longer on all the training images;
* :func:`tracks` follows each trained module's difference over training (validation error standing in for the
  test set), so the report says whether the verdict still moved in the last quarter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cnnkit.ablation import Experiment
from cnnkit.ablation.over_training import Track
from cnnkit.ablation.verdicts import Claim
from cnnkit.notebook.report import Row
from cnnkit.reference import ATTENTION
from cnnkit.studies._common import (LINEAR, absolute_row, base_config, check_iterations, checked_variants,
                                    converged_text, data_shape, diff_row, floor_row, mean_text, run_grid, with_floor)
from cnnkit.studies._spec import StudyParams

NOTEBOOK = "12_attention"
WORKERS = 2  # training processes of the grid

# What the papers say, declared before any run: each module lowers the final test error of the trained net
# (module − none < 0; ImageNet top-1 there, so only the direction is checked); the ResNet-50 overheads are
# exact counts of built models (nothing trained).
CLAIMS = {
    "se": Claim("negative"),    # Hu et al. 2018, Table 2: SE-ResNet-50 − ResNet-50 top-1 error −1.51 pp
    "cbam": Claim("negative"),  # Woo et al. 2018, Table 4: −1.90 pp
    "bam": Claim("negative"),   # Park et al. 2018: −0.54 pp
    "params_added": Claim("equivalent", margin=0.005e6, judged_at=None),  # ResNet-50 overheads, the tables' 0.01 M
}
ATTENTIONS = ("se", "cbam", "bam")
# The papers' placements: SE and CBAM on every residual branch, BAM after each downsampling stage.
PAPER_PLACEMENT = {"se": "block", "cbam": "block", "bam": "stage"}
_LAYERS = {"SqueezeExcite": "se", "CBAM": "cbam", "BAM": "bam"}


def _check_attentions(attentions: Sequence[str], name: str = "attentions") -> list[str]:
    return checked_variants(attentions, f"{name} must name each of {list(ATTENTIONS)} at most once "
                                        "(at least one)", choices=ATTENTIONS)


@dataclass(frozen=True)
class Params(StudyParams):
    """Notebook 12's parameters; the defaults are the quick preset."""

    dataset: str = "fashion_mnist"  # the papers used ImageNet (and CIFAR)
    attentions: tuple[str, ...] = ("se", "cbam", "bam")  # modules counted (on ResNet-50 and on the trained net)
    trained: tuple[str, ...] | None = ("se",)  # modules trained against the plain net; None: all of attentions
    depth: int = 8  # resnet_cifar depth (6n+2); the paper preset: 20 (8 fits more iterations in a CPU budget)
    width: int = 8  # filters of the first stage (He et al.: 16)
    bam_placement: str = "stage"  # "stage": the BAM paper (after stages 1 and 2); "block": every branch
    seeds: tuple[int, ...] = (0, 1, 2)  # runs are paired by seed (same subset, same data order)
    subset: int | None = 20000  # training images, class-balanced (None: all)
    eval_subset: int | None = 1000  # validation and test images (None: as subset)
    resolution: int | None = 16  # input side: Fashion-MNIST resized to 16x16 (a third of the MACs); None: 28
    iterations: int = 240  # training iterations, a multiple of log_every; He et al.: 64k
    log_every: int = 30  # iterations per logged point (training error, validation error, the rate)
    batch_size: int = 128  # He et al.'s batch, at the recipe's lr 0.1
    warmup_steps: int = 20  # linear warm-up of the learning rate before the step schedule
    augment: str = "none"  # He et al.: "resnet_cifar" (pad 4, random crop, flip)
    bn_momentum: float = 0.9  # Keras' 0.99 barely moves in a few hundred steps (REFERENCE.md)
    recipe: str = "resnet_cifar"  # He et al.: SGD momentum 0.9, lr 0.1 divided by 10 at 50 % and 75 %

    def __post_init__(self):
        super().__post_init__()
        _check_attentions(self.attentions)
        _check_attentions(self.trained_modules, "trained")
        if self.bam_placement not in ("stage", "block"):
            raise ValueError(f"bam_placement={self.bam_placement!r}; choose \"stage\" (the BAM paper) or \"block\"")
        if self.depth < 8 or (self.depth - 2) % 6:
            raise ValueError(f"depth={self.depth!r} is not 6n+2 with n >= 1; use e.g. 8, 14, 20, 32, 56")
        check_iterations(self.iterations, self.log_every)

    @property
    def trained_modules(self) -> tuple[str, ...]:
        """The modules trained against the plain net (``trained``, or every one of ``attentions``)."""
        return self.attentions if self.trained is None else self.trained


# The notebook's presets: only what each changes from Params (cnnkit.studies._spec.COMMON adds the shared ones).
PRESETS = {
    # One module (CBAM: channel and spatial attention) against the plain net, 20 iterations in two logged points.
    "smoke": {"attentions": ("cbam",), "trained": ("cbam",), "iterations": 20, "log_every": 10, "warmup_steps": 5},
    # The quick design trained about seven times longer on every training image (a 2-core CPU: well under an hour).
    "long": {"subset": None, "iterations": 1600, "log_every": 100},
    # ResNet-20 with the He et al. CIFAR-10 recipe (64k iterations of 128, augmented), every module at 32x32.
    "paper": {"dataset": "cifar10", "depth": 20, "iterations": 64000, "log_every": 400, "warmup_steps": 0,
              "augment": "resnet_cifar", "trained": ("se", "cbam", "bam"), "resolution": None, "width": 16},
}


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


def overheads(p: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`overhead_table` of ``p.attentions`` twice: on ResNet-50 at the papers' setting (224x224x3, 1000
    classes) and on the trained net (``resnet_cifar`` of ``p.depth``/``p.width``, the data as the runs see it)."""
    imagenet = overhead_table(p.attentions, model="resnet50", input_shape=(224, 224, 3), num_classes=1000)
    input_shape, num_classes = data_shape(p.dataset, p.resolution)
    trained = overhead_table(p.attentions, model="resnet_cifar", input_shape=input_shape, num_classes=num_classes,
                             placements={"bam": p.bam_placement}, depth=p.depth, width=p.width)
    return imagenet, trained


def experiment(p: Params = Params(), *, name: str = "attention") -> Experiment:
    """ResNet-``p.depth`` without attention (variant ``"none"``), with each of ``p.trained_modules``, and the
    ``linear`` floor × seeds; ``p.iterations`` in points of ``p.log_every``, the recipe's step schedule."""
    placement = {**PAPER_PLACEMENT, "bam": p.bam_placement}
    base = base_config(model="resnet_cifar", dataset=p.dataset, subset=p.subset, epochs=p.iterations // p.log_every,
                       batch_size=p.batch_size, augment=p.augment, bn_momentum=p.bn_momentum, recipe=p.recipe,
                       resolution=p.resolution, eval_subset=p.eval_subset, steps_per_epoch=p.log_every,
                       warmup_steps=p.warmup_steps, model_options={"depth": p.depth, "width": p.width})
    variants = {"none": {}}
    variants.update({a: {"model_options.attention": a, "model_options.attention_placement": placement[a]}
                     for a in p.trained_modules})
    variants[LINEAR] = {"model": "linear", "model_options": {}}  # the floor every net must beat
    return Experiment(name, base, variants=variants, seeds=p.seeds)


def run(p: Params, root: str, *, workers: int = WORKERS, **kwargs):
    """Train :func:`experiment` of ``p`` in ``workers`` processes; finished runs are kept, interrupted ones resume."""
    return run_grid(experiment(p), root, workers=workers, **kwargs)


def _overhead_row(imagenet: pd.DataFrame, kind: str) -> Row:
    """Added parameters on ResNet-50 against the paper's table, to its rounding (:data:`CLAIMS` ``params_added``)."""
    ref, claim = ATTENTION[f"{kind}_params_added"], CLAIMS["params_added"]
    added = int(imagenet.loc[imagenet["attention"] == kind, "added"].iloc[0])
    verdict = "agrees" if abs(added - ref.value) <= claim.margin else "disagrees"
    return Row(f"parameters added to ResNet-50, {kind.upper()}", f"+{added:,}",
               f"+{ref.value / 1e6:.2f} M ({ref.source})", verdict,
               "ImageNet ResNet-50, 1000 classes; papers' tables round to 0.01 M", kind == "se",
               f"exact count, to the table's rounding (±{claim.margin / 1e6:g} M)", judged_at=claim.judged_at)


def tracks(p: Params = Params()) -> list[Track]:
    """The differences followed over training: ``module − none`` validation error per trained module (the
    validation split stands in for the test set while training), judged by the module's claim."""
    return [Track(f"{v.upper()} − none, validation error", "none", v, CLAIMS[v], split="val")
            for v in p.trained_modules]


def summary_rows(runs: pd.DataFrame, p: Params = Params(), overhead: pd.DataFrame | None = None,
                 imagenet: pd.DataFrame | None = None) -> list[Row]:
    """Measured vs papers: parameter overheads (exact), then test-error changes over seeds.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
        p: the parameters the runs used (the modules trained).
        overhead: the trained net's :func:`overhead_table` (:func:`overheads`), or ``None``.
        imagenet: :func:`overhead_table` of ``resnet50`` at 224x224x3 / 1000 classes, or ``None``.

    Returns:
        ResNet-50 overheads vs the papers (exact, if given; SE's is a headline); the trained net's
        overheads (not comparable: another net); ``module − none`` test error per trained module
        (the papers: negative; one-sided paired t by seed, on trained nets that converged and beat the
        linear floor; SE's is a headline); each variant's test error (not comparable); the linear floor.
    """
    runs = with_floor(runs)
    rows = [] if imagenet is None else [_overhead_row(imagenet, k) for k in imagenet["attention"] if k != "none"]
    for _, r in (overhead.iloc[1:] if overhead is not None else pd.DataFrame()).iterrows():
        ref = ATTENTION[f"{r['attention']}_params_added"]
        rows.append(absolute_row(f"parameters added to the trained net, {r['attention'].upper()}",
                                 f"+{int(r['added']):,} (+{r['added_pct']:.2f} %)",
                                 f"+{100 * ref.value / ATTENTION['resnet50_params'].value:.1f} % on ResNet-50",
                                 f"{int(r['modules'])} modules ({r['placement']}); another base net"))
    for v in p.trained_modules:
        ref = ATTENTION[f"{v}_top1_gain"]
        rows.append(diff_row(runs, "none", v, "test_error", quantity=f"test error, {v.upper()} − none",
                             reference=f"{-100 * ref.value:+.2f} pp top-1 ({ref.source})", expect=CLAIMS[v],
                             headline=v == "se", note="direction only: the papers' numbers are ImageNet top-1"))
    rows += [absolute_row(f"test error, {v}", mean_text(runs, v, "test_error"), "—",
                          "Fashion-MNIST; not comparable with ImageNet errors") for v in ["none", *p.trained_modules]]
    rows.append(floor_row(runs, ["none", *p.trained_modules]))
    return rows


def _schedule_text(p: Params) -> str:
    """The runs' schedule in words: a budget-aware one decays before the last iteration, so the runs can converge."""
    from cnnkit.train.recipes import get_recipe

    schedule = get_recipe(p.recipe).schedule
    rule = ("÷10 at 50 % and 75 % of the run (He et al.'s step schedule written for this budget, not 64k cut "
            "short)" if schedule == "step" else f"the {p.recipe} recipe's {schedule} schedule over the run")
    return f"linear warm-up over {p.warmup_steps} iterations, then {rule}: the rate decays before the run ends"


def differences(p: Params, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """What a run with ``p`` does differently from the papers (with ``runs``: how many of them converged)."""
    side = f"{p.resolution}x{p.resolution}" if p.resolution else "native size"
    rows = [("network", f"ResNet-{p.depth} (resnet_cifar, first-stage width {p.width})", "ResNet-50 (and deeper)"),
            ("data", f"{p.dataset} at {side}, {p.subset or 'all'} training images",
             "ImageNet at 224x224, 1.28 M images"),
            ("modules trained", ", ".join(m.upper() for m in p.trained_modules), "SE, CBAM, BAM (one paper each)"),
            ("BAM placement", p.bam_placement, "stage (at each bottleneck where the net downsamples)"),
            ("budget", f"{p.iterations} iterations × batch {p.batch_size}, recipe {p.recipe}, augment {p.augment}",
             "each paper's full ImageNet schedule, augmented"),
            ("learning-rate schedule", _schedule_text(p), "each paper's own schedule for about 100 ImageNet epochs"),
            ("floor", "a linear model on the same data and budget: a module's row is judged only where every net "
             "beats it", "— (no linear baseline)"),
            ("seeds", f"{len(p.seeds)}, paired (same seed, same data order)", "one run per model")]
    if runs is not None:
        rows.append(("convergence", converged_text(runs, ["none", *p.trained_modules]),
                     "trained to the end of the schedule"))
    return pd.DataFrame([(k, str(a), str(b)) for k, a, b in rows], columns=["", "here", "the papers"])
