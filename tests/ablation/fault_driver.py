"""Driver of test_fault_injection.py: SIGKILL a real grid at >= 20 points, then run it with parallel runners.

``python fault_driver.py REPORT.json WORKDIR [SEED]`` imports Keras/TensorFlow once and never
runs a backend op itself; every runner is a *forked child* (a real process: SIGKILL hits it and
its pid dies, so its claims go stale), so a kill/restart cycle costs a fork and one tiny
``cnnkit.train.fit`` instead of a Python + TensorFlow start (about 5 s each).

Phases, each in its own store root:

1. **torture**: cycle after cycle, fork a runner on the grid and kill it. Hooked kill points:
   the child SIGKILLs itself at the first occurrence of a chosen *fault point* (a monkeypatched
   ``os.replace``/``os.link``/``save_weights``/``CSVLogger``/``Store.remove_work_dir`` and a Keras
   callback, see :data:`HOOKED`: inside an epoch, while saving a checkpoint, while writing a
   run record, while claiming, while cleaning up); timed kill points: the parent SIGKILLs the
   child after a seeded random delay. Whenever a child finishes the grid before enough kills,
   the grid gets one more seed. Then children run until one finishes the grid.
2. **reference**: one child trains the final grid into a fresh root, uninterrupted.
3. **concurrent**: three children start at once on the final grid in a third root.

Every ``train_fn`` call appends ``{"phase", "pid", "run"}`` to an execution log, and every epoch it
starts ``{…, "epoch"}`` to an epoch log. The report lists kill points survived (point, pid, signal),
per-phase execution and epoch logs, roots and times; the test checks the stores. Training uses eager execution (``run_eagerly``, patched into
``Model.compile``) to skip the one-second graph trace per restart; the store, claim, checkpoint
and CSV code is cnnkit's own, untouched. Data: 8 fixed images in 2 batches, not shuffled,
so a resumed run computes exactly what an uninterrupted one does.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
import traceback
import types
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402  (imported once, before any fork; no backend op runs in this process)
import numpy as np  # noqa: E402

import cnnkit.ablation.store as store_mod  # noqa: E402
import cnnkit.models  # noqa: E402,F401  (the children's model build would import every model module)
from cnnkit.ablation import Experiment, run_experiment  # noqa: E402
from cnnkit.train import fit  # noqa: E402

EPOCHS, BATCHES = 3, 2
BASE = {"model": "lenet5", "model_options": {"width": 0.25}, "dataset": "synthetic", "epochs": EPOCHS,
        "batch_size": 4, "recipe": "adam", "optimizer": "sgd", "lr": 0.05, "jit_compile": False,
        "eval_test": False}
VARIANTS = {"a": {}, "b": {"lr": 0.02}}
HOOKED = ("train:begin", "train:batch", "train:epoch_end", "csv:row_written", "ckpt:torn_tmp",
          "ckpt_weights:before_rename", "ckpt_weights:after_rename", "ckpt_meta:before_rename",
          "ckpt_meta:after_rename", "record:before_rename", "record:after_rename", "claim:before_link",
          "claim:after_link", "workdir:before_remove", "workdir:mid_remove", "work_config:before_rename",
          "work_result:before_rename", "csv_rewrite:before_rename")
TARGET_KILLS, MAX_CYCLES, CHILD_TIMEOUT = 24, 60, 240.0
MIN_TIMED = 5  # of those kills, at least this many at random moments (a timed attempt can miss: it then repeats)
CLAIM_TIMEOUT = 10.0


def experiment(seeds) -> Experiment:
    return Experiment("torture", BASE, variants=VARIANTS, seeds=tuple(seeds))


class Batches(keras.utils.PyDataset):
    """Two fixed batches of 4 images (12x12x1, 2 classes), the same order every epoch."""

    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(0)
        self.x = rng.random((8, 12, 12, 1), dtype=np.float32)
        self.y = (self.x.mean(axis=(1, 2, 3)) > 0.5).astype("int32")

    def __len__(self) -> int:
        return BATCHES

    def __getitem__(self, i):
        return self.x[4 * i:4 * i + 4], self.y[4 * i:4 * i + 4]


class EpochLog(keras.callbacks.Callback):
    """Logs the start of every trained epoch (0-based, as Keras counts): a resumed run starts past 0."""

    def __init__(self, path: str, entry: dict):
        super().__init__()
        self.path, self.entry = path, entry

    def on_epoch_begin(self, epoch, logs=None):
        _append(self.path, {**self.entry, "epoch": epoch})


def logged_fit(config, *, workdir, exec_log, epoch_log, phase, callbacks=(), **kwargs):
    """``cnnkit.train.fit`` that first logs the call (phase, pid, run id), then every epoch it starts."""
    entry = {"phase": phase, "pid": os.getpid(), "run": Path(workdir).name}
    _append(exec_log, entry)
    data = {"train": Batches(), "val": None,
            "info": types.SimpleNamespace(num_classes=2, image_shape=(12, 12, 1))}
    return fit(config, workdir=workdir, data=data, callbacks=[*callbacks, EpochLog(epoch_log, entry)], **kwargs)


def _append(path, obj) -> None:
    with open(path, "a") as fh:
        fh.write(json.dumps(obj) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


# --- in the child: fault points ----------------------------------------------------------------
class Faults:
    """Counts fault points; SIGKILLs this process at the first occurrence of ``target``."""

    def __init__(self, target: str | None, kill_log: str):
        self.target, self.kill_log = target, kill_log

    def hit(self, point: str, before_kill=None) -> None:
        if point != self.target:
            return
        if before_kill is not None:
            before_kill()
        _append(self.kill_log, {"point": point, "pid": os.getpid()})
        os.kill(os.getpid(), signal.SIGKILL)


def _category(path) -> str:
    path = str(path)
    name = os.path.basename(path)
    if f"{os.sep}claims{os.sep}" in path:
        return "claim"
    if f"{os.sep}runs{os.sep}" in path and name.endswith(".json"):
        return "record"
    if name == "training_metadata.json":
        return "ckpt_meta"
    if name.endswith(".weights.h5"):
        return "ckpt_weights"
    return {"history.csv": "csv_rewrite", "config.json": "work_config", "result.json": "work_result"}.get(name, "other")


def install(faults: Faults) -> keras.callbacks.Callback:
    """Monkeypatch the fault points into this process; return the in-training callback."""
    replace, link = os.replace, os.link

    def patched_replace(src, dst, *args, **kwargs):
        faults.hit(f"{_category(dst)}:before_rename")
        replace(src, dst, *args, **kwargs)
        faults.hit(f"{_category(dst)}:after_rename")

    def patched_link(src, dst, *args, **kwargs):
        faults.hit(f"{_category(dst)}:before_link")
        link(src, dst, *args, **kwargs)
        faults.hit(f"{_category(dst)}:after_link")

    os.replace, os.link = patched_replace, patched_link

    save_weights = keras.Model.save_weights

    def torn_save_weights(self, filepath, *args, **kwargs):
        save_weights(self, filepath, *args, **kwargs)
        faults.hit("ckpt:torn_tmp", before_kill=lambda: os.truncate(filepath, os.path.getsize(filepath) // 2))

    keras.Model.save_weights = torn_save_weights

    csv_epoch_end = keras.callbacks.CSVLogger.on_epoch_end

    def csv_row(self, epoch, logs=None):
        csv_epoch_end(self, epoch, logs)
        faults.hit("csv:row_written")

    keras.callbacks.CSVLogger.on_epoch_end = csv_row

    remove = store_mod.Store.remove_work_dir

    def remove_work_dir(self, run_id):
        faults.hit("workdir:before_remove")
        if (self.work_dir(run_id) / "history.csv").exists():
            (self.work_dir(run_id) / "history.csv").unlink()
            faults.hit("workdir:mid_remove")
        remove(self, run_id)

    store_mod.Store.remove_work_dir = remove_work_dir

    compile_ = keras.Model.compile

    def eager_compile(self, *args, **kwargs):
        compile_(self, *args, **{**kwargs, "run_eagerly": True, "jit_compile": False})

    keras.Model.compile = eager_compile

    class InTraining(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            faults.hit("train:begin")

        def on_train_batch_end(self, batch, logs=None):
            faults.hit("train:batch")

        def on_epoch_end(self, epoch, logs=None):
            faults.hit("train:epoch_end")

    return InTraining()


def child(root: str, seeds, phase: str, target: str | None, logs: dict) -> None:
    """Body of a forked runner: run the grid (maybe killing itself), then ``os._exit``."""
    code = 0
    try:
        callback = install(Faults(target, logs["kills"]))
        kwargs = {"exec_log": logs["exec"], "epoch_log": logs["epochs"], "phase": phase, "verbose": 0,
                  "callbacks": [callback]}
        run_experiment(experiment(seeds), root=root, train_fn=logged_fit, train_kwargs=kwargs, progress=False,
                       claim_timeout=CLAIM_TIMEOUT)
    except BaseException:  # noqa: BLE001 - report and exit non-zero; the parent fails the run
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


# --- in the parent -------------------------------------------------------------------------------
def spawn(root, seeds, phase, logs, target=None) -> int:
    pid = os.fork()
    if pid == 0:
        child(root, seeds, phase, target, logs)
    return pid


def reap(pid: int, *, kill_after: float | None = None) -> int:
    """Wait for ``pid`` (SIGKILL it after ``kill_after`` s); return its wait status."""
    start = time.monotonic()
    killed = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        elapsed = time.monotonic() - start
        if kill_after is not None and not killed and elapsed >= kill_after:
            os.kill(pid, signal.SIGKILL)
            killed = True
        if elapsed > CHILD_TIMEOUT:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise RuntimeError(f"runner {pid} hung for {CHILD_TIMEOUT:.0f} s")
        time.sleep(0.005)


def torture(root: str, logs: dict, rng: random.Random) -> dict:
    """Kill-and-restart cycles until TARGET_KILLS kills, MIN_TIMED of them timed, then finish the grid."""
    seeds, kills, misses, plan = [0], [], [], []
    cycles = 0

    def timed() -> int:
        return sum(k["point"].startswith("timer:") for k in kills)

    while len(kills) < TARGET_KILLS or timed() < MIN_TIMED:
        cycles += 1
        if cycles > MAX_CYCLES:
            raise RuntimeError(f"only {len(kills)} kills in {MAX_CYCLES} cycles")
        if not plan:  # every hooked point once, in a seeded order, and a timed kill after every third
            hooked = [p for p in rng.sample(HOOKED, len(HOOKED)) if p != "csv_rewrite:before_rename"]
            # the CSV is rewritten only when a run resumes from a backup: right after a kill that leaves one
            hooked.insert(hooked.index("ckpt_meta:after_rename") + 1, "csv_rewrite:before_rename")
            plan = [p for i, point in enumerate(hooked) for p in ([point, None] if i % 3 == 2 else [point])]
        target = plan.pop(0)
        delay = rng.uniform(0.05, 1.0) if target is None else None
        pid = spawn(root, seeds, "torture", logs, target)
        status = reap(pid, kill_after=delay)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            kills.append({"pid": pid, "point": target or f"timer:{delay:.2f}s"})
        elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:  # finished the grid first: grow it
            misses.append(target or f"timer:{delay:.2f}s")
            seeds.append(len(seeds))
        else:
            raise RuntimeError(f"runner {pid} failed (wait status {status})")
    finishing = 0
    while True:
        finishing += 1
        status = reap(spawn(root, seeds, "torture", logs))
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            break
        if finishing >= 3:
            raise RuntimeError(f"the grid did not finish after the kills (wait status {status})")
    return {"kills": kills, "misses": misses, "cycles": cycles, "finishing_runs": finishing, "seeds": seeds}


def _phase(report: dict, name: str, body):
    """Run ``body()``, recording its wall time and its children's CPU time in the report."""
    wall, cpu = time.perf_counter(), os.times()
    result = body()
    after = os.times()
    report["seconds"][name] = round(time.perf_counter() - wall, 2)
    report["cpu_seconds"][name] = round(after.children_user + after.children_system
                                        - cpu.children_user - cpu.children_system, 2)
    return result


