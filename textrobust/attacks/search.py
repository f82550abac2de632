"""Search: in what order words are tried and which substitution is kept.

A search works on a ``Problem``: one example under attack, made of the query oracle (victim, goal, budget,
cache, query counter), the example's candidate cache, the candidate filter (constraints and their
rejection counts), the sentence similarity used to break ties, and a seeded RNG. It decides only what to
try next. ``GreedyByImportance`` ranks the words once (leave-one-out deletion, [UNK] or [MASK]
replacement in one batched query; PWWS's probability-weighted saliency; gradient norms for white-box
victims; or text order / random), then walks the ranking, scoring all candidates of a position in one
victim call and keeping the best — or the ``beam_width`` best — texts. Where textrobust and TextAttack
differ (tie breaking, the order candidates are scored in, how importance is scored), the search asks its
policies (``textrobust.attacks.policies``).
"""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from textrobust.attacks.candidates import CandidateCache
from textrobust.attacks.constraints import CandidateFilter, SentenceSimilarity, Substitution
from textrobust.attacks.oracle import QueryOracle
from textrobust.attacks.policies import (
    GAIN,
    GENERATOR_ORDER,
    STABLE_TIES,
    CandidateOrder,
    Importance,
    TieBreaking,
)
from textrobust.attacks.requests import Steps, at_once
from textrobust.attacks.result import WordChange
from textrobust.data.text import SegmentedText
from textrobust.errors import require_at_least, require_one_of

RankBy = Literal["deletion", "unk", "mask", "pwws", "gradient", "order", "random"]
RANK_METHODS: tuple[str, ...] = ("deletion", "unk", "mask", "pwws", "gradient", "order", "random")
# When constraints are checked: ``constraints-first`` (every candidate checked, the survivors scored by the
# victim) or ``victim-first`` (every candidate scored, then the constraints checked from the best
# candidate down, only as far as the choice needs): the same texts, fewer encoder and tagger calls, more
# victim queries.
Order = Literal["constraints-first", "victim-first"]
ORDERS: tuple[str, ...] = ("constraints-first", "victim-first")


@dataclass
class Problem:
    """One example under attack: the parts a search works with."""

    original: SegmentedText
    oracle: QueryOracle
    candidates: CandidateCache
    filter: CandidateFilter
    similarity: SentenceSimilarity | None = None  # ranks label flips: the most similar text wins
    seed: int = 0
    rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        # Seeded by the example itself too, so a result does not depend on which shard ran it.
        self.rng = np.random.default_rng([self.seed, zlib.crc32(self.original.text.encode("utf-8"))])


@dataclass
class SearchOutcome:
    """What a search found: the best text, the substitutions leading to it (in order), success or why not."""

    success: bool
    text: SegmentedText
    changes: list[WordChange] = field(default_factory=list)
    reason: str | None = None


