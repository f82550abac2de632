"""How much slower is an attack than the victim inference it needs? (goal: ratio ≤ 1.5)

Runs a recipe against a saved victim through the real runner (store included) and records every text
the victim had to score. Then it replays exactly those texts through ``predict_proba`` in large batches
and compares: ratio = attack wall time / pure batched inference time of the same queries. Resource
loading (vectors, encoders, masked LM) and warm-up examples are excluded from the attack time.

    python benchmarks/attack_overhead.py --victim runs/demo/wordcnn --recipe textfooler --n 20
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


class RecordingVictim:
    """Passes calls through to a victim and remembers what it scored and how long that took."""

    def __init__(self, victim: Any) -> None:
        self.victim = victim
        self.labels = victim.labels
        self.texts: list[str] = []
        self.calls = 0
        self.seconds = 0.0

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        start = time.perf_counter()
        out = self.victim.predict_proba(texts)
        self.seconds += time.perf_counter() - start
        self.texts.extend(texts)
        self.calls += 1
        return out

    def reset(self) -> None:
        self.texts, self.calls, self.seconds = [], 0, 0.0

    def __getattr__(self, name: str) -> Any:  # white-box access (gradients) passes through
        return getattr(self.victim, name)


def batched_inference_seconds(victim: Any, texts: Sequence[str], batch_size: int, repeats: int) -> float:
    """Best-of-``repeats`` time to score ``texts`` in batches of ``batch_size``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for begin in range(0, len(texts), batch_size):
            victim.predict_proba(texts[begin : begin + batch_size])
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--victim", required=True, help="saved victim directory")
    parser.add_argument("--recipe", required=True)
    parser.add_argument("--dataset", default="mr")
    parser.add_argument("--split", default="test")
    parser.add_argument("--n", type=int, default=20, help="examples to attack (timed)")
    parser.add_argument("--warmup", type=int, default=2, help="examples attacked first, not timed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mlm", default=None, help="masked LM name or path for MLM recipes")
    parser.add_argument("--budget", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=128, help="batch size of the replayed inference")
    parser.add_argument("--repeats", type=int, default=3, help="replays of the inference (best is kept)")
    args = parser.parse_args(argv)

    from tabulate import tabulate

    from textrobust.attacks.recipes import build_attack
    from textrobust.data import Split, load_dataset
    from textrobust.leaderboard.summary import summarize
    from textrobust.runs.executor import WorkerSpec
    from textrobust.runs.runner import make_job, run_attack
    from textrobust.store import Store, VictimInfo
    from textrobust.victims import load_victim
    from textrobust.victims.base import VICTIM_TYPE_KEY, read_config

    config = read_config(args.victim)
    dataset = load_dataset(args.dataset)
    split = dataset.split(args.split)
    victim = RecordingVictim(load_victim(args.victim))
    start = time.perf_counter()
    attack = build_attack(
        args.recipe, language=dataset.language, mlm=args.mlm, budget=args.budget, seed=args.seed
    )
    build_seconds = time.perf_counter() - start
    spec = WorkerSpec(load_victim=lambda: victim, build_attack=lambda: attack, seed=args.seed)
    info = VictimInfo.from_directory(args.victim, str(config[VICTIM_TYPE_KEY]))

    def job(name: str, examples: Split) -> Any:
        return make_job(
            recipe=args.recipe, victim=info, dataset_name=name, split_name=args.split,
            language=dataset.language, label_names=dataset.label_names, split=examples, n=None,
            seed=args.seed, budget=args.budget, options={"mlm": args.mlm}, worker=spec,
        )  # fmt: skip

    timed = split.head(args.n)
    warm = Split(split.texts[args.n : args.n + args.warmup], split.labels[args.n : args.n + args.warmup])
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.sqlite") as store:
        if len(warm):
            run_attack(job(f"{dataset.name}-warmup", warm), store, progress=False)
        victim.reset()
        start = time.perf_counter()
        outcome = run_attack(job(dataset.name, timed), store, progress=False)
        attack_seconds = time.perf_counter() - start
        results = store.results(outcome.run.id)

    texts = list(victim.texts)
    inference_seconds = batched_inference_seconds(victim.victim, texts, args.batch_size, args.repeats)
    summary = summarize(results)
    ratio = attack_seconds / inference_seconds if inference_seconds > 0 else float("inf")
    rows = [
        ("recipe / victim", f"{args.recipe} / {info.type}"),
        ("successful / failed / skipped", f"{summary.successful} / {summary.failed} / {summary.skipped}"),
        ("attack build (not timed)", f"{build_seconds:.2f} s"),
        ("texts scored by the victim", str(len(texts))),
        ("queries reported by the attack", str(sum(r.queries for r in results))),
        ("victim calls during the attack", str(victim.calls)),
        ("attack wall time", f"{attack_seconds:.2f} s"),
        ("↳ inside the victim", f"{victim.seconds:.2f} s"),
        ("↳ outside it (candidates, constraints, search, store)", f"{attack_seconds - victim.seconds:.2f} s"),
        (f"batched inference of the same texts (batch {args.batch_size})", f"{inference_seconds:.2f} s"),
        ("ratio attack / inference (goal ≤ 1.5)", f"{ratio:.2f}" + (" ✓" if ratio <= 1.5 else " ✗")),
    ]  # fmt: skip
    print(tabulate(rows, tablefmt="simple_outline", disable_numparse=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
