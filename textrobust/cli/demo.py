"""``textrobust demo``: train the three victims on the embedded MR sample, attack each, print the table."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from textrobust.cli.arguments import add_seed_argument, comma_list
from textrobust.cli.tables import print_table

DEMO_DIR = Path("runs") / "demo"
DEMO_RECIPES = ("textfooler", "mlm-synonym")


def demo_command(args: argparse.Namespace) -> int:
    from textrobust.attacks.recipes import check_attack_options
    from textrobust.data import load_dataset
    from textrobust.leaderboard.summary import comparison_markdown, summarize
    from textrobust.runs.jobs import attack_saved_victim
    from textrobust.store import Store
    from textrobust.victims import load_victim, victim_class
    from textrobust.victims.evaluation import evaluate_victim
    from textrobust.victims.training import TrainConfig, train_victim

    victim_types = comma_list(args.victims)
    recipes = comma_list(args.recipes)
    for victim_type in victim_types:  # typos fail before minutes of training
        victim_class(victim_type)
    for recipe in recipes:
        check_attack_options(recipe)
    dataset = load_dataset("mr")
    out = Path(args.out)
    rows = []
    for victim_type in victim_types:
        directory = out / victim_type
        if (directory / "config.json").exists() and not args.retrain:
            print(f"reusing {directory} (pass --retrain to train again)")
            victim, seconds, note = load_victim(directory), 0.0, "reused"
        else:
            epochs = args.bert_epochs if victim_type == "bert" else None
            victim, report = train_victim(
                victim_type, dataset, directory, TrainConfig(seed=args.seed, epochs=epochs)
            )
            seconds = report.seconds
            note = f"trained {report.epochs_run} epoch{'s' if report.epochs_run != 1 else ''}"
        rows.append(
            {
                "victim": victim_type,
                "test accuracy": evaluate_victim(victim, dataset, "test").accuracy,
                "train seconds": f"{seconds:.1f}",
                "note": note,
            }
        )
    test_size = len(dataset.split("test"))
    print_table(rows, title=f"Demo: victims on the embedded MR test split ({test_size} sentences)")
    if args.attack_n <= 0:
        return 0
    comparison = []
    with Store(out / "textrobust.sqlite") as store:
        for victim_type in victim_types:
            for recipe in recipes:
                print(f"attacking {victim_type} with {recipe} ({args.attack_n} test sentences)")
                outcome = attack_saved_victim(
                    out / victim_type,
                    recipe,
                    dataset=dataset,
                    split="test",
                    n=args.attack_n,
                    seed=args.seed,
                    mlm=args.mlm,
                    store=store,
                    resume=True,
                )
                comparison.append(([victim_type, recipe], summarize(store.results(outcome.run.id))))
    print(
        f"\nDemo: attacks on the first {args.attack_n} MR test sentences (store: {out / 'textrobust.sqlite'})"
    )
    print(comparison_markdown(comparison))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from textrobust.victims import TRAINABLE_TYPES

    demo = subparsers.add_parser(
        "demo", help="train and evaluate the three victims on the embedded MR sample, then attack them"
    )
    demo.add_argument(
        "--out", default=str(DEMO_DIR), help="where demo victims are kept (default: %(default)s)"
    )
    demo.add_argument(
        "--victims",
        default=",".join(TRAINABLE_TYPES),
        help="comma-separated victim types (default: %(default)s)",
    )
    demo.add_argument("--retrain", action="store_true", help="train again even if saved victims exist")
    demo.add_argument("--bert-epochs", type=int, default=1, help="fine-tuning epochs of the BERT victim")
    demo.add_argument(
        "--recipes",
        default=",".join(DEMO_RECIPES),
        help="comma-separated recipes to run (default: %(default)s)",
    )
    demo.add_argument(
        "--attack-n", type=int, default=25, help="test sentences attacked per victim × recipe (0: none)"
    )
    demo.add_argument(
        "--mlm",
        default=os.environ.get("TEXTROBUST_MLM"),
        help="mlm-synonym fill-mask model, Hub name or folder (default: $TEXTROBUST_MLM, bert-base-uncased)",
    )
    add_seed_argument(demo)
    demo.set_defaults(func=demo_command)
