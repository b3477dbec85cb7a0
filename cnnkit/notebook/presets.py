"""Presets: one place for the parameter sets each notebook runs with.

``smoke``  seconds: a tiny subset and one short epoch, so the test suite can execute
           every notebook end to end.
``quick``  minutes on a 2-core laptop CPU: a data subset, a few epochs, 2 seeds. The
           default, and what the README's main job runs.
``paper``  the full recipe of the paper (a GPU job): full data, paper schedule, 5 seeds.

A notebook's ``parameters`` cell holds its ``quick`` values; a preset lists only what it
changes. Notebooks without an entry accept every preset name and change nothing.
"""

from __future__ import annotations

PRESET_NAMES = ("smoke", "quick", "paper")

# What every training notebook shares, per preset (merged under the notebook's own entry).
_COMMON: dict[str, dict] = {
    # 250 examples per split (25 per class) in batches of 32: 7 iterations, enough for the step
    # schedule's two milestones (50 %, 75 %) to fall on distinct iterations.
    "smoke": {"subset": 256, "eval_subset": None, "epochs": 1, "seeds": [0], "batch_size": 32, "workers": 1},
    "quick": {},
    # Full data, the papers' batch of 128, 5 seeds, one training process (a GPU job).
    "paper": {"subset": None, "eval_subset": None, "seeds": [0, 1, 2, 3, 4], "batch_size": 128, "workers": 1},
}

