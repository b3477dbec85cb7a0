"""Training throughput of cnnkit's CIFAR ResNets against the same networks in PyTorch.

For every model × batch size × precision, in one run and interleaved (so both sides see the
same machine load): cnnkit's real training path (``cnnkit.train.fit``: the data set on the
device, pad-crop-flip augmentation in the compiled step, SGD momentum 0.9, weight decay 1e-4,
fused BN on TensorFlow) and the tuned PyTorch reference (``torch_reference.py``: data on the
device, channels_last, bf16 autocast, ``torch.compile`` on a GPU, fused SGD). Each measurement
runs in its own process (peak memory per row; JAX and PyTorch never share a GPU).

Reported per row: steady-state training images/s and ms/step (warm-up and compilation
excluded), compile time (first steps minus their steady-state cost), peak accelerator memory
(where the backend reports it), parameter counts (trainable + BN statistics, counted the same
way on both sides and checked equal), and the ratio cnnkit / PyTorch. Also images per CPU-second
(process CPU time of the timed steps, all threads): on a shared, loaded CPU machine the wall
clock swings with the load, CPU time much less, so compare the ``(cpu-s)`` ratios there
(``--threads 1`` on both sides avoids OpenMP spinning when cores are oversubscribed).

    python benchmarks/train_throughput.py                      # writes results/train_throughput_<device>.json
    python benchmarks/train_throughput.py --smoke              # seconds: ResNet-8, batch 16, 2 timed steps
    python benchmarks/train_throughput.py --resolution 16 --width 8 --channels 1 --batch-sizes 64
    python benchmarks/train_throughput.py --preset quick       # the nets notebook 01 trains in the quick preset
    KERAS_BACKEND=jax python benchmarks/train_throughput.py --models resnet20 --batch-sizes 512
    cnnkit bench --smoke                                       # the same through the CLI
    python benchmarks/train_throughput.py --readme README.md   # README's table from results/*.json

Each JSON records the date, the CPU's model name and its SIMD/AMX flags, the load average and
the settings; ``--readme`` rewrites the block between :data:`README_BEGIN` and :data:`README_END`
from every complete ``results/train_throughput_*.json`` (or the files given with ``--results``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
MODELS = ("resnet20", "resnet56", "plain56")
PRECISIONS = {"fp32": None, "bf16": "mixed_bfloat16"}  # name -> Keras dtype policy
DATA_PATHS = ("device", "tfdata")
_SHAPE = ("model", "resolution", "width", "channels", "batch_size", "precision")  # what both sides train
_KEY = (*_SHAPE, "framework", "data_path")  # one row
_OLD_SHAPE = {"resolution": 32, "width": 16, "channels": 3}  # rows written before these were options


def _key(row: dict, keys=_KEY) -> tuple:
    return tuple(row.get(k, _OLD_SHAPE.get(k)) for k in keys)


def _input(row: dict) -> str:
    """``"16x16x1"``: the row's input shape (rows written before the shape options: 32x32x3)."""
    res, channels = _key(row, ("resolution", "channels"))
    return f"{res}x{res}x{channels}"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Declare the options (shared with ``cnnkit bench``)."""
    p.add_argument("--smoke", action="store_true", help="ResNet-8, batch 16, fp32, 2 timed steps, in-process")
    p.add_argument("--preset", choices=("quick",), default=None,
                   help="quick: the nets, shape and batch size notebook 01 trains in the quick preset")
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated resnet<d>/plain<d> (d = 6n+2)")
    p.add_argument("--batch-sizes", default="128,512", help="comma-separated batch sizes (default 128,512)")
    p.add_argument("--resolution", type=int, default=32, help="input height and width (default 32)")
    p.add_argument("--width", type=int, default=16, help="filters of the first stage (default 16, the paper's)")
    p.add_argument("--channels", type=int, default=3, help="input channels (default 3; Fashion-MNIST has 1)")
    p.add_argument("--precisions", default="fp32,bf16", help="comma-separated: fp32, bf16 (mixed_bfloat16)")
    p.add_argument("--steps", type=int, default=50, help="timed steps per measurement (default 50)")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first: compilation, autotuning (default 5)")
    p.add_argument("--repeats", type=int, default=1, help="interleaved repeats; rows report the median")
    p.add_argument("--data-paths", default="device", help="cnnkit data paths to time: device and/or tfdata")
    p.add_argument("--jit-compile", default="auto", choices=("auto", "true", "false"), help="cnnkit's jit_compile")
    p.add_argument("--steps-per-execution", type=int, default=1, help="cnnkit's steps_per_execution (default 1)")
    p.add_argument("--torch-compile", default="auto", choices=("auto", "on", "off"),
                   help="torch.compile the PyTorch step (auto: on a GPU only)")
    p.add_argument("--no-torch", action="store_true", help="time cnnkit only")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for both sides (0: each library's default)")
    p.add_argument("--dataset-size", type=int, default=10_000, help="synthetic 32x32x3 images kept on the device")
    p.add_argument("--backend-note", default="", help="free text stored with the results (machine, drivers, ...)")
    p.add_argument("--out", type=Path, default=None,
                   help="JSON file (default results/train_throughput_<device>.json; --smoke writes only with --out)")
    p.add_argument("--append", action="store_true",
                   help="keep the rows of an existing --out file that this run does not measure (runs in chunks)")
    p.add_argument("--in-process", action="store_true", help="measure in this process (default with --smoke)")
    p.add_argument("--readme", type=Path, default=None,
                   help="measure nothing: rewrite this README's benchmark block from the results JSON files")
    p.add_argument("--results", type=Path, nargs="+", default=None,
                   help="with --readme: the JSON files (default: every complete results/train_throughput_*.json)")
    p.add_argument("--worker", help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p)
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = build_parser()
    try:
        return finalize(p.parse_args(argv))
    except ValueError as exc:
        p.error(str(exc))


def finalize(args: argparse.Namespace) -> argparse.Namespace:
    """Apply ``--smoke`` and check the values; a bad value raises ``ValueError`` naming it."""
    if args.worker or args.readme:
        return args
    if args.smoke:
        args.models, args.batch_sizes, args.precisions = "resnet8", "16", "fp32"
        args.steps, args.warmup, args.dataset_size, args.in_process = 2, 1, 128, True
    if args.preset == "quick":
        for key, value in quick_preset().items():
            setattr(args, key, value)
    args.models = _split(args.models, "models", lambda m: _depth_plain(m) is not None)
    args.batch_sizes = [int(b) for b in _split(args.batch_sizes, "batch-sizes", lambda b: b.isdigit() and int(b) > 0)]
    args.precisions = _split(args.precisions, "precisions", lambda v: v in PRECISIONS)
    args.data_paths = _split(args.data_paths, "data-paths", lambda v: v in DATA_PATHS)
    if min(args.steps, args.warmup, args.repeats, args.steps_per_execution, args.dataset_size, args.width,
           args.channels) < 1:
        raise ValueError("--steps, --warmup, --repeats, --steps-per-execution, --dataset-size, --width and "
                         "--channels must be >= 1")
    if args.resolution < 8:
        raise ValueError(f"--resolution {args.resolution}: the CIFAR ResNet needs inputs of at least 8x8; "
                         "use e.g. --resolution 16 or 32")
    return args


def quick_preset() -> dict:
    """The settings of ``--preset quick``: notebook 01's nets at the shape and batch size it trains them."""
    from cnnkit.studies import data_shape, depth, resolve

    exp = depth.experiment(resolve(depth, "quick"))
    options = [v["model_options"] for v in exp.variants.values() if "depth" in v["model_options"]]  # not the floor
    (*_, channels), _ = data_shape(exp.base["dataset"], exp.base["resolution"])
    return {"models": ",".join(f"{'plain' if o['plain'] else 'resnet'}{o['depth']}" for o in options),
            "batch_sizes": str(exp.base["batch_size"]), "resolution": int(exp.base["resolution"]),
            "width": int(options[0]["width"]), "channels": channels}


