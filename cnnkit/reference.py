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

# Parameter arithmetic of notebook 05 (exact counts, convolution weights only, no biases).
CONV_COUNTS = {
    "basic_256": Ref(1_179_648, "He et al. 2016, Fig. 5", "two 3x3 convolutions 256 → 256"),
    "bottleneck_256": Ref(69_632, "He et al. 2016, Fig. 5", "1x1 256 → 64, 3x3 64 → 64, 1x1 64 → 256"),
    "basic_bottleneck_ratio": Ref(16.94, "He et al. 2016, Fig. 5", "1,179,648 / 69,632, to 2 decimals"),
    # Two stacked 3x3 convolutions C → C see 5x5 like one 5x5 but have 18C² weights, not 25C² (28 % fewer).
    "two_3x3_per_c2": Ref(18, "Szegedy et al. 2016, Rethinking Inception, §3.1", "9C² + 9C²"),
    "one_5x5_per_c2": Ref(25, "Szegedy et al. 2016, Rethinking Inception, §3.1", "25C²"),
}

# Notebook 11: RandWire (Xie, Kirillov, Girshick & He 2019, "Exploring Randomly Wired Neural Networks").
_RW = "Xie et al. 2019"
# §4, Fig. 3: of the generator settings tried, WS(K=4, P=0.75) has the best mean accuracy; the
# paper also compares ER(P=0.2) and BA(M=5). No table: the gaps are read off the figure.
RANDWIRE_BEST_GENERATOR = "WS(4, 0.75)"
RANDWIRE = {
    "ws_small_top1": Ref(0.747, f"{_RW}, Table 2", "RandWire-WS(4, 0.75), small regime, ImageNet top-1, mean "
                         "of 5 random graphs (± 0.25); 583 M FLOPs, 5.6 M params"),
    # Fig. 1 caption: three WS networks reach 79.1, 79.1, 79.0 % at a budget similar to ResNet-50's 77.1 %.
    "ws_regular_top1": Ref(0.790, f"{_RW}, Fig. 1", "regular regime, ImageNet top-1, 79.0–79.1 %"),
    "resnet50_top1": Ref(0.771, f"{_RW}, Fig. 1", "ResNet-50 at a similar computational budget"),
}

# Notebook 12: attention modules on ResNet-50 (ImageNet-1K, single-crop top-1 error).
_SE = "Hu, Shen & Sun 2018 (SE)"
_CBAM = "Woo et al. 2018 (CBAM), Table 4"
_BAM = "Park et al. 2018 (BAM), ImageNet-1K table"
ATTENTION = {
    # PyTorch-style ResNet-50 (no conv biases) as the CBAM/BAM papers count it; keras.applications has 25.64 M.
    "resnet50_params": Ref(25.56e6, _CBAM, "ResNet-50 without conv biases"),
    # SE §4: "~2.5 million additional parameters ... a ~10 % increase"; CBAM Table 4: 25.56 M → 28.09 M.
    "se_params_added": Ref(2.53e6, _CBAM, "ResNet-50 + SE: 28.09 M; SE paper: '~2.5 M, ~10 %'"),
    "cbam_params_added": Ref(2.53e6, _CBAM, "ResNet-50 + CBAM: 28.09 M"),
    "bam_params_added": Ref(0.36e6, _BAM, "ResNet-50 + BAM: 25.92 M (3 modules, at the bottlenecks)"),
    # Top-1 error drop: SE Table 2 24.80 → 23.29 (their re-implemented baseline); CBAM Table 4 24.56 → 22.66
    # (SE in the same table: 23.14); BAM 24.56 → 24.02.
    "se_top1_gain": Ref(0.0151, f"{_SE}, Table 2", "ResNet-50 24.80 → SE-ResNet-50 23.29 % top-1 error"),
    "cbam_top1_gain": Ref(0.0190, _CBAM, "ResNet-50 24.56 → 22.66 % top-1 error"),
    "bam_top1_gain": Ref(0.0054, _BAM, "ResNet-50 24.56 → 24.02 % top-1 error"),
}

# Notebook 07: AlexNet's regularisers (Krizhevsky et al. 2012, §4 and §5; ImageNet).
REGULARIZATION = {
    "dropout_rate": Ref(0.5, f"{_ALEX}, §4.2", "in the first two fully connected layers"),
    # §4.2: "Without dropout, our network exhibits substantial overfitting. Dropout roughly doubles
    # the number of iterations required to converge."
    "dropout_iterations": Ref(2.0, f"{_ALEX}, §4.2", "iterations to converge, with / without dropout ('roughly')"),
    # §4.1: PCA colour jitter "reduces the top-1 error rate by over 1%" (a lower bound).
    "pca_jitter_top1_gain": Ref(0.01, f"{_ALEX}, §4.1", "ImageNet top-1, 'over 1 %'"),
    # §5: "this small amount of weight decay was important for the model to learn ... not merely a
    # regularizer: it reduces the model's training error."
    "weight_decay": Ref(5e-4, f"{_ALEX}, §5", "coupled L2, SGD momentum 0.9, batch 128"),
}

