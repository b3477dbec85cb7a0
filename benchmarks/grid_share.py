"""Training share of notebook 01's grid: a backup at every logged point (before) vs at most every 30 s (after).

Both variants train the same grid (``cnnkit.studies.depth``, 01's quick preset unless told otherwise), each in a
fresh process of its own with the same number of worker processes, one after the other in one run of this
script; only the backup interval differs (``CNNKIT_BACKUP_SECONDS``: 0 before, the default after). The share of
the machine's CPU time (wall × cores) spent in steady-state training steps and the run-iterations per
wall-second come from the run records, computed by :func:`cnnkit.ablation.efficiency` exactly as ``cnnkit demo``
prints them; the wall time is the process's, imports included. The last line gives after / before.

    python benchmarks/grid_share.py                        # 01's quick grid, both variants (~12 min on 2 cores)
    python benchmarks/grid_share.py --smoke                # seconds: depths 8 and 14, one seed, 10 iterations
    python benchmarks/grid_share.py --iterations 100 --seeds 0 1 --workers 1

Wall times swing with the machine's load: compare the ratio of one run, not numbers of different runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = {"before": {"CNNKIT_BACKUP_SECONDS": "0"}, "after": {}}  # the environment each variant adds
SMOKE = {"depths": [8, 14], "seeds": [0], "subset": 256, "eval_subset": 64, "width": 4, "iterations": 10,
         "log_every": 5, "warmup_steps": 2}


def train(params: dict, root: str, workers: int) -> None:
    """Train 01's grid with ``params`` (changes to ``depth.Params()``) under ``root``."""
    from cnnkit.studies import depth

    depth.run(depth.Params().replace(**params), root, workers=workers)


def measure(variant: str, params: dict, root: Path, workers: int) -> dict:
    """Train the grid for ``variant`` in a fresh process and read its efficiency from the run records."""
    from cnnkit.ablation.efficiency import efficiency

    env = {k: v for k, v in os.environ.items() if k != "CNNKIT_BACKUP_SECONDS"}
    env.update(VARIANTS[variant])
    start = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--child", json.dumps(params), str(root), str(workers)], env=env,
                   check=True)
    wall = time.perf_counter() - start
    e = efficiency([root], wall)
    return {"variant": variant, "wall_s": wall, "share": e.share, "train_s": e.train_seconds, "runs": e.runs,
            "run_iterations_per_s": e.iterations_per_second}


def table(rows: list[dict]) -> str:
    """The rows and the after / before ratios, as text."""
    lines = [f"{'variant':8} {'wall s':>8} {'share':>7} {'train s':>8} {'runs':>5} {'run-it/s':>9}"]
    lines += [f"{r['variant']:8} {r['wall_s']:8.1f} {100 * r['share']:6.1f}% {r['train_s']:8.1f} {r['runs']:5d} "
              f"{r['run_iterations_per_s']:9.1f}" for r in rows]
    by = {r["variant"]: r for r in rows}
    if {"before", "after"} <= set(by):
        a, b = by["after"], by["before"]
        lines.append(f"after / before: wall {a['wall_s'] / b['wall_s']:.2f}x, share "
                     f"{a['share'] / b['share']:.2f}x, run-iterations per second "
                     f"{a['run_iterations_per_s'] / b['run_iterations_per_s']:.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="a grid of seconds (depths 8 and 14, one seed)")
    p.add_argument("--iterations", type=int, help="training iterations per run (a multiple of 01's log_every)")
    p.add_argument("--seeds", type=int, nargs="+", help="seeds of the grid (01's quick preset: 0 1 2)")
    p.add_argument("--workers", type=int, default=2, help="worker processes of the grid (default 2)")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--out", help="write the rows as JSON here")
    p.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        params, root, workers = args.child
        train(json.loads(params), root, int(workers))
        return 0
    params = dict(SMOKE) if args.smoke else {}
    params.update({k: v for k, v in (("iterations", args.iterations), ("seeds", args.seeds)) if v is not None})
    with tempfile.TemporaryDirectory(prefix="grid_share_") as tmp:
        rows = [measure(v, params, Path(tmp) / v, args.workers) for v in args.variants]
    print(f"notebook 01's grid ({params or 'quick preset'}), {args.workers} workers, {os.cpu_count()} cores")
    print(table(rows))
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
