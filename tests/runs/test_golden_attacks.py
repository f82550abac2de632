"""Same behaviour across refactors: 10 MR test sentences attacked with ``textfooler`` and ``mlm-synonym``
through the runner give exactly the statuses, adversarial texts and query counts recorded in
``tests/golden/attacks.json`` (recorded before the architecture move).

The victim and resources are tiny and deterministic on any CPU: a naive-Bayes keyword classifier fitted
on MR's training split (pure Python arithmetic), a neighbour table and a masked LM whose scores come from
CRC32 hashes, and a sentence encoder of seeded random word vectors (no ties, so no rounding can reorder
candidates). Run with ``TEXTROBUST_RECORD_GOLDEN=1`` to record the file again (only on purpose).
"""

from __future__ import annotations

import functools
import json
import math
import os
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from tests.stand_ins import KeywordModel
from textrobust.attacks.text import split_text
from textrobust.data import load_dataset
from textrobust.runs.executor import InProcessExecutor, WorkerSpec
from textrobust.runs.runner import make_job, run_attack
from textrobust.store import Store, VictimInfo

GOLDEN = Path(__file__).parent / "golden" / "attacks.json"
RECIPES = ("textfooler", "mlm-synonym")
N_EXAMPLES = 10


def _hash(*parts: str) -> int:
    return zlib.crc32("\x1f".join(parts).encode("utf-8"))


def naive_bayes_weights(texts: Sequence[str], labels: Sequence[int], min_count: int = 3) -> dict[str, float]:
    """Log-odds of each word (add-one smoothing) among positive vs negative training sentences."""
    counts = [Counter(), Counter()]
    for text, label in zip(texts, labels, strict=True):
        counts[label].update(w.lower() for w in split_text(text).words)
    totals = [sum(c.values()) for c in counts]
    vocabulary = sorted(
        w for w in set(counts[0]) | set(counts[1]) if counts[0][w] + counts[1][w] >= min_count
    )
    size = len(vocabulary)
    return {
        w: math.log((counts[1][w] + 1) / (totals[1] + size))
        - math.log((counts[0][w] + 1) / (totals[0] + size))
        for w in vocabulary
    }


class HashedNeighbourTable:
    """Symmetric pseudo-cosines in [0.3, 1) from a hash of the word pair; neighbours ranked by them."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words = sorted(set(words))
        self._known = set(self.words)

    def cosine(self, a: str, b: str) -> float | None:
        if a not in self._known or b not in self._known:
            return None
        if a == b:
            return 1.0
        low, high = sorted((a, b))
        return 0.3 + 0.7 * (_hash(low, high) % 100_000) / 100_000

    def neighbours(self, word: str, k: int = 50, min_cos: float = 0.0) -> list[tuple[str, float]]:
        if word not in self._known:
            return []
        scored = [(other, self.cosine(word, other)) for other in self.words if other != word]
        scored = [(w, c) for w, c in scored if c is not None and c >= min_cos]
        scored.sort(key=lambda item: (-item[1], item[0]))
        return scored[:k]

    def __contains__(self, word: object) -> bool:
        return word in self._known


class RandomVectorEncoder:
    """A text is the sum of seeded random word vectors (64-d, float64)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 64))
        for row, text in enumerate(texts):
            for word in split_text(text).words:
                out[row] += np.random.default_rng(_hash(word.lower())).standard_normal(64)
        return out


class HashTagger:
    """One of four universal tags per word, from a hash (context-free)."""

    TAGS = ("NOUN", "VERB", "ADJ", "ADV")

    def tag(self, words: Sequence[str]) -> list[str]:
        return [self.TAGS[_hash(w.lower()) % 4] for w in words]

    def tag_batch(self, batch: Sequence[Sequence[str]]) -> list[list[str]]:
        return [self.tag(words) for words in batch]


class HashMaskedLM:
    """Proposes vocabulary words for a masked position, ranked by a hash of the masked context."""

    name = "hash-mlm"

    def __init__(self, words: Sequence[str]) -> None:
        self.words = sorted(set(words))

    def at_mask(self, text, indices: Sequence[int], k: int) -> list[list[tuple[str, float]]]:
        out = []
        for index in indices:
            context = " ".join(w.lower() for i, w in enumerate(text.words) if i != index)
            ranked = sorted(self.words, key=lambda w: (_hash(context, str(index), w), w))
            out.append([(w, -float(rank)) for rank, w in enumerate(ranked[: k + 1])])
        return out


def golden_examples() -> tuple[list[str], list[int], dict[str, float]]:
    mr = load_dataset("mr")
    train, test = mr.split("train"), mr.split("test").head(N_EXAMPLES)
    return test.texts, test.labels, naive_bayes_weights(train.texts, train.labels)


def golden_victim(weights: dict[str, float]) -> KeywordModel:
    return KeywordModel(weights)


def golden_attack(recipe: str, vocabulary: tuple[str, ...]):
    from textrobust.attacks.recipes import build_attack

    return build_attack(
        recipe,
        neighbours=HashedNeighbourTable(vocabulary),
        sentence_encoder=RandomVectorEncoder(),
        pos_tagger=HashTagger(),
        masked_lm=HashMaskedLM(vocabulary),
    )


def attack_golden_examples(recipe: str, store_path: Path) -> list[dict[str, object]]:
    texts, labels, weights = golden_examples()
    # Candidates come from the words of the attacked sentences and the victim's strongest words.
    strongest = sorted(weights, key=lambda w: -abs(weights[w]))[:300]
    vocabulary = tuple(sorted({w.lower() for t in texts for w in split_text(t).words} | set(strongest)))
    job = make_job(
        recipe=recipe, victim=VictimInfo("keyword", "<golden>", "golden-naive-bayes-v1"),
        dataset_name="mr", split_name="test", language="en", label_names=["negative", "positive"],
        split=load_dataset("mr").split("test"), n=N_EXAMPLES, seed=0, budget=None, options={},
        worker=WorkerSpec(
            functools.partial(golden_victim, weights), functools.partial(golden_attack, recipe, vocabulary), 0
        ),
    )  # fmt: skip
    with Store(store_path) as store:
        run = run_attack(job, store, executor=InProcessExecutor(), progress=False).run
        return [
            {
                "index": index,
                "status": result.status,
                "adversarial_text": result.adversarial_text,
                "queries": result.queries,
                "changes": [[c.index, c.original, c.replacement] for c in result.changes],
            }
            for index, result in store.iter_results(run.id)
        ]


@pytest.mark.parametrize("recipe", RECIPES)
def test_attacks_match_the_results_recorded_before_the_architecture_move(recipe: str, tmp_path: Path) -> None:
    observed = attack_golden_examples(recipe, tmp_path / "golden.sqlite")
    if os.environ.get("TEXTROBUST_RECORD_GOLDEN") == "1":
        recorded = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
        recorded[recipe] = observed
        GOLDEN.write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))[recipe]
    assert [r["status"] for r in observed] == [r["status"] for r in expected]
    assert [r["adversarial_text"] for r in observed] == [r["adversarial_text"] for r in expected]
    assert [r["queries"] for r in observed] == [r["queries"] for r in expected]
    assert observed == expected
    statuses = {r["status"] for r in observed}
    assert "success" in statuses and "skipped" in statuses  # the file exercises both paths
