"""The hostile inputs cnnkit must answer with one clear error: the table behind docs/hostile-inputs.md.

Each :class:`Case` is one bad input. ``act(tmp)`` performs it inside a scratch folder (after
``setup(tmp)`` wrote any files it needs): an API case calls cnnkit and is expected to raise
``error``; a CLI case returns the argv for :func:`cnnkit.cli.main` and is expected to exit
with ``exit_code`` without printing a Python traceback. ``mentions`` are substrings the
message must hold: the bad value and what is allowed.

tests/test_hostile_inputs.py runs every case; ``python tests/hostile_cases.py`` rewrites the
table in docs/hostile-inputs.md from what the cases print today, so the two cannot drift.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import io
import json
import os
import pickle
import re
import struct
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = str(REPO / "notebooks" / "01_depth_degradation.ipynb")
DOC = REPO / "docs" / "hostile-inputs.md"


@dataclasses.dataclass(frozen=True)
class Case:
    """One bad input and the error it must give."""

    id: str
    area: str
    input: str                              # what the user wrote, as they would write it
    act: Callable[[Path], Any]              # API: performs it; CLI: returns the argv
    mentions: tuple[str, ...]               # the message must contain each (bad value, what is allowed)
    # API: expected exception type (or its name); "warning": the call goes on and prints a warning;
    # None: the call succeeds (a recovery case), its printed output is the message.
    error: type | str | None = ValueError
    exit_code: int | None = None            # CLI: expected exit status (an int marks a CLI case)
    setup: Callable[[Path], None] | None = None
    env: dict[str, str] = dataclasses.field(default_factory=dict)  # "{tmp}" is the scratch folder
    may_change: tuple[str, ...] = ()        # files (relative to tmp) the case may rewrite on purpose

    @property
    def cli(self) -> bool:
        return self.exit_code is not None


@dataclasses.dataclass
class Outcome:
    """What a case did: the exception (API) or the exit status and output (CLI)."""

    error: BaseException | None = None
    exit_code: int | None = None
    stderr: str = ""
    output: str = ""  # API: what the call printed (stdout, then stderr)

    @property
    def message(self) -> str:
        if self.error is not None:
            return str(self.error)
        return self.stderr if self.exit_code is not None else self.output

    def first_line(self, tmp: Path) -> str:
        text = re.sub(rf"\.{os.getpid()}@[A-Za-z0-9_-]+", ".<pid>@<host>", self.message.replace(str(tmp), "<tmp>"))
        lines = [line for line in text.splitlines() if line.strip()]
        if self.exit_code is not None:  # argparse prints its usage first; the error is the last line
            lines = [line for line in lines if "error:" in line] or lines
        return lines[0] if lines else ""


# --- files for the cases ---------------------------------------------------------------------------
def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)  # the same bytes every time


def _idx(array: np.ndarray, type_byte: int = 0x08) -> bytes:
    return bytes([0, 0, type_byte, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def _fashion_files(tmp: Path, *, corrupt: str | None = None, payload: bytes = b"") -> None:
    """A tiny valid Fashion-MNIST under tmp/data/fashion-mnist (10 images per split), one file replaced."""
    folder = tmp / "data" / "fashion-mnist"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for split in ("train", "t10k"):
        images = rng.integers(0, 255, (10, 28, 28), dtype=np.uint8)
        labels = np.arange(10, dtype=np.uint8)
        (folder / f"{split}-images-idx3-ubyte.gz").write_bytes(_gz(_idx(images)))
        (folder / f"{split}-labels-idx1-ubyte.gz").write_bytes(_gz(_idx(labels)))
    if corrupt:
        (folder / corrupt).write_bytes(payload)


def _truncated_gz(tmp: Path) -> None:
    whole = _gz(_idx(np.zeros((10, 28, 28), np.uint8)))
    _fashion_files(tmp, corrupt="train-images-idx3-ubyte.gz", payload=whole[: len(whole) // 2])


def _bad_magic(tmp: Path) -> None:
    _fashion_files(tmp, corrupt="train-labels-idx1-ubyte.gz", payload=_gz(b"PK\x03\x04" + bytes(60)))


def _short_idx(tmp: Path) -> None:
    _fashion_files(tmp, corrupt="t10k-images-idx3-ubyte.gz",
                   payload=_gz(_idx(np.zeros((10, 28, 28), np.uint8))[:-100]))


def _label_count(tmp: Path) -> None:
    _fashion_files(tmp, corrupt="train-labels-idx1-ubyte.gz", payload=_gz(_idx(np.arange(9, dtype=np.uint8))))


def cifar10_files(data_dir: Path, per_batch: int = 10, test: int = 10) -> Path:
    """A valid CIFAR-10 python-pickle folder ``data_dir/cifar-10-batches-py`` (data_batch_1..5, test_batch,
    batches.meta) of random images, labels cycling through the 10 classes; returns the folder."""
    folder = data_dir / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name, n in (*((f"data_batch_{i}", per_batch) for i in range(1, 6)), ("test_batch", test)):
        batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": [j % 10 for j in range(n)]}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [b"c%d" % i for i in range(10)]}))
    return folder


def _cifar_files(tmp: Path, *, corrupt: str, payload: bytes) -> None:
    (cifar10_files(tmp / "data") / corrupt).write_bytes(payload)


def _cifar_truncated(tmp: Path) -> None:
    whole = pickle.dumps({b"data": np.zeros((10, 3072), np.uint8), b"labels": list(range(10))})
    _cifar_files(tmp, corrupt="data_batch_3", payload=whole[: len(whole) // 2])


def _cifar_wrong_shape(tmp: Path) -> None:
    _cifar_files(tmp, corrupt="test_batch",
                 payload=pickle.dumps({b"data": np.zeros((10, 32, 32, 3), np.uint8), b"labels": list(range(10))}))


def _old_store(tmp: Path) -> None:
    """A results store written by an older cnnkit (schema version 0), one finished run in it."""
    exp = tmp / "runs" / "depth_degradation"
    (exp / "runs").mkdir(parents=True)
    (exp / "experiment.json").write_text(json.dumps({"name": "depth_degradation", "schema_version": 0}))
    (exp / "runs" / "plain-20__s0.json").write_text(json.dumps({"run_id": "plain-20__s0", "status": "done",
                                                                  "schema_version": 0}))


def _other_base_store(tmp: Path) -> None:
    from cnnkit.ablation import Experiment
    from cnnkit.ablation.store import Store

    exp = Experiment("ex", {"model": "lenet5", "epochs": 1}, seeds=(0,))
    Store(tmp / "runs", "ex").write_experiment({**exp.to_dict(), "cnnkit_version": "0"})


def _grid_train(config, *, workdir):
    """A train function for the failing-run cases: ``cifar10`` runs read the data set (and fail
    with the data layer's own error where it is missing), the run lr=0.5 seed 1 raises, others finish."""
    if config.lr == 0.5 and config.seed == 1:
        raise RuntimeError("boom: this run's train step raised")
    if config.dataset == "cifar10":
        from cnnkit.data.sources import raw_data

        raw_data("cifar10")
    return {"status": "done", "history": [{"epoch": 0, "loss": 1.0, "error": 0.5}], "final": {"test_error": 0.5}}


def _grid(tmp: Path, grid: dict, require: str = "all-variants", progress: bool = False):
    from cnnkit.ablation import Experiment, run_experiment

    exp = Experiment("grid", {"model": "lenet5", "epochs": 1}, grid=grid, seeds=(0, 1))
    return run_experiment(exp, root=tmp / "runs", train_fn=_grid_train, progress=progress, require=require)


def _failed_then_fixed(tmp: Path) -> None:
    """A store whose cifar10 runs failed (data set missing), then the fix: the CIFAR-10 files added."""
    with _environment(_DATA_ENV, tmp):
        _grid(tmp, {"dataset": ["fashion_mnist", "cifar10"]}, require="nothing")
    cifar10_files(tmp / "data")


def _a_file(tmp: Path) -> None:
    (tmp / "taken").write_text("a file, not a folder\n")


# --- actions ----------------------------------------------------------------------------------------
def _config(**kwargs) -> Callable[[Path], Any]:
    def act(tmp: Path):
        from cnnkit.train.config import RunConfig

        return RunConfig.from_dict(kwargs)
    return act


def _build(name: str, **kwargs) -> Callable[[Path], Any]:
    def act(tmp: Path):
        from cnnkit import models

        return models.build(name, **kwargs)
    return act


def _load(name: str, **kwargs) -> Callable[[Path], Any]:
    def act(tmp: Path):
        from cnnkit import data

        return data.load_arrays(name, **kwargs)
    return act


def _run(*args: str) -> Callable[[Path], list[str]]:
    return lambda tmp: [a.format(tmp=tmp) for a in args]


def _factory(kind: str, name: str) -> Callable[[Path], Any]:
    def act(tmp: Path):
        from cnnkit.layers import factories

        return getattr(factories, f"get_{kind}")(name)
    return act


def _depth_study(tmp: Path):
    from cnnkit.studies import depth

    return depth.Params(depths=[21, 56])


def _run_experiment(base: dict, root: str = "runs") -> Callable[[Path], Any]:
    def act(tmp: Path):
        from cnnkit.ablation import Experiment, run_experiment

        return run_experiment(Experiment("ex", base, seeds=(0,)), root=tmp / root, progress=False,
                              train_fn=lambda cfg, **kw: {"status": "done"})
    return act


def _old_results(tmp: Path):
    from cnnkit.ablation import Experiment, run_experiment

    exp = Experiment("depth_degradation", {"model": "lenet5", "epochs": 1}, seeds=(0,))
    return run_experiment(exp, root=tmp / "runs", progress=False, train_fn=lambda cfg, **kw: {"status": "done"})


def _old_results_read(tmp: Path):
    from cnnkit.ablation import Results

    return Results(tmp / "runs", "depth_degradation").runs()


def _fit_shapes(tmp: Path):
    from cnnkit.train import fit

    x, y = np.zeros((8, 28, 28, 1), "float32"), np.zeros(8, "int32")
    return fit({"model": "lenet5", "epochs": 1, "batch_size": 4}, verbose=0,
               data={"train": (x, y), "val": (np.zeros((4, 32, 32, 3), "float32"), y[:4])})


def _fit_workdir(tmp: Path):
    from cnnkit.train import fit

    (tmp / "work" / "backup").mkdir(parents=True)
    (tmp / "work" / "backup" / "training_metadata.json").write_text('{"epoch": 1}')
    (tmp / "work" / "config.json").write_text('{"model": "resnet20"}')
    return fit({"model": "lenet5", "epochs": 1}, workdir=tmp / "work", verbose=0)


_DATA_ENV = {"CNNKIT_DATA_DIR": "{tmp}/data", "KERAS_HOME": "{tmp}/keras", "CNNKIT_OFFLINE": "1"}
_RERUN_CHANGES = tuple(f"runs/grid/runs/dataset=cifar10__s{seed}.json" for seed in (0, 1))

CASES: list[Case] = [
    # --- notebook parameters through the CLI (cnnkit run) ---
    Case("cli-param-type", "cli", "cnnkit run 01_depth_degradation.ipynb -p batch_size abc",
         _run("run", NOTEBOOK, "-p", "batch_size", "abc", "--out", "{tmp}/out"), ("'batch_size'", "int", "'abc'"),
         exit_code=2),
    Case("cli-param-range", "cli", "cnnkit run 01_depth_degradation.ipynb -p batch_size -1",
         _run("run", NOTEBOOK, "-p", "batch_size", "-1", "--out", "{tmp}/out"), ("batch_size", ">= 1", "-1"),
         exit_code=2),
    Case("cli-param-unknown", "cli", "cnnkit run 01_depth_degradation.ipynb -p batch 64",
         _run("run", NOTEBOOK, "-p", "batch", "64", "--out", "{tmp}/out"), ("'batch'", "batch_size"), exit_code=2),
    Case("cli-param-choice", "cli", "cnnkit run 01_depth_degradation.ipynb -p dataset cifar11",
         _run("run", NOTEBOOK, "-p", "dataset", "cifar11", "--out", "{tmp}/out"), ("'cifar11'", "'cifar10'"),
         exit_code=2),
    Case("cli-param-syntax", "cli", "cnnkit run 01_depth_degradation.ipynb -p epochs=3",
         _run("run", NOTEBOOK, "-p", "epochs=3"), ("-p", "expected 2 arguments"), exit_code=2),
    Case("cli-preset-unknown", "cli", "cnnkit run 01_depth_degradation.ipynb --preset fast",
         _run("run", NOTEBOOK, "--preset", "fast"), ("'fast'", "smoke", "quick", "paper"), exit_code=2),
    Case("cli-notebook-missing", "cli", "cnnkit run no_such.ipynb",
         _run("run", "{tmp}/no_such.ipynb", "--out", "{tmp}/out"), ("no_such.ipynb",), exit_code=2),
    Case("cli-out-not-writable", "cli", "cnnkit run 01_depth_degradation.ipynb --out <a file>/reports",
         _run("run", NOTEBOOK, "--preset", "smoke", "--out", "{tmp}/taken/reports"), ("taken", "--out"),
         exit_code=2, setup=_a_file),
    Case("cli-report-missing", "cli", "cnnkit report no_such_folder",
         _run("report", "{tmp}/no_such_folder"), ("no_such_folder", "cnnkit run"), exit_code=2),
    Case("cli-command-unknown", "cli", "cnnkit train", _run("train"), ("'train'", "run", "demo"), exit_code=2),
    Case("cli-data-missing", "cli",
         "cnnkit run 01_depth_degradation.ipynb --preset smoke -p dataset cifar10 (no CIFAR files, CNNKIT_OFFLINE=1)",
         _run("run", NOTEBOOK, "--preset", "smoke", "-p", "dataset", "cifar10", "--out", "{tmp}/out"),
         ("01_depth_degradation.ipynb", "'cifar10' not found", "$CNNKIT_DATA_DIR: ",
          "/data (looked in cifar-10-batches-py/", "Keras cache", "cifar-10-python.tar.gz", "-p dataset fashion_mnist"),
         exit_code=2, env=_DATA_ENV),
    # --- the run config (RunConfig; notebooks, grids and papermill parameters all go through it) ---
    Case("config-key-unknown", "config", "RunConfig.from_dict({'epoch': 3})", _config(epoch=3),
         ("'epoch'", "did you mean 'epochs'", "Valid keys")),
    Case("config-type", "config", "RunConfig(epochs='abc')", _config(epochs="abc"), ("epochs='abc'", "int")),
    Case("config-range", "config", "RunConfig(epochs=-1)", _config(epochs=-1), ("epochs", ">= 1", "-1")),
    Case("config-fraction", "config", "RunConfig(val_fraction=1.5)", _config(val_fraction=1.5),
         ("val_fraction", "(0, 1)", "1.5")),
    Case("config-lr", "config", "RunConfig(lr=0)", _config(lr=0), ("lr", "> 0", "0.0")),
    Case("model-unknown", "config", "RunConfig(model='resnet21')", _config(model="resnet21"),
         ("'resnet21'", "resnet20")),
    Case("model-option-unknown", "config", "RunConfig(model_options={'dept': 20})",
         _config(model_options={"dept": 20}), ("'dept'", "depth")),
    Case("dataset-unknown", "config", "RunConfig(dataset='cifar11')", _config(dataset="cifar11"),
         ("'cifar11'", "cifar10")),
    Case("optimizer-unknown", "config", "RunConfig(optimizer='adamm')", _config(optimizer="adamm"),
         ("'adamm'", "adam")),
    Case("schedule-unknown", "config", "RunConfig(schedule='cosinus')", _config(schedule="cosinus"),
         ("'cosinus'", "cosine")),
    Case("augment-unknown", "config", "RunConfig(augment='flip')", _config(augment="flip"),
         ("'flip'", "resnet_cifar")),
    Case("recipe-unknown", "config", "RunConfig(recipe='imagenet')", _config(recipe="imagenet"),
         ("'imagenet'", "resnet_cifar")),
    Case("precision-unknown", "config", "RunConfig(mixed_precision='fp16')", _config(mixed_precision="fp16"),
         ("'fp16'", "mixed_float16")),
    Case("momentum-without", "config", "RunConfig(optimizer='adam', momentum=0.9)",
         _config(optimizer="adam", momentum=0.9), ("'adam'", "momentum", "sgd/momentum/nesterov/rmsprop")),
    Case("schedule-option", "config", "RunConfig(schedule='step', schedule_options={'milestone': [0.5]})",
         _config(schedule="step", schedule_options={"milestone": [0.5]}), ("milestone",)),
    Case("data-option-unknown", "config", "RunConfig(dataset='cifar100', data_options={'labels': 'fine'})",
         _config(dataset="cifar100", data_options={"labels": "fine"}), ("'labels'", "label_mode")),
    Case("distribute-multi-worker", "config", "RunConfig(distribute='multi_worker_mirrored')",
         _config(distribute="multi_worker_mirrored"), ("'multi_worker_mirrored'", "20585", "KERAS_BACKEND=jax")),
    Case("distribute-unknown", "config", "RunConfig(distribute='model_parallel')",
         _config(distribute="model_parallel"), ("'model_parallel'", "data_parallel")),
    # --- model builders ---
    Case("activation-unknown", "model", "build('lenet5', activation='swishy')", _build("lenet5", activation="swishy"),
         ("'swishy'", "relu")),
    Case("activation-factory", "model", "get_activation('swishy')", _factory("activation", "swishy"),
         ("'swishy'", "relu")),
    Case("norm-unknown", "model", "get_norm('bn')", _factory("norm", "bn"), ("'bn'", "batch")),
    Case("depth-resnet", "model", "build('resnet_cifar', depth=21)", _build("resnet_cifar", depth=21),
         ("21", "6n+2", "20")),
    Case("depth-densenet", "model", "build('densenet_bc', depth=50)", _build("densenet_bc", depth=50),
         ("depth=50", "% 6", "100")),
    Case("depth-wrn", "model", "build('wide_resnet', depth=30)", _build("wide_resnet", depth=30),
         ("30", "6n+4", "28")),
    Case("depth-study", "model", "studies.depth.Params(depths=[21, 56])  (notebook 01's depths)", _depth_study,
         ("[21]", "6n+2", "56")),
    Case("width-wrn", "model", "build('wide_resnet', widen_factor=0)", _build("wide_resnet", widen_factor=0),
         ("widen_factor", "0", ">= 1")),
    Case("width-lenet", "model", "build('lenet5', width=-1.0)", _build("lenet5", width=-1.0),
         ("width", "-1.0", "positive")),
    Case("width-mobilenet", "model", "build('mobilenet', alpha=0)", _build("mobilenet", alpha=0), ("alpha", "0", "> 0")),
    Case("input-rank", "model", "build('lenet5', input_shape=(28, 28))", _build("lenet5", input_shape=(28, 28)),
         ("(28, 28)", "(height, width, channels)")),
    Case("input-too-small", "model", "build('resnet_cifar', input_shape=(4, 4, 1))",
         _build("resnet_cifar", input_shape=(4, 4, 1)), ("8x8", "(4, 4, 1)")),
    Case("input-vs-data", "model", "fit(cfg, data={'train': 28x28x1 arrays, 'val': 32x32x3 arrays})", _fit_shapes,
         ("data['val']", "(32, 32, 3)", "(28, 28, 1)")),
    # --- data files ---
    Case("data-missing", "data", "load_arrays('cifar10') with no CIFAR files and CNNKIT_OFFLINE=1",
         _load("cifar10"), ("'cifar10'", "not found", "CNNKIT_DATA_DIR", "cifar-10-python.tar.gz"),
         error=FileNotFoundError, env=_DATA_ENV),
    Case("idx-truncated-gz", "data", "train-images-idx3-ubyte.gz cut in half", _load("fashion_mnist"),
         ("train-images-idx3-ubyte.gz", "truncated gzip", "download it again"), error="DataFormatError",
         setup=_truncated_gz, env=_DATA_ENV),
    Case("idx-bad-magic", "data", "train-labels-idx1-ubyte.gz holding a zip file", _load("fashion_mnist"),
         ("train-labels-idx1-ubyte.gz", "magic number 0x504b0304", "0x00000801"), error="DataFormatError",
         setup=_bad_magic, env=_DATA_ENV),
    Case("idx-short", "data", "t10k-images-idx3-ubyte.gz missing its last 100 bytes", _load("fashion_mnist"),
         ("t10k-images-idx3-ubyte.gz", "truncated", "(10, 28, 28)"), error="DataFormatError",
         setup=_short_idx, env=_DATA_ENV),
    Case("idx-label-count", "data", "train labels file with 9 labels for 10 images", _load("fashion_mnist"),
         ("10 images but 9 labels",), error="DataFormatError", setup=_label_count, env=_DATA_ENV),
    Case("cifar-pickle-truncated", "data", "cifar-10-batches-py/data_batch_3 cut in half", _load("cifar10"),
         ("data_batch_3", "corrupt or truncated CIFAR pickle", "extract the archive again"),
         error="DataFormatError", setup=_cifar_truncated, env=_DATA_ENV),
    Case("cifar-pickle-shape", "data", "cifar-10-batches-py/test_batch with (N, 32, 32, 3) data", _load("cifar10"),
         ("test_batch", "(N, 3072)", "(10, 32, 32, 3)"), error="DataFormatError", setup=_cifar_wrong_shape,
         env=_DATA_ENV),
    Case("folder-missing", "data", "load_arrays('folder', path='no_such_dir')", _load("folder", path="/no_such_dir"),
         ("/no_such_dir", "<class_name>"), error=FileNotFoundError),
    # --- results stores and output folders ---
    Case("store-old-schema", "results", "run_experiment into a store written with schema version 0",
         _old_results, ("schema version 0", "version 1"), error="SchemaError", setup=_old_store),
    Case("store-old-schema-read", "results", "Results(root, name).runs() on a schema-0 store", _old_results_read,
         ("schema version 0", "version 1"), error="SchemaError", setup=_old_store),
    Case("store-other-base", "results", "run_experiment('ex', other base config) into an existing store",
         _run_experiment({"model": "lenet5", "epochs": 2}), ("another base config", "new experiment name"),
         setup=_other_base_store),
    Case("store-not-writable", "results", "run_experiment(..., root=<a file>/runs)",
         _run_experiment({"model": "lenet5"}, root="taken/runs"), ("taken/runs", "Not a directory"), error=OSError,
         setup=_a_file),
    Case("runs-some-failed", "results", "run_experiment: 1 run of a 2 x 2 grid raises, the other 3 finish",
         lambda tmp: _grid(tmp, {"lr": [0.1, 0.5]}),
         ("1 of 4 runs", "RuntimeError: boom", "lr=0.5 seed 1", "failed_runs()", "trained again"), error="warning"),
    Case("runs-variant-failed", "results", "run_experiment: every run of variant dataset=cifar10 fails "
         "(no CIFAR files, CNNKIT_OFFLINE=1)", lambda tmp: _grid(tmp, {"dataset": ["fashion_mnist", "cifar10"]}),
         ("2 of 4 runs", "no run of variant(s) ['dataset=cifar10'] finished", "'cifar10' not found",
          "$CNNKIT_DATA_DIR", "runs/grid/runs/"), error="RunsFailedError", env=_DATA_ENV),
    Case("runs-rerun-after-fix", "results", "run_experiment again after adding the missing CIFAR-10 files",
         lambda tmp: _grid(tmp, {"dataset": ["fashion_mnist", "cifar10"]}, progress=True),
         ("dataset=fashion_mnist seed 0: already done, skipped", "dataset=cifar10 seed 1: done"), error=None,
         setup=_failed_then_fixed, env=_DATA_ENV, may_change=_RERUN_CHANGES),
    Case("workdir-other-config", "results", "fit(cfg, workdir=<a workdir holding another run's backup>)",
         _fit_workdir, ("different run config", "fresh workdir")),
]


# --- running a case ---------------------------------------------------------------------------------
def environment(case: Case, tmp: Path):
    """Set the case's environment variables ({tmp} filled in) and restore them afterwards."""
    return _environment(case.env, tmp)


@contextlib.contextmanager
def _environment(env: dict[str, str], tmp: Path):
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update({k: v.format(tmp=tmp) for k, v in env.items()})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def perform(case: Case, tmp: Path, *, setup: bool = True) -> Outcome:
    """Run ``case`` (its setup unless ``setup=False``, environment, action) and report what it did."""
    if setup and case.setup:
        case.setup(tmp)
    with environment(case, tmp):
        if case.cli:
            return _main(case.act(tmp))
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                result = case.act(tmp)
        except Exception as exc:  # noqa: BLE001 - the error is what the case is about
            return Outcome(error=exc, output=out.getvalue() + err.getvalue())
    if getattr(result, "status", None) == "failed":  # fit reports failures in its result
        return Outcome(error=_Reported(result.message))
    return Outcome(output=out.getvalue() + err.getvalue())


class _Reported(Exception):
    """An error ``fit`` caught into ``RunResult(status="failed", message=...)``."""


def _main(argv: list[str]) -> Outcome:
    from cnnkit.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code
    return Outcome(exit_code=code, stderr=err.getvalue())


# --- the table in docs/hostile-inputs.md --------------------------------------------------------------
BEGIN, END = "<!-- cases:begin (python tests/hostile_cases.py) -->", "<!-- cases:end -->"


def table(rows: list[tuple[Case, Outcome, Path]]) -> str:
    """Markdown rows: id, input, error type, first line of the message, CLI exit code."""
    out = ["| id | input | error | message (first line) | exit |", "|---|---|---|---|---|"]
    for case, outcome, tmp in rows:
        kind = ("exit " + str(outcome.exit_code)) if case.cli else _type_name(outcome.error, case)
        line = outcome.first_line(tmp).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
        exit_code = str(outcome.exit_code) if case.cli else "—"
        out.append(f"| `{case.id}` | `{case.input}` | {kind if not case.cli else 'CLI'} | {line} | {exit_code} |")
    return "\n".join(out)


def _type_name(error: BaseException | None, case: Case) -> str:
    if isinstance(error, _Reported):
        return "`RunResult.status='failed'`"
    if error is None and case.error in ("warning", None):
        return "warning (goes on)" if case.error == "warning" else "none: recovers"
    return f"`{type(error).__name__}`" if error is not None else "**none**"


def write_doc() -> None:
    """Run every case in a scratch folder and put the table between the markers of the doc."""
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for case in CASES:
            tmp = Path(scratch) / case.id
            tmp.mkdir()
            rows.append((case, perform(case, tmp), tmp))
        text = DOC.read_text()
        head, rest = text.split(BEGIN, 1)
        DOC.write_text(head + BEGIN + "\n" + table(rows) + "\n" + END + rest.split(END, 1)[1])


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    os.environ.setdefault("CNNKIT_OFFLINE", "1")
    write_doc()
