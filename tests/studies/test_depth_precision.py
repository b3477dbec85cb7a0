"""Is bf16 faithful for notebook 01? On a smoke grid, bf16 must move each net's training error less than the seeds do.

Notebook 01 takes ``mixed_precision`` ("auto": bf16 on a CPU with AMX or AVX-512 BF16; the quick
preset stays float32, see ``depth.Params``). The same grid is trained twice, float32 and mixed_bfloat16 forced, with the same seeds: same
initial weights, same data order. The check, fixed before either was run: for every net the
change of its mean final training error from float32 to bf16 is smaller than the spread of that
error over the seeds in float32 (its standard deviation). A bf16 path that trains differently
(statistics in bf16, a wrong cast, a lost update) moves the means by more than that and fails.
"""

import pandas as pd
import pytest

from cnnkit.ablation import Results
from cnnkit.studies import depth

pytestmark = pytest.mark.slow

# A smoke grid that still has bf16 layers: width 8 gives stages of 8 (float32, narrow), 16 and 32 channels.
GRID = dict(depths=(8, 14), seeds=(0, 1, 2), subset=640, eval_subset=64, width=8, iterations=40, log_every=20,
            batch_size=32, warmup_steps=10)


def final_errors(tmp_path, precision) -> pd.DataFrame:
    results = depth.run(depth.Params(**GRID, mixed_precision=precision), str(tmp_path / str(precision)), workers=1)
    assert isinstance(results, Results)
    runs = results.runs()
    assert (runs["status"] == "done").all(), runs[["variant", "seed", "status", "error"]]
    return runs


def precision_effect(fp32: pd.DataFrame, bf16: pd.DataFrame) -> pd.DataFrame:
    """Per net (the linear floor left out): the float32 → bf16 change of the mean final training error, and the
    float32 seed SD."""
    fp32, bf16 = (frame[frame["variant"] != depth.LINEAR] for frame in (fp32, bf16))
    a = fp32.groupby("variant")["train_error"]
    return pd.DataFrame({"change": bf16.groupby("variant")["train_error"].mean() - a.mean(), "seed_sd": a.std()})


def test_bf16_moves_training_error_less_than_the_seeds_do(tmp_path):
    fp32, bf16 = final_errors(tmp_path, None), final_errors(tmp_path, "mixed_bfloat16")
    assert set(fp32["precision"].str.split().str[0]) == {"float32"}
    assert set(bf16["precision"].str.split().str[0]) == {"mixed_bfloat16"}
    effect = precision_effect(fp32, bf16)
    assert len(effect) == 4 and (effect["seed_sd"] > 0).all()
    assert (effect["change"].abs() < effect["seed_sd"]).all(), effect


def test_the_check_fails_when_bf16_trains_differently():
    fp32 = pd.DataFrame({"variant": ["a"] * 3, "train_error": [0.50, 0.52, 0.54]})
    assert (precision_effect(fp32, fp32.assign(train_error=fp32["train_error"] + 0.01))["change"].abs() < 0.02).all()
    shifted = precision_effect(fp32, fp32.assign(train_error=fp32["train_error"] + 0.05))
    assert not (shifted["change"].abs() < shifted["seed_sd"]).all()
