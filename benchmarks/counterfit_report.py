"""Counter-fitting report: antonym share among top-50 neighbours before/after, and the build time.

    python benchmarks/counterfit_report.py            # reuses the cached tables (builds them if missing)
    python benchmarks/counterfit_report.py --fresh    # times a build from scratch in a temporary cache
    python benchmarks/counterfit_report.py --holdout 0.2   # also: antonym pairs never seen in training

The antonym share is the fraction of WordNet antonym pairs (inside the attack vocabulary) where one word
is among the other's top-50 neighbours with cosine >= 0.5, i.e. a swap a TextFooler-style attack could
make. "All" counts the pairs counter-fitting was trained on (direct + indirect WordNet antonyms);
"direct" only WordNet's direct lemma antonyms; "held out" pairs removed from training (``--holdout``).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Collection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textrobust.resources.evaluation import antonym_share  # noqa: E402
from textrobust.resources.lexical_pairs import LexicalPairs, WordNetPairs  # noqa: E402
from textrobust.resources.neighbours import (  # noqa: E402
    COUNTER_FITTED_GLOVE,
    PLAIN_GLOVE,
    NeighbourTable,
    attack_vocabulary,
    counter_fitted_table,
    load_neighbour_table,
)
from textrobust.resources.vectors import load_word_vectors  # noqa: E402
from textrobust.resources.wordnet import load_wordnet  # noqa: E402

PROBES = ("good", "terrible", "quick")


class _Without:
    """A WordNet pair source with some antonym pairs held out of training."""

    def __init__(self, base: WordNetPairs, held_out: set[tuple[str, str]]) -> None:
        self.base, self.held_out, self.name = base, held_out, f"{base.name}-holdout"

    def pairs(self, vocabulary: Collection[str]) -> LexicalPairs:
        full = self.base.pairs(vocabulary)
        kept = [pair for pair in full.antonyms if pair not in self.held_out]
        return LexicalPairs(
            full.synonyms, kept, f"{full.source} minus {len(self.held_out)} held-out antonyms"
        )


def _share_line(
    label: str, before: NeighbourTable, after: NeighbourTable, pairs: list[tuple[str, str]]
) -> str:
    old, new = antonym_share(before, pairs), antonym_share(after, pairs)
    ratio = f"{old.share / new.share:.1f}x fewer" if new.hits else "none left"
    was, now = f"{old.hits:,} ({old.share:.2%})", f"{new.hits:,} ({new.share:.2%})"
    return "| " + " | ".join([label, f"{old.pairs:,}", was, now, ratio]) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="build from scratch in a temporary cache")
    parser.add_argument("--holdout", type=float, default=0.0, help="fraction of antonym pairs held out")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    temporary = tempfile.TemporaryDirectory(prefix="textrobust-cf-") if args.fresh else None
    if temporary is not None:
        os.environ["TEXTROBUST_CACHE"] = temporary.name
    started = time.perf_counter()
    wordnet = load_wordnet()
    wordnet_seconds = time.perf_counter() - started
    after = load_neighbour_table(COUNTER_FITTED_GLOVE)
    total_seconds = time.perf_counter() - started
    before = load_neighbour_table(PLAIN_GLOVE)

    vocab = set(after.words)

    def inside(indirect: bool) -> list[tuple[str, str]]:
        pairs = wordnet.antonym_lemma_pairs(indirect=indirect)
        return sorted((a, b) for a, b in pairs if a < b and a in vocab and b in vocab)

    all_pairs, direct = inside(True), inside(False)

    meta = after.meta
    print("## Counter-fitted GloVe 6B 50d (WordNet constraints), built here\n")
    print(
        f"- vocabulary: {len(after.words):,} words (GloVe's most frequent alphabetic tokens), top-{after.k}"
    )
    print(f"- constraints: {meta.get('synonym_pairs', 0):,} synonym pairs, {meta.get('antonym_pairs', 0):,} "
          f"antonym pairs, {meta.get('vsp_pairs', 0):,} preservation pairs (cos >= 0.8)")  # fmt: skip
    print(f"- hyperparameters: {meta.get('config')}")
    if args.fresh:
        print(f"- build from scratch: {total_seconds:.0f} s (WordNet lexicon {wordnet_seconds:.0f} s)")
    stages = ("pairs_seconds", "vsp_seconds", "fit_seconds", "neighbour_seconds", "build_seconds")
    print(
        "- table build stages (s): "
        + ", ".join(f"{s.removesuffix('_seconds')} {meta.get(s)}" for s in stages)
    )
    print(f"- machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end\n")

    print("| antonym pairs | in vocabulary | GloVe: in top-50, cos >= 0.5 | counter-fitted | change |")
    print("|---|---|---|---|---|")
    print(_share_line("all (trained on)", before, after, all_pairs))
    print(_share_line("direct WordNet antonyms", before, after, direct))
    if args.holdout > 0:
        rng = random.Random(args.seed)
        held = set(rng.sample(all_pairs, int(len(all_pairs) * args.holdout)))
        base = attack_vocabulary(load_word_vectors(PLAIN_GLOVE))
        clock = time.perf_counter()
        trained = counter_fitted_table("holdout", base, _Without(WordNetPairs(wordnet), held))
        print(_share_line(f"held out ({args.holdout:.0%}, not trained on)", before, trained, sorted(held)))
        print(f"\n(held-out build: {time.perf_counter() - clock:.0f} s)")

    print("\n## Top-10 neighbours (antonyms marked with *)\n")
    for word in PROBES:
        antonyms = {a.lower() for a in wordnet.antonyms(word)}
        for label, table in (("GloVe", before), ("counter-fitted", after)):
            cells = [f"{'*' if w in antonyms else ''}{w} {c:.2f}" for w, c in table.neighbours(word, 10)]
            print(f"- {word} ({label}): " + ", ".join(cells))
    if temporary is not None:
        temporary.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
