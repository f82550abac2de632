"""What each defense cost and bought, from the store: for each method and victim, training seconds relative to
clean training on the same data, where the time went (training steps vs adversarial-example generation),
the cost of a co-tune epoch against a clean one, and accuracy before/after under each evaluation recipe.

    python benchmarks/defense_cost.py --store runs/defenses/defenses.sqlite

Every number is read from the store and the defended victims' configs (written by ``textrobust defend``);
nothing is re-run here. Accuracy differences carry a paired bootstrap 95 % interval.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

from tabulate import tabulate

from textrobust.defenses.evaluate import paired_bootstrap
from textrobust.store import Store


def _config(path: str) -> dict:
    file = Path(path) / "config.json"
    return json.loads(file.read_text(encoding="utf-8")) if file.exists() else {}


def _interval(base: list[float], defended: list[float]) -> str:
    d = paired_bootstrap(base, defended, seed=0)
    interval = f"[{100 * d.low:+.1f}, {100 * d.high:+.1f}]"
    return f"{100 * d.base:.1f} → {100 * d.defended:.1f} ({100 * d.difference:+.1f} {interval})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, type=Path)
    args = parser.parse_args(argv)
    with Store(args.store) as store:
        defenses = store.defenses()
        runs = {run.id: run for run in store.runs()}
        accuracy_rows, cost_rows = [], []
        for defense in defenses:
            info = defense.info
            victim = f"{info.base.type} ({Path(info.base.path).name})"
            by_recipe: dict[str, dict[str, int]] = defaultdict(dict)
            for run_id, role in defense.runs:
                by_recipe[runs[run_id].parameters.recipe][role] = run_id
            row = {"method": info.method, "victim": victim, "n": None}
            clean_done = False
            for recipe, roles in sorted(by_recipe.items()):
                base, defended = store.results(roles["base"]), store.results(roles["defended"])
                row["n"] = len(base)
                if not clean_done:
                    row["clean accuracy"] = _interval(
                        [float(r.correct_before) for r in base], [float(r.correct_before) for r in defended]
                    )
                    clean_done = True
                row[f"under {recipe}"] = _interval(
                    [float(r.correct_after) for r in base], [float(r.correct_after) for r in defended]
                )
            accuracy_rows.append(row)
            record = (_config(info.defended.path).get("training") or {}).get("defense", {})
            reference = info.clean_train_seconds
            ratio = f"{info.train_seconds / reference:.2f}×" if reference else "n/a"
            steps = record.get("step_seconds") or []
            examples = record.get("example_seconds") or []
            clean_epoch = record.get("clean_epoch_seconds")
            epoch_ratio = "n/a"
            if info.method == "co-tune" and clean_epoch and len(steps) > 1:
                clean_epochs = int(record.get("parameters", {}).get("clean_epochs", 1))
                adversarial = [
                    s + e for s, e in zip(steps[clean_epochs:], examples[clean_epochs:], strict=True)
                ]
                if adversarial:
                    epoch_ratio = f"{sum(adversarial) / len(adversarial) / clean_epoch:.2f}×"
            cost_rows.append(
                {
                    "method": info.method,
                    "victim": victim,
                    "train s": f"{info.train_seconds:.0f}",
                    "clean train s": "n/a" if reference is None else f"{reference:.0f}",
                    "cost ratio": ratio,
                    "generation s": f"{info.generation_seconds:.0f}",
                    "steps s": f"{sum(steps):.0f}" if steps else "0",
                    "co-tune epoch / clean epoch": epoch_ratio,
                    "forward passes": info.forward_passes,
                    "adversarial examples": record.get("adversarial_examples", 0),
                }
            )
    print("Accuracy (%), base → defended (difference [bootstrap 95 % interval]), first n test sentences:\n")
    print(tabulate(accuracy_rows, headers="keys", tablefmt="github", disable_numparse=True))
    print("\nCost (seconds; clean train s = the same epochs of clean training, timed in the same run):\n")
    print(tabulate(cost_rows, headers="keys", tablefmt="github", disable_numparse=True))
    load = os.getloadavg()
    print(f"\nload average now: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; cores: {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
