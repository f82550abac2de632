"""The Arabic acceptance figures, from a benchmark's store: for each victim attacked by a masked-LM recipe,
clean accuracy, accuracy under attack and the drop (bootstrap 95 % intervals), the share of substituted
words that are Arabic-script whole words, and the mean sentence-encoder similarity of the successes.

Usage:
  python benchmarks/arabic_report.py --store runs/arabic-seed/textrobust.sqlite [--recipe mlm-synonym]
"""

from __future__ import annotations

import argparse
import os
import platform

import numpy as np

from textrobust.data.arabic import is_arabic_word, is_clitic_only
from textrobust.data.text import segment_text
from textrobust.leaderboard.report import recipe_label
from textrobust.statistics import bootstrap_mean
from textrobust.store import Store


def is_whole_arabic_word(word: str) -> bool:
    """Arabic script only, one word by the project's splitting, not a bare proclitic or a single letter."""
    split = segment_text(word)
    return split.words == (word,) and is_arabic_word(word) and not is_clitic_only(word) and len(word) >= 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--recipe", default="mlm-synonym", help="recipe name (all its variants are shown)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f}")
    print("| victim | run | n | clean accuracy | accuracy under attack | drop (points) | Arabic whole-word "
          "substitutes | mean similarity of successes |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    with Store(args.store) as store:
        runs = [r for r in store.runs() if r.parameters.recipe == args.recipe and r.status == "finished"]
        for run in sorted(runs, key=lambda r: (r.parameters.victim.path, r.id)):
            results = [r for _i, r in store.iter_results(run.id)]
            clean = np.array([float(r.correct_before) for r in results])
            after = np.array([float(r.correct_after) for r in results])
            clean_i, after_i = bootstrap_mean(clean.tolist(), 0), bootstrap_mean(after.tolist(), 0)
            drop = bootstrap_mean((clean - after).tolist(), 0)
            substitutes = [c.replacement for r in results if r.status == "success" for c in r.changes]
            whole = sum(is_whole_arabic_word(word) for word in substitutes)
            similarities = [
                r.similarity for r in results if r.status == "success" and r.similarity is not None
            ]
            name = os.path.basename(run.parameters.victim.path)
            print(
                f"| {name} | {recipe_label(run.parameters.recipe, run.parameters.options)} (run {run.id}) | "
                f"{len(results)} | {clean_i.percent()} | {after_i.percent()} | "
                f"{drop.percent()} | "
                f"{whole}/{len(substitutes)} ({100 * whole / max(len(substitutes), 1):.1f} %) | "
                f"{np.mean(similarities) if similarities else float('nan'):.3f} |"
            )


if __name__ == "__main__":
    main()
