"""The ``cnnkit`` command line.

Each subcommand is a function ``cmd_<name>(args) -> int`` plus an ``add_<name>(subparsers)``
that declares its arguments; :func:`main` wires them together.
"""

from __future__ import annotations

import argparse
import sys
import time

# TensorFlow's start-up log lines are kept out of the output by cnnkit/__init__.py (cnnkit._console).


class CLIError(Exception):
    """A user error: printed without a traceback, exit status 2."""


def add_data(sub) -> None:
    p = sub.add_parser("data", help="list the data sets and where each was found")
    p.set_defaults(func=cmd_data)


def cmd_data(args) -> int:
    from cnnkit.data import describe

    rows = describe()
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        print(f"{r['name']:<{width}}  {r['status']:<10}  {r['location']}")
    return 0


def add_run(sub) -> None:
    p = sub.add_parser("run", help="execute notebooks with papermill and export HTML reports")
    p.add_argument("notebooks", nargs="+", help="notebook paths (.ipynb)")
    _add_run_options(p)
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="override a parameter; VALUE is a Python literal ([20, 56], 0.1, None) or a string")
    p.set_defaults(func=cmd_run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _add_run_options(p) -> None:
    from cnnkit.notebook.presets import PRESET_NAMES

    p.add_argument("--preset", default="quick", choices=PRESET_NAMES,
                   help="smoke: seconds (tests); quick: minutes on a CPU (default); long: trained to convergence on a "
                        "CPU (up to an hour a notebook); paper: the full recipe (GPU)")
    p.add_argument("--out", default="reports", help="folder for executed notebooks, HTML reports and results")
    p.add_argument("--cell-timeout", type=int, default=None, help="seconds one cell may run (default: no limit)")
    p.add_argument("--code", default="fold", choices=("show", "fold", "hide"), help="code cells in the HTML")
    p.add_argument("--no-progress", action="store_true", help="no papermill progress bar and no per-epoch lines")
    p.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                   help="notebooks run N at a time, each training on one thread in its kernel (default 1; demo: "
                        "the machine's cores)")
    p.add_argument("--lane", action="store_true", help=argparse.SUPPRESS)  # one notebook of --jobs: workers=1


def _run_all(paths, args, overrides) -> int:
    from pathlib import Path

    from cnnkit.notebook.report import build_index
    from cnnkit.notebook.runner import check_data, notebook_parameters, resolve_parameters
    from cnnkit.studies import preset_for_notebook

    lane = getattr(args, "lane", False)
    own, changes = {}, {}
    for path in paths:  # every notebook's parameters are valid (its study's Params check them) ...
        own[path] = _lane_overrides(notebook_parameters(path), overrides) if lane else overrides
        resolve_parameters(path, args.preset, own[path])
        changes[path] = preset_for_notebook(path, args.preset, own[path])
    for path in paths:  # ... and its data set is there (file checks only: seconds, no TensorFlow), before executing any
        check_data(path, args.preset, own[path], changes[path])
    _check_writable(Path(args.out))
    began, clock = _now(), time.perf_counter()
    if (getattr(args, "jobs", None) or 1) > 1 and len(paths) > 1:
        times, failed, interrupted = _run_lanes(paths, args, overrides)
        if interrupted:
            return _interrupted(args.command, KeyboardInterrupt())
    else:
        times, failed = _run_each(paths, args, own, changes)
    wall = time.perf_counter() - clock
    if lane:
        return 1 if failed else 0
    print(f"cnnkit {args.command}: index {build_index(args.out)}")
    if len(times) > 1:
        width = max(map(len, times))
        print(f"cnnkit {args.command}: wall time per notebook\n"
              + "\n".join(f"  {k:<{width}}  {v:7.1f} s" for k, v in times.items())
              + f"\n  {'sum':<{width}}  {sum(times.values()):7.1f} s\n  {'command':<{width}}  {wall:7.1f} s", flush=True)
    _report_efficiency(Path(args.out), began, wall, args.command)
    return 1 if failed else 0