PRESETS: dict[str, dict[str, dict]] = {
    "01_depth_degradation": {
        # Two shallow depths, one seed, 20 iterations in this kernel: every code path, no verdict.
        "smoke": {"depths": [8, 14], "seeds": [0], "subset": 256, "eval_subset": 100, "width": 4,
                  "iterations": 20, "log_every": 10, "batch_size": 32, "warmup_steps": 5, "workers": 1},
        # He et al. 2016 §4.2: CIFAR-10 at 32x32, width 16, 64k iterations of batch 128, lr 0.1 from the start
        # (the warm-up was for ResNet-110 only), augmented, the whole 45k/5k split.
        "paper": {"dataset": "cifar10", "subset": None, "eval_subset": None, "resolution": None, "width": 16,
                  "iterations": 64000, "log_every": 400, "batch_size": 128, "warmup_steps": 0,
                  "augment": "resnet_cifar", "workers": 1},
    },
    "02_relu_vs_tanh": {
        # Two rates, one seed, 20 iterations in this kernel: every code path, no verdict.
        "smoke": {"lrs": [0.01, 0.05], "seeds": [0], "subset": 256, "eval_subset": 100, "iterations": 40,
                  "log_every": 10, "batch_size": 32, "workers": 1},
        # Krizhevsky et al. 2012, Fig. 1: CIFAR-10 at 32x32, ~36 epochs of 50k in batches of 128 (≈ 14k iterations).
        "paper": {"dataset": "cifar10", "subset": None, "eval_subset": None, "resolution": None, "iterations": 14000,
                  "log_every": 200, "batch_size": 128, "lrs": [0.005, 0.01, 0.02, 0.05], "seeds": [0, 1, 2, 3, 4],
                  "workers": 1},
    },
    "03_lrn": {
        # One seed, 20 iterations in this kernel: every code path, no verdict.
        "smoke": {"seeds": [0], "subset": 256, "eval_subset": 100, "iterations": 20, "log_every": 10,
                  "batch_size": 32, "workers": 1},
        # cuda-convnet layers-18pct: CIFAR-10 at 32x32 without augmentation, ~100 epochs of 50k in batches of 128.
        "paper": {"dataset": "cifar10", "subset": None, "eval_subset": None, "resolution": None, "iterations": 39000,
                  "log_every": 390, "batch_size": 128, "lr": 0.01, "workers": 1},
    },
    # Every preset runs the article's full 10,000 steps (NumPy and Keras take seconds), so nothing changes.
    "00_backprop_by_hand": {"smoke": {}, "quick": {}, "paper": {}},
    "04_pooling": {
        # The paper's pair only (overlapping vs non-overlapping max); avg/stochastic pooling are layer-tested.
        "smoke": {"poolings": ["overlap", "max"]},
        # Krizhevsky et al. 2012 §3.4 measured on ImageNet; CIFAR-10 is Zeiler & Fergus' stochastic-pooling set.
        "paper": {"dataset": "cifar10", "epochs": 100, "poolings": ["overlap", "max", "avg", "stochastic"],
                  "gap_row": True, "resolution": None},
    },
    "07_regularization": {
        # One run per code path: the baseline, a model option (dropout), the L1 penalty, an augmentation.
        "smoke": {"variants": ["none", "dropout", "l1", "aug_alexnet"]},
        # AlexNet §5 on CIFAR-10: SGD momentum 0.9, lr 0.01 ÷10 on plateau, wd 5e-4, ~90 epochs; a wider LeNet.
        "paper": {"dataset": "cifar10", "epochs": 90, "lr": 0.01, "schedule": "plateau", "l2": 5e-4, "l1": 5e-5,
                  "target_error": 0.25, "width": 4.0,
                  "variants": ["none", "dropout", "l2", "l1", "batch_norm", "aug_resnet_cifar", "aug_alexnet",
                               "aug_alexnet_no_pca"]},
    },
    "08_optimizers_schedules": {
        # Two optimizers (momentum is the schedules' baseline), a computed and a history-read schedule.
        "smoke": {"optimizers": ["sgd", "momentum"], "schedules": ["step", "plateau"], "range_steps": 10},
        # CIFAR-10 at AlexNet's batch 128 and weight decay; plateau with the default patience of 3 epochs.
        "paper": {"dataset": "cifar10", "epochs": 60, "weight_decay": 5e-4, "plateau_patience": 3,
                  "range_steps": 300,
                  "optimizers": ["sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam"],
                  "schedules": ["step", "exponential", "plateau", "cyclic", "cosine"]},
    },
    "11_randwire": {
        # The paper's best generator WS(4, 0.75) on the smallest graph it allows (6 nodes), one stage; two ResNet
        # candidates. ER and BA are covered by the study's and the models' tests.
        "smoke": {"generators": ["ws"], "nodes": 6, "channels": 8, "stages": 1, "graph_nodes": 12,
                  "graph_samples": 3, "resnet_depths": [8], "resnet_widths": [4, 8]},
        # Xie et al. 2019 small regime (N=32, C=78, 3 random stages) on CIFAR-10, 100 epochs, cosine schedule.
        "paper": {"dataset": "cifar10", "nodes": 32, "channels": 78, "stages": 3, "epochs": 100,
                  "augment": "resnet_cifar", "resolution": None,
                  "resnet_depths": [20, 32, 44, 56, 110], "resnet_widths": [16, 24, 32, 48, 64]},
    },
    "12_attention": {
        # One module (CBAM: channel and spatial attention) against the plain net.
        "smoke": {"attentions": ["cbam"], "trained": ["cbam"], "depth": 8, "width": 8},
        # ResNet-20 with the He et al. CIFAR-10 recipe (≈ 182 epochs of 45k, augmented), every module at 32x32.
        "paper": {"dataset": "cifar10", "epochs": 182, "augment": "resnet_cifar", "trained": ["se", "cbam", "bam"],
                  "resolution": None, "width": 16},
    },
    "13_metric_learning": {
        "smoke": {"embedding_dim": 8, "batch_size": 32},
        # Full Fashion-MNIST, the small conv net as embedding network, 30 epochs of fresh pairs/triplets.
        "paper": {"backbone": None, "embedding_dim": 64, "epochs": 30, "steps_per_epoch": None},
    },
    "09_model_zoo": {
        # One tiny net trained (alexnet_cifar trains in the ablation); counted: it, AlexNet's CIFAR net, a Table 6
        # ResNet, a keras.applications net, a native-only one.
        "smoke": {"models": ["lenet5"],
                  "listed": ["lenet5", "alexnet_cifar", "resnet20", "mobilenet", "alexnet"]},
        # Every model that fits 32x32 (None), CIFAR-10, 30 augmented epochs of one recipe: a GPU job.
        "paper": {"dataset": "cifar10", "models": None, "epochs": 30, "augment": "resnet_cifar",
                  "zoo_seeds": [0, 1, 2, 3, 4], "ablation_resolution": None},
    },
    "05_convolutions": {
        # Every kind still counted and timed, on 8x8 maps, forward only, one timed step each.
        "smoke": {"input_size": 8, "channels": 8, "filters": 8, "throughput_size": 8, "throughput_channels": 8,
                  "throughput_batch": 8, "throughput_steps": 1, "throughput_passes": ["forward"]},
        # Nothing is trained: time the layers at a ResNet stage-2 size (56x56x64, batch 128) on the GPU.
        "paper": {"throughput_size": 56, "throughput_channels": 64, "throughput_batch": 128, "throughput_steps": 50},
    },
    "06_activations": {
        "smoke": {"activations": ["relu", "sigmoid"]},
        # Krizhevsky et al. 2012, Fig. 1: CIFAR-10, 4-layer CNN, until 25 % training error.
        "paper": {"dataset": "cifar10", "epochs": 40, "target_error": 0.25},
    },
    "10_design_levers": {
        # Two levers varied (resolution, skip) on a 16x16, 4-filter, 8-layer baseline: 3 runs instead of 5; the
        # study's tests cover every lever's frame, table and rows.
        "smoke": {"resolutions": [8, 16], "depths": [8], "widths": [4], "skips": [False, True],
                  "baseline": {"resolution": 16, "depth": 8, "width": 4, "skip": True}},
        # CIFAR-10 with He et al.'s recipe (≈ 182 epochs of 45k, augmented) around ResNet-20 at 32x32.
        "paper": {"dataset": "cifar10", "epochs": 182, "augment": "resnet_cifar", "recipe": "resnet_cifar",
                  "resolutions": [16, 24, 32], "depths": [8, 20, 56], "widths": [8, 16, 32], "skips": [False, True],
                  "baseline": {"resolution": 32, "depth": 20, "width": 16, "skip": True}},
    },
}


def preset_parameters(notebook_stem: str, preset: str, declared: set[str] | None = None) -> dict:
    """The parameters ``preset`` sets for the notebook ``notebook_stem`` (e.g. ``"01_depth_degradation"``).

    Shared settings apply only where the notebook declares that parameter (``declared``);
    the notebook's own entries always apply (the runner rejects them if undeclared).
    """
    if preset not in PRESET_NAMES:
        raise ValueError(f"unknown preset {preset!r}; choose one of {list(PRESET_NAMES)}")
    common = {k: v for k, v in _COMMON[preset].items() if declared is None or k in declared}
    params = {"preset": preset} if declared is None or "preset" in declared else {}
    return {**params, **common, **PRESETS.get(notebook_stem, {}).get(preset, {})}
