"""``textrobust transfer``: replay a run's adversarial texts on other victims, or build a transfer matrix."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from textrobust.cli.arguments import (
    VICTIM_HELP,
    add_dataset_arguments,
    add_executor_arguments,
    add_progress_argument,
    add_source_arguments,
    add_store_argument,
    dataset_from_args,
    executor_from_args,
    source_options_from_args,
)
from textrobust.cli.tables import print_table
from textrobust.errors import TextrobustError

MATRIX_N = 200  # examples attacked per victim by --matrix unless --n says otherwise


def _note(message: str) -> None:
    print(message, file=sys.stderr)


def transfer_command(args: argparse.Namespace) -> int:
    from textrobust.errors import ParameterError, require_at_least  # noqa: F401
    from textrobust.leaderboard.render import transfer_rows
    from textrobust.leaderboard.report import build_report
    from textrobust.runs.transfer import transfer_matrix, transfer_run
    from textrobust.store import Store
    from textrobust.victims.resolve import resolve_victims

    require_at_least("n", args.n, 1)
    executor = executor_from_args(args)
    if not args.matrix and args.n is not None:
        raise ParameterError("n", "applies to --matrix only (a --run's examples are those it attacked)")
    if not args.matrix and (args.workers is not None or args.executor is not None):
        raise TextrobustError("--executor and --workers apply to --matrix only (a replay attacks nothing)")
    # Everything a user can get wrong is checked, and every victim resolved, before the store is opened.
    options = source_options_from_args(args)
    if args.matrix:
        if not args.victims or not args.recipe:
            raise TextrobustError("--matrix needs --victims A B [C …] and --recipe")
        victims = resolve_victims(args.victims, options)
        dataset = dataset_from_args(args)
    else:
        if not args.targets:
            raise TextrobustError("give --targets VICTIM [VICTIM …] (or --matrix --victims …)")
        if args.run is None and (not args.source_victim or not args.recipe):
            raise TextrobustError("pick the run: --run ID, or --source-victim VICTIM with --recipe")
        targets = resolve_victims(args.targets, options)
        source = None if args.run is not None else resolve_victims([args.source_victim], options)[0]
    if not args.matrix and not args.store.exists():  # a replay needs a stored run; a matrix makes its own
        raise TextrobustError(f"store not found: {args.store}; attack a victim first (textrobust attack)")
    with Store(args.store) as store:
        if args.matrix:
            matrix = transfer_matrix(
                victims, args.recipe, dataset, store, split=args.split,
                n=MATRIX_N if args.n is None else args.n,
                seed=args.seed, mlm=args.mlm, progress=not args.no_progress, notify=_note,
                executor=executor,
            )  # fmt: skip
            run_ids = set(matrix.runs.values())
        else:
            run_id = args.run if source is None else _find_run(store, source, args.recipe)
            transfer_run(store, run_id, targets, progress=not args.no_progress)
            run_ids = {run_id}
        report = build_report(store)
    rows = [
        row
        for row, cell in zip(transfer_rows(report), report.transfers, strict=True)
        if cell.run_id in run_ids
    ]
    print_table(rows, title=f"transfer of run(s) {', '.join(map(str, sorted(run_ids)))} ({args.store})")
    return 0


def _find_run(store: Any, victim: Any, recipe: str) -> int:
    fingerprint = victim.digest
    found = [
        r
        for r in store.runs()
        if r.parameters.victim.fingerprint == fingerprint
        and r.parameters.recipe == recipe
        and r.status == "finished"
    ]
    if not found:
        raise TextrobustError(f"no finished {recipe} run of {victim.location} in the store; attack it first")
    return found[-1].id


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "transfer",
        help="replay a run's adversarial texts on other victims (or a source × target matrix)",
        description="Replay the successful adversarial texts of a stored run on other victims (one stored "
        "row per example and target), or with --matrix attack each of --victims with --recipe (reusing "
        "finished runs) and replay every run on every other victim.",
    )
    p.add_argument("--run", type=int, default=None, help="the source run's id (see `textrobust runs list`)")
    p.add_argument("--source-victim", default=None, help="pick the newest finished run of this victim …")
    p.add_argument("--recipe", default=None, help="… with this recipe (and, with --matrix, the attack)")
    p.add_argument(
        "--targets", nargs="+", default=None, metavar="VICTIM", help="target victims: " + VICTIM_HELP
    )
    p.add_argument("--matrix", action="store_true", help="the full source × target matrix of --victims")
    p.add_argument("--victims", nargs="+", default=None, metavar="VICTIM", help="with --matrix: the victims")
    add_source_arguments(p)  # --label-map renames the classes of the victims from elsewhere only
    add_dataset_arguments(p)
    p.add_argument("--split", default="test", help="with --matrix: the split attacked (default: %(default)s)")
    p.add_argument(
        "--n", type=int, default=None, help=f"with --matrix: first N examples (default: {MATRIX_N})"
    )
    p.add_argument("--seed", type=int, default=0, help="with --matrix: the attack seed")
    p.add_argument("--mlm", default=None, help="with --matrix: fill-mask model for MLM recipes")
    add_executor_arguments(p)
    add_store_argument(p)
    add_progress_argument(p)
    p.set_defaults(func=transfer_command)
