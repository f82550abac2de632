"""Core commands: ``train``, ``evaluate`` and ``demo``."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from textrobust.errors import TextrobustError

DEMO_DIR = Path("runs") / "demo"


def add_dataset_arguments(parser: argparse.ArgumentParser, default: str | None = "mr") -> None:
    """The dataset options every command that reads a dataset shares."""
    parser.add_argument(
        "--dataset",
        default=default,
        required=default is None,
        help="'mr' (embedded sample), a .csv/.tsv/.jsonl file, or hf:NAME[:CONFIG] (default: %(default)s)",
    )
    parser.add_argument("--text-column", default="text", help="text column/field of a file dataset")
    parser.add_argument("--label-column", default="label", help="label column/field of a file dataset")
    parser.add_argument("--language", default=None, help="language code (default: detected, 'en' or 'ar')")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the train/validation/test split")


def dataset_from_args(args: argparse.Namespace) -> Any:
    from textrobust.data import load_dataset

    return load_dataset(
        args.dataset,
        text_column=args.text_column,
        label_column=args.label_column,
        language=args.language,
        seed=args.split_seed,
    )


def print_table(rows: list[dict[str, Any]], title: str | None = None) -> None:
    """Rows of a result table, printed with rich (plain text when not a terminal)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    if not rows:
        Console().print("(no rows)")
        return
    for column in rows[0]:
        table.add_column(str(column), justify="right" if isinstance(rows[0][column], int | float) else "left")
    for row in rows:
        table.add_row(*(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row.values()))
    Console(width=max(120, Console().width)).print(table)


# -- train -----------------------------------------------------------------------------------------
def _victim_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.victim == "bert":
        options: dict[str, Any] = {"model": args.model}
        if args.max_length:
            options["max_length"] = args.max_length
        return options
    vectors = None if args.vectors in ("none", "") else args.vectors
    options = {"vectors": vectors}
    if args.max_length:
        options["max_length"] = args.max_length  # type: ignore[assignment]
    return options


def train_command(args: argparse.Namespace) -> int:
    from textrobust.victims.training import TrainConfig, accuracy, train_victim

    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.overwrite:
        raise TextrobustError(
            f"output directory {out} is not empty; choose another --out or pass --overwrite"
        )
    dataset = dataset_from_args(args)
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        patience=args.patience,
        seed=args.seed,
        device=args.device,
        max_train_examples=args.max_train,
    )
    victim, report = train_victim(args.victim, dataset, out, config, **_victim_options(args))
    row: dict[str, Any] = {
        "victim": args.victim,
        "dataset": dataset.name,
        "train": report.train_examples,
        "epochs": report.epochs_run,
        "best epoch": report.best_epoch,
        "val acc": report.best_validation_accuracy,
    }
    if "test" in dataset.splits:
        test = dataset.split("test")
        row["test acc"] = accuracy(victim, test.texts, test.labels)
    row["seconds"] = f"{report.seconds:.1f}"
    print_table([row], title=f"trained {args.victim} → {out}")
    return 0


# -- evaluate --------------------------------------------------------------------------------------
def evaluate_command(args: argparse.Namespace) -> int:
    import numpy as np

    from textrobust.attacks.runner import victim_label_ids
    from textrobust.victims import load_victim

    victim = load_victim(args.victim)
    dataset = dataset_from_args(args)
    split = dataset.split(args.split).head(args.n)
    gold = victim_label_ids(victim.labels, dataset.label_names, split.labels)
    start = time.perf_counter()
    predictions = victim.predict_proba(split.texts).argmax(axis=1)
    seconds = time.perf_counter() - start
    print_table(
        [
            {
                "victim": str(args.victim),
                "type": type(victim).__name__,
                "dataset": dataset.name,
                "split": args.split,
                "n": len(split),
                "accuracy": float(np.mean(predictions == np.asarray(gold))),
                "seconds": f"{seconds:.2f}",
            }
        ]
    )
    return 0


# -- demo ------------------------------------------------------------------------------------------
DEMO_RECIPES = ("textfooler", "mlm-synonym")


def demo_command(args: argparse.Namespace) -> int:
    from textrobust.attacks.runner import attack_saved_victim
    from textrobust.data import load_dataset
    from textrobust.leaderboard.store import Store
    from textrobust.leaderboard.summary import format_comparison, summarize
    from textrobust.victims import load_victim
    from textrobust.victims.training import TrainConfig, accuracy, train_victim

    dataset = load_dataset("mr")
    test = dataset.split("test")
    out = Path(args.out)
    victim_types = [name.strip() for name in args.victims.split(",") if name.strip()]
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
                "test accuracy": accuracy(victim, test.texts, test.labels),
                "train seconds": f"{seconds:.1f}",
                "note": note,
            }
        )
    print_table(rows, title=f"Demo: victims on the embedded MR test split ({len(test)} sentences)")
    if args.attack_n <= 0:
        return 0
    recipes = [name.strip() for name in args.recipes.split(",") if name.strip()]
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
    print(format_comparison(comparison))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from textrobust.victims import VICTIM_TYPES

    train = subparsers.add_parser("train", help="train a victim on a dataset and save it")
    train.add_argument("--victim", required=True, choices=sorted(VICTIM_TYPES), help="victim type")
    add_dataset_arguments(train)
    train.add_argument("--out", required=True, help="directory to save the trained victim to")
    train.add_argument("--overwrite", action="store_true", help="replace an existing --out directory")
    train.add_argument("--epochs", type=int, default=None, help="maximum epochs (default per victim type)")
    train.add_argument("--batch-size", type=int, default=None)
    train.add_argument("--lr", type=float, default=None, help="learning rate (default per victim type)")
    train.add_argument("--patience", type=int, default=2, help="epochs without improvement before stopping")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:1 …")
    train.add_argument("--max-train", type=int, default=None, help="use only the first N training examples")
    train.add_argument("--max-length", type=int, default=None, help="maximum tokens per text")
    train.add_argument(
        "--vectors",
        default="glove",
        help="word victims: glove (GloVe 6B 50d), a GloVe/word2vec text file, or none (default: %(default)s)",
    )
    train.add_argument(
        "--model", default=None, help="bert: Hugging Face encoder name or path (default: offline MiniLM)"
    )
    train.set_defaults(func=train_command)

    evaluate = subparsers.add_parser("evaluate", help="accuracy of a saved victim on a dataset split")
    evaluate.add_argument("--victim", required=True, help="saved victim directory")
    add_dataset_arguments(evaluate)
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--n", type=int, default=None, help="only the first N examples")
    evaluate.set_defaults(func=evaluate_command)

    demo = subparsers.add_parser(
        "demo", help="train and evaluate the three victims on the embedded MR sample"
    )
    demo.add_argument(
        "--out", default=str(DEMO_DIR), help="where demo victims are kept (default: %(default)s)"
    )
    demo.add_argument("--victims", default="wordcnn,wordlstm,bert", help="comma-separated victim types")
    demo.add_argument("--retrain", action="store_true", help="train again even if saved victims exist")
    demo.add_argument("--bert-epochs", type=int, default=1, help="fine-tuning epochs of the BERT victim")
    demo.add_argument("--recipes", default=",".join(DEMO_RECIPES), help="comma-separated recipes to run")
    demo.add_argument(
        "--attack-n", type=int, default=25, help="test sentences attacked per victim × recipe (0: none)"
    )
    demo.add_argument(
        "--mlm",
        default=os.environ.get("TEXTROBUST_MLM"),
        help="mlm-synonym fill-mask model, Hub name or folder (default: $TEXTROBUST_MLM, bert-base-uncased)",
    )
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=demo_command)