def _split(text: str, option: str, valid) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in items if not valid(t)]
    if bad or not items:
        raise ValueError(f"--{option}: invalid value(s) {bad or text!r}; e.g. --models resnet20,plain56 "
                         f"(depth 6n+2), --precisions fp32,bf16, --data-paths device,tfdata")
    return items


def _depth_plain(model: str) -> tuple[int, bool] | None:
    """``resnet20`` → (20, False), ``plain56`` → (56, True); None unless the depth is 6n+2 >= 8."""
    match = re.fullmatch(r"(resnet|plain)(\d+)", model)
    depth = int(match.group(2)) if match else 0
    return (depth, match.group(1) == "plain") if depth >= 8 and (depth - 2) % 6 == 0 else None


# --- one measurement (runs in a worker process unless --in-process) ------------------------------
def _set_threads(threads: int, framework: str) -> None:
    if not threads:
        return
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
        return
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def measure_cnnkit(spec: dict) -> dict:
    """Train with ``cnnkit.train.fit`` for warmup + steps iterations; time the steady part."""
    import keras

    from cnnkit import models
    from cnnkit.train import fit

    _set_threads(spec["threads"], "cnnkit")
    depth, plain = _depth_plain(spec["model"])
    spe = spec["steps_per_execution"]
    warmup = -(-spec["warmup"] // spe) * spe
    steps = -(-spec["steps"] // spe) * spe
    shape = [spec["resolution"], spec["resolution"], spec["channels"]]
    net = models.build("resnet_cifar", depth=depth, plain=plain, width=spec["width"], input_shape=shape,
                       num_classes=10)
    trainable = sum(math.prod(w.shape) for w in net.trainable_weights)
    timer = _StepTimer(warmup, warmup + steps, keras)
    jit = {"auto": "auto", "true": True, "false": False}[spec["jit_compile"]]
    config = dict(model="resnet_cifar", model_options={"depth": depth, "plain": plain, "width": spec["width"]},
                  dataset="synthetic",
                  data_options={"image_shape": shape, "num_classes": 10, "train_size": spec["dataset_size"],
                                "test_size": 10},
                  val_fraction=min(0.5, max(0.02, 20 / spec["dataset_size"])), augment="resnet_cifar",
                  batch_size=spec["batch_size"], epochs=1,
                  steps_per_epoch=warmup + steps, schedule="constant", lr=0.1, weight_decay=1e-4,
                  mixed_precision=PRECISIONS[spec["precision"]], jit_compile=jit, steps_per_execution=spe,
                  data_path=spec["data_path"], eval_test=False)
    result = fit(config, callbacks=[timer], verbose=0)
    if result.status != "done":
        raise RuntimeError(f"cnnkit run {result.status}: {result.message}\n{result.traceback[-1500:]}")
    step_s = (timer.t_end - timer.t_start) / steps
    return {"images_per_s": spec["batch_size"] / step_s, "ms_per_step": 1000 * step_s,
            "images_per_cpu_s": spec["batch_size"] * steps / (timer.cpu_end - timer.cpu_start),
            "compile_s": max(0.0, timer.t_first - timer.t_begin - spe * step_s), "peak_bytes": _keras_peak_bytes(),
            "params": {"trainable": trainable, "total": int(result.final["params"])},
            "device": result.device, "versions": result.versions}


class _StepTimer:
    """A Keras callback (built lazily so that this module imports without Keras) marking batch ends."""

    def __new__(cls, warmup: int, total: int, keras):
        class StepTimer(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.t_begin, self.t_first = time.perf_counter(), None

            def on_train_batch_end(self, batch, logs=None):
                done = batch + 1
                if self.t_first is None or done in (warmup, total):
                    float(logs["loss"])  # wait for the device
                    now = time.perf_counter()
                    self.t_first = self.t_first or now
                    if done == warmup:
                        self.t_start, self.cpu_start = now, time.process_time()
                    if done == total:
                        self.t_end, self.cpu_end = now, time.process_time()

        return StepTimer()


def _keras_peak_bytes() -> int | None:
    import keras

    if keras.backend.backend() == "jax":
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        return stats.get("peak_bytes_in_use")
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if tf.config.list_physical_devices("GPU"):
            return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])
    return None


def measure_torch(spec: dict) -> dict:
    """The PyTorch reference on the same model, batch size and precision."""
    sys.path.insert(0, str(HERE))
    import torch
    import torch_reference

    _set_threads(spec["threads"], "torch")
    depth, plain = _depth_plain(spec["model"])
    shape = (spec["resolution"], spec["resolution"], spec["channels"])
    trainer = torch_reference.make_trainer(depth, plain=plain, batch_size=spec["batch_size"],
                                           precision=spec["precision"], dataset_size=spec["dataset_size"],
                                           compile=spec["torch_compile"], image_shape=shape, width=spec["width"])
    if trainer["device"].type == "cuda":
        torch.cuda.reset_peak_memory_stats(trainer["device"])
    times = torch_reference.time_steps(trainer, warmup=spec["warmup"], steps=spec["steps"])
    step_s = times["timed_s"] / spec["steps"]
    return {"images_per_s": spec["batch_size"] / step_s, "ms_per_step": 1000 * step_s,
            "images_per_cpu_s": spec["batch_size"] * spec["steps"] / times["cpu_s"],
            "compile_s": max(0.0, times["warmup_s"] - spec["warmup"] * step_s),
            "peak_bytes": torch_reference.peak_memory(trainer["device"]), "params": trainer["params"],
            "device": trainer["device_name"], "versions": {"torch": torch.__version__},
            "compiled": trainer["compiled"]}


def _measure(spec: dict, in_process: bool) -> dict:
    """Run one measurement; errors (torch missing, a failed run) become ``{"error": ...}``."""
    if spec["framework"] == "torch":
        try:
            import importlib.util

            if importlib.util.find_spec("torch") is None:
                return {"error": "torch not installed"}
        except ValueError:
            return {"error": "torch not installed"}
    if in_process:
        try:
            return (measure_torch if spec["framework"] == "torch" else measure_cnnkit)(spec)
        except Exception as exc:  # noqa: BLE001 - a failed row is reported, the others go on
            return {"error": f"{type(exc).__name__}: {exc}"}
    proc = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], capture_output=True, text=True)
    line = next((ln for ln in proc.stdout.splitlines()[::-1] if ln.startswith("RESULT ")), None)
    if line is None:
        return {"error": f"worker exited {proc.returncode}: {proc.stderr.strip()[-1500:]}"}
    return json.loads(line[len("RESULT "):])


