"""01 · Depth degradation: plain vs residual nets of two depths (He et al. 2016, §4.2, Fig. 6).

A plain 56-layer net has *higher training error* than a plain 20-layer net — not
overfitting but an optimisation problem — while with identity shortcuts the deeper net
trains as well or better. The design, fixed before any run (REFERENCE.md §2):

* every net must leave chance before a difference means "degradation": a linear warm-up of the
  learning rate (He et al. warmed ResNet-110 up at 0.01 for ~400 iterations), BN momentum 0.9
  (Keras' 0.99 leaves the moving statistics near their start after a few hundred steps), and a
  small CPU-sized net (width 8, 16x16 inputs) that gets enough iterations in minutes;
* training error is what Fig. 6 plots: the running error of the mini-batches during training,
  here averaged over each logging interval of ``log_every`` iterations; the final value is the
  last interval's;
* the claims are declared in :data:`CLAIMS` and judged with seeds *paired* (same seed = same
  data order in every arm; :mod:`cnnkit.ablation.verdicts`); the headline is the interaction
  ``(plain-56 − plain-20) − (resnet-56 − resnet-20) > 0``: shortcuts remove the degradation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from cnnkit._status import FINISHED
from cnnkit.ablation import Experiment
from cnnkit.ablation.over_training import Track
from cnnkit.ablation.verdicts import Claim
from cnnkit.notebook.report import Row
from cnnkit.reference import PLAIN_CIFAR, RESNET_CIFAR_TEST_ERROR
from cnnkit.studies._common import (LINEAR, absolute_row, base_config, by_seed, check_iterations, converged_text,
                                    diff_row, floor_row, judged_row, mean_text, run_grid, runs_converged, with_floor)
from cnnkit.studies._spec import StudyParams

CHANCE = 0.8  # He et al.'s footnote: a net has started converging once its training error is below 80 %

# What the paper says, declared before any run (b − a of the named metric, paired by seed).
CLAIMS = {
    "plain_train": Claim("positive"),     # Fig. 6 left: plain-56 trains to higher error than plain-20
    "plain_test": Claim("positive"),      # ... and tests worse
    "resnet_train": Claim("negative"),    # Fig. 6 right: resnet-56 trains to lower error than resnet-20
    "resnet_test": Claim("negative"),     # Table 6: 6.97 % vs 8.75 %
    "interaction": Claim("positive"),     # the plain depth gap exceeds the residual one
}


def variant_name(depth: int, plain: bool) -> str:
    """``plain-20`` / ``resnet-56``."""
    return f"{'plain' if plain else 'resnet'}-{depth}"


def _check_depths(depths: Sequence[int]) -> tuple[int, int]:
    """The two depths, checked: 6n+2 each (n >= 1), shallow first."""
    depths = list(depths)
    bad = [d for d in depths if isinstance(d, bool) or not isinstance(d, int) or d < 8 or (d - 2) % 6]
    if bad:
        raise ValueError(f"depths {bad} are not 6n+2 with n >= 1 (the CIFAR ResNet's basic-block depths); "
                         "use e.g. 8, 14, 20, 32, 44, 56 or 110")
    if len(depths) != 2 or depths[0] >= depths[1]:
        raise ValueError(f"depths must be two depths, shallow first, e.g. [20, 56]; got {depths!r}")
    return depths[0], depths[1]


NOTEBOOK = "01_depth_degradation"
WORKERS = 2  # training processes of the grid


@dataclass(frozen=True)
class Params(StudyParams):
    """Notebook 01's parameters; the defaults are the quick preset."""

    dataset: str = "fashion_mnist"  # the paper: "cifar10"
    depths: tuple[int, ...] = (20, 56)  # two 6n+2 depths, shallow first
    seeds: tuple[int, ...] = (0, 1, 2)  # paired: one seed gives every net the same data order
    subset: int | None = 7200  # training images, class-balanced (None: all)
    eval_subset: int | None = 500  # validation and test images (the curves evaluate every log_every iterations)
    resolution: int | None = 16  # images resized to 16x16 (None: native); the paper: 32x32
    width: int = 8  # filters of the first stage; the paper: 16 (8 trains ~3x faster on a CPU)
    iterations: int = 300  # training iterations, a multiple of log_every; the paper: 64k
    log_every: int = 25  # iterations per point of the learning curves
    batch_size: int = 64  # the paper: 128
    lr: float = 0.1  # peak learning rate as in the paper, divided by 10 at 50 % and 75 % of the iterations
    warmup_steps: int = 50  # linear warm-up; He et al. warmed ResNet-110 up at 0.01 for ~400 iterations
    augment: str = "none"  # the paper: "resnet_cifar" (pad 4, random crop, flip)
    bn_momentum: float = 0.9  # Keras' 0.99 barely moves in a few hundred steps (REFERENCE.md)
    mixed_precision: str | None = None  # None: float32; "auto": bf16 where the hardware has it (it moved plain-56 here)
    recipe: str = "resnet_cifar"  # SGD momentum 0.9, weight decay 1e-4 (the paper's)

    def __post_init__(self):
        super().__post_init__()
        _check_depths(self.depths)
        check_iterations(self.iterations, self.log_every)


