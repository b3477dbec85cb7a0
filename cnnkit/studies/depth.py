"""01 · Depth degradation: plain vs residual nets of two depths (He et al. 2016, §4.2, Fig. 6).

A plain 56-layer net has *higher training error* than a plain 20-layer net — not
overfitting but an optimisation problem — while with identity shortcuts the deeper net
is the better one.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from cnnkit.ablation import Experiment
from cnnkit.notebook.report import Row
from cnnkit.reference import PLAIN_CIFAR, RESNET_CIFAR_TEST_ERROR
from cnnkit.studies._common import base_config, diff_row, mean_text


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


def experiment(*, depths: Sequence[int] = (20, 56), seeds: Sequence[int] = (0, 1), dataset: str = "fashion_mnist",
               subset: int | None = 1500, epochs: int = 3, batch_size: int = 128, augment: str = "none",
               bn_momentum: float = 0.9, recipe: str = "resnet_cifar", resolution: int | None = None,
               name: str = "depth_degradation") -> Experiment:
    """Plain and residual ``resnet_cifar`` nets at each depth (6n+2) × seeds.

    Args:
        depths: exactly two depths, shallow first (the paper: 20 and 56).
        seeds, dataset, subset, epochs, batch_size, augment, bn_momentum, recipe, resolution:
            see :class:`cnnkit.config.RunConfig`; the recipe defaults to the paper's
            (SGD 0.1, momentum 0.9, wd 1e-4, ÷10 at 50 % and 75 % of the iterations).
    """
    _check_depths(depths)
    base = base_config(model="resnet_cifar", dataset=dataset, subset=subset, epochs=epochs, batch_size=batch_size,
                       augment=augment, bn_momentum=bn_momentum, recipe=recipe, resolution=resolution)
    variants = {variant_name(d, plain): {"model_options": {"depth": d, "plain": plain}}
                for plain in (True, False) for d in depths}
    return Experiment(name, base, variants=variants, seeds=tuple(seeds))


def summary_rows(runs: pd.DataFrame, depths: Sequence[int] = (20, 56)) -> list[Row]:
    """Measured vs paper: the degradation pattern, then the absolute errors.

    Args:
        runs: :meth:`cnnkit.ablation.Results.runs` of :func:`experiment`.
        depths: the two depths the experiment used, shallow first.

    Returns:
        Rows for plain deep − shallow training and test error (the paper: positive, the
        degradation problem), residual deep − shallow training and test error (negative), and
        the residual nets' absolute test errors next to Table 6. A difference's verdict comes
        from its Welch 95 % interval over seeds (:func:`cnnkit.studies.interval_verdict`).
    """
    shallow, deep = _check_depths(depths)
    p_s, p_d = variant_name(shallow, True), variant_name(deep, True)
    r_s, r_d = variant_name(shallow, False), variant_name(deep, False)
    tr, te = PLAIN_CIFAR["train_error"], PLAIN_CIFAR["test_error"]
    paper_pair = "" if (shallow, deep) == (20, 56) else f"paper compares 20 vs 56; measured {shallow} vs {deep}"
    rows = [
        diff_row(runs, p_s, p_d, "train_error", quantity=f"training error, {p_d} − {p_s}",
                 reference=f"≈ +{100 * (tr[56].low - tr[20].high):.0f} to +{100 * (tr[56].high - tr[20].low):.0f} pp "
                           f"(Fig. 6, read off)", expect="positive", note=paper_pair),
        diff_row(runs, p_s, p_d, "test_error", quantity=f"test error, {p_d} − {p_s}",
                 reference=f"≈ +{100 * (te[56].low - te[20].high):.0f} to +{100 * (te[56].high - te[20].low):.0f} pp "
                           f"(Fig. 6, read off)", expect="positive", note=paper_pair),
        diff_row(runs, r_s, r_d, "train_error", quantity=f"training error, {r_d} − {r_s}",
                 reference="< 0 (Fig. 6 right: the deeper ResNet trains to lower error)", expect="negative",
                 note=paper_pair),
        diff_row(runs, r_s, r_d, "test_error", quantity=f"test error, {r_d} − {r_s}",
                 reference=f"{100 * (RESNET_CIFAR_TEST_ERROR[56].value - RESNET_CIFAR_TEST_ERROR[20].value):+.2f} pp "
                           f"(Table 6)", expect="negative", note=paper_pair),
    ]
    for d in depths:
        ref = RESNET_CIFAR_TEST_ERROR.get(d)
        rows.append(Row(f"test error, {variant_name(d, False)}", mean_text(runs, variant_name(d, False), "test_error"),
                        ref.text() if ref else "—", "inconclusive",
                        "absolute errors compare only on CIFAR-10 with the full recipe"))
    return rows
