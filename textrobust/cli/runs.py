"""``textrobust runs``: list, show, export and delete stored runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from textrobust.cli.arguments import add_command_group, add_store_argument, output_file
from textrobust.cli.tables import print_pairs, print_table
from textrobust.errors import TextrobustError


def _open(args: argparse.Namespace):  # noqa: ANN202 - a Store
    from textrobust.store import Store

    if not Path(args.store).exists():
        raise TextrobustError(f"no store at {args.store}; pass --store PATH")
    return Store(args.store)


def _list(args: argparse.Namespace) -> int:
    from textrobust.leaderboard.summary import summarize

    with _open(args) as store:
        rows = []
        for run in store.runs():
            p = run.parameters
            s = summarize(store.results(run.id))
            rows.append(
                {
                    "run": run.id,
                    "recipe": p.recipe,
                    "victim": f"{Path(p.victim.path).name} ({p.victim.type})",
                    "examples": f"{p.dataset.name}/{p.dataset.split} {store.count_results(run.id)}/{p.n}",
                    "seed": p.seed,
                    "status": run.status,
                    "success rate": "n/a"
                    if s.attack_success_rate is None
                    else f"{100 * s.attack_success_rate:.1f}%",
                    "started": run.started,
                    "settings": run.key[:12],
                }
            )
    print_table(rows, title=f"runs in {args.store}")
    return 0


def _show(args: argparse.Namespace) -> int:
    import json

    from textrobust.leaderboard.summary import summarize, summary_rows

    with _open(args) as store:
        run = store.run(args.id)
        p = run.parameters
        pairs = [
            ("run", str(run.id)), ("status", run.status), ("recipe", p.recipe),
            ("victim", f"{p.victim.type} {p.victim.path}"), ("victim fingerprint", p.victim.fingerprint),
            ("dataset", f"{p.dataset.name}/{p.dataset.split} ({p.dataset.language}), {p.n} examples"),
            ("labels", ", ".join(p.dataset.label_names)), ("seed", str(p.seed)), ("budget", str(p.budget)),
            ("options", json.dumps(p.options, sort_keys=True)), ("settings hash", run.key),
            ("textrobust", p.version), ("started", run.started), ("finished", str(run.finished)),
        ]  # fmt: skip
        print_pairs(pairs, ("run", ""))
        print_pairs(summary_rows(summarize(store.results(run.id))), ("Attack results", ""))
    return 0


def _export(args: argparse.Namespace) -> int:
    out = Path(args.out)
    fmt = args.format or ("csv" if out.suffix.lower() == ".csv" else "jsonl")
    with _open(args) as store:
        store.run(args.id)
        count = store.export_csv(args.id, out) if fmt == "csv" else store.export_jsonl(args.id, out)
    print(f"wrote {count} results of run {args.id} to {out}", file=sys.stderr)
    return 0


def _delete(args: argparse.Namespace) -> int:
    with _open(args) as store:
        run = store.run(args.id)
        if not args.yes:
            raise TextrobustError(
                f"this deletes run {run.id} and its {store.count_results(run.id)} results; add --yes"
            )
        store.delete_run(run.id)
    print(f"deleted run {args.id}", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    _parser, commands = add_command_group(subparsers, "runs", help="list, show, export or delete stored runs")
    listing = commands.add_parser("list", help="every run: recipe, victim, examples, status, success rate")
    add_store_argument(listing)
    listing.set_defaults(func=_list)
    show = commands.add_parser("show", help="one run's settings and summary")
    show.add_argument("id", type=int)
    add_store_argument(show)
    show.set_defaults(func=_show)
    export = commands.add_parser("export", help="one run's per-example results as JSONL or CSV")
    export.add_argument("id", type=int)
    export.add_argument("--out", type=output_file, required=True, help="file to write (.jsonl or .csv)")
    export.add_argument(
        "--format", choices=("jsonl", "csv"), default=None, help="default: from --out's suffix"
    )
    add_store_argument(export)
    export.set_defaults(func=_export)
    delete = commands.add_parser("delete", help="remove a run with its results and transfers")
    delete.add_argument("id", type=int)
    delete.add_argument("--yes", action="store_true", help="really delete")
    add_store_argument(delete)
    delete.set_defaults(func=_delete)
