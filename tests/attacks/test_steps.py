"""Every model-calling method is written once, as steps; its plain form runs the same steps.

For each family the plain form (every call answered at once) and the step form driven by
``run_together`` (calls answered in shared batches, several examples side by side) give the same answer.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import textrobust.attacks as attacks_package
from tests.stand_ins import (
    DictTagger,
    HashingEncoder,
    KeywordModel,
    TinyNeighbourTable,
    tiny_masked_lm,
)
from textrobust.attacks.candidates import CandidateCache, EmbeddingNeighbours, MaskedLMCandidates
from textrobust.attacks.constraints import (
    CandidateFilter,
    NoRepeatModification,
    SamePartOfSpeech,
    SentenceSimilarity,
    Substitution,
)
from textrobust.attacks.engine import WordSubstitutionAttack
from textrobust.attacks.goals import UntargetedLabelFlip
from textrobust.attacks.mlm import MaskedLanguageModel
from textrobust.attacks.oracle import QueryOracle
from textrobust.attacks.policies import TEXTATTACK_SEARCH, TextAttackCandidates
from textrobust.attacks.requests import run_together
from textrobust.attacks.search import GreedyByImportance, Problem
from textrobust.data.text import segment_text

WORDS = ["good", "great", "fine", "bad", "poor", "dull", "film", "movie", "plot", "the", "was", "a"]
WEIGHTS = {"good": 2.0, "great": 1.5, "fine": 0.5, "bad": -2.0, "poor": -1.5, "dull": -1.0}
NEIGHBOURS = {
    "good": [("great", 0.9), ("fine", 0.8), ("poor", 0.7), ("bad", 0.6)],
    "great": [("good", 0.9), ("dull", 0.6)],
    "film": [("movie", 0.9)],
}
TEXTS = ["the film was good", "a good plot", "good film , great plot", "the movie was fine"]
TAGS = {"good": "ADJ", "great": "ADJ", "fine": "ADJ", "bad": "ADJ", "poor": "ADJ", "dull": "ADJ"}

# Every pair of a plain and a step form: (class, plain name). The step form is ``name + "_steps"``.
FAMILIES: list[tuple[type, str]] = [
    (QueryOracle, "observe"),
    (QueryOracle, "original_result"),
    (MaskedLMCandidates, "candidates"),
    (CandidateCache, "generate"),
    (SamePartOfSpeech, "check_candidates"),
    (SentenceSimilarity, "encode"),
    (SentenceSimilarity, "scores"),
    (SentenceSimilarity, "check_candidates"),
    (SentenceSimilarity, "text_similarity"),
    (CandidateFilter, "filter"),
    (GreedyByImportance, "rank"),
    (GreedyByImportance, "run"),
    (WordSubstitutionAttack, "attack"),
    (MaskedLanguageModel, "at_mask"),
    (MaskedLanguageModel, "at_mask_textattack"),
]


@pytest.mark.parametrize(("owner", "name"), FAMILIES, ids=[f"{o.__name__}.{n}" for o, n in FAMILIES])
def test_the_plain_form_is_generated_from_the_step_form(owner: type, name: str) -> None:
    plain, steps = getattr(owner, name), getattr(owner, f"{name}_steps")
    assert plain.__wrapped__ is steps
    assert plain.__name__ == name


def test_no_class_writes_a_method_twice() -> None:
    """No class body has both ``def x`` and ``def x_steps``: the plain form is always ``at_once(x_steps)``."""
    twice = []
    for path in Path(attacks_package.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                defined = {f.name for f in node.body if isinstance(f, ast.FunctionDef)}
                twice += [f"{path.name}:{node.name}.{d}" for d in defined if f"{d}_steps" in defined]
    assert twice == []


# -- helpers -----------------------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """Equal, floats up to rounding: a masked LM's logits move in the last digits with the batch's padding."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)
    return a == b


def plain_and_together(
    make: Callable[[], Any], name: str, calls: list[tuple[Any, ...]], reset: Callable[[], None] = lambda: None
) -> None:
    """``make().name(*args)`` for each argument tuple, one call at a time, equals the step form of fresh
    objects driven side by side by ``run_together`` (their model calls answered in shared batches).
    ``reset`` empties what the objects share (a masked LM's cache) before each form runs."""
    reset()
    plain = [getattr(make(), name)(*args) for args in calls]
    reset()
    steps = [getattr(make(), f"{name}_steps")(*args) for args in calls]
    together = dict(run_together(steps))
    for i, expected in enumerate(plain):
        assert same(together[i], expected), (name, calls[i], together[i], expected)


def substitutions() -> list[Substitution]:
    out = []
    for text in TEXTS:
        split = segment_text(text)
        index = next(i for i, w in enumerate(split.words) if w in WEIGHTS)
        out.append(Substitution(split, split, index, frozenset()))
    return out


@pytest.fixture(scope="module")
def mlm() -> MaskedLanguageModel:
    return tiny_masked_lm(WORDS, seed=3)


