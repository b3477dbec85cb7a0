"""The papers' numbers that cnnkit's experiments are judged against (REFERENCE.md §2).

These are yardsticks for comparison tables only: nothing here is ever written into a
result. Each entry says where the number comes from and, where it matters, how it was
obtained (data split, model selection, read off a figure).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ref:
    """A reference number.

    Attributes:
        value: the number (errors and accuracies as fractions, 0.0875 = 8.75 %).
        source: paper and place ("He et al. 2016, Table 6").
        note: how it was obtained, caveats.
        low, high: a range where the paper gives one or where the value is read off a figure.
    """

    value: float
    source: str
    note: str = ""
    low: float | None = None
    high: float | None = None

    def text(self, percent: bool = True) -> str:
        """Human-readable form, e.g. ``"8.75 % (He et al. 2016, Table 6)"``."""
        fmt = (lambda v: f"{100 * v:.2g}") if percent else (lambda v: f"{v:g}")
        unit = " %" if percent else ""
        if self.low is not None and self.high is not None:
            body = f"≈ {fmt(self.low)}–{fmt(self.high)}{unit}"
        else:
            body = f"{100 * self.value:.2f}{unit}" if percent else f"{self.value:g}"
        return f"{body} ({self.source})"


_HE = "He et al. 2016, Deep Residual Learning, Table 6"
_FIG6 = "He et al. 2016, Fig. 6 (read off the figure)"
_ALEX = "Krizhevsky et al. 2012"

RESNET_CIFAR_TEST_ERROR = {
    20: Ref(0.0875, _HE, "CIFAR-10, 45k/5k split, augmented, 64k iterations"),
    32: Ref(0.0751, _HE), 44: Ref(0.0717, _HE), 56: Ref(0.0697, _HE), 110: Ref(0.0643, _HE, "best of 5 runs"),
}
RESNET_CIFAR_PARAMS = {20: 0.27e6, 32: 0.46e6, 44: 0.66e6, 56: 0.85e6, 110: 1.7e6}

# Fig. 6 (left): plain nets on CIFAR-10. No table exists; values read off the figure, approximate.
PLAIN_CIFAR = {
    "train_error": {20: Ref(0.06, _FIG6, low=0.05, high=0.07), 56: Ref(0.095, _FIG6, low=0.09, high=0.10)},
    "test_error": {20: Ref(0.09, _FIG6, low=0.08, high=0.10), 56: Ref(0.14, _FIG6, low=0.13, high=0.15)},
}

ALEXNET = {
    # Fig. 1: 4-layer CNN on CIFAR-10 reaches 25 % training error six times faster with ReLU than tanh.
    "relu_tanh_speedup": Ref(6.0, f"{_ALEX}, Fig. 1", "iterations to 25 % training error, tanh / ReLU"),
    "relu_tanh_target_error": Ref(0.25, f"{_ALEX}, Fig. 1"),
    # §3.3: on CIFAR-10 a four-layer CNN: 13 % test error without normalisation, 11 % with.
    "lrn_cifar_without": Ref(0.13, f"{_ALEX}, §3.3"),
    "lrn_cifar_with": Ref(0.11, f"{_ALEX}, §3.3"),
    "lrn_imagenet_top1_gain": Ref(0.014, f"{_ALEX}, §3.3", "ImageNet top-1; top-5 1.2 %"),
    "overlap_pool_top1_gain": Ref(0.004, f"{_ALEX}, §3.4", "3x3/2 vs 2x2/2; top-5 0.3 %"),
}

FASHION_MNIST_ACCURACY = {  # the data set's README benchmark table (user submissions, unverified)
    "2conv_bn": 0.934, "vgg16": 0.935, "googlenet": 0.937, "resnet18_aug": 0.949, "mobilenet": 0.950,
    "densenet_bc_768k": 0.954, "wrn28_10": 0.959, "wrn40_4": 0.967, "alexnet_triplet": 0.899,
}

KERAS_APPLICATIONS_PARAMS = {  # 1000 classes, include_top=True
    "resnet50": 25_636_712, "vgg16": 138_357_544, "mobilenet": 4_253_864, "xception": 22_910_480,
    "densenet121": 8_062_504,
}