# The notebook's presets: only what each changes from Params (cnnkit.studies._spec.COMMON adds the shared ones).
PRESETS = {
    # Two shallow depths, one seed, 20 iterations in this kernel: every code path, no verdict.
    "smoke": {"depths": (8, 14), "eval_subset": 100, "width": 4, "iterations": 20, "log_every": 10,
              "warmup_steps": 5},
    # The same design trained four times longer: plain-56 is still falling at the quick preset's end, and after the
    # rate's two decays the curves flatten here (issue 27's check: 1,200 iterations, 3 seeds).
    "long": {"iterations": 1200, "log_every": 50},
    # He et al. 2016 §4.2: CIFAR-10 at 32x32, width 16, 64k iterations of batch 128, lr 0.1 from the start
    # (the warm-up was for ResNet-110 only), augmented, the whole 45k/5k split.
    "paper": {"dataset": "cifar10", "resolution": None, "width": 16, "iterations": 64000, "log_every": 400,
              "warmup_steps": 0, "augment": "resnet_cifar"},
}

# Why mixed_precision defaults to float32: by the rule "bf16 must move each net's mean final training error less
# than the seeds' SD". On a smoke grid it does (tests/studies/test_depth_precision.py), but at the quick budget on a
# CPU with AMX (3 seeds) plain-56 moved from 50.7 % to 63.5 % against a seed SD of 7.4 pp, for a 12 % shorter
# notebook (193.5 s → 169.6 s). Deep plain nets are the ones whose optimisation 01 is about.


def experiment(p: Params = Params(), *, name: str = "depth_degradation") -> Experiment:
    """Plain and residual ``resnet_cifar`` nets at each depth (6n+2) × seeds, from the notebook's parameters.

    Training error is logged as the running mean over each interval of ``log_every`` iterations; the
    learning rate warms up linearly over ``warmup_steps`` and the recipe divides it by 10 at 50 % and 75 %.
    """
    base = base_config(model="resnet_cifar", dataset=p.dataset, subset=p.subset, epochs=p.iterations // p.log_every,
                       batch_size=p.batch_size, augment=p.augment, bn_momentum=p.bn_momentum, recipe=p.recipe,
                       resolution=p.resolution, eval_subset=p.eval_subset, steps_per_epoch=p.log_every, lr=p.lr,
                       warmup_steps=p.warmup_steps, mixed_precision=p.mixed_precision)
    # deep nets first: two workers then finish together (the longest runs start first)
    variants = {variant_name(d, plain): {"model_options": {"depth": d, "plain": plain, "width": p.width}}
                for d in sorted(p.depths, reverse=True) for plain in (True, False)}
    variants[LINEAR] = {"model": "linear", "model_options": {}}  # the floor every net must beat
    return Experiment(name, base, variants=variants, seeds=p.seeds)


def run(p: Params, root: str, *, workers: int = WORKERS, **kwargs):
    """Train :func:`experiment` of ``p`` in ``workers`` processes; finished runs are kept, interrupted ones resume."""
    return run_grid(experiment(p), root, workers=workers, **kwargs)


