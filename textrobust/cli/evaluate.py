"""``textrobust evaluate``: clean accuracy of a saved victim on a dataset split."""

from __future__ import annotations

import argparse

from textrobust.cli.arguments import (
    add_dataset_arguments,
    add_victim_arguments,
    dataset_from_args,
    victim_from_args,
)
from textrobust.cli.tables import print_table
from textrobust.cli.train import add_overlap_argument, print_notes


def evaluate_command(args: argparse.Namespace) -> int:
    from textrobust.data.overlap import check_overlap
    from textrobust.victims.evaluation import evaluate_victim

    victim = victim_from_args(args).load()
    dataset = dataset_from_args(args)
    overlap = check_overlap(dataset, args.split, allow=args.allow_overlap, option="--allow-overlap")
    result = evaluate_victim(victim, dataset, args.split, args.n)
    print_notes([*dataset.notes, *([overlap] if overlap else [])])  # with the result: an error is one line
    print_table(
        [
            {
                "victim": str(args.victim),
                "type": type(victim).__name__,
                "dataset": result.dataset,
                "split": result.split,
                "n": result.n,
                "accuracy": result.accuracy,
                "seconds": f"{result.seconds:.2f}",
            }
        ]
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    evaluate = subparsers.add_parser("evaluate", help="accuracy of a saved victim on a dataset split")
    add_victim_arguments(evaluate)
    add_dataset_arguments(evaluate)
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--n", type=int, default=None, help="only the first N examples")
    add_overlap_argument(evaluate)
    evaluate.set_defaults(func=evaluate_command)
