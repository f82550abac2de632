"""Batching across examples and ``--order victim-first`` are speed-ups only: they change no result."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from tests.stand_ins import (
    DictTagger,
    DictWordNet,
    HashingEncoder,
    KeywordModel,
    TinyNeighbourTable,
    tiny_masked_lm,
)
from textrobust.attacks.options import AttackOptions
from textrobust.attacks.recipes import RecipeResources, build_attack
from textrobust.attacks.requests import Call, answer, run_now, run_together
from textrobust.runs.executor import Shard, Worker, WorkerSpec

# -- the request machinery ----------------------------------------------------------------------------


def test_answer_pools_calls_computes_repeated_inputs_once_and_routes_outputs_back() -> None:
    seen: list[list[str]] = []

    def upper(inputs: list[str]) -> list[str]:
        seen.append(list(inputs))
        return [text.upper() for text in inputs]

    calls = [Call("k", upper, ["a", "b"]), Call("k", upper, ["b", "c"])]
    assert answer(calls) == [["A", "B"], ["B", "C"]]
    assert seen == [["a", "b", "c"]]


def test_array_outputs_stay_arrays_per_call() -> None:
    def rows(inputs: list[int]) -> np.ndarray:
        return np.array([[i, -i] for i in inputs], dtype=np.float32)

    first, second = answer([Call("k", rows, [1]), Call("k", rows, [])])
    assert first.tolist() == [[1.0, -1.0]] and second.shape == (0, 2)


def _steps(name: str, rounds: int, log: list[tuple[str, ...]]):  # type: ignore[no-untyped-def]
    total = 0
    for r in range(rounds):
        out = yield Call("double", lambda xs: (log.append(tuple(xs)), [x * 2 for x in xs])[1], [f"{name}{r}"])
        total += len(out[0])
    return name, total


def test_run_together_answers_each_round_with_one_batch_and_reports_in_finishing_order() -> None:
    log: list[tuple[str, ...]] = []
    finished = list(run_together([_steps("a", 3, log), _steps("b", 1, log)]))
    assert finished == [(1, ("b", 4)), (0, ("a", 12))]
    assert log == [("a0", "b0"), ("a1",), ("a2",)]
    assert run_now(_steps("c", 2, [])) == ("c", 8)


# -- whole attacks --------------------------------------------------------------------------------------

WEIGHTS = {"good": 1.6, "great": 1.8, "fun": 1.0, "fine": 0.8, "bad": -2.0, "dull": -2.0, "poor": -2.0}
TEXTS = [
    "the movie was good and the acting was great , a very fun plot",
    "a good film with fine acting and a plot that was fun to see",
    "the plot was good , the movie was fun and the acting was fine",
    "good fun",
    "great acting , good story , fine film and fun music all the way through it",
    "a dull plot",
]
VOCAB = sorted({w for t in TEXTS for w in t.split() if w.isalpha()} | set(WEIGHTS) | {"film", "story"})


class CountingEncoder(HashingEncoder):
    def __init__(self) -> None:
        super().__init__()
        self.texts = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += len(texts)
        return super().encode(texts)


def stand_in_resources() -> dict[str, Any]:
    return {
        "neighbours": TinyNeighbourTable(
            {
                "good": [("fine", 0.9), ("bad", 0.85), ("poor", 0.82)],
                "great": [("good", 0.9), ("dull", 0.85)],
                "fun": [("dull", 0.84)],
                "fine": [("poor", 0.83)],
                "acting": [("story", 0.81)],
            }
        ),
        "sentence_encoder": CountingEncoder(),
        "pos_tagger": DictTagger({w: "ADJ" for w in ("good", "great", "fun", "fine", "bad", "dull", "poor")}),
        "wordnet": DictWordNet(
            {("good", "a"): ["poor", "fine"], ("great", "a"): ["dull"], ("fun", "a"): ["dull"]}
        ),
        "stopwords": frozenset({"the", "a", "and", "was", "with", "that", "to", "very"}),
        "masked_lm": tiny_masked_lm(VOCAB, seed=1),
    }


def _attack_all(recipe: str, batch: int, **options: Any) -> tuple[dict[int, Any], Any]:
    resources = stand_in_resources()
    spec = WorkerSpec(
        lambda: KeywordModel(dict(WEIGHTS), bias=-1.5),
        lambda: build_attack(recipe, AttackOptions(**options), RecipeResources(**resources)),
        seed=0,
        batch_examples=batch,
    )
    worker = Worker(spec)
    shard = Shard(tuple(range(len(TEXTS))), tuple(TEXTS), tuple([1] * len(TEXTS)))
    return dict(worker.attack_shard(shard)), resources


def _outcome(result: Any) -> tuple[Any, ...]:
    return (result.status, result.adversarial_text, list(result.changes))


@pytest.mark.parametrize("recipe", ["textfooler", "pwws", "bae", "mlm-synonym", "bert-attack"])
def test_batching_across_examples_changes_no_text_status_or_query_count(recipe: str) -> None:
    alone, _ = _attack_all(recipe, 1)
    together, _ = _attack_all(recipe, 4)
    assert sorted(together) == sorted(alone)
    for index, result in alone.items():
        assert _outcome(together[index]) == _outcome(result)
        assert together[index].queries == result.queries
    assert any(r.status == "success" for r in alone.values())


@pytest.mark.parametrize("recipe", ["textfooler", "bae", "mlm-synonym"])
def test_victim_first_gives_the_same_texts_with_fewer_encoder_calls(recipe: str) -> None:
    first, first_resources = _attack_all(recipe, 1)
    victim_first, vf_resources = _attack_all(recipe, 1, order="victim-first")
    for index, result in first.items():
        assert _outcome(victim_first[index]) == _outcome(result)
        assert victim_first[index].queries >= result.queries
    assert any(r.status == "success" and r.adversarial_text for r in first.values())  # not all empty
    assert vf_resources["sentence_encoder"].texts < first_resources["sentence_encoder"].texts


def test_victim_first_refuses_a_query_budget() -> None:
    from textrobust.errors import ParameterError

    with pytest.raises(ParameterError, match="budget"):
        build_attack(
            "textfooler",
            AttackOptions(order="victim-first", budget=50),
            RecipeResources(**stand_in_resources()),
        )


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["paper", "textattack"])
def test_with_real_resources_and_a_wordcnn_both_speed_ups_keep_every_result(
    profile: str, real_resources, mr_wordcnn
) -> None:
    victim, test = mr_wordcnn
    shard = Shard(tuple(range(len(test.texts))), tuple(test.texts), tuple(test.labels))

    def run(batch: int, order: str = "constraints-first") -> dict[int, Any]:
        def attack() -> Any:
            return build_attack(
                "textfooler", AttackOptions(profile=profile, order=order), RecipeResources(**real_resources)
            )

        return dict(Worker(WorkerSpec(lambda: victim, attack, 0, batch_examples=batch)).attack_shard(shard))

    alone, together, victim_first = run(1), run(8), run(1, "victim-first")
    assert any(r.status == "success" for r in alone.values())
    for index, result in alone.items():
        assert _outcome(together[index]) == _outcome(result)
        assert together[index].queries == result.queries
        assert _outcome(victim_first[index]) == _outcome(result)


def test_the_runner_hands_a_worker_its_batch_so_calls_are_pooled(tmp_path) -> None:
    from textrobust.data import Split
    from textrobust.runs.runner import make_job, run_attack
    from textrobust.store import Store, VictimInfo

    def run(batch: int) -> tuple[list[Any], int]:
        victim = KeywordModel(dict(WEIGHTS), bias=-1.5)
        resources = stand_in_resources()
        spec = WorkerSpec(
            lambda: victim,
            lambda: build_attack("textfooler", None, RecipeResources(**resources)),
            0,
            batch_examples=batch,
        )
        job = make_job(
            recipe="textfooler", victim=VictimInfo("keyword", f"keyword-{batch}", "0"), dataset_name="toy",
            split_name="test", language="en", label_names=["negative", "positive"],
            split=Split(list(TEXTS), [1] * len(TEXTS)), n=None, seed=0, budget=None, options={}, worker=spec,
        )  # fmt: skip
        with Store(tmp_path / f"store-{batch}.sqlite") as store:
            outcome = run_attack(job, store, progress=False)
            results = store.results(outcome.run.id)
        return [(r.status, r.adversarial_text, r.queries) for r in results], len(victim.calls)

    alone, calls_alone = run(1)
    together, calls_together = run(6)
    assert together == alone
    assert any(status == "success" and text for status, text, _queries in alone)  # not all empty
    assert calls_together < calls_alone
