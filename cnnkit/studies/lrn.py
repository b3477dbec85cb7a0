"""03 · Local response normalisation on/off: AlexNet's claim against VGG's (a two-sided question).

Krizhevsky et al. (2012, §3.3): on CIFAR-10 their four-layer CNN had 13 % test error without
normalisation and 11 % with LRN (+2 pp for LRN). Simonyan & Zisserman (2015, Table 3) found no
gain on ImageNet (net A 29.6 % vs A-LRN 29.7 % top-1) and dropped it. Both claims are declared
in :data:`CLAIMS` before any run and judged on the same paired runs (same seed = same
initialisation and data order; LRN has no weights):

* AlexNet: ``test error(no norm) − test error(LRN) > 0`` (one-sided paired t, α = 0.05);
* VGG: ``|test error(no norm) − test error(LRN)| < MARGIN`` (TOST, α = 0.05). The margin is half
  AlexNet's effect, so the two claims cannot both hold.

Batch normalisation (``"batch"``) can be added as a third arm; its row is Ioffe & Szegedy's
claim that BN does at least as well (non-inferiority within the same margin).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from cnnkit.ablation import Experiment
from cnnkit.ablation.verdicts import Claim
from cnnkit.notebook.report import Row
from cnnkit.reference import ALEXNET
from cnnkit.studies._common import absolute_row, base_config, checked_variants, diff_row, mean_text, run_grid

NORMS = {"lrn": "lrn", "none": None, "batch": "batch"}
MARGIN = 0.01  # 1 pp of test error: half AlexNet's +2 pp, VGG's "no gain" (0.1 pp) well inside
CLAIMS = {
    "alexnet": Claim("positive"),                 # none − LRN > 0
    "vgg": Claim("equivalent", margin=MARGIN),    # |none − LRN| < 1 pp
    "batch": Claim("not_greater", margin=MARGIN),  # BN − LRN < +1 pp: BN does at least as well
}


def experiment(*, norms: Sequence[str] = ("none", "lrn"), seeds: Sequence[int] = (0, 1, 2, 3, 4),
               dataset: str = "fashion_mnist", subset: int | None = 12000, eval_subset: int | None = 2000,
               resolution: int | None = 16, iterations: int = 500, log_every: int = 100, batch_size: int = 64,
               lr: float | None = 0.02, augment: str = "none", bn_momentum: float = 0.9, model: str = "alexnet_cifar",
               recipe: str = "alexnet", name: str = "lrn") -> Experiment:
    """The same net with each normalisation (``'none'``, ``'lrn'``, optionally ``'batch'``) × seeds.

    Args:
        norms: variant names, each mapped to the model's ``norm`` option by :data:`NORMS`;
            ``'none'`` and ``'lrn'`` are required (the paper's pair).
        iterations, log_every: training iterations and the iterations between two logged points.
        eval_subset: validation and test images (test error is the judged quantity: keep it large).
        lr: learning rate (the AlexNet recipe: SGD momentum 0.9, weight decay 5e-4, ÷10 on plateau).
        seeds, dataset, subset, resolution, batch_size, augment, bn_momentum, model, recipe:
            see :class:`cnnkit.config.RunConfig`.
        name: the experiment's name (its folder in the results store).
    """
    norms = checked_variants(norms, f"norms must include 'none' and 'lrn' once each and may add 'batch' "
                                    f"(choices {list(NORMS)})", choices=NORMS, required=("lrn", "none"))
    if log_every < 1 or iterations < log_every or iterations % log_every:
        raise ValueError(f"iterations={iterations!r} must be a positive multiple of log_every={log_every!r}")
    base = base_config(model=model, dataset=dataset, subset=subset, eval_subset=eval_subset,
                       epochs=iterations // log_every, steps_per_epoch=log_every, batch_size=batch_size,
                       augment=augment, bn_momentum=bn_momentum, recipe=recipe, resolution=resolution, lr=lr)
    variants = {n: {"model_options": {"norm": NORMS[n]}} for n in norms}
    return Experiment(name, base, variants=variants, seeds=tuple(seeds))


run = run_grid  # train the grid in `workers` processes sharing the CPUs; finished runs are kept


def summary_rows(runs: pd.DataFrame) -> list[Row]:
    """AlexNet's claim and VGG's on the same runs (headlines), BN if it ran, then absolute errors.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
    """
    without, with_ = ALEXNET["lrn_cifar_without"], ALEXNET["lrn_cifar_with"]
    quantity = "test error, no normalisation − LRN"
    rows = [diff_row(runs, "lrn", "none", "test_error", quantity=f"{quantity}: does LRN help (AlexNet)?",
                     reference=f"+{100 * (without.value - with_.value):.0f} pp ({without.source}: 13 % → 11 % "
                               "on CIFAR-10)", expect=CLAIMS["alexnet"], headline=True, paper=without.value - with_.value),
            diff_row(runs, "lrn", "none", "test_error", quantity=f"{quantity}: no effect (VGG)?",
                     reference=f"within ±{100 * MARGIN:g} pp (Simonyan & Zisserman 2015, Table 3: A 29.6 % vs "
                               "A-LRN 29.7 % top-1 on ImageNet)", expect=CLAIMS["vgg"], headline=True)]
    variants = list(dict.fromkeys(runs["variant"]))
    if "batch" in variants:
        rows.append(diff_row(runs, "lrn", "batch", "test_error", quantity="test error, BN − LRN",
                             reference=f"< +{100 * MARGIN:g} pp (BN made LRN obsolete; Ioffe & Szegedy 2015)",
                             expect=CLAIMS["batch"]))
    refs = {"lrn": with_.text(), "none": without.text()}
    rows += [absolute_row(f"test error, {v}", mean_text(runs, v, "test_error"), refs.get(v, "—"),
                          "CIFAR-10 with the full recipe there; Fashion-MNIST at 16x16 and a CPU budget here")
             for v in variants]
    return rows


def supported(rows: list[Row]) -> str:
    """Which of the two claims the data support, from the two headline rows' verdicts."""
    alexnet, vgg = (r.verdict for r in rows[:2])
    if alexnet == vgg == "agrees":
        return (f"LRN lowers the test error, but by less than {100 * MARGIN:g} pp: nearer VGG's 'no gain' than "
                "AlexNet's 2 pp.")
    if alexnet == "agrees" and vgg != "agrees":
        return "The data support AlexNet's claim: LRN lowers the test error."
    if vgg == "agrees" and alexnet != "agrees":
        return f"The data support VGG's claim: LRN changes the test error by less than {100 * MARGIN:g} pp."
    if alexnet == "disagrees" and vgg == "disagrees":
        return "The data support neither claim: LRN raises the test error by more than the margin."
    return "The data decide between neither claim at this number of seeds."


def differences(p: dict) -> pd.DataFrame:
    """What a run with the notebook parameters ``p`` does differently from the paper."""
    res = f"{p['resolution']}x{p['resolution']}" if p.get("resolution") else "native size"
    rows = [("data", f"{p['dataset']} at {res}, {p['subset'] or 'all'} training images", "cifar10, 32x32, 50k"),
            ("LRN", "across channels, n=5, k=2, α=1e-4, β=0.75 (AlexNet §3.3)",
             "cuda-convnet layers-18pct: within each map, 3x3"),
            ("iterations × batch", f"{p['iterations']} × {p['batch_size']}", "~100 epochs × 128"),
            ("test error", f"on {p['eval_subset'] or 'all'} test images", "10k test images"),
            ("seeds", f"{len(p['seeds'])}, paired (same initialisation and data order)", "one run each")]
    return pd.DataFrame(rows, columns=["", "here", "Krizhevsky et al. 2012"])