# Notebook 08: optimizers, schedules, LR range test.
OPTIMIZATION = {
    "alexnet_lr": Ref(0.01, f"{_ALEX}, §5", "SGD momentum 0.9, divided by 10 when the validation error stalls"),
    # Smith 2017, "Cyclical Learning Rates", Table 1: CIFAR-10, the same net reaches 81.4 % in
    # 25k iterations with triangular2 CLR and in 70k with a fixed learning rate.
    "clr_iterations": Ref(25_000, "Smith 2017, Table 1", "CIFAR-10, triangular2, 81.4 % accuracy"),
    "fixed_lr_iterations": Ref(70_000, "Smith 2017, Table 1", "CIFAR-10, fixed lr, 81.4 % accuracy"),
}

# Notebook 09: the model zoo. Krizhevsky et al. 2012, §4: "removing any of the middle layers results
# in a loss of about 2 % for the top-1 performance of the network" (ImageNet, the 5-conv AlexNet).
ZOO = {
    "alexnet_drop_middle_layer": Ref(0.02, f"{_ALEX}, §4", "ImageNet top-1 error increase, any middle conv removed"),
}

# Notebook 10: the four design levers of article 000 ("How to design the best CNN architecture",
# Medium 2019, translated by 磐创AI). Qualitative claims only: the article gives no numbers.
_ARTICLE_000 = "article 000, qualitative"
DESIGN_LEVERS = {
    "resolution": f"higher input resolution feeds the net more information → lower error ({_ARTICLE_000})",
    "depth": f"a deeper net learns more parameters → lower error ({_ARTICLE_000})",
    "width": f"a wider net learns more parameters → lower error ({_ARTICLE_000})",
    "skip": f"skip connections (residual/dense) add representational power → lower error ({_ARTICLE_000})",
}

# Notebook 13: metric learning. Face verification numbers, shown beside Fashion-MNIST ones only as context.
METRIC = {
    "facenet_lfw": Ref(0.9963, "Schroff et al. 2015 (FaceNet), LFW", "face verification accuracy (± 0.09)"),
}

# Notebook 00: the worked backpropagation example of article 000 (the classic 2-2-2 sigmoid network of
# Mazur 2015, "A Step by Step Backpropagation Example"), as printed (strings keep the printed precision).
# "_new": after one step of lr 0.5; "E_step1": E_total after one step; "_trained": after 10,000 steps.
BACKPROP_SOURCE = "article 000 / Mazur 2015"
BACKPROP_ARTICLE = {
    "net_h1": "0.3775", "out_h1": "0.593269992", "out_h2": "0.596884378", "net_o1": "1.105905967",
    "out_o1": "0.751365070", "out_o2": "0.772928465", "E_o1": "0.274811083", "E_o2": "0.023560026",
    "E_total": "0.298371109",
    "dE/dout_o1": "0.74136507", "dout_o1/dnet_o1": "0.186815602", "dE/dw5": "0.082167041",
    "w5_new": "0.35891648", "w6_new": "0.408666186", "w7_new": "0.511301270", "w8_new": "0.561370121",
    "dE_o1/dout_h1": "0.055399425", "dE_o2/dout_h1": "-0.019049119", "dE/dout_h1": "0.036350306",
    "dout_h1/dnet_h1": "0.241300709", "dE/dw1": "0.000438568",
    "w1_new": "0.149780716", "w2_new": "0.199561432", "w3_new": "0.249751144", "w4_new": "0.299502287",
    "E_step1": "0.291027924",
    "E_trained": "0.0000351085", "out_o1_trained": "0.015912196", "out_o2_trained": "0.984065734",
}

# Notebook 04: pooling. Krizhevsky et al. 2012 §3.4 (ALEXNET["overlap_pool_top1_gain"]): overlapping 3x3/2
# max pooling lowers ImageNet top-1/top-5 error by 0.4/0.3 points against 2x2/2, and the nets "find it
# slightly more difficult to overfit". Zeiler & Fergus 2013, Table 1: stochastic pooling on CIFAR-10.
POOLING = {
    "overlap_top5_gain": Ref(0.003, f"{_ALEX}, §3.4", "ImageNet top-5, 3x3/2 vs 2x2/2"),
    "stochastic_cifar_test_error": Ref(0.1513, "Zeiler & Fergus 2013, Table 1",
                                       "CIFAR-10, 3-layer net, no augmentation; lower than their max and avg pooling"),
}