def curves(history: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """The learning curves in Fig. 6's form: ``family`` (plain/resnet), ``depth``, iterations, error in %.

    The factors are the runs' varied config columns (``model_options.depth``/``.plain``), joined by run;
    the linear floor is left out.
    """
    nets = runs[runs["variant"] != LINEAR].set_index("run_id")[["model_options.depth", "model_options.plain"]]
    data = history[(history["metric"] == "error") & history["run_id"].isin(nets.index)].join(nets, on="run_id")
    data["family"] = data["model_options.plain"].map({True: "plain", False: "resnet"})
    data["depth"] = data["model_options.depth"].astype(int)
    data["error %"] = 100 * data["value"]
    data["iteration"] = data["step"]
    return data


def tracks(p: Params = Params()) -> list[Track]:
    """The headline differences followed over training: deep − shallow, plain and residual, training and
    validation error (the validation split stands in for the test set while training)."""
    shallow, deep = _check_depths(p.depths)
    out = []
    for plain, key in ((True, "plain"), (False, "resnet")):
        a, b = variant_name(shallow, plain), variant_name(deep, plain)
        out += [Track(f"{b} − {a}, training error", a, b, CLAIMS[f"{key}_train"]),
                Track(f"{b} − {a}, validation error", a, b, CLAIMS[f"{key}_test"], split="val")]
    return out


def started(runs: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """Per variant: mean final training error and the seeds whose training error left chance (< 80 %)."""
    train = history[(history["split"] == "train") & (history["metric"] == "error")]
    first = train[train["value"] < CHANCE].groupby("run_id")["step"].min()
    done = runs[runs["status"].isin(FINISHED)]
    rows = []
    for v, group in done.groupby("variant", sort=False):
        left = group["run_id"].map(first)
        rows.append({"variant": v, "runs": len(group), "left chance": int(left.notna().sum()),
                     "iterations to < 80 % error": round(float(left.mean()), 0) if left.notna().any() else None,
                     "final training error %": round(100 * float(group["train_error"].mean()), 2)})
    return pd.DataFrame(rows)


def _interaction_row(runs: pd.DataFrame, shallow: int, deep: int) -> Row:
    """``(plain deep − shallow) − (resnet deep − shallow)`` training error, per seed, paired."""
    parts = [by_seed(runs, variant_name(d, plain), "train_error") for plain in (True, False) for d in (shallow, deep)]
    seeds = parts[0].index
    for p in parts[1:]:
        seeds = seeds.intersection(p.index)
    quantity = (f"training error, (plain-{deep} − plain-{shallow}) − (resnet-{deep} − resnet-{shallow}): "
                "do shortcuts remove the degradation?")
    reference = "> 0 (Fig. 6: plain nets degrade with depth, residual nets do not)"
    if len(seeds) == 0:
        return Row(quantity, "no seed finished all four nets", reference, "inconclusive", headline=True)
    p_s, p_d, r_s, r_d = (p[seeds].to_numpy() for p in parts)
    gap = (p_d - p_s) - (r_d - r_s)
    nets = [variant_name(d, plain) for plain in (True, False) for d in (shallow, deep)]
    return judged_row(quantity, [0.0] * len(gap), gap, CLAIMS["interaction"], reference=reference, headline=True,
                      converged=runs_converged(runs, nets, list(seeds)))


def summary_rows(runs: pd.DataFrame, p: Params = Params()) -> list[Row]:
    """Measured vs paper: the degradation pattern (paired by seed), then the absolute errors.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
        p: the parameters the runs used (its two depths, shallow first).

    Returns:
        Rows, each judged by its claim in :data:`CLAIMS`: plain deep − shallow training error
        (headline) and test error, residual deep − shallow training and test error, the
        interaction (headline), then the residual nets' absolute test errors next to Table 6
        ("not comparable": another data set and budget).
    """
    shallow, deep = depths = _check_depths(p.depths)
    runs = with_floor(runs)
    p_s, p_d = variant_name(shallow, True), variant_name(deep, True)
    r_s, r_d = variant_name(shallow, False), variant_name(deep, False)
    tr, te = PLAIN_CIFAR["train_error"], PLAIN_CIFAR["test_error"]
    same = (shallow, deep) == (20, 56)
    pair = "" if same else f"paper compares 20 vs 56; measured {shallow} vs {deep}"

    def plain_ref(ref):
        return (f"≈ +{100 * (ref[56].low - ref[20].high):.0f} to +{100 * (ref[56].high - ref[20].low):.0f} pp "
                "(Fig. 6 left, read off)")

    rows = [
        diff_row(runs, p_s, p_d, "train_error", quantity=f"training error, {p_d} − {p_s}: the degradation problem",
                 reference=plain_ref(tr), expect=CLAIMS["plain_train"], note=pair, headline=True,
                 paper=tr[56].value - tr[20].value if same else None),
        _interaction_row(runs, shallow, deep),
        diff_row(runs, r_s, r_d, "train_error", quantity=f"training error, {r_d} − {r_s}",
                 reference="< 0 (Fig. 6 right: the deeper ResNet trains to lower error)",
                 expect=CLAIMS["resnet_train"], note=pair),
        diff_row(runs, p_s, p_d, "test_error", quantity=f"test error, {p_d} − {p_s}", reference=plain_ref(te),
                 expect=CLAIMS["plain_test"], note=pair, paper=te[56].value - te[20].value if same else None),
        diff_row(runs, r_s, r_d, "test_error", quantity=f"test error, {r_d} − {r_s}",
                 reference=f"{100 * (RESNET_CIFAR_TEST_ERROR[56].value - RESNET_CIFAR_TEST_ERROR[20].value):+.2f} pp "
                           "(Table 6)", expect=CLAIMS["resnet_test"], note=pair,
                 paper=RESNET_CIFAR_TEST_ERROR[56].value - RESNET_CIFAR_TEST_ERROR[20].value if same else None),
    ]
    for d in depths:
        ref = RESNET_CIFAR_TEST_ERROR.get(d)
        rows.append(absolute_row(f"test error, {variant_name(d, False)}", mean_text(runs, variant_name(d, False),
                                 "test_error"), ref.text() if ref else "—",
                                 "CIFAR-10 with 64k iterations there; Fashion-MNIST at 16x16 and a CPU budget here"))
    rows.append(floor_row(runs, [p_s, p_d, r_s, r_d]))
    return rows


def differences(p: Params, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """What a run with the parameters ``p`` does differently from the paper (a table for the report).

    With the ``runs`` frame, a row says which arithmetic the runs used (``Results.runs()["precision"]``).
    """
    res = f"{p.resolution}x{p.resolution}" if p.resolution else "native size"
    rows = [("data", f"{p.dataset} at {res}, {p.subset or 'all'} training images", "cifar10, 32x32, 45k images"),
            ("width (first stage)", p.width, 16),
            ("iterations × batch", f"{p.iterations} × {p.batch_size}", "64k × 128"),
            ("warm-up", f"linear over {p.warmup_steps} iterations to lr {p.lr}",
             "lr 0.01 for ~400 iterations (ResNet-110 only), then 0.1"),
            ("augmentation", p.augment, "resnet_cifar (pad 4, random crop, flip)"),
            ("BN momentum", p.bn_momentum, "0.9 (Torch's running-average factor 0.1)"),
            ("training error", f"running mean over every {p.log_every} iterations", "running, per iteration"),
            ("seeds", f"{len(p.seeds)}, paired (same seed, same data order)", "one run per net in Fig. 6")]
    if runs is not None:
        nets = [variant_name(d, plain) for d in p.depths for plain in (True, False)]
        rows.append(("convergence", converged_text(runs, nets), "trained to the end of the schedule (64k)"))
    if runs is not None and "precision" in runs:
        counts = runs["precision"].dropna().astype(str).value_counts().sort_index()
        used = "; ".join(f"{v} ({n} run{'' if n == 1 else 's'})" for v, n in counts.items()) or "not recorded"
        rows.append(("arithmetic", used, "float32 (GPUs of 2015 had no bf16)"))
    return pd.DataFrame([(k, str(a), str(b)) for k, a, b in rows], columns=["", "here", "He et al. 2016"])
