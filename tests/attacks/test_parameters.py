"""The attack core's constructors check their own parameters: a bad value is a ``ParameterError`` naming
the parameter (the CLI puts the flag in its place), and still a ``ValueError`` for Python callers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.stand_ins import DictTagger, DictWordNet, HashingEncoder, TinyNeighbourTable, tiny_masked_lm
from textrobust.attacks.candidates import EmbeddingNeighbours, MaskedLMCandidates, WordNetSynonyms
from textrobust.attacks.constraints import MaxWordsChanged, QueryBudget, SamePartOfSpeech, SentenceSimilarity
from textrobust.attacks.search import GreedyByImportance
from textrobust.errors import ParameterError

TABLE = TinyNeighbourTable({})
TAGGER = DictTagger({})
ENCODER = HashingEncoder()

BAD: list[tuple[str, Callable[[], Any], str]] = [
    ("max-words fraction 0", lambda: MaxWordsChanged(fraction=0), "fraction"),
    ("max-words fraction 1.5", lambda: MaxWordsChanged(fraction=1.5), "fraction"),
    ("max-words min_words -1", lambda: MaxWordsChanged(fraction=0.5, min_words=-1), "min_words"),
    ("max-words cap 0", lambda: MaxWordsChanged(fraction=1.0, cap=0), "cap"),
    ("pos context", lambda: SamePartOfSpeech(TAGGER, context="future"), "context"),  # type: ignore[arg-type]
    ("pos window", lambda: SamePartOfSpeech(TAGGER, window=-1), "window"),
    ("pos window_after", lambda: SamePartOfSpeech(TAGGER, window_after=-2), "window_after"),
    ("similarity metric", lambda: SentenceSimilarity(ENCODER, 0.5, metric="dot"), "metric"),  # type: ignore[arg-type]
    (
        "similarity compare_to",
        lambda: SentenceSimilarity(ENCODER, 0.5, compare_to="next"),  # type: ignore[arg-type]
        "compare_to",
    ),
    ("similarity window", lambda: SentenceSimilarity(ENCODER, 0.5, window=0), "window"),
    ("similarity cache_size", lambda: SentenceSimilarity(ENCODER, 0.5, cache_size=0), "cache_size"),
    ("budget", lambda: QueryBudget(0), "max_queries"),
    ("neighbours k", lambda: EmbeddingNeighbours(TABLE, k=0), "k"),
    ("wordnet k", lambda: WordNetSynonyms(DictWordNet({}), k=0), "k"),
    ("search rank_by", lambda: GreedyByImportance("alphabetical"), "rank_by"),  # type: ignore[arg-type]
    ("search beam_width", lambda: GreedyByImportance(beam_width=0), "beam_width"),
    (
        "search candidates_from",
        lambda: GreedyByImportance(candidates_from="future"),  # type: ignore[arg-type]
        "candidates_from",
    ),
    ("search prefetch", lambda: GreedyByImportance(prefetch=0), "prefetch"),
    ("search order", lambda: GreedyByImportance(order="victim-last"), "order"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("make", "parameter"), [(m, p) for _, m, p in BAD], ids=[i for i, _, _ in BAD])
def test_a_bad_value_is_a_parameter_error_naming_the_parameter(
    make: Callable[[], Any], parameter: str
) -> None:
    with pytest.raises(ParameterError) as raised:
        make()
    assert raised.value.parameter == parameter
    assert str(raised.value).startswith(f"{parameter} ")
    assert isinstance(raised.value, ValueError)


def test_an_unknown_choice_is_named_with_the_choices() -> None:
    with pytest.raises(
        ParameterError, match="order 'victim-last' is unknown; choose one of constraints-first"
    ):
        GreedyByImportance(order="victim-last")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"fraction must be in \(0, 1\], got 0"):
        MaxWordsChanged(fraction=0)


def test_masked_lm_parameters() -> None:
    mlm = tiny_masked_lm(["good", "film"], seed=0)
    with pytest.raises(ParameterError) as raised:
        MaskedLMCandidates(mlm, method="fill")  # type: ignore[arg-type]
    assert raised.value.parameter == "method"
    for parameter in ("k", "max_pieces"):
        with pytest.raises(ParameterError) as raised:
            MaskedLMCandidates(mlm, **{parameter: 0})
        assert raised.value.parameter == parameter
    for parameter in ("batch_size", "max_length", "context_words", "cache_size"):
        with pytest.raises(ParameterError) as raised:
            type(mlm)(mlm.model, mlm.tokenizer, **{parameter: 0})
        assert raised.value.parameter == parameter


def test_good_values_pass() -> None:
    MaxWordsChanged(fraction=1.0, min_words=0, cap=1)
    SamePartOfSpeech(TAGGER, window=4, window_after=3, context="original")
    SentenceSimilarity(ENCODER, 0.5, metric="angular", window=None, compare_to="current")
    QueryBudget(1)
    GreedyByImportance("pwws", beam_width=3, candidates_from="original", order="victim-first")
    WordNetSynonyms(DictWordNet({}), k=None)