# --- the run ------------------------------------------------------------------------------------
def _specs(args) -> list[dict]:
    common = dict(steps=args.steps, warmup=args.warmup, threads=args.threads, dataset_size=args.dataset_size,
                  jit_compile=args.jit_compile, steps_per_execution=args.steps_per_execution,
                  torch_compile=args.torch_compile, resolution=args.resolution, width=args.width,
                  channels=args.channels)
    specs = []
    for model in args.models:
        for batch in args.batch_sizes:
            for precision in args.precisions:
                row = dict(common, model=model, batch_size=batch, precision=precision)
                specs += [dict(row, framework="cnnkit", data_path=path) for path in args.data_paths]
                if not args.no_torch:
                    specs.append(dict(row, framework="torch", data_path="device"))
    return specs


def _aggregate(specs: list[dict], runs: list[list[dict]]) -> list[dict]:
    rows = []
    for i, spec in enumerate(specs):
        done = [r[i] for r in runs if i < len(r)]
        if not done:  # not measured yet
            continue
        ok = [r for r in done if "error" not in r]
        row = {k: spec[k] for k in _KEY if k in spec}
        if not ok:
            row["error"] = done[0]["error"]
        else:
            rates = [r["images_per_s"] for r in ok]
            median = statistics.median(rates)
            best = min(ok, key=lambda r: abs(r["images_per_s"] - median))
            row.update({k: best[k] for k in best if k not in ("images_per_s", "ms_per_step")},
                       images_per_s=median, ms_per_step=1000 * spec["batch_size"] / median, repeats=rates,
                       images_per_cpu_s=statistics.median(r["images_per_cpu_s"] for r in ok))
        rows.append(row)
    for row in rows:
        ref = next((r for r in rows if r["framework"] == "torch" and "error" not in r and
                    _key(r, _SHAPE) == _key(row, _SHAPE)), None)
        if row["framework"] == "cnnkit" and ref and "error" not in row:
            row["ratio_to_torch"] = row["images_per_s"] / ref["images_per_s"]
            row["cpu_ratio_to_torch"] = row["images_per_cpu_s"] / ref["images_per_cpu_s"]
            row["params_match"] = row["params"] == ref["params"]
    return rows


