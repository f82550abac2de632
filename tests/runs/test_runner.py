"""The runner: skipping, storing, resuming (also after SIGKILL), determinism, and executors.

The victim and attack here are small but real: a keyword-weight classifier and a greedy word-swap
attack that implements the attack protocol (one batched query for word importance, one per position).
The attack breaks ties with a generator of its own seeded from the run seed and the text, as the engine's
attacks do: the runner leaves the global generators alone.
"""

from __future__ import annotations

import functools
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from tests.stand_ins import DictTagger, DictWordNet, HashingEncoder, KeywordModel, TinyNeighbourTable
from textrobust.attacks.goals import UntargetedLabelFlip
from textrobust.attacks.oracle import QueryOracle
from textrobust.attacks.result import AttackResult, WordChange
from textrobust.data import Split
from textrobust.data.text import segment_text
from textrobust.errors import DataError, ResourceMissingError
from textrobust.leaderboard.summary import summarize
from textrobust.runs.executor import InProcessExecutor, ProcessPoolExecutor, Shard, WorkerSpec
from textrobust.runs.runner import AttackJob, make_job, run_attack
from textrobust.seeding import example_generator, example_seed
from textrobust.store import Store, VictimInfo

WEIGHTS = {"good": 2.0, "great": 2.5, "fun": 1.5, "moving": 1.0, "bad": -2.0, "dull": -2.5, "boring": -1.5}


def keyword_model() -> KeywordModel:  # module level: picklable for process pools
    """P(positive) = sigmoid(sum of keyword weights); every other word weighs nothing."""
    return KeywordModel(dict(WEIGHTS))


class GreedySwapAttack:
    """Greedy by deletion importance; each position tries every filler word in one batched query.

    Fillers are shuffled per example by the attack's own generator (run seed and text), and equal scores
    keep the first: which filler replaces a word depends on the seed (all fillers weigh nothing to the
    victim).
    """

    name = "greedy-swap"
    fillers = ("film", "movie", "story", "thing", "plot", "scene", "show", "tale")

    def __init__(
        self, max_fraction: float = 0.5, delay: float = 0.0, fail_on: str | None = None, seed: int = 0
    ) -> None:
        self.seed = seed
        self.max_fraction = max_fraction
        self.delay = delay
        self.fail_on = fail_on  # raise on this text (to interrupt a run)

    def attack(self, text: str, label: int, victim) -> AttackResult:
        # The oracle scores the original, decides "skipped", caches and counts every query.
        oracle = QueryOracle(victim, UntargetedLabelFlip(), label)
        result = oracle.original_result(text, len(segment_text(text)))
        if result.status == "skipped":
            return result
        time.sleep(self.delay)
        if text == self.fail_on:
            raise RuntimeError("attack crashed")
        words = text.split(" ")
        fillers = [self.fillers[i] for i in example_generator(self.seed, text).permutation(len(self.fillers))]
        deleted = [" ".join(words[:i] + words[i + 1 :]) or "." for i in range(len(words))]
        order = np.argsort(oracle.observe(deleted)[:, label], kind="stable")
        current, score = list(words), result.original_proba[label]
        for position in order[: max(1, int(self.max_fraction * len(words)))]:
            trials = [" ".join(current[:position] + [f] + current[position + 1 :]) for f in fillers]
            probs = oracle.observe(trials)
            best = int(np.argmin(probs[:, label]))
            if probs[best, label] >= score:
                continue
            result.changes.append(WordChange(int(position), current[position], fillers[best]))
            current[position], score = fillers[best], float(probs[best, label])
            if int(np.argmax(probs[best])) != label:
                result.status = "success"
                result.adversarial_text = trials[best]
                result.adversarial_prediction = int(np.argmax(probs[best]))
                result.adversarial_proba = probs[best].tolist()
                break
        else:
            result.changes = []
            result.failure_reason = "no flip within the word budget"
        result.queries = oracle.queries
        return result


