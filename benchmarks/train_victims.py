"""Train the three victims on the embedded MR sample and print test accuracy and training time.

Usage: python benchmarks/train_victims.py [--out runs/bench-victims] [--victims wordcnn,wordlstm,bert]
Measures what the foundation issue asks for: accuracy on the MR test split (goals: word victims ≥ 72%,
BERT ≥ 78%) and wall time of training on this machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from tabulate import tabulate

from textrobust.data import load_dataset
from textrobust.victims import load_victim
from textrobust.victims.training import TrainConfig, accuracy, train_victim


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/bench-victims")
    parser.add_argument("--victims", default="wordcnn,wordlstm,bert")
    parser.add_argument("--bert-epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    dataset = load_dataset("mr")
    test = dataset.split("test")
    rows = []
    for victim_type in args.victims.split(","):
        epochs = args.bert_epochs if victim_type == "bert" else None
        start = time.perf_counter()
        victim, report = train_victim(
            victim_type, dataset, f"{args.out}/{victim_type}", TrainConfig(seed=args.seed, epochs=epochs)
        )
        train_seconds = time.perf_counter() - start
        reloaded = load_victim(f"{args.out}/{victim_type}")
        same = (reloaded.predict_proba(test.texts[:50]) == victim.predict_proba(test.texts[:50])).all()
        start = time.perf_counter()
        test_accuracy = accuracy(reloaded, test.texts, test.labels)
        rows.append(
            [
                victim_type,
                report.epochs_run,
                report.best_epoch,
                "—" if report.best_validation_accuracy is None else f"{report.best_validation_accuracy:.3f}",
                f"{test_accuracy:.3f}",
                f"{train_seconds:.1f}",
                f"{time.perf_counter() - start:.1f}",
                bool(same),
            ]
        )
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, torch threads default")
    print(
        tabulate(
            rows,
            headers=[
                "victim",
                "epochs",
                "best",
                "val acc",
                "test acc",
                "train s",
                "test s",
                "reload identical",
            ],
            tablefmt="github",
        )
    )


if __name__ == "__main__":
    main()
