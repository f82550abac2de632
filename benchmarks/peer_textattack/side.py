"""One side of the peer benchmark: attack the first N MR test sentences with one tool, write JSON lines.

Run by ``run.py``: with the project's Python for ``--tool textrobust``, with the TextAttack venv's Python
(project root on ``PYTHONPATH``) for ``--tool textattack``. Both sides load the victim with textrobust's
code, skip the examples the victim already gets wrong the same way (one prediction, in
``textrobust.runs.executor.Worker``), and use the same resources; only the attack differs.
The first line is a header (load seconds); then one line per example; the last line holds the wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", choices=["textrobust", "textattack"], required=True)
    parser.add_argument("--recipe", required=True, help="textfooler, pwws or bae")
    parser.add_argument("--victim", required=True, help="saved textrobust victim directory")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=None)
    parser.add_argument("--mlm", default=None)
    parser.add_argument("--profile", default="paper", help="recipe settings: paper or textattack")
    parser.add_argument("--order", default="constraints-first", help="constraints-first or victim-first")
    parser.add_argument("--batch-examples", type=int, default=1, help="examples attacked side by side")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)

    from textrobust.attacks.options import AttackOptions
    from textrobust.data import load_dataset
    from textrobust.runs.executor import Shard, Worker, WorkerSpec
    from textrobust.runs.specs import RecipeAttack
    from textrobust.victims import resolve_victim, victim_label_ids

    if args.tool == "textattack":
        from textrobust.attacks.textattack_adapter import TextAttackRecipe

        build = TextAttackRecipe(args.recipe, "en", args.mlm, args.budget)
    else:
        options = AttackOptions(profile=args.profile, order=args.order, budget=args.budget)
        build = RecipeAttack(args.recipe, options, "en", args.mlm, args.seed)
    data = load_dataset("mr")
    examples = data.split("test").head(args.n)
    labels = list(examples.labels)
    victim = resolve_victim(args.victim)
    if victim.labels is not None:
        labels = victim_label_ids(list(victim.labels), data.label_names, labels)

    start = time.perf_counter()
    spec = WorkerSpec(victim, build, args.seed, args.batch_examples)
    worker = Worker(spec)
    load_seconds = time.perf_counter() - start
    args.out.parent.mkdir(parents=True, exist_ok=True)
    shard = Shard(tuple(range(len(labels))), tuple(examples.texts), tuple(labels))
    with open(args.out, "w", encoding="utf-8") as handle:
        header = {"tool": args.tool, "recipe": args.recipe, "victim": Path(args.victim).name, "n": args.n,
                  "profile": args.profile, "order": args.order,
                  "batch_examples": args.batch_examples}  # fmt: skip
        handle.write(json.dumps({"header": header, "load_seconds": load_seconds}) + "\n")
        start = time.perf_counter()
        results = {}
        for index, result in worker.attack_shard(shard):  # in finishing order when batched
            results[index] = result
            print(f"{args.tool} {args.recipe} {len(results)}/{args.n} {result.status}", file=sys.stderr)
        wall = time.perf_counter() - start
        for index in sorted(results):
            result = results[index]
            record = {
                "index": index,
                "status": result.status,
                "queries": result.queries,
                "words_changed": result.words_changed,
                "num_words": result.num_words,
                "perturbed": result.perturbed_fraction,
                "adversarial_text": result.adversarial_text,
                "seconds": result.seconds,
                "failure_reason": result.failure_reason,
            }
            handle.write(json.dumps(record) + "\n")
        handle.write(json.dumps({"wall_seconds": wall}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
