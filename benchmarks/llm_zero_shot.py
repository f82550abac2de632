"""An LLM as a zero-shot victim, measured: clean accuracy on a dataset split (95 % interval) and accuracy
under attack, through the real command line (``textrobust attack``), so the numbers are what a user gets.

Usage (offline, the installed SmolLM2-135M-Instruct GGUF; the prompt is the default one):
  python benchmarks/llm_zero_shot.py --store /tmp/llm_runs.sqlite            # everything, in turn
  python benchmarks/llm_zero_shot.py --stage clean                           # only the clean accuracy
  python benchmarks/llm_zero_shot.py --stage attack --recipe textfooler      # one attack (resumes)
  python benchmarks/llm_zero_shot.py --stage report                          # print what is stored

Attacks resume (``--resume``): a run stopped early continues where it stopped, and the report says how many
examples each run has finished so far.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

VICTIM = "llm:smollm2-135m-instruct"
VERBALIZER = 'negative="negative",positive="positive"'


def wilson(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score 95 % interval of a proportion."""
    if n == 0:
        return (math.nan, math.nan)
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{platform.machine()}, {os.cpu_count()} cores, load average {load}"


def victim_flags(args: argparse.Namespace) -> list[str]:
    return ["--victim", args.victim, "--verbalizer", args.verbalizer]


def clean(args: argparse.Namespace) -> None:
    """Clean accuracy of the first ``--clean-n`` examples (the code ``textrobust evaluate`` runs)."""
    import numpy as np

    from textrobust.data import load_dataset
    from textrobust.victims import resolve_victim
    from textrobust.victims.base import victim_label_ids
    from textrobust.victims.prompting import PromptOptions
    from textrobust.victims.resolve import SourceOptions

    start = time.perf_counter()
    ref = resolve_victim(args.victim, SourceOptions(prompt=PromptOptions(verbalizer=args.verbalizer)))
    victim = ref.load("cpu")
    data = load_dataset(args.dataset)
    split = data.split(args.split).head(args.clean_n)
    labels = np.asarray(victim_label_ids(victim.labels, data.label_names, split.labels))
    loaded = time.perf_counter()
    predicted = np.concatenate(
        [victim.predict_proba(split.texts[i : i + 64]).argmax(axis=1) for i in range(0, len(split.texts), 64)]
    )
    seconds = time.perf_counter() - loaded
    correct = int((predicted == labels).sum())
    low, high = wilson(correct, len(labels))
    share = {name: float((predicted == i).mean()) for i, name in enumerate(victim.labels)}
    usage = victim.usage()
    print(
        f"clean accuracy, {args.dataset}/{args.split} first {len(labels)}: {correct / len(labels):.1%} "
        f"(95 % interval {low:.1%}–{high:.1%}); predicted {share}; "
        f"{seconds:.0f} s ({seconds / len(labels):.2f} s/text, load {loaded - start:.0f} s), "
        f"{usage.requests} model calls, {usage.tokens_in / len(labels):.0f} prompt tokens/text; {machine()}",
        flush=True,
    )


def attack(args: argparse.Namespace, recipe: str) -> None:
    """One attack through the command line (resuming a run stopped before)."""
    command = [
        sys.executable, "-m", "textrobust", "attack", *victim_flags(args), "--recipe", recipe,
        "--dataset", args.dataset, "--split", args.split, "--n", str(args.attack_n),
        "--store", str(args.store), "--resume", "--no-progress",
    ]  # fmt: skip
    print("$ textrobust " + " ".join(command[3:]), flush=True)
    start = time.perf_counter()
    code = subprocess.call(command)
    print(f"{recipe}: exit {code}, {time.perf_counter() - start:.0f} s; {machine()}", flush=True)


def report(args: argparse.Namespace) -> None:
    """What the store holds for the victim: per recipe, its latest run (finished or not)."""
    from textrobust.leaderboard.summary import summarize
    from textrobust.store import Store

    if not Path(args.store).exists():
        print(f"no store at {args.store}")
        return
    with Store(args.store) as store:
        latest = {}
        for run in store.runs():
            if run.parameters.victim.path.startswith("llm:") and run.parameters.dataset.split == args.split:
                latest[run.parameters.recipe] = run
        for recipe, run in sorted(latest.items()):
            results = store.results(run.id)
            summary = summarize(results)
            done = summary.total
            under = wilson(summary.failed, done) if done else (math.nan, math.nan)
            usage = getattr(run, "usage", None)
            cost = f"; {usage.requests} model calls, {usage.tokens_in} prompt tokens" if usage else ""
            attacked = summary.successful + summary.failed
            print(
                f"{recipe} (run {run.id}, {run.status}, {done}/{run.parameters.n} examples): accuracy "
                f"{summary.original_accuracy:.1%} → {summary.accuracy_under_attack:.1%} under attack "
                f"(95 % interval {under[0]:.1%}–{under[1]:.1%}), success rate "
                f"{(summary.attack_success_rate or 0):.1%} of {attacked} attacked, "
                f"mean queries {(summary.avg_queries or 0):.0f}; {_wall(run)}{cost}"
            )


def _wall(run: Any) -> str:
    """The run's wall time (its first start to its finish), or how long it has run so far."""
    from datetime import UTC, datetime

    start = datetime.fromisoformat(run.started)
    end = datetime.fromisoformat(run.finished) if run.finished else datetime.now(start.tzinfo or UTC)
    return f"{(end - start).total_seconds():.0f} s wall" + ("" if run.finished else " so far")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--victim", default=VICTIM)
    parser.add_argument("--verbalizer", default=VERBALIZER)
    parser.add_argument("--dataset", default="mr")
    parser.add_argument("--split", default="test")
    parser.add_argument("--clean-n", type=int, default=1000)
    parser.add_argument("--attack-n", type=int, default=100)
    parser.add_argument("--recipe", action="append", help="textfooler, pwws… (default: both)")
    parser.add_argument("--stage", choices=("all", "clean", "attack", "report"), default="all")
    parser.add_argument("--store", type=Path, default=Path("/tmp/llm_runs.sqlite"))
    args = parser.parse_args()
    recipes = args.recipe or ["textfooler", "pwws"]
    if args.stage in ("all", "clean"):
        clean(args)
    if args.stage in ("all", "attack"):
        for recipe in recipes:
            attack(args, recipe)
    if args.stage in ("all", "attack", "report"):
        report(args)


if __name__ == "__main__":
    main()
