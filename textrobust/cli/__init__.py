"""The ``textrobust`` command line: a module per command group, each registering its subcommands.

Only this package knows about flags. Library functions validate their own parameters and raise a
``ParameterError`` naming the parameter; ``main`` prints it with the flag that set it, on one line, and
exits with 2. Any other failure (the system's, a library's) is also one line and exit 2 there; ``--debug``
(or ``TEXTROBUST_DEBUG=1``) adds the traceback.

SIGTERM (``kill``, a batch scheduler's time limit, ``docker stop``) stops a command the way Ctrl-C does:
the current store write finishes, the run is marked interrupted (``--resume`` continues it) and one
``stopped: …`` line is printed; the exit code is 143 (128 + SIGTERM, as the shell reports a process that
SIGTERM ended), Ctrl-C's is 130. A second SIGTERM ends the process at once.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from types import FrameType

from textrobust import __version__
from textrobust.cli.arguments import OneLineParser
from textrobust.errors import ParameterError, TextrobustError

# Modules with `register(subparsers) -> None`; each leaf parser sets `func=handler(args) -> int`.
COMMAND_MODULES = (
    "textrobust.cli.train",
    "textrobust.cli.evaluate",
    "textrobust.cli.quantize",
    "textrobust.cli.demo",
    "textrobust.cli.attack",
    "textrobust.cli.defend",
    "textrobust.cli.transfer",
    "textrobust.cli.runs",
    "textrobust.cli.leaderboard",
    "textrobust.cli.humaneval",
    "textrobust.cli.benchmark",
    "textrobust.cli.resources",
    "textrobust.cli.mlm",
    "textrobust.cli.serve",
)
FLAGS_KEY = "_flags"  # per leaf parser: argument dest -> its flag, for ParameterError messages
# Commands that may build resources into the cache (neighbour tables, word vectors, WordNet lexicons,
# TextAttack's files): only these check it before they work, so a read-only or misplaced cache fails them
# at once rather than after minutes of work, and every other command (``runs list``, ``leaderboard``…)
# leaves the cache alone, even when it is absent or cannot be written.
CACHE_WRITERS = frozenset(
    {
        "train", "demo", "attack", "defend", "transfer", "benchmark",
        "resources prepare", "resources neighbours",
    }
)  # fmt: skip


EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT
EXIT_TERMINATED = 143  # SIGTERM: 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the main thread is, so that everything Ctrl-C cleans up (the run marked
    interrupted, worker processes stopped, the ``stopped: …`` note) happens for it too."""


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the block runs, the first SIGTERM raises ``Terminated`` in the main thread (the next one ends
    the process at once, as before). Worker processes forked meanwhile keep SIGTERM's default: their
    parent stops them with it."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set in the main thread (main called from a thread: a test)
        return
    pid = os.getpid()

    def terminate(signum: int, _frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if os.getpid() != pid:  # a forked worker: die as SIGTERM always made it
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _leaf_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        return [parser]
    leaves = [parser]  # a group parser runs too (it prints its help)
    for action in subparsers:
        for child in dict.fromkeys(action.choices.values()):
            leaves += _leaf_parsers(child)
    return leaves


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="textrobust",
        description="Adversarial-robustness benchmark suite for text classifiers.",
    )
    parser.add_argument("--version", action="version", version=f"textrobust {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the Python traceback of an error (also TEXTROBUST_DEBUG=1)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    for leaf in _leaf_parsers(parser):
        flags = {
            action.dest: max(action.option_strings, key=len)
            for action in leaf._actions
            if action.option_strings and action.dest not in ("help", "version")
        }
        leaf.set_defaults(**{FLAGS_KEY: flags})
    return parser


def describe_error(exc: TextrobustError, flags: dict[str, str]) -> str:
    """The one-line message for an error; a parameter is named by the flag that set it."""
    if isinstance(exc, ParameterError) and exc.parameter in flags:
        return f"{flags[exc.parameter]} {exc.problem}"
    return str(exc)


def describe_failure(exc: BaseException) -> str:
    """One line for an error that is not textrobust's own: what the system or a library said."""
    if isinstance(exc, OSError):
        what = exc.strerror or str(exc) or type(exc).__name__
        where = f": {exc.filename}" if exc.filename else ""
        return f"{what}{where}"
    if isinstance(exc, MemoryError):
        return "out of memory; try a smaller --n, --batch-size or --batch-examples"
    text = " ".join(str(exc).split()) or "no message"
    return f"{type(exc).__name__}: {text}"


def command_name(args: argparse.Namespace) -> str:
    """The command line's command, with its subcommand for a group: ``attack``, ``runs list``."""
    command = str(args.command)
    subcommand = getattr(args, f"{command}_command", None)
    return f"{command} {subcommand}" if subcommand else command


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a usage error already printed on one line
        return stop.code if isinstance(stop.code, int) else 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    debug = bool(getattr(args, "debug", False)) or os.environ.get("TEXTROBUST_DEBUG") == "1"
    try:
        with sigterm_as_interrupt():
            if command_name(args) in CACHE_WRITERS:
                from textrobust.paths import check_cache_dir

                check_cache_dir()  # a misconfigured or read-only cache fails here, before any work
            return int(args.func(args) or 0)
    except TextrobustError as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {describe_error(exc, getattr(args, FLAGS_KEY, {}))}", file=sys.stderr)
        return 2
    except Terminated:
        print("error: terminated (SIGTERM)", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the one place where any other failure becomes a one-line message
        if debug:
            traceback.print_exc()
        hint = "" if debug else " (run with --debug for the traceback)"
        print(f"error: {describe_failure(exc)}{hint}", file=sys.stderr)
        return 2
