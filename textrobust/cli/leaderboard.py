"""``textrobust leaderboard``: the report of everything in a store, in the terminal or as a file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from textrobust.cli.arguments import add_store_argument, output_file
from textrobust.cli.tables import print_table
from textrobust.errors import TextrobustError


def print_report(report) -> None:  # noqa: ANN001 - a leaderboard Report
    """The report's tables and answers in the terminal (rich)."""
    from textrobust.leaderboard.render import ANSWER_TITLES, SECTIONS, matrix

    for key, question in ANSWER_TITLES.items():
        if key in report.answers:
            print(f"{question} {report.answers[key]}")
    for title, rows_of in SECTIONS:
        rows = rows_of(report)
        if rows:
            print_table(rows, title=title)
    for recipe, dataset in sorted({(c.recipe, c.dataset) for c in report.transfers}):
        names, grid = matrix(report, recipe, dataset)
        rows = [
            {"source \\ target": n, **dict(zip(names, row, strict=True))}
            for n, row in zip(names, grid, strict=True)
        ]
        print_table(rows, title=f"Transfer success (%): {recipe} on {dataset}")


def leaderboard_command(args: argparse.Namespace) -> int:
    from textrobust.leaderboard.publish import write_report
    from textrobust.leaderboard.report import build_report, require_runs
    from textrobust.store import Store

    if not Path(args.store).exists():
        raise TextrobustError(f"no store at {args.store}; pass --store PATH")
    if args.format == "terminal" and args.out:
        raise TextrobustError("--out needs a file format: --format md, html, json or csv")
    with Store(args.store, read_only=True) as store:
        report = build_report(store, args.dataset)
        require_runs(report, store)  # a report of nothing is refused, not written as empty tables
    if args.format == "terminal":
        print_report(report)
        return 0
    if args.out is None:
        from textrobust.leaderboard.publish import render

        text, _files = render(report, args.format, plots=False)
        sys.stdout.write(text)
        return 0
    written = write_report(report, args.format, args.out, plots=not args.no_plots)
    print(f"wrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from textrobust.leaderboard.render import FORMATS

    p = subparsers.add_parser(
        "leaderboard",
        help="the report of a store: victims × recipes, worst case, defenses, transfer, human evaluation",
    )
    add_store_argument(p)
    p.add_argument("--dataset", default=None, help="only runs on this dataset (its name, e.g. mr)")
    p.add_argument("--format", choices=FORMATS, default="terminal", help="default: %(default)s")
    p.add_argument("--out", type=output_file, default=None, help="file to write (default: stdout)")
    p.add_argument("--no-plots", action="store_true", help="md/html: leave the plots out")
    p.set_defaults(func=leaderboard_command)