def _table(rows: list[dict]) -> str:
    head = (f"{'model':<10}{'input':>8}{'width':>6}{'batch':>6} {'prec':<5} {'framework':<16}{'img/s':>9}{'ms/step':>9}{'img/cpu-s':>10}"
            f"{'compile s':>10}{'peak MiB':>9}{'params':>9}{'cnnkit/torch':>13}{'(cpu-s)':>8}")
    lines = [head, "-" * len(head)]
    for r in rows:
        who = f"{r['framework']}" + (f" ({r['data_path']})" if r["framework"] == "cnnkit" else "")
        start = (f"{r['model']:<10}{_input(r):>8}{_key(r, ('width',))[0]:>6}{r['batch_size']:>6} "
                 f"{r['precision']:<5} {who:<16}")
        if "error" in r:
            lines.append(start + f"  {r['error'].splitlines()[0][:90]}")
            continue
        peak = "-" if r["peak_bytes"] is None else f"{r['peak_bytes'] / 2**20:,.0f}"
        ratio = f"{r['ratio_to_torch']:.2f}x" if "ratio_to_torch" in r else ""
        cpu_ratio = f"{r['cpu_ratio_to_torch']:.2f}x" if "cpu_ratio_to_torch" in r else ""
        if r.get("params_match") is False:
            cpu_ratio += " PARAMS DIFFER"
        lines.append(start + f"{r['images_per_s']:>9,.0f}{r['ms_per_step']:>9.1f}{r['images_per_cpu_s']:>10,.0f}"
                     f"{r['compile_s']:>10.1f}{peak:>9}{r['params']['total']:>9,}{ratio:>13}{cpu_ratio:>8}")
    return "\n".join(lines)


