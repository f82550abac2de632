"""Does the cheaper model stay as robust? MiniLM fine-tuned in full, with LoRA, and the full one quantized to
int8, int4 and int2, on MR: clean accuracy, accuracy under attack, seconds per prediction, parameters.

Everything runs through the real commands' code (training, ``quantize``, ``attack`` into a store under
``--out``); a second run reuses the trained victims and the finished attack runs.

    python benchmarks/victim_zoo.py --mlm ../shared/models/minilm-mlm-en --n 100
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="runs/zoo", help="victims and the store (default: %(default)s)")
    parser.add_argument("--dataset", default="mr")
    parser.add_argument(
        "--max-train", type=int, default=None, help="first N training sentences (default: all)"
    )
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--n", type=int, default=100, help="test sentences attacked per victim and recipe")
    parser.add_argument("--recipes", default="textfooler,mlm-synonym")
    parser.add_argument("--mlm", default=None, help="fill-mask model for mlm-synonym")
    parser.add_argument(
        "--precisions", default="int8,int4,int2", help="quantized variants of the full fine-tune"
    )
    args = parser.parse_args()

    from textrobust.data import load_dataset
    from textrobust.runs.jobs import attack_victim
    from textrobust.statistics import bootstrap_mean
    from textrobust.store import Store
    from textrobust.victims import load_victim
    from textrobust.victims.details import describe_saved_victim
    from textrobust.victims.quantized import quantize_saved_victim
    from textrobust.victims.training import TrainConfig, train_victim

    out = Path(args.out)
    dataset = load_dataset(args.dataset)
    recipes = [r.strip() for r in args.recipes.split(",") if r.strip()]
    print(f"load average before: {os.getloadavg()}; {os.cpu_count()} CPUs")

    def train(name: str, learning_rate: float, **options: Any) -> Path:
        folder = out / name
        if not (folder / "config.json").exists():
            start = time.perf_counter()
            config = TrainConfig(epochs=args.epochs, learning_rate=learning_rate, seed=0,
                                 max_train_examples=args.max_train, device="cpu")  # fmt: skip
            train_victim("bert", dataset, folder, config, **options)
            print(f"trained {name} in {time.perf_counter() - start:.0f} s")
        return folder

    # Full fine-tuning at BERT's usual 5e-5 (Devlin et al. 2019); LoRA at 1e-3 (its adapters start at zero
    # and need a larger step; Hu et al. 2021 used 4e-4 to 5e-4 for RoBERTa-base over more epochs).
    victims = {
        "minilm-full": train("minilm-full", 5e-5),
        "minilm-lora": train("minilm-lora", 1e-3, peft="lora", lora_rank=8),
    }
    for precision in [p.strip() for p in args.precisions.split(",") if p.strip()]:
        variant = out / f"minilm-{precision}"
        if not (variant / "config.json").exists():
            start = time.perf_counter()
            quantize_saved_victim(victims["minilm-full"], variant, dataset, precision=precision)
            print(f"quantized to {precision} in {time.perf_counter() - start:.0f} s")
        victims[f"minilm-{precision}"] = variant

    rows = []
    with Store(out / "textrobust.sqlite") as store:
        for name, folder in victims.items():
            victim = load_victim(folder)
            correct, seconds = _correct(victim, dataset)
            details = describe_saved_victim(folder)
            row = {
                "victim": name,
                "fine-tuning": details["fine_tuning"],
                "precision": details["precision"],
                "parameters": details["parameters"],
                "trainable": details["trainable_parameters"],
                "clean accuracy (test) [95 %]": _interval(bootstrap_mean(correct)),
                "ms / prediction": 1000 * seconds / len(correct),
            }
            for recipe in recipes:
                outcome = attack_victim(
                    folder, recipe, dataset=dataset, n=args.n, mlm=args.mlm, store=store, resume=True,
                    batch_examples=16,
                )  # fmt: skip
                results = store.results(outcome.run.id)
                interval = bootstrap_mean([float(r.correct_after) for r in results])
                row[f"accuracy under {recipe} [95 %]"] = _interval(interval)
            if details["precision"] != "float32":
                row["agreement with float"] = victim.evaluation["agreement"]
                row["quantized share"] = victim.evaluation["quantized_share"]
            rows.append(row)
    print(f"\n{args.dataset} test split ({len(correct)} sentences); attacks on the first {args.n}")
    columns = list(dict.fromkeys(column for row in rows for column in row))
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
    print(f"\nload average after: {os.getloadavg()}")


def _correct(victim: Any, dataset: Any) -> tuple[list[float], float]:
    """Per test sentence, whether the victim is right; and the seconds its predictions took (batched)."""
    from textrobust.victims.base import victim_label_ids

    test = dataset.split("test")
    gold = victim_label_ids(victim.labels, dataset.label_names, test.labels)
    start = time.perf_counter()
    predicted = victim.predict_proba(test.texts).argmax(axis=1)
    seconds = time.perf_counter() - start
    return [float(p == g) for p, g in zip(predicted, gold, strict=True)], seconds


def _interval(interval: Any) -> str:
    return f"{100 * interval.mean:.1f} % [{100 * interval.low:.1f}, {100 * interval.high:.1f}]"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}" if value < 1.5 else f"{value:.1f}"
    if isinstance(value, int) and value >= 10_000:
        return f"{value / 1e6:.2f} M"
    return str(value)


if __name__ == "__main__":
    main()
