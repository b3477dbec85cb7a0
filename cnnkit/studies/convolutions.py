"""05 · Convolution types: the notebook's parameters, presets and what differs from the papers.

A teaching notebook: nothing is trained. Counts are exact (a built layer has the formula's
parameters and MACs or it does not) and timings have no reference. The layers, tables and plots
live in :mod:`cnnkit.teach.convolutions`; this module declares the notebook's parameters and
presets, like every numbered notebook's study, and the "what differs from the papers" table.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cnnkit.ablation.verdicts import Claim
from cnnkit.studies._spec import StudyParams
from cnnkit.teach.convolutions import PASSES

NOTEBOOK = "05_convolutions"
WORKERS = None  # nothing is trained

# No claim is judged by a test over seeds: counts agree with their formula exactly or not
# (cnnkit.teach.convolutions.summary_rows). A claim added here judges no trained net: judged_at=None.
CLAIMS: dict[str, Claim] = {}


@dataclass(frozen=True)
class Params(StudyParams):
    """Notebook 05's parameters; the defaults are the quick preset."""

    input_size: int = 16  # side of the feature map of the count table
    channels: int = 16  # input channels C of the count table
    filters: int = 16  # output channels of the count table
    kernel_size: int = 3  # k of the k x k kernels
    groups: int = 4  # groups of the grouped conv and of the channel shuffle
    dilation_rate: int = 2  # the dilated conv's rate (gaps of rate - 1 between taps)
    strides: int = 2  # upsampling factor of the transposed conv ('valid' padding)
    block_channels: int = 256  # C of basic vs bottleneck and 3x3 vs 5x5; the paper's 256
    throughput_size: int = 16  # image side for the timing
    throughput_channels: int = 16  # input and output channels for the timing
    throughput_batch: int = 32  # images per timed step
    throughput_steps: int = 5  # timed steps per kind and pass, after 2 warm-up steps
    throughput_passes: tuple[str, ...] = ("forward", "forward+backward")  # which passes to time

    def __post_init__(self):
        super().__post_init__()
        bad = [x for x in self.throughput_passes if x not in PASSES]
        if not self.throughput_passes or bad:
            raise ValueError(f"throughput_passes {list(self.throughput_passes)!r}: choose one or both of "
                             f"{list(PASSES)}, e.g. throughput_passes=('forward',)")
        if self.block_channels < 4 or self.block_channels % 4:
            raise ValueError(f"block_channels must be a positive multiple of 4 (bottleneck reduction 4), "
                             f"got {self.block_channels!r}; the paper's is 256")

    def settings(self) -> dict[str, int]:
        """The layer settings every table shares: ``kernel_size``, ``groups``, ``dilation_rate``, ``strides``."""
        return {"kernel_size": self.kernel_size, "groups": self.groups, "dilation_rate": self.dilation_rate,
                "strides": self.strides}

    def throughput_options(self) -> dict:
        """:func:`cnnkit.teach.convolutions.throughput_table`'s arguments."""
        size, c = self.throughput_size, self.throughput_channels
        return {"passes": self.throughput_passes, "input_shape": (size, size, c), "filters": c,
                "batch_size": self.throughput_batch, "steps": self.throughput_steps, **self.settings()}


# The notebook's presets: only what each changes from Params.
PRESETS = {
    # Every kind still counted and timed, on 8x8 maps, forward only, one timed step each.
    "smoke": {"input_size": 8, "channels": 8, "filters": 8, "throughput_size": 8, "throughput_channels": 8,
              "throughput_batch": 8, "throughput_steps": 1, "throughput_passes": ("forward",)},
    # Nothing is trained: time the layers at a ResNet stage-2 size (56x56x64, batch 128) on the GPU.
    "paper": {"throughput_size": 56, "throughput_channels": 64, "throughput_batch": 128, "throughput_steps": 50},
}


def differences(p: Params, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """What the notebook with the parameters ``p`` does differently from the papers (a table for the report).

    ``runs`` is accepted for the studies' common form and unused: nothing trains.
    """
    rows = [("basic vs bottleneck block", f"{p.block_channels} channels, convolution weights only",
             "256 channels (He et al. 2016, Fig. 5)"),
            ("two 3x3 vs one 5x5", f"C = {p.block_channels}, counted per C²", "per C² (Szegedy et al. 2016, §3.1)"),
            ("count table", f"{p.input_size}x{p.input_size}x{p.channels} → {p.filters} filters, k = {p.kernel_size}, "
             f"groups {p.groups}, dilation {p.dilation_rate}, transposed stride {p.strides}",
             "closed-form formulas (any size)"),
            ("throughput", f"{p.throughput_size}x{p.throughput_size}x{p.throughput_channels}, batch "
             f"{p.throughput_batch}, {p.throughput_steps} timed steps, {' and '.join(p.throughput_passes)}",
             "— (the papers give no timings to compare)")]
    return pd.DataFrame([(k, str(a), str(b)) for k, a, b in rows], columns=["", "here", "the papers"])