def make_examples(n: int) -> Split:
    """Sentences with one to three keywords; every seventh label disagrees with the keywords (skipped)."""
    rng = random.Random(1234)
    fillers = ["the", "cast", "was", "and", "really", "quite", "a", "script", "ending", "very"]
    texts, labels = [], []
    for i in range(n):
        keywords = rng.sample(sorted(WEIGHTS), rng.randint(1, 3))
        words = rng.sample(fillers, rng.randint(2, 6)) + keywords
        rng.shuffle(words)
        text = " ".join(words)
        label = int(keyword_model().predict_proba([text])[0, 1] > 0.5)
        texts.append(text)
        labels.append(1 - label if i % 7 == 3 else label)
    return Split(texts, labels)


def build_attack(**options) -> GreedySwapAttack:  # module level: picklable for process pools
    return GreedySwapAttack(**options)


def make_test_job(n: int = 24, seed: int = 0, **attack_options) -> AttackJob:
    examples = make_examples(n)
    return make_job(
        recipe="greedy-swap",
        victim=VictimInfo(type="keyword", path="<in test>", fingerprint="keyword-model-v1"),
        dataset_name="synthetic",
        split_name="test",
        language="en",
        label_names=KeywordModel.labels,
        split=examples,
        n=n,
        seed=seed,
        budget=None,
        options={"max_fraction": attack_options.get("max_fraction", 0.5)},
        worker=WorkerSpec(keyword_model, functools.partial(build_attack, seed=seed, **attack_options), seed),
    )


def stored(store: Store, run_id: int) -> list[tuple[int, str, str | None, int, list[WordChange]]]:
    """What must be identical between equivalent runs (everything but the timing)."""
    return [(i, r.status, r.adversarial_text, r.queries, r.changes) for i, r in store.iter_results(run_id)]


def assert_attacks_did_something(rows: list) -> None:
    """Equal results prove nothing when every attack returned nothing: some example was searched (more
    than its one original query) and some adversarial text was found (rows as ``stored`` gives them)."""
    assert any(queries > 1 for _i, _status, _text, queries, _changes in rows), "no example was searched"
    assert any(status == "success" and text for _i, status, text, _queries, _changes in rows), "no success"


def run_in_fresh_store(path: Path, job: AttackJob, **kwargs) -> list:
    with Store(path) as store:
        outcome = run_attack(job, store, progress=False, **kwargs)
        return stored(store, outcome.run.id)


def test_every_example_is_stored_once_with_its_outcome(tmp_path: Path) -> None:
    job = make_test_job()
    with Store(tmp_path / "s.sqlite") as store:
        outcome = run_attack(job, store, progress=False)
        results = dict(store.iter_results(outcome.run.id))
        assert outcome.run.status == "finished" and outcome.attacked == 24 and not outcome.resumed
    assert sorted(results) == list(range(24))
    model = keyword_model()
    for index, result in results.items():
        text, label = job.examples.texts[index], job.examples.labels[index]
        assert result.original_text == text and result.label == label
        predicted = int(model.predict_proba([text])[0].argmax())
        if predicted != label:  # the victim is already wrong: skipped after the one original query
            assert result.status == "skipped" and result.queries == 1 and result.adversarial_text is None
            assert result.num_words == len(segment_text(text))
        else:
            assert result.status in ("success", "failed") and result.queries > 1
        if result.status == "success":  # replaying the adversarial text gives the stored prediction
            replay = model.predict_proba([result.adversarial_text])[0]
            assert int(replay.argmax()) == result.adversarial_prediction != label
            assert np.allclose(replay, result.adversarial_proba)
    statuses = {r.status for r in results.values()}
    assert statuses == {"success", "failed", "skipped"}, "the synthetic set should exercise every status"
    summary = summarize(results.values())
    assert summary.skipped == sum(1 for i in range(24) if i % 7 == 3)


