"""``textrobust humaneval``: blinded rating sheets for a run's adversarial examples, and their results."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from textrobust.cli.arguments import add_command_group, add_store_argument, output_dir
from textrobust.cli.tables import print_pairs, print_table
from textrobust.errors import TextrobustError


def _export(args: argparse.Namespace) -> int:
    from textrobust.leaderboard.humaneval import export_kit
    from textrobust.store import Store

    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        raise TextrobustError(f"{out} is not empty; choose another --out")
    with Store(args.store) as store:
        kit = export_kit(store, args.run, out, n=args.n, raters=args.raters, seed=args.seed)
    print(f"wrote {kit.raters} rating sheets of {kit.items} items to {kit.directory} (keep key.json back)")
    return 0


def _import(args: argparse.Namespace) -> int:
    from textrobust.data.readers import read_text_file
    from textrobust.leaderboard.humaneval import KEY_FILE, read_ratings, summarize_ratings
    from textrobust.runs.jobs import record_human_evaluation
    from textrobust.store import Store

    key_path = Path(args.key) if args.key else Path(args.sheets[0]).parent / KEY_FILE
    try:
        key = json.loads(read_text_file(key_path, "key file"))
    except json.JSONDecodeError as exc:
        raise TextrobustError(f"{key_path} is not a key file: {exc}") from None
    ratings = read_ratings(args.sheets, key)
    summary = summarize_ratings(ratings, key)
    with Store(args.store) as store:
        before = {e.id for e in store.human_evaluations(int(key["run_id"]))}
        evaluation = record_human_evaluation(store, int(key["run_id"]), summary, ratings)

    def number(value: float | None, digits: int = 2, scale: float = 1.0) -> str:
        return "n/a" if value is None else f"{scale * value:.{digits}f}"

    low, high = summary["validated_success_interval"]
    pairs = [
        ("run", str(evaluation.run_id)),
        ("items / raters", f"{summary['items']} / {summary['raters']}"),
        ("grammar of the original (1-5)", number(summary["grammar_original"])),
        ("grammar of the adversarial (1-5)", number(summary["grammar_adversarial"])),
        ("meaning preserved (1-5)", number(summary["meaning"])),
        (
            "human-validated success rate (%)",
            f"{number(summary['validated_success_rate'], 1, 100)} "
            f"[{number(low, 1, 100)}, {number(high, 1, 100)}]",
        ),
        ("Fleiss' kappa (labels)", number(summary["fleiss_kappa"], 3)),
    ]
    print_pairs(pairs, ("human evaluation", ""))
    print_table(summary["per_rater"], title="per rater")
    if evaluation.id in before:  # record_human_evaluation stores the same ratings once
        told = f"already imported as evaluation {evaluation.id} of run {evaluation.run_id} in {args.store}"
        print(f"{told}; nothing stored", file=sys.stderr)
    else:
        print(
            f"stored as human evaluation {evaluation.id} of run {evaluation.run_id} in {args.store}",
            file=sys.stderr,
        )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    _parser, commands = add_command_group(
        subparsers, "humaneval", help="human evaluation of a run's adversarial examples"
    )
    export = commands.add_parser("export", help="blinded, shuffled rating sheets (CSV and printable HTML)")
    export.add_argument("--run", type=int, required=True, help="the run whose successes are rated")
    export.add_argument("--n", type=int, default=100, help="items (successful examples), default %(default)s")
    export.add_argument("--raters", type=int, default=4, help="sheets to write, default %(default)s")
    export.add_argument("--seed", type=int, default=0)
    export.add_argument("--out", type=output_dir, required=True, help="folder for the sheets and the key")
    add_store_argument(export)
    export.set_defaults(func=_export)
    imported = commands.add_parser("import", help="read filled-in sheets; store and print the results")
    imported.add_argument("sheets", nargs="+", metavar="FILE", help="the raters' CSV sheets")
    imported.add_argument("--key", default=None, help="key.json (default: beside the first sheet)")
    add_store_argument(imported)
    imported.set_defaults(func=_import)