def keyword_model() -> KeywordModel:
    return KeywordModel(dict(WEIGHTS))


def oracle(max_queries: int | None = None) -> QueryOracle:
    return QueryOracle(keyword_model(), UntargetedLabelFlip(), 1, max_queries)


def problem(text: str, search_candidates: Any = None) -> Problem:
    split = segment_text(text)
    generator = search_candidates or EmbeddingNeighbours(TinyNeighbourTable(NEIGHBOURS), k=5)
    p = Problem(
        split,
        oracle(),
        CandidateCache(generator),
        CandidateFilter([NoRepeatModification(), SamePartOfSpeech(DictTagger(TAGS))]),
        similarity=SentenceSimilarity(HashingEncoder(), 0.0),
    )
    p.oracle.observe([text])  # the engine scores the original before any search starts
    return p


# -- the families --------------------------------------------------------------------------------------


def test_oracle_observe_and_original_result() -> None:
    for budget in (None, 3):
        plain_and_together(lambda b=budget: oracle(b), "observe", [(TEXTS,), (TEXTS[:2],), (TEXTS * 2,)])
    plain_and_together(oracle, "original_result", [(t, len(segment_text(t))) for t in TEXTS])


@pytest.mark.parametrize("rule", [None, TextAttackCandidates()], ids=["textrobust", "textattack"])
def test_masked_lm_candidates_and_their_cache(mlm: MaskedLanguageModel, rule: Any) -> None:
    def generator() -> MaskedLMCandidates:
        return MaskedLMCandidates(mlm, k=8, **({} if rule is None else {"rule": rule}))

    calls = [(segment_text(t), [0, 1, 2]) for t in TEXTS]
    plain_and_together(generator, "candidates", calls, mlm._cache.clear)
    plain_and_together(lambda: CandidateCache(generator()), "generate", calls, mlm._cache.clear)


def test_masked_lm_proposals(mlm: MaskedLanguageModel) -> None:
    calls = [(segment_text(t), [0, 1], 6) for t in TEXTS]
    for name in ("at_mask", "at_mask_textattack"):
        plain_and_together(lambda: mlm, name, calls, mlm._cache.clear)


def test_constraint_checks() -> None:
    calls = [(s, ["great", "bad", "plot", "movie"]) for s in substitutions()]
    plain_and_together(lambda: SamePartOfSpeech(DictTagger(TAGS)), "check_candidates", calls)

    def similarity() -> SentenceSimilarity:
        return SentenceSimilarity(HashingEncoder(), 0.5, window=3)

    plain_and_together(similarity, "scores", calls)
    plain_and_together(similarity, "check_candidates", calls)
    plain_and_together(similarity, "encode", [(TEXTS,), (TEXTS[1:],)])
    plain_and_together(
        similarity, "text_similarity", [(a, b) for a, b in zip(TEXTS, TEXTS[1:], strict=False)]
    )
    plain_and_together(
        lambda: CandidateFilter([NoRepeatModification(), similarity(), SamePartOfSpeech(DictTagger(TAGS))]),
        "filter",
        calls,
    )


@pytest.mark.parametrize("policies", [{}, dict(TEXTATTACK_SEARCH)], ids=["textrobust", "textattack"])
@pytest.mark.parametrize("rank_by", ["deletion", "unk", "pwws"])
def test_search_rank_and_run(rank_by: str, policies: dict[str, Any]) -> None:
    search = GreedyByImportance(rank_by, **policies)
    problems = {t: problem(t) for t in TEXTS}  # one per text: each call owns its example's state
    fresh = {t: problem(t) for t in TEXTS}
    plain = [search.rank(problems[t], list(range(len(problems[t].original)))) for t in TEXTS]
    steps = [search.rank_steps(fresh[t], list(range(len(fresh[t].original)))) for t in TEXTS]
    assert [r for _i, r in sorted(run_together(steps))] == plain

    plain_runs = [search.run(problem(t)) for t in TEXTS]
    together = dict(run_together([search.run_steps(problem(t)) for t in TEXTS]))
    assert [together[i] for i in range(len(TEXTS))] == plain_runs


@pytest.mark.parametrize("order", ["constraints-first", "victim-first"])
def test_attack(mlm: MaskedLanguageModel, order: str) -> None:
    def attack() -> WordSubstitutionAttack:
        return WordSubstitutionAttack(
            "steps",
            MaskedLMCandidates(mlm, k=8),
            [NoRepeatModification(), SentenceSimilarity(HashingEncoder(), 0.2)],
            GreedyByImportance("deletion", order=order, beam_width=2),
            UntargetedLabelFlip(),
        )

    victim = keyword_model()
    mlm._cache.clear()
    plain = [attack().attack(t, 1, victim).to_dict() for t in TEXTS]
    mlm._cache.clear()
    together = dict(run_together([attack().attack_steps(t, 1, victim) for t in TEXTS]))
    for i, expected in enumerate(plain):
        got = together[i].to_dict()
        assert {**got, "seconds": 0} == {**expected, "seconds": 0}