def main(report_path: str, workdir: str, seed: int = 0) -> None:
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    logs = {"exec": str(work / "exec.log"), "epochs": str(work / "epochs.log"), "kills": str(work / "kills.log")}
    roots = {p: str(work / p) for p in ("torture", "reference", "concurrent")}
    report = {"roots": roots, "seconds": {}, "cpu_seconds": {}}
    report["torture"] = _phase(report, "torture", lambda: torture(roots["torture"], logs, random.Random(seed)))
    seeds = report["torture"]["seeds"]
    report["reference_status"] = _phase(report, "reference", lambda: reap(spawn(roots["reference"], seeds,
                                                                                 "reference", logs)))

    def concurrent():
        pids = [spawn(roots["concurrent"], seeds, "concurrent", logs) for _ in range(3)]
        return {"pids": pids, "status": [reap(pid) for pid in pids]}

    report["concurrent"] = _phase(report, "concurrent", concurrent)
    report["exec"] = [json.loads(line) for line in Path(logs["exec"]).read_text().splitlines()]
    report["epochs"] = [json.loads(line) for line in Path(logs["epochs"]).read_text().splitlines()]
    report["kill_log"] = [json.loads(line) for line in Path(logs["kills"]).read_text().splitlines()]
    Path(report_path).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)
