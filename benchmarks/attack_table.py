"""Attack saved victims with several recipes and print the victim × recipe summary table.

Usage:
  python benchmarks/attack_table.py --victims runs/demo/wordcnn,runs/demo/wordlstm,runs/demo/bert \
      --recipes textfooler,mlm-synonym --n 200 --mlm PATH_OR_HUB_NAME [--store runs/attack-table.sqlite]

Runs resume (an interrupted table continues where it stopped); the table is computed from the store.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from textrobust.leaderboard.summary import comparison_markdown, summarize
from textrobust.runs.jobs import attack_victim
from textrobust.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--victims", required=True, help="comma-separated saved victim directories")
    parser.add_argument("--recipes", default="textfooler,mlm-synonym")
    parser.add_argument("--dataset", default="mr")
    parser.add_argument("--split", default="test")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mlm", default=os.environ.get("TEXTROBUST_MLM"))
    parser.add_argument("--store", default="runs/attack-table.sqlite")
    args = parser.parse_args()
    rows = []
    with Store(args.store) as store:
        for victim_dir in args.victims.split(","):
            for recipe in args.recipes.split(","):
                start = time.perf_counter()
                outcome = attack_victim(
                    victim_dir,
                    recipe,
                    dataset=args.dataset,
                    split=args.split,
                    n=args.n,
                    seed=args.seed,
                    mlm=args.mlm,
                    store=store,
                    resume=True,
                )
                print(f"{Path(victim_dir).name} × {recipe}: {time.perf_counter() - start:.0f} s", flush=True)
                rows.append(([Path(victim_dir).name, recipe], summarize(store.results(outcome.run.id))))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; {args.dataset}/{args.split}, first {args.n}"
    )
    print(comparison_markdown(rows))


if __name__ == "__main__":
    main()