class Search(Protocol):
    """Decides what to try for one example (``run``; a search may also offer ``run_steps``, which the
    engine then prefers, so several examples can share model batches)."""

    name: str

    def run(self, problem: Problem) -> SearchOutcome: ...

    def describe(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class _State:
    text: SegmentedText
    changes: tuple[WordChange, ...]
    modified: frozenset[int]
    score: float


def _original_score(problem: Problem) -> float:
    """The original text's score (scored before any search starts, so this is no victim query)."""
    oracle = problem.oracle
    return oracle.score(oracle.observe([problem.original.text]))[0]


class GreedyByImportance:
    """Greedy word substitution in order of word importance (TextFooler, BAE, BERT-Attack, PWWS, A2T).

    ``rank_by``: ``deletion`` (leave the word out), ``unk``/``mask`` (replace it by ``unk_token`` /
    ``mask_token``) — all positions in one batched query, importance = drop of p(true label);
    ``pwws`` (Ren et al.: softmax of the [UNK] saliency times the best candidate's drop, which
    scores every candidate up front); ``gradient`` (A2T: gradient norms from a white-box victim,
    one query); ``order`` (left to right); ``random`` (seeded).
    ``candidates_from``: ``original`` generates each position's candidates once, on the original
    text, in batches of growing size up to ``prefetch`` positions; ``current`` on the text as
    it is when the position comes up (BAE).
    ``beam_width`` > 1 keeps that many best texts at each position instead of one.
    ``order``: ``constraints-first`` or ``victim-first`` (see ``ORDERS``).
    Policies, textrobust's by default (TextAttack's in its profile): ``tie_breaking`` (which of equally
    important words and equally good flips comes first), ``candidate_order`` (in which order a position's
    candidates are scored), ``importance`` (how leave-one-out and PWWS importance are scored).
    """

    name = "greedy"

    def __init__(
        self,
        rank_by: RankBy = "deletion",
        *,
        beam_width: int = 1,
        candidates_from: Literal["original", "current"] = "current",
        unk_token: str = "[UNK]",
        mask_token: str = "[MASK]",
        prefetch: int = 16,
        order: Order = "constraints-first",
        tie_breaking: TieBreaking = STABLE_TIES,
        candidate_order: CandidateOrder = GENERATOR_ORDER,
        importance: Importance = GAIN,
    ) -> None:
        require_one_of("rank_by", rank_by, RANK_METHODS)
        require_at_least("beam_width", beam_width, 1)
        require_one_of("candidates_from", candidates_from, ("original", "current"))
        require_at_least("prefetch", prefetch, 1)
        require_one_of("order", order, ORDERS)
        self.rank_by = rank_by
        self.beam_width = beam_width
        self.candidates_from = candidates_from
        self.unk_token = unk_token
        self.mask_token = mask_token
        self.prefetch = prefetch
        self.order = order
        self.tie_breaking = tie_breaking
        self.candidate_order = candidate_order
        self.importance = importance

    def describe(self) -> dict[str, Any]:
        described = {
            "search": self.name,
            "rank_by": self.rank_by,
            "beam_width": self.beam_width,
            "candidates_from": self.candidates_from,
        }
        for key, policy, default in (
            ("tie_breaking", self.tie_breaking, STABLE_TIES),
            ("candidate_order", self.candidate_order, GENERATOR_ORDER),
            ("importance", self.importance, GAIN),
        ):
            if policy != default:
                described[key] = policy.name
        return described | ({"order": self.order} if self.order != "constraints-first" else {})

    # -- ranking -------------------------------------------------------------------------------
    def _leave_one_out(self, problem: Problem, positions: list[int]) -> Steps[np.ndarray]:
        original, oracle = problem.original, problem.oracle
        texts: list[str] = []
        for i in positions:
            if self.rank_by == "deletion":
                texts.append(original.delete(i))
            else:
                texts.append(
                    original.replace(i, self.unk_token if self.rank_by != "mask" else self.mask_token).text
                )
        importance = np.full(len(positions), -np.inf)
        # An empty text (deleting a one-word text) cannot be scored: it keeps the lowest rank.
        scorable = [j for j, t in enumerate(texts) if t.strip()]
        observed = yield from oracle.observe_steps([texts[j] for j in scorable])
        scored = self.importance.leave_one_out(oracle.score(observed), _original_score(problem))
        importance[scorable[: len(scored)]] = scored  # fewer rows when the budget ran out
        return importance

    def _pwws(self, problem: Problem, positions: list[int]) -> Steps[np.ndarray]:
        saliency = yield from self._leave_one_out(problem, positions)
        oracle = problem.oracle
        if oracle.exhausted:
            return saliency
        original = problem.original
        generated = yield from problem.candidates.generate_steps(original, positions)
        texts: list[str] = []
        owners: list[int] = []
        for j, (i, raw) in enumerate(zip(positions, generated, strict=True)):
            kept = yield from problem.filter.filter_steps(
                Substitution(original, original, i, frozenset()), raw
            )
            for candidate in kept:
                texts.append(original.replace(i, candidate).text)
                owners.append(j)
        observed = yield from oracle.observe_steps(texts)
        best_scores = np.full(len(positions), -np.inf)
        for owner, row_score in zip(owners, oracle.score(observed), strict=False):
            best_scores[owner] = max(best_scores[owner], row_score)
        return self.importance.pwws(saliency, best_scores, _original_score(problem))

    def _gradient(self, problem: Problem, positions: list[int]) -> np.ndarray:
        original = problem.original
        norms = problem.oracle.word_gradient_norms(original.text, original.spans())
        if norms is None:
            return np.full(len(positions), -np.inf)
        return norms[positions]

    def rank_steps(self, problem: Problem, positions: list[int]) -> Steps[list[int]]:
        """``positions`` from most to least important (ties as ``tie_breaking`` settles them)."""
        if self.rank_by == "order":
            return list(positions)
        if self.rank_by == "random":
            return [positions[j] for j in problem.rng.permutation(len(positions))]
        if self.rank_by == "pwws":
            importance = yield from self._pwws(problem, positions)
        elif self.rank_by == "gradient":
            importance = self._gradient(problem, positions)
        else:
            importance = yield from self._leave_one_out(problem, positions)
        return [positions[j] for j in self.tie_breaking.rank(importance)]

    rank = at_once(rank_steps)

    def _victim_first(
        self,
        problem: Problem,
        substitution: Substitution,
        candidates: list[str],
        scores: np.ndarray,
        success: np.ndarray,
        floor: float,
    ) -> Steps[list[int]]:
        """Which scored candidates pass the constraints, as far as the walk needs to know (in their order)."""
        winners = [j for j in range(len(candidates)) if success[j]]
        if winners:
            passed = yield from problem.filter.filter_steps(substitution, [candidates[j] for j in winners])
            passing = set(passed)
            if passing:
                return [j for j in winners if candidates[j] in passing]
        checked = set(winners)
        ranked = [
            int(j) for j in np.argsort(-scores, kind="stable") if scores[j] > floor and int(j) not in checked
        ]
        kept: list[int] = []
        chunk = 2
        while ranked and len(kept) < self.beam_width:
            batch, ranked = ranked[:chunk], ranked[chunk:]
            passed = yield from problem.filter.filter_steps(substitution, [candidates[j] for j in batch])
            passing = set(passed)
            kept += [j for j in batch if candidates[j] in passing]
            chunk *= 2
        return sorted(kept[: self.beam_width])

    # -- the walk ------------------------------------------------------------------------------
    def run_steps(self, problem: Problem) -> Steps[SearchOutcome]:
        """Walk the ranking from the most important word: the first label flip wins, else the best text."""
        original, oracle, pool_of = problem.original, problem.oracle, problem.candidates
        tried_positions = queried = 0

        def summary() -> str:
            parts = [f"{tried_positions} positions tried", f"{queried} candidates queried"]
            rejected = problem.filter.summary()
            return "; ".join([*parts, rejected] if rejected else parts)

        start = _State(original, (), frozenset(), float(_original_score(problem)))
        reasons: Counter[str] = Counter()
        positions = []
        for i in range(len(original)):
            reason = problem.filter.position_reason(Substitution(original, original, i, frozenset()))
            if reason is None:
                positions.append(i)
            else:
                reasons[reason.split(":")[0]] += 1
        if not positions:
            detail = ", ".join(f"{name} {count}" for name, count in reasons.most_common())
            return SearchOutcome(False, original, reason=f"no word may be changed ({detail or 'no words'})")
        ranking = yield from self.rank_steps(problem, positions)
        if oracle.exhausted:
            return SearchOutcome(False, original, reason="budget exhausted while ranking words")
        beam = [start]
        chunk = min(4, self.prefetch)
        for r, index in enumerate(ranking):
            if self.candidates_from == "original" and not pool_of.has(original, index):
                # Growing batches: most attacks end within a few positions, long ones get big batches.
                yield from pool_of.generate_steps(original, ranking[r : r + chunk])
                chunk = min(chunk * 2, self.prefetch)
            pool = list(beam)
            seen = {state.text.words for state in beam}
            tried = False
            for state in beam:
                substitution = Substitution(original, state.text, index, state.modified)
                if problem.filter.position_reason(substitution) is not None:
                    continue
                source = original if self.candidates_from == "original" else state.text
                raw = (yield from pool_of.generate_steps(source, [index]))[0]
                if self.order == "victim-first":  # every constraint comes later
                    candidates = problem.filter.single_words(substitution, raw)
                else:
                    candidates = yield from problem.filter.filter_steps(substitution, raw)
                tried = True
                if not candidates:
                    continue
                texts = [state.text.replace(index, c) for c in candidates]
                arranged = self.candidate_order.arrange([t.text for t in texts])
                candidates, texts = [candidates[j] for j in arranged], [texts[j] for j in arranged]
                observed = yield from oracle.observe_steps([t.text for t in texts])
                queried += len(observed)
                candidates, texts = candidates[: len(observed)], texts[: len(observed)]
                if not candidates:
                    break
                scores = oracle.score(observed)
                success = oracle.succeeded(observed)
                if self.order == "victim-first":
                    # The constraints, from the best-scoring candidate down, only where the outcome needs
                    # them: every flip (the most similar one wins), else the best `beam_width` survivors
                    # (with one text kept, only those that beat the text as it is).
                    floor = state.score if self.beam_width == 1 else -np.inf
                    kept = yield from self._victim_first(
                        problem, substitution, candidates, scores, success, floor
                    )
                    candidates, texts = [candidates[j] for j in kept], [texts[j] for j in kept]
                    scores, success = scores[kept], success[kept]
                    if not candidates:
                        continue
                if success.any():
                    winners = self.tie_breaking.flips(np.flatnonzero(success), scores)
                    similarities = None
                    if problem.similarity is not None:
                        flips = [candidates[j] for j in winners]
                        similarities = yield from problem.similarity.scores_steps(substitution, flips)
                    # Among flips: the most similar text (BAE, TextFooler), else the most confident flip.
                    best = winners[
                        int(np.argmax(similarities if similarities is not None else scores[winners]))
                    ]
                    change = WordChange(index, state.text.words[index], candidates[best])
                    return SearchOutcome(True, texts[best], [*state.changes, change])
                for j, text in enumerate(texts):
                    if text.words in seen:
                        continue
                    seen.add(text.words)
                    change = WordChange(index, state.text.words[index], candidates[j])
                    pool.append(
                        _State(text, (*state.changes, change), state.modified | {index}, float(scores[j]))
                    )
                if oracle.exhausted:
                    break
            if tried:
                tried_positions += 1
            pool.sort(key=lambda s: -s.score)  # stable: on ties the unchanged text stays ahead
            beam = pool[: self.beam_width]
            if oracle.exhausted:
                best = beam[0]
                return SearchOutcome(
                    False, best.text, list(best.changes), reason=f"budget exhausted ({summary()})"
                )
        best = beam[0]
        return SearchOutcome(
            False,
            best.text,
            list(best.changes),
            reason=f"no substitution flipped the label ({summary()})",
        )

    run = at_once(run_steps)
