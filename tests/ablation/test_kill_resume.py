"""A real grid, a real SIGKILL in the middle of a run, a re-run: nothing lost, nothing duplicated.

Two runs of three epochs on tiny synthetic data. The first process is killed (SIGKILL, no
clean-up) at the end of the second epoch of the *second* run; the re-run must skip the
finished run, resume the interrupted one from its epoch checkpoint (train only epochs 2-3),
and leave one record per run with a continuous history. A third variant diverges (huge lr;
plain SGD, as Adam's normalised steps keep the loss finite) and is recorded as such while the grid goes on.
"""

import json
import subprocess
import sys
import textwrap

import pytest

from cnnkit.ablation import Results

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent('''
    import json, os, signal, sys
    import keras
    from cnnkit.ablation import Experiment, run_experiment

    root, log, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])

    class Recorder(keras.callbacks.Callback):
        """Logs every trained epoch; SIGKILLs this process at the kill_at-th epoch end overall."""
        count = 0

        def on_epoch_end(self, epoch, logs=None):
            Recorder.count += 1
            with open(log, "a") as fh:
                fh.write(json.dumps({"pid": os.getpid(), "epoch": epoch}) + "\\n")
            if Recorder.count == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    base = {"model": "resnet_cifar", "model_options": {"depth": 8, "width": 4}, "dataset": "synthetic",
            "data_options": {"image_shape": [8, 8, 1], "num_classes": 2}, "subset": 64, "epochs": 3,
            "batch_size": 16, "recipe": "adam"}
    exp = Experiment("kill", base, variants={"a": {}, "b": {"model_options.depth": 14},
                                             "nan": {"optimizer": "sgd", "lr": 1e12}}, seeds=(0,))
    run_experiment(exp, root=root, train_kwargs={"callbacks": [Recorder()], "verbose": 0})
''')


def run(tmp_path, kill_at):
    script = tmp_path / "grid.py"
    script.write_text(SCRIPT)
    return subprocess.run([sys.executable, str(script), str(tmp_path / "runs"), str(tmp_path / "epochs.log"),
                           str(kill_at)], capture_output=True, text=True, timeout=600)


def test_sigkill_mid_grid_then_resume(tmp_path):
    first = run(tmp_path, kill_at=5)           # run a: epochs 0,1,2; run b: killed after epoch 1
    assert first.returncode == -9, first.stderr[-2000:]
    second = run(tmp_path, kill_at=10**6)
    assert second.returncode == 0, second.stderr[-2000:]

    lines = [json.loads(line) for line in (tmp_path / "epochs.log").read_text().splitlines()]
    pids = sorted({d["pid"] for d in lines}, key=[d["pid"] for d in lines].index)
    epochs_second = [d["epoch"] for d in lines if d["pid"] == pids[1]]
    # the re-run trains only the rest of run b (resumed from its epoch-1 backup), then the NaN run
    assert epochs_second[:2] == [1, 2], epochs_second

    results = Results(tmp_path / "runs", "kill")
    runs = results.runs().set_index("variant")
    assert sorted(runs.index) == ["a", "b", "nan"]                    # each run exactly once
    assert runs.loc["a", "status"] == "done" and runs.loc["b", "status"] == "done"
    assert runs.loc["nan", "status"] == "diverged"
    hist = results.history()
    for variant in ("a", "b"):
        epochs = sorted(hist[(hist.variant == variant) & (hist.metric == "loss") & (hist.split == "train")].epoch)
        assert epochs == [1, 2, 3]                                     # continuous, no duplicate
    store = tmp_path / "runs" / "kill"
    assert sorted(p.name for p in (store / "runs").iterdir()) == ["a__s0.json", "b__s0.json", "nan__s0.json"]
    leftovers = [p for p in store.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".")]
    assert leftovers == []
