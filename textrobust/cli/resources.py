"""``textrobust resources``: status, prepare, neighbours."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from textrobust.cli.arguments import add_command_group
from textrobust.cli.tables import print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    _parser, commands = add_command_group(
        subparsers,
        "resources",
        help="linguistic resources: status, prepare, neighbours",
        description="Find, build and cache the linguistic resources attacks use (works offline).",
    )

    status = commands.add_parser("status", help="list every resource, its source and whether it is ready")
    status.set_defaults(func=_status)

    prepare = commands.add_parser("prepare", help="build or verify resources (default: all offline ones)")
    from textrobust.cli.arguments import choices_help
    from textrobust.resources.registry import resource_names

    prepare.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=choices_help("resources to prepare (default: all)", resource_names()),
    )
    prepare.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=None,
        help="for counter-fitted-original: a local counter-fitted-vectors.txt[.zip] instead of downloading",
    )
    prepare.set_defaults(func=_prepare)

    show = commands.add_parser("neighbours", help="a word's nearest neighbours, one 'word<TAB>cosine' a line")
    show.add_argument("word")
    show.add_argument("--k", type=int, default=10, help="how many neighbours (default 10)")
    show.add_argument("--min-cos", type=float, default=0.0, help="only neighbours with at least this cosine")
    show.add_argument(
        "--table",
        default="counter-fitted-glove-50d",
        help="counter-fitted-glove-50d (default), glove-6b-50d, counter-fitted, counter-fitted-original, "
        "or a word-vector file",
    )
    show.set_defaults(func=_neighbours)


def _status(args: argparse.Namespace) -> int:
    from textrobust.paths import cache_dir
    from textrobust.resources.registry import statuses

    rows = [
        {"resource": s.name, "source": s.source, "ready?": s.state, "path / how to get it": s.location}
        for s in statuses()
    ]
    print(f"cache: {cache_dir()}  (set TEXTROBUST_CACHE to move it)")
    print_table(rows)
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from textrobust.resources.registry import prepare

    def done(name: str, summary: str) -> None:
        print(f"{name}: {summary}", flush=True)

    results = prepare(args.names or None, source=args.source, show_progress=sys.stderr.isatty(), on_done=done)
    return 1 if any(summary.startswith("missing:") for summary in results.values()) else 0


def _neighbours(args: argparse.Namespace) -> int:
    from textrobust.errors import TextrobustError, require_at_least
    from textrobust.resources.neighbours import load_neighbour_table

    require_at_least("k", args.k, 1)
    table = load_neighbour_table(args.table, show_progress=sys.stderr.isatty())
    if args.word not in table:
        raise TextrobustError(
            f"{args.word!r} is not in the vocabulary of {table.name} ({len(table.words):,} words)"
        )
    for word, cosine in table.neighbours(args.word, k=args.k, min_cos=args.min_cos):
        print(f"{word}\t{cosine:.4f}")
    return 0
