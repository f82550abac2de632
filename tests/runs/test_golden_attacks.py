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
import os
from pathlib import Path

import pytest

from tests.stand_ins import (
    HashedNeighbourTable,
    HashMaskedLM,
    HashTagger,
    KeywordModel,
    RandomVectorEncoder,
    naive_bayes_weights,
)
from textrobust.data import load_dataset
from textrobust.data.text import segment_text
from textrobust.runs.executor import InProcessExecutor, WorkerSpec
from textrobust.runs.runner import make_job, run_attack
from textrobust.store import Store, VictimInfo

GOLDEN = Path(__file__).parent / "golden" / "attacks.json"
RECIPES = ("textfooler", "mlm-synonym")
N_EXAMPLES = 10


def golden_examples() -> tuple[list[str], list[int], dict[str, float]]:
    mr = load_dataset("mr")
    train, test = mr.split("train"), mr.split("test").head(N_EXAMPLES)
    return test.texts, test.labels, naive_bayes_weights(train.texts, train.labels)


def golden_victim(weights: dict[str, float]) -> KeywordModel:
    return KeywordModel(weights)


def golden_attack(recipe: str, vocabulary: tuple[str, ...]):
    from textrobust.attacks.recipes import RecipeResources, build_attack

    return build_attack(
        recipe,
        None,
        RecipeResources(
            neighbours=HashedNeighbourTable(vocabulary),
            sentence_encoder=RandomVectorEncoder(),
            pos_tagger=HashTagger(),
            masked_lm=HashMaskedLM(vocabulary),
        ),
    )


def attack_golden_examples(recipe: str, store_path: Path) -> list[dict[str, object]]:
    texts, labels, weights = golden_examples()
    # Candidates come from the words of the attacked sentences and the victim's strongest words.
    strongest = sorted(weights, key=lambda w: -abs(weights[w]))[:300]
    vocabulary = tuple(sorted({w.lower() for t in texts for w in segment_text(t).words} | set(strongest)))
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
