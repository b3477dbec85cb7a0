"""Hand-made frames shaped like Results.runs() and Results.history(), for the study tests of notebooks 07–08."""

import pandas as pd


def runs_frame(metrics: dict[str, dict[str, list]], status: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """One row per (variant, seed); ``metrics[variant][metric]`` holds the per-seed values."""
    rows = []
    for variant, by_metric in metrics.items():
        n = len(next(iter(by_metric.values())))
        for seed in range(n):
            row = {"experiment": "x", "run_id": f"{variant}__s{seed}", "variant": variant, "seed": seed,
                   "status": (status or {}).get(variant, ["done"] * n)[seed], "error": None, "wall_time": 1.0}
            row.update({m: values[seed] for m, values in by_metric.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def history_frame(steps: dict[str, int], epochs: int = 3) -> pd.DataFrame:
    """Run ``run_id`` trained ``steps[run_id]`` iterations in ``epochs`` epochs (training error 0.5 throughout)."""
    rows = [("x", run_id, run_id.split("__")[0], int(run_id.rsplit("__s", 1)[1]), e, total * e // epochs, "train",
             "error", 0.5) for run_id, total in steps.items() for e in range(1, epochs + 1)]
    return pd.DataFrame(rows, columns=["experiment", "run_id", "variant", "seed", "epoch", "step", "split", "metric",
                                       "value"])
