"""The ``cnnkit`` command line.

Each subcommand is a function ``cmd_<name>(args) -> int`` plus an ``add_<name>(subparsers)``
that declares its arguments; :func:`main` wires them together.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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


COMMANDS = [add_data]


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
    except (CLIError, ValueError, FileNotFoundError) as exc:
        print(f"cnnkit {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