def _run_each(paths, args, own, changes) -> tuple[dict, int]:
    """The notebooks one after the other in this process: wall time per notebook, and how many failed."""
    from pathlib import Path

    from cnnkit.notebook.runner import NotebookError, run_notebook

    failed, times = 0, {}
    for path in paths:
        print(f"cnnkit run: {Path(path).name} (preset {args.preset}) ...", flush=True)
        start = time.perf_counter()
        try:
            html = run_notebook(path, preset=args.preset, parameters=own[path], out_dir=args.out,
                                cell_timeout=args.cell_timeout, code=args.code, progress=not args.no_progress,
                                changes=changes[path])
            print(f"cnnkit run: wrote {html}", flush=True)
        except NotebookError as exc:
            failed += 1
            print(f"cnnkit run: error: {exc}", file=sys.stderr, flush=True)
        times[Path(path).stem] = round(time.perf_counter() - start, 1)
    return times, failed


def _lane_overrides(declared, overrides: dict) -> dict:
    """A lane trains inside its kernel: ``workers=1`` where the notebook has that parameter (unless given)."""
    return {**({"workers": 1} if "workers" in declared else {}), **overrides}


def _run_lanes(paths, args, overrides) -> tuple[dict, int, bool]:
    """``args.jobs`` notebooks at a time, each a ``cnnkit run --lane`` training single-threaded in its kernel,
    the longest first (:mod:`cnnkit.notebook.lanes`)."""
    from cnnkit.notebook.lanes import order_longest_first, run_in_lanes
    from cnnkit.studies import find_study

    def argv(path) -> list[str]:
        given = [x for name, value in overrides.items() for x in ("-p", name, repr(value))]
        timeout = ["--cell-timeout", str(args.cell_timeout)] if args.cell_timeout else []
        return ["run", str(path), "--preset", args.preset, "--out", args.out, "--code", args.code, "--lane",
                "--no-progress", *timeout, *given]

    def trains(path) -> bool:
        study = find_study(path.stem)
        return bool(study and getattr(study, "WORKERS", None))

    ordered = order_longest_first(paths, args.out, trains, args.preset)
    print(f"cnnkit {args.command}: {len(ordered)} notebooks, {args.jobs} at a time (each training in its kernel on "
          f"one thread), longest first", flush=True)
    return run_in_lanes(ordered, argv, jobs=args.jobs, command=args.command,
                        write=lambda line: print(line, flush=True))


def _now():
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _report_efficiency(out, began, wall: float, command: str) -> None:
    """Print the share of the machine's CPU time that went into steady-state training steps, and keep it
    in ``<out>/efficiency.json`` for the index and the README block (runs started during this command)."""
    import json
    import os

    from cnnkit._atomic import atomic_write_text
    from cnnkit.ablation.efficiency import efficiency
    from cnnkit.notebook.markdown import EFFICIENCY

    result = efficiency([out / "runs"], wall, since=began)
    if not result.runs:
        return
    print(f"cnnkit {command}: {result.text()}", flush=True)
    doc = {"command": command, "wall": round(wall, 1), "cores": os.cpu_count(), "text": result.text(),
           **{k: getattr(result, k) for k in result.__dataclass_fields__}}
    atomic_write_text(out / EFFICIENCY, json.dumps(doc, indent=1))