class CountingModel(KeywordModel):
    """Remembers every text it scored, in order."""

    def __init__(self) -> None:
        super().__init__(dict(WEIGHTS))
        self.scored: list[str] = []

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self.scored.extend(texts)
        return super().predict_proba(texts)


def test_each_example_starts_from_an_empty_victim_cache() -> None:
    examples = make_examples(8)
    text, label = examples.texts[0], examples.labels[0]
    skipped_text, skipped_label = examples.texts[3], examples.labels[3]
    model = CountingModel()
    spec = WorkerSpec(lambda: model, functools.partial(build_attack), seed=0)
    shard = Shard((0, 1, 2), (text, text, skipped_text), (label, label, skipped_label))
    results = dict(InProcessExecutor().run(spec, [shard]))
    assert results[2].status == "skipped" and results[2].queries == 1
    # The same text twice costs the victim twice: nothing computed for one example serves another,
    # and within an example the cache answers every repeat (victim calls = reported queries).
    assert results[0].status != "skipped" and results[0].queries > 1
    assert model.scored.count(text) == 2
    assert len(model.scored) == len(set(model.scored[: results[0].queries])) * 2 + 1
    assert len(model.scored) == sum(r.queries for r in results.values())
    assert (results[0].status, results[0].queries) == (results[1].status, results[1].queries)


def test_same_seed_gives_same_adversarial_texts(tmp_path: Path) -> None:
    first = run_in_fresh_store(tmp_path / "a.sqlite", make_test_job(seed=7))
    second = run_in_fresh_store(tmp_path / "b.sqlite", make_test_job(seed=7))
    other_seed = run_in_fresh_store(tmp_path / "c.sqlite", make_test_job(seed=8))
    assert first == second
    assert_attacks_did_something(first)
    assert [r[2] for r in first] != [r[2] for r in other_seed], "the seed must matter to this attack"
    assert [r[1] for r in first] == [r[1] for r in other_seed]  # ...but not to which examples flip


class ReversedExecutor:
    """Attacks the shards last to first: results must not depend on the order examples are attacked."""

    def run(self, spec: WorkerSpec, shards: Sequence[Shard]) -> Iterator[tuple[int, AttackResult]]:
        return InProcessExecutor().run(spec, list(reversed(shards)))


def test_results_do_not_depend_on_attack_order(tmp_path: Path) -> None:
    forward = run_in_fresh_store(tmp_path / "a.sqlite", make_test_job(seed=3))
    backward = run_in_fresh_store(tmp_path / "b.sqlite", make_test_job(seed=3), executor=ReversedExecutor())
    assert forward == backward
    assert_attacks_did_something(forward)


def test_process_pool_gives_the_same_results_as_in_process(tmp_path: Path) -> None:
    job = make_test_job(n=12, seed=5)
    in_process = run_in_fresh_store(tmp_path / "a.sqlite", job)
    pooled = run_in_fresh_store(tmp_path / "b.sqlite", job, executor=ProcessPoolExecutor(2), shard_size=3)
    assert pooled == in_process
    assert_attacks_did_something(in_process)


def test_interrupted_run_resumes_without_repeating_or_losing(tmp_path: Path) -> None:
    crashing = make_test_job(fail_on=make_examples(24).texts[12])  # example 12 is attacked, not skipped
    with Store(tmp_path / "s.sqlite") as store:
        with pytest.raises(RuntimeError, match="attack crashed"):
            run_attack(crashing, store, progress=False)
        (interrupted,) = store.runs()
        assert interrupted.status == "interrupted"
        before = store.finished_indices(interrupted.id)
        assert before == set(range(12))
        attacked: list[int] = []
        outcome = run_attack(make_test_job(), store, resume=True, progress=False,
                             on_result=lambda i, _r: attacked.append(i))  # fmt: skip
        assert outcome.resumed and outcome.run.id == interrupted.id and outcome.run.status == "finished"
        assert sorted(attacked) == sorted(set(range(24)) - before)
        assert store.count_results(interrupted.id) == 24
        resumed = stored(store, interrupted.id)
    assert resumed == run_in_fresh_store(tmp_path / "reference.sqlite", make_test_job())


