"""The ``textrobust`` command line: each command module registers its own subcommands."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from textrobust import __version__
from textrobust.errors import TextrobustError

# Modules with `register(subparsers) -> None`; each subparser sets `func=handler(args) -> int`.
COMMAND_MODULES = (
    "textrobust.commands",
    "textrobust.attacks.cli",
    "textrobust.lm.cli",
    "textrobust.resources.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="textrobust",
        description="Adversarial-robustness benchmark suite for text classifiers.",
    )
    parser.add_argument("--version", action="version", version=f"textrobust {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except TextrobustError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