def _device_slug(rows: list[dict]) -> str:
    name = next((r["device"] for r in rows if r["framework"] == "cnnkit" and "device" in r), "unknown")
    name = "cpu" if name.startswith("CPU") else name
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _write_atomic(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(payload, indent=1) + "\n")
    os.chmod(tmp, 0o644)  # mkstemp makes it private
    os.replace(tmp, path)


def run(args: argparse.Namespace) -> int:
    """Measure every row (interleaved, ``args.repeats`` times), print the table, write the JSON."""
    if args.readme:
        files = args.results or sorted(RESULTS.glob("train_throughput_*.json"))
        try:
            write_readme(args.readme, files)
        except (OSError, ValueError, KeyError) as exc:  # a missing file, no markers, a file of another kind
            print(f"train_throughput --readme: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 2
        print(f"rewrote the benchmark block of {args.readme} from {len(files)} file(s)")
        return 0
    if args.worker:
        spec = json.loads(args.worker)
        print("RESULT " + json.dumps((measure_torch if spec["framework"] == "torch" else measure_cnnkit)(spec)))
        return 0
    specs, runs, loads = _specs(args), [], [os.getloadavg()[0]]
    started, kept = time.time(), _previous(args)
    for _ in range(args.repeats):
        runs.append([])
        for spec in specs:
            runs[-1].append(_measure(spec, args.in_process))
            print(f"  {spec['model']} b{spec['batch_size']} {spec['precision']} {spec['framework']}: "
                  f"{runs[-1][-1].get('images_per_s', runs[-1][-1].get('error', ''))}", file=sys.stderr, flush=True)
            loads.append(os.getloadavg()[0])
            out = _save(args, specs, runs, loads, started, kept)  # after every row: a killed run keeps its rows
    rows = _aggregate(specs, runs)
    print(_table(rows))
    print(f"load average (1 min) during the run: {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} CPUs")
    if out is not None:
        print(f"wrote {out}")
    return 0 if all("error" not in r or r["framework"] == "torch" for r in rows) else 1


def _previous(args) -> list[dict]:
    """With ``--append``: the rows of the existing ``--out`` file."""
    if not (args.append and args.out and args.out.exists()):
        return []
    return json.loads(args.out.read_text()).get("rows", [])


def _save(args, specs: list[dict], runs: list[list[dict]], loads: list[float], started: float,
          kept: list[dict]) -> Path | None:
    """Write the rows measured so far (``complete`` once every repeat of every row is in) after ``kept``."""
    rows = _aggregate(specs, runs)
    new = {_key(r) for r in rows}
    rows = [r for r in kept if _key(r) not in new] + rows
    complete = len(runs) == args.repeats and len(runs[-1]) == len(specs)
    slug = _device_slug(rows)
    out = args.out or (None if args.smoke or (slug == "unknown" and not complete)
                       else RESULTS / f"train_throughput_{slug}.json")
    if out is not None:
        settings = {k: v for k, v in vars(args).items()
                    if k not in ("out", "worker", "in_process") and isinstance(v, (str, int, float, list))}
        _write_atomic(out, {"settings": settings, "complete": complete, "rows": rows, "load_average": loads,
                            "seconds": round(time.time() - started, 1), "python": platform.python_version(),
                            "machine": platform.machine(), "cpus": os.cpu_count(), "cpu": cpu_info(),
                            "date": time.strftime("%Y-%m-%d", time.gmtime(started))})
    return out


# --- the machine and the README table -----------------------------------------------------------
_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8")
README_BEGIN = "<!-- bench:begin (python benchmarks/train_throughput.py --readme README.md) -->"
README_END = "<!-- bench:end -->"


def cpu_info(cpuinfo: str = "/proc/cpuinfo") -> dict:
    """The CPU's model name and which of the vector/matrix flags that matter for training it has (Linux)."""
    from cnnkit.train.precision import cpu_info as read

    model, flags = read(cpuinfo)
    return {"model": model, "flags": [f for f in _FLAGS if f in flags]}


def readme_markdown(files: list[Path]) -> str:
    """One table per results file: cnnkit and PyTorch per shape and precision, both ratios, and the machine."""
    if not files:
        raise FileNotFoundError(f"no results files given and none in {RESULTS}; run the benchmark first")
    out = []
    for path in files:
        data = json.loads(Path(path).read_text())
        rows = [r for r in data["rows"] if "error" not in r]
        if not data.get("complete") or not rows:
            raise ValueError(f"{path}: not a complete run (complete={data.get('complete')!r}); rerun the benchmark")
        cpu = data.get("cpu", {})
        torch_v = next((r["versions"].get("torch") for r in rows if r["framework"] == "torch"), "not installed")
        keras_v = next((r["versions"] for r in rows if r["framework"] == "cnnkit"), {})
        loads = data.get("load_average") or [0.0]
        settings = data["settings"]
        out += [f"`benchmarks/results/{Path(path).name}` — measured {data.get('date', 'date not recorded')} on {cpu.get('model', 'an unrecorded CPU')} "
                f"({data.get('cpus', '?')} CPUs; flags: {', '.join(cpu.get('flags', [])) or 'not recorded'}), "
                f"{'default threads' if not settings.get('threads') else str(settings['threads']) + ' thread(s) per side'}, "
                f"{settings.get('steps')} timed steps after {settings.get('warmup')}, load average "
                f"{min(loads):.1f}–{max(loads):.1f}; TensorFlow {keras_v.get('tensorflow', '?')}, "
                f"Keras {keras_v.get('keras', '?')}, torch {torch_v}.", "",
                "| model | input | width | batch | precision | cnnkit img/s | PyTorch img/s | cnnkit / PyTorch "
                "| per CPU-second |", "|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            if r["framework"] != "cnnkit" or "ratio_to_torch" not in r:
                continue
            ref = next(t for t in rows if t["framework"] == "torch" and _key(t, _SHAPE) == _key(r, _SHAPE))
            out.append(f"| {r['model']} | {_input(r)} | {_key(r, ('width',))[0]} | "
                       f"{r['batch_size']} | {r['precision']} | {r['images_per_s']:,.0f} | {ref['images_per_s']:,.0f} | "
                       f"{r['ratio_to_torch']:.2f}x | **{r['cpu_ratio_to_torch']:.2f}x** |")
        out.append("")
    return "\n".join(out)


def write_readme(readme: Path, files: list[Path]) -> None:
    """Replace the README's block between :data:`README_BEGIN` and :data:`README_END` with :func:`readme_markdown`."""
    from cnnkit._atomic import replace_block

    replace_block(readme, README_BEGIN, README_END, readme_markdown(files))


def main(argv: list[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