def test_resuming_a_finished_run_attacks_nothing_and_a_plain_rerun_starts_anew(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        first = run_attack(make_test_job(n=5), store, progress=False)
        again = run_attack(make_test_job(n=5), store, resume=True, progress=False)
        assert again.run.id == first.run.id and again.attacked == 0
        fresh = run_attack(make_test_job(n=5), store, progress=False)
        assert fresh.run.id != first.run.id and fresh.attacked == 5
        other = run_attack(make_test_job(n=5, seed=1), store, resume=True, progress=False)
        assert other.run.id not in (first.run.id, fresh.run.id) and not other.resumed


def broken_attack() -> GreedySwapAttack:
    raise ResourceMissingError("no such masked LM: pass --mlm NAME_OR_PATH")


def test_an_attack_that_cannot_be_built_leaves_no_run_behind(tmp_path: Path) -> None:
    job = make_test_job(n=3)
    broken = AttackJob(
        job.parameters, job.examples, WorkerSpec(keyword_model, broken_attack, job.worker.seed)
    )
    with Store(tmp_path / "s.sqlite") as store:
        with pytest.raises(ResourceMissingError, match="masked LM"):
            run_attack(broken, store, progress=False)
        with pytest.raises(ResourceMissingError, match="masked LM"):  # the worker's error, not a broken pool
            run_attack(broken, store, executor=ProcessPoolExecutor(2), progress=False)
        assert store.runs() == []


def test_a_label_the_victim_does_not_have_is_a_data_error(tmp_path: Path) -> None:
    job = make_test_job(n=3)
    bad = Split(job.examples.texts, [0, 5, 1])
    job = make_job(
        recipe="greedy-swap", victim=job.parameters.victim, dataset_name="synthetic", split_name="test",
        language="en", label_names=["a", "b", "c", "d", "e", "f"], split=bad, n=3, seed=0, budget=None,
        options={}, worker=job.worker,
    )  # fmt: skip
    with Store(tmp_path / "s.sqlite") as store, pytest.raises(DataError, match="label 5"):
        run_attack(job, store, progress=False)


def test_example_seeds_differ_by_index_and_run_seed() -> None:
    seeds = {example_seed(seed, index) for seed in range(3) for index in range(100)}
    assert len(seeds) == 300 and example_seed(0, 1) == example_seed(0, 1)


def run_slow_job(store_path: str) -> None:
    """Entry point of the subprocess that the SIGKILL test kills mid-run."""
    with Store(store_path) as store:
        run_attack(make_test_job(n=30, delay=0.1), store, progress=False)


def _count_stored(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def test_resume_after_sigkill_neither_loses_nor_repeats_an_example(tmp_path: Path) -> None:
    path = tmp_path / "killed.sqlite"
    code = f"from tests.runs import test_runner; test_runner.run_slow_job({str(path)!r})"
    process = subprocess.Popen(
        [sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": "0"}, cwd=Path(__file__).parents[2]
    )
    try:
        deadline = time.monotonic() + 60
        while _count_stored(path) < 5:
            assert process.poll() is None, "the attack process ended before it could be killed"
            assert time.monotonic() < deadline, "the attack process stored nothing within 60 s"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    with Store(path) as store:
        (killed,) = store.runs()
        assert killed.status == "running"  # nobody could mark it
        before = store.finished_indices(killed.id)
        assert 5 <= len(before) < 30, "the kill must land mid-run"
        attacked: list[int] = []
        outcome = run_attack(make_test_job(n=30, delay=0.0), store, resume=True, progress=False,
                             on_result=lambda i, _r: attacked.append(i))  # fmt: skip
        assert outcome.run.id == killed.id
        assert sorted(attacked) == sorted(set(range(30)) - before)  # nothing repeated
        assert store.finished_indices(killed.id) == set(range(30))  # nothing lost
        resumed = stored(store, killed.id)
    assert resumed == run_in_fresh_store(tmp_path / "reference.sqlite", make_test_job(n=30))
    assert_attacks_did_something(resumed)


# -- with the real attack engine ------------------------------------------------------------------
ENGINE_WEIGHTS = {"good": 1.6, "great": 1.8, "fun": 1.0, "fine": 0.8, "bad": -2.0, "dull": -2.0, "poor": -2.0}
ENGINE_TEXTS = [
    f"the {noun} was {a} and the acting was {b} , a {c} evening"
    for noun in ("movie", "film", "story")
    for a, b, c in (
        ("good", "great", "fun"),
        ("fine", "good", "great"),
        ("dull", "bad", "poor"),
        ("good", "fine", "fun"),
    )
]


def engine_victim():
    return KeywordModel(dict(ENGINE_WEIGHTS), bias=-0.5)


def engine_attack(recipe: str):
    """A recipe from the engine with tiny in-memory resources (built inside each worker process)."""
    from textrobust.attacks.recipes import RecipeResources
    from textrobust.attacks.recipes import build_attack as build_recipe

    table = TinyNeighbourTable(
        {
            "good": [("fine", 0.9), ("bad", 0.85), ("poor", 0.82)],
            "great": [("good", 0.9), ("dull", 0.85)],
            "fun": [("dull", 0.84)],
            "fine": [("poor", 0.83)],
            "acting": [("story", 0.81)],
        }
    )
    adjectives = {w: "ADJ" for w in ENGINE_WEIGHTS}
    wordnet = DictWordNet({("good", "a"): ["poor", "fine"], ("great", "a"): ["dull"], ("fun", "a"): ["dull"]})
    return build_recipe(recipe, None, RecipeResources(
        neighbours=table, sentence_encoder=HashingEncoder(), pos_tagger=DictTagger(adjectives),
        wordnet=wordnet, stopwords=frozenset({"the", "a", "and", "was"}),
    ))  # fmt: skip


def engine_job(recipe: str) -> AttackJob:
    model = engine_victim()
    labels = [int(model.predict_proba([t])[0].argmax()) for t in ENGINE_TEXTS]
    labels[5] = 1 - labels[5]  # one the victim gets wrong: skipped
    return make_job(
        recipe=recipe, victim=VictimInfo("keyword", "<in test>", "engine-keyword-v1"),
        dataset_name="templates", split_name="test", language="en", label_names=["negative", "positive"],
        split=Split(ENGINE_TEXTS, labels), n=None, seed=0, budget=None, options={},
        worker=WorkerSpec(engine_victim, functools.partial(engine_attack, recipe), seed=0),
    )  # fmt: skip


@pytest.mark.parametrize("recipe", ["textfooler", "pwws"])
def test_engine_recipes_through_the_runner_store_results_that_pass_their_recheck(
    recipe: str, tmp_path: Path
) -> None:
    job = engine_job(recipe)
    with Store(tmp_path / "a.sqlite") as store:
        run = run_attack(job, store, progress=False).run
        results = store.results(run.id)
        in_process = stored(store, run.id)
    attack, model = engine_attack(recipe), engine_victim()
    statuses = {r.status for r in results}
    assert "success" in statuses and "skipped" in statuses
    for result in results:
        assert attack.recheck(result) == []
        if result.status == "success":
            replay = model.predict_proba([result.adversarial_text])[0]
            assert int(replay.argmax()) == result.adversarial_prediction != result.label
            assert np.allclose(replay, result.adversarial_proba, atol=1e-6)
    pooled = run_in_fresh_store(tmp_path / "b.sqlite", job, executor=ProcessPoolExecutor(2), shard_size=4)
    assert pooled == in_process
    assert_attacks_did_something(in_process)