def _check_writable(folder) -> None:
    """Create ``folder`` and write a probe file into it, or raise CLIError saying why not."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise CLIError(f"cannot write reports to --out {folder}: {exc.strerror or exc}; "
                       "choose a writable folder") from None


def cmd_run(args) -> int:
    from cnnkit.notebook.runner import parse_value

    overrides = {name: parse_value(value) for name, value in args.parameter}
    return _run_all(args.notebooks, args, overrides)


def _folder_command(sub, name: str, help: str, func, folder: dict, options: dict[str, dict]) -> None:
    """A sub-command over an optional folder argument and a few options (``{flag: add_argument keywords}``)."""
    p = sub.add_parser(name, help=help)
    p.add_argument("folder", nargs="?", **folder)
    for flag, keywords in options.items():
        p.add_argument(flag, **keywords)
    p.set_defaults(func=func)


def add_report(sub) -> None:
    _folder_command(sub, "report", "build index.html over the executed notebooks in a folder", cmd_report,
                    {"default": "reports"},
                    {"--markdown": {"action": "store_true", "help": "print the results as Markdown (headline "
                                    "claims, verdict counts, wall times) instead"},
                     "--readme": {"metavar": "PATH", "help": "rewrite the results block of this README from the "
                                  "summaries"}})


def cmd_report(args) -> int:
    from cnnkit.notebook.markdown import results_markdown, update_readme
    from cnnkit.notebook.report import build_index

    if args.markdown:
        print(results_markdown(args.folder), end="")
    elif args.readme:
        print(update_readme(args.readme, args.folder))
    else:
        print(build_index(args.folder))
    return 0


def add_demo(sub) -> None:
    p = sub.add_parser("demo", help="the main job: run every numbered notebook on the embedded data, build reports")
    _add_run_options(p)
    p.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    import os

    from cnnkit.notebook import numbered_notebooks

    if args.jobs is None:  # the main job fills the machine: one lane per core
        args.jobs = max(1, os.cpu_count() or 1)
    return _run_all(numbered_notebooks(), args, {})


def add_notebooks(sub) -> None:
    flag = "store_true"
    _folder_command(sub, "notebooks", "copy the numbered notebooks into a folder, to open them in Jupyter; --sync: "
                    "write each parameters cell from its study's Params", cmd_notebooks,
                    {"help": "where to copy them (created if missing)"},
                    {"--force": {"action": flag, "help": "overwrite notebooks of the same name that differ"},
                     "--sync": {"action": flag, "help": "render each study's Params into its notebook's "
                                "parameters cell (the repository's notebooks, or FOLDER's)"},
                     "--check": {"action": flag, "help": "with --sync: change nothing, exit 1 if a cell differs"}})


def cmd_notebooks(args) -> int:
    import shutil
    from pathlib import Path

    from cnnkit.notebook import numbered_notebooks

    if args.sync:
        from cnnkit.studies import sync_notebooks

        changed = sync_notebooks(args.folder, check=args.check)
        verb = "differ from their study" if args.check else "rewritten from their study"
        print(f"cnnkit notebooks: {len(changed)} parameters cell(s) {verb}"
              + "".join(f"\n  {p}" for p in changed))
        return 1 if args.check and changed else 0
    if args.folder is None:
        raise CLIError("name a FOLDER to copy the notebooks into, or pass --sync")
    folder = Path(args.folder)
    _check_writable(folder)
    sources = numbered_notebooks()
    kept = [p.name for p in sources if (folder / p.name).exists() and not args.force
            and (folder / p.name).read_bytes() != p.read_bytes()]
    if kept:
        raise CLIError(f"{folder} already holds changed copies of {kept}; pass --force to overwrite them "
                       "or choose another folder")
    for path in sources:
        shutil.copyfile(path, folder / path.name)
    print(f"cnnkit notebooks: copied {len(sources)} notebooks to {folder}; open them with: jupyter lab {folder}")
    return 0


def _bench_module():
    """benchmarks/train_throughput.py of the repository checkout, or None (an installed wheel has no benchmarks/)."""
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "train_throughput.py"
    if not script.exists():
        return None
    spec = importlib.util.spec_from_file_location("cnnkit_train_throughput", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_NO_BENCH = ("benchmarks/train_throughput.py ships with the cnnkit repository, not the wheel; "
             "run cnnkit bench from a checkout (pip install -e .)")


def add_bench(sub) -> None:
    p = sub.add_parser("bench", help="training images/s of the CIFAR ResNets vs PyTorch "
                                     "(benchmarks/train_throughput.py)")
    module = _bench_module()
    if module is not None:
        module.add_arguments(p)
    else:
        p.description = _NO_BENCH
    p.set_defaults(func=cmd_bench, bench=module)


def cmd_bench(args) -> int:
    if args.bench is None:
        raise CLIError(_NO_BENCH)
    return args.bench.run(args.bench.finalize(args))


COMMANDS = [add_data, add_run, add_report, add_demo, add_notebooks, add_bench]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnnkit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CLIError, ValueError, OSError) as exc:  # user errors: bad input, missing or unwritable files
        print(f"cnnkit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C: the kernel and its workers have ended (cnnkit.notebook.interrupts)
        return _interrupted(args.command, exc)


def _interrupted(command: str, exc: KeyboardInterrupt) -> int:
    """One line on stderr for Ctrl-C (what was kept, how to resume); the exit status of a command it stopped."""
    from cnnkit.notebook.interrupts import EXIT_INTERRUPTED, RESUME, NotebookInterrupted

    if isinstance(exc, NotebookInterrupted):
        what = f": {exc}; {RESUME}"
    else:
        what = f"; {RESUME}" if command in ("run", "demo") else ""
    print(f"cnnkit {command}: interrupted{what}", file=sys.stderr, flush=True)
    return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
