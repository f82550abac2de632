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


class MethodTimer:
    """Times every call of one method of one object (the sentence encoder's ``encode``, ...)."""

    def __init__(self, owner: Any, method: str) -> None:
        self.seconds = 0.0
        self.calls = 0
        original = getattr(owner, method)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.calls += 1

        setattr(owner, method, timed)

    def reset(self) -> None:
        self.seconds, self.calls = 0.0, 0


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
    parser.add_argument("--profile", default="paper", help="recipe settings: paper or textattack")
    parser.add_argument("--order", default="constraints-first", help="constraints-first or victim-first")
    parser.add_argument(
        "--batch-examples",
        type=int,
        nargs="+",
        default=[1, 16],
        help="examples attacked side by side (one row each)",
    )
    parser.add_argument("--batch-size", type=int, default=128, help="batch size of the replayed inference")
    parser.add_argument("--repeats", type=int, default=3, help="replays of the inference (best is kept)")
    args = parser.parse_args(argv)

    from tabulate import tabulate

    from textrobust.attacks.options import AttackOptions
    from textrobust.attacks.recipes import RecipeResources, build_attack
    from textrobust.data import Split, load_dataset
    from textrobust.leaderboard.summary import summarize
    from textrobust.resources.pos import load_pos_tagger
    from textrobust.resources.sentence_encoder import load_sentence_encoder
    from textrobust.runs.executor import WorkerSpec
    from textrobust.runs.runner import make_job, run_attack
    from textrobust.store import Store, VictimInfo
    from textrobust.victims import load_victim

    dataset = load_dataset(args.dataset)
    split = dataset.split(args.split)
    victim = RecordingVictim(load_victim(args.victim))
    timers: dict[str, MethodTimer] = {}
    options = {"profile": args.profile, "order": args.order}
    info = VictimInfo.from_directory(args.victim)
    timed = split.head(args.n)
    warm = Split(split.texts[args.n : args.n + args.warmup], split.labels[args.n : args.n + args.warmup])

    def fresh_attack() -> tuple[Any, float]:
        """A new attack with its own encoder, tagger and masked LM (cold caches) per batch size: none
        profits from another's work."""
        start = time.perf_counter()
        encoder = load_sentence_encoder("use-multilingual")
        tagger = load_pos_tagger(dataset.language)
        timers["encoder"] = MethodTimer(encoder, "encode")
        timers["tagger"] = MethodTimer(tagger, "tag_batch")
        attack = build_attack(
            args.recipe,
            AttackOptions.from_mapping({"budget": args.budget, **options}),
            RecipeResources(dataset.language, args.mlm, sentence_encoder=encoder, pos_tagger=tagger),
            seed=args.seed,
        )
        mlm = getattr(attack.candidates, "mlm", None)
        if mlm is not None:
            timers["masked LM"] = MethodTimer(mlm, "_logits_at")
        return attack, time.perf_counter() - start

    rows: list[list[str]] = []
    texts: list[str] = []
    outcomes: dict[int, list[tuple[Any, ...]]] = {}
    build_seconds = 0.0
    for batch in args.batch_examples:
        attack, build_seconds = fresh_attack()
        spec = WorkerSpec(lambda: victim, lambda a=attack: a, seed=args.seed, batch_examples=batch)

        def job(name: str, examples: Split, spec: WorkerSpec = spec) -> Any:
            return make_job(
                recipe=args.recipe, victim=info, dataset_name=name, split_name=args.split,
                language=dataset.language, label_names=dataset.label_names, split=examples, n=None,
                seed=args.seed, budget=args.budget, options={"mlm": args.mlm, **options},
                worker=spec,
            )  # fmt: skip

        with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.sqlite") as store:
            if len(warm):
                run_attack(job(f"{dataset.name}-warmup", warm), store, progress=False)
            victim.reset()
            for timer in timers.values():
                timer.reset()
            start = time.perf_counter()
            outcome = run_attack(job(dataset.name, timed), store, progress=False)
            attack_seconds = time.perf_counter() - start
            results = store.results(outcome.run.id)
        texts = list(victim.texts)
        outcomes[batch] = [(r.status, r.adversarial_text, r.queries) for r in results]
        inference_seconds = batched_inference_seconds(victim.victim, texts, args.batch_size, args.repeats)
        summary = summarize(results)
        ratio = attack_seconds / inference_seconds if inference_seconds > 0 else float("inf")
        model_seconds = victim.seconds + sum(t.seconds for t in timers.values())
        rows.append([
            str(batch),
            f"{summary.successful}/{summary.failed}/{summary.skipped}",
            str(sum(r.queries for r in results)),
            str(victim.calls),
            f"{attack_seconds:.2f}",
            f"{victim.seconds:.2f}",
            *(f"{t.seconds:.2f} ({t.calls})" for t in timers.values()),
            f"{attack_seconds - model_seconds:.2f}",
            f"{inference_seconds:.2f}",
            f"{ratio:.2f}" + (" ✓" if ratio <= 1.5 else " ✗"),
        ])  # fmt: skip
    head = ["batch examples", "success/failed/skipped", "queries", "victim calls", "wall s", "victim s",
            *(f"{name} s (calls)" for name in timers), "rest s", f"inference s (batch {args.batch_size})",
            "wall / inference (goal ≤ 1.5)"]  # fmt: skip
    import os
    import platform

    print(
        f"{args.recipe} ({args.profile} profile, {args.order}) on {info.type}, first {args.n} "
        f"{dataset.name}/{args.split} examples; build {build_seconds:.1f} s (not timed); "
        f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
    )
    print(tabulate(rows, headers=head, tablefmt="github", disable_numparse=True))
    first = next(iter(outcomes.values()))
    same = all(outcome == first for outcome in outcomes.values())
    print(f"statuses, texts and queries identical across batch sizes: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
