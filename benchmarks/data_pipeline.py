"""Can the input pipeline keep up with training? Images/second of ``cnnkit.data.load`` vs a ResNet-20.

Measures, in one run on this machine:

1. the images/s the pipeline delivers (Fashion-MNIST padded to 32x32, normalised, batched),
   with augmentation ``none`` and ``resnet_cifar`` (pad 4, random crop, flip);
2. the training images/s of a ResNet-20 (``cnnkit.models.build("resnet_cifar", depth=20)``)
   on a batch already in memory (no input cost);

and prints the ratio pipeline / model: above 1 the pipeline is not the bottleneck.

    python benchmarks/data_pipeline.py                 # ~1-2 minutes, writes benchmarks/results/data_pipeline.json
    python benchmarks/data_pipeline.py --smoke         # seconds, a tiny model, writes nothing
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import cnnkit  # noqa: E402
from cnnkit import data, models  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "data_pipeline.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="a few batches and a ResNet-8: checks that it runs")
    p.add_argument("--batch-size", type=int, default=128, help="images per batch (default 128, the paper's)")
    p.add_argument("--seconds", type=float, default=10.0, help="time spent in each measurement (default 10)")
    p.add_argument("--dataset", default="fashion_mnist", help="a cnnkit.data name (default fashion_mnist)")
    p.add_argument("--resolution", type=int, default=32, help="image side after padding (default 32)")
    p.add_argument("--out", type=Path, default=RESULTS, help="JSON result file (not written with --smoke)")
    args = p.parse_args(argv)
    if args.batch_size < 1 or args.seconds <= 0:
        p.error(f"--batch-size must be >= 1 and --seconds > 0, got {args.batch_size} and {args.seconds}")
    return args


def _batches(ds):
    """Endless batches from a tf.data.Dataset or a PyDataset (epoch after epoch)."""
    while True:
        if isinstance(ds, keras.utils.PyDataset):
            for i in range(len(ds)):
                yield ds[i]
            ds.on_epoch_end()
        else:
            yield from ds


def time_loop(step, seconds: float, warmup: int = 2) -> tuple[float, int]:
    """Call ``step() -> images`` ``warmup`` times, then for ``seconds``; return (images/s, steps timed)."""
    for _ in range(warmup):
        step()
    images, steps, start = 0, 0, time.perf_counter()
    while time.perf_counter() - start < seconds or steps == 0:
        images += step()
        steps += 1
    return images / (time.perf_counter() - start), steps


def pipeline_speed(args, augment: str, subset: int | None) -> tuple[float, int]:
    ds = data.load(args.dataset, "train", batch_size=args.batch_size, augment=augment, resolution=args.resolution,
                   subset=subset)
    batches = _batches(ds)

    def step() -> int:
        x, _ = next(batches)
        return int(np.asarray(x).shape[0])  # materialise the batch on the host

    return time_loop(step, args.seconds)


def model_speed(args, channels: int, depth: int) -> tuple[float, int]:
    model = models.build("resnet_cifar", depth=depth, input_shape=(args.resolution, args.resolution, channels),
                         num_classes=10)
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch_size, args.resolution, args.resolution, channels)).astype("float32")
    y = rng.integers(0, 10, size=(args.batch_size,)).astype("int32")

    def step() -> int:
        model.train_on_batch(x, y)
        return args.batch_size

    return time_loop(step, args.seconds)


def environment() -> dict:
    try:
        import tensorflow as tf
        tf_version = tf.__version__
    except ImportError:
        tf_version = None
    return dict(python=platform.python_version(), machine=platform.machine(), processor=platform.processor(),
                cpu_count=os.cpu_count(), keras=keras.__version__, backend=keras.backend.backend(),
                tensorflow=tf_version, cnnkit=cnnkit.__version__)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.smoke:
        args.batch_size, args.seconds = min(args.batch_size, 16), min(args.seconds, 0.2)
    subset, depth = (256, 8) if args.smoke else (None, 20)
    channels = data.load_arrays(args.dataset, "test", subset=10)[2].image_shape[-1]
    rows = {}
    for augment in ("none", "resnet_cifar"):
        rows[f"pipeline {args.dataset} r{args.resolution} augment={augment}"] = pipeline_speed(args, augment, subset)
    model_key = f"ResNet-{depth} training step (batch {args.batch_size}, data in memory)"
    rows[model_key] = model_speed(args, channels, depth)
    model_rate = rows[model_key][0]
    print(f"\n{'measurement':<62}{'images/s':>12}{'steps':>8}{'pipeline/model':>16}")
    for name, (rate, steps) in rows.items():
        ratio = f"{rate / model_rate:>16.1f}" if name.startswith("pipeline") else ""
        print(f"{name:<62}{rate:>12,.0f}{steps:>8}{ratio}")
    if not args.smoke:
        result = dict(settings=dict(batch_size=args.batch_size, seconds=args.seconds, dataset=args.dataset,
                                    resolution=args.resolution, model=f"resnet_cifar depth={depth}"),
                      environment=environment(),
                      results=[dict(measurement=k, images_per_second=round(r, 1), steps=s,
                                    ratio_to_model=round(r / model_rate, 2) if k.startswith("pipeline") else None)
                               for k, (r, s) in rows.items()])
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
