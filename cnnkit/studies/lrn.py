"""03 · Local response normalisation on/off (Krizhevsky et al. 2012, §3.3), with BN for comparison.

On CIFAR-10 AlexNet's four-layer CNN had 13 % test error without normalisation and 11 % with
LRN. Batch normalisation (Ioffe & Szegedy 2015) is the modern replacement.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from cnnkit.ablation import Experiment
from cnnkit.notebook.report import Row
from cnnkit.reference import ALEXNET
from cnnkit.studies._common import base_config, checked_variants, diff_row, mean_text

NORMS = {"lrn": "lrn", "none": None, "batch": "batch"}


def experiment(*, norms: Sequence[str] = ("lrn", "none", "batch"), seeds: Sequence[int] = (0, 1),
               dataset: str = "fashion_mnist", subset: int | None = 5000, epochs: int = 3, batch_size: int = 128,
               augment: str = "none", bn_momentum: float = 0.9, model: str = "alexnet_cifar",
               recipe: str = "alexnet", resolution: int | None = None, name: str = "lrn") -> Experiment:
    """The same net with each normalisation (``'lrn'``, ``'none'``, ``'batch'``) × seeds.

    Args:
        norms: variant names, each mapped to the model's ``norm`` option by :data:`NORMS`;
            ``'lrn'`` and ``'none'`` are required (the paper's pair), ``'batch'`` is optional.
        seeds, dataset, subset, epochs, batch_size, augment, bn_momentum, model, recipe, resolution:
            see :class:`cnnkit.config.RunConfig`.
        name: the experiment's name (its folder in the results store).
    """
    norms = checked_variants(norms, f"norms must include 'lrn' and 'none' once each and may add 'batch' "
                                    f"(choices {list(NORMS)})", choices=NORMS, required=("lrn", "none"))
    base = base_config(model=model, dataset=dataset, subset=subset, epochs=epochs, batch_size=batch_size,
                       augment=augment, bn_momentum=bn_momentum, recipe=recipe, resolution=resolution)
    variants = {n: {"model_options": {"norm": NORMS[n]}} for n in norms}
    return Experiment(name, base, variants=variants, seeds=tuple(seeds))


def summary_rows(runs: pd.DataFrame) -> list[Row]:
    """The LRN effect on test error against the paper's 13 % → 11 %, plus BN and absolute errors.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.

    Returns:
        ``none − lrn`` test error (the paper: positive, LRN helps), ``batch − lrn`` if BN ran
        (negative means BN beats LRN; not a claim of the paper), then each variant's test error.
    """
    without, with_ = ALEXNET["lrn_cifar_without"], ALEXNET["lrn_cifar_with"]
    rows = [diff_row(runs, "lrn", "none", "test_error", quantity="test error, no normalisation − LRN",
                     reference=f"+{100 * (without.value - with_.value):.0f} pp ({without.source}: 13 % → 11 %)",
                     expect="positive")]
    variants = list(dict.fromkeys(runs["variant"]))
    if "batch" in variants:
        rows.append(diff_row(runs, "lrn", "batch", "test_error", quantity="test error, BN − LRN",
                             reference="— (BN postdates the paper)", expect="negative",
                             note="'agrees' here means BN beats LRN"))
    refs = {"lrn": with_.text(), "none": without.text()}
    rows += [Row(f"test error, {v}", mean_text(runs, v, "test_error"), refs.get(v, "—"), "inconclusive",
                 "absolute errors compare only on CIFAR-10") for v in variants]
    return rows
