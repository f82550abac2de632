"""Search: in what order words are tried and which substitution is kept.

A search works on a ``Problem``: one example under attack, made of the query oracle (victim, goal, budget,
cache, query counter), the example's candidate cache, the candidate filter (constraints and their
rejection counts), the sentence similarity used to break ties, and a seeded RNG. It decides only what to
try next. ``GreedyByImportance`` ranks the words once (leave-one-out deletion, [UNK] or [MASK]
replacement in one batched query; PWWS's probability-weighted saliency; gradient norms for white-box
victims; or text order / random), then walks the ranking, scoring all candidates of a position in one
victim call and keeping the best — or the ``beam_width`` best — texts.
"""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from textrobust.attacks.candidates import CandidateCache
from textrobust.attacks.constraints import CandidateFilter, SentenceSimilarity, Step
from textrobust.attacks.oracle import QueryOracle
from textrobust.attacks.requests import Steps, run_now
from textrobust.attacks.result import WordChange
from textrobust.data.text import SplitText

RankBy = Literal["deletion", "unk", "mask", "pwws", "gradient", "order", "random"]
RANK_METHODS: tuple[str, ...] = ("deletion", "unk", "mask", "pwws", "gradient", "order", "random")
# How ties and scores are settled: ``textrobust`` (candidates in generator order, stable sorts, importance
# as a drop of p(y)), or ``textattack``: GreedyWordSwapWIR of TextAttack 0.3.11 — candidates sorted by
# their text, numpy's default argsort for the ranking, PWWS weighting the best swap's score itself
# (0 without candidates), a flip chosen among the winners in score order.
Ordering = Literal["textrobust", "textattack"]
ORDERINGS: tuple[str, ...] = ("textrobust", "textattack")
# When constraints are checked: ``constraints-first`` (every candidate checked, the survivors scored by the
# victim) or ``victim-first`` (every candidate scored, then the constraints checked from the best
# candidate down, only as far as the choice needs): the same texts, fewer encoder and tagger calls, more
# victim queries.
Order = Literal["constraints-first", "victim-first"]
ORDERS: tuple[str, ...] = ("constraints-first", "victim-first")


@dataclass
class Problem:
    """One example under attack: the parts a search works with."""

    original: SplitText
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
    text: SplitText
    changes: list[WordChange] = field(default_factory=list)
    reason: str | None = None


class Search(Protocol):
    name: str

    def run(self, problem: Problem) -> SearchOutcome: ...

    def describe(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class _State:
    text: SplitText
    changes: tuple[WordChange, ...]
    modified: frozenset[int]
    score: float


def _softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - values.max())
    return shifted / shifted.sum()


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
    ``ordering``: ``textrobust`` or ``textattack`` (see ``ORDERINGS``): how ties are broken.
    ``order``: ``constraints-first`` or ``victim-first`` (see ``ORDERS``).
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
        ordering: Ordering = "textrobust",
        order: Order = "constraints-first",
    ) -> None:
        if order not in ORDERS:
            raise ValueError(f"unknown order {order!r}; choose one of {', '.join(ORDERS)}")
        if ordering not in ORDERINGS:
            raise ValueError(f"unknown ordering {ordering!r}; choose one of {', '.join(ORDERINGS)}")
        if rank_by not in RANK_METHODS:
            raise ValueError(f"unknown ranking {rank_by!r}; choose one of {', '.join(RANK_METHODS)}")
        if beam_width < 1:
            raise ValueError("beam_width must be at least 1")
        if candidates_from not in ("original", "current"):
            raise ValueError("candidates_from must be 'original' or 'current'")
        self.rank_by = rank_by
        self.beam_width = beam_width
        self.candidates_from = candidates_from
        self.unk_token = unk_token
        self.mask_token = mask_token
        self.prefetch = prefetch
        self.ordering = ordering
        self.order = order

    @property
    def textattack(self) -> bool:
        return self.ordering == "textattack"

    def describe(self) -> dict[str, Any]:
        described = {
            "search": self.name,
            "rank_by": self.rank_by,
            "beam_width": self.beam_width,
            "candidates_from": self.candidates_from,
        }
        described |= {"ordering": self.ordering} if self.textattack else {}
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
        # TextAttack ranks by the score itself; the same order up to float rounding.
        base = 0.0 if self.textattack else oracle.score(oracle.observe([original.text]))[0]
        for j, row_score in zip(scorable, oracle.score(observed), strict=False):
            importance[j] = row_score - base
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
            kept = yield from problem.filter.filter_steps(Step(original, original, i, frozenset()), raw)
            for candidate in kept:
                texts.append(original.replace(i, candidate).text)
                owners.append(j)
        observed = yield from oracle.observe_steps(texts)
        best_score = np.full(len(positions), -np.inf)
        for owner, row_score in zip(owners, oracle.score(observed), strict=False):
            best_score[owner] = max(best_score[owner], row_score)
        finite = np.isfinite(saliency)
        weights = np.zeros(len(positions))
        if self.textattack:
            # TextAttack: a float32 softmax, the best swap's score (not its gain), 0 for a word without swaps.
            if finite.any():
                weights[finite] = _softmax(saliency[finite].astype(np.float32))
            return weights * np.where(np.isfinite(best_score), best_score, 0.0)
        if finite.any():
            weights[finite] = _softmax(saliency[finite])
        base = oracle.score(oracle.observe([original.text]))[0]
        return np.where(np.isfinite(best_score), weights * (best_score - base), -np.inf)

    def _gradient(self, problem: Problem, positions: list[int]) -> np.ndarray:
        original = problem.original
        norms = problem.oracle.word_gradient_norms(original.text, original.spans())
        if norms is None:
            return np.full(len(positions), -np.inf)
        return norms[positions]

    def rank(self, problem: Problem, positions: list[int]) -> list[int]:
        """``positions`` from most to least important (ties keep text order)."""
        return run_now(self.rank_steps(problem, positions))

    def rank_steps(self, problem: Problem, positions: list[int]) -> Steps[list[int]]:
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
        # TextAttack sorts with numpy's default (not stable) argsort; ties then fall as it orders them.
        order = np.argsort(-importance) if self.textattack else np.argsort(-importance, kind="stable")
        return [positions[j] for j in order]

    def _victim_first(
        self,
        problem: Problem,
        step: Step,
        candidates: list[str],
        scores: np.ndarray,
        success: np.ndarray,
        floor: float,
    ) -> Steps[list[int]]:
        """Which scored candidates pass the constraints, as far as the walk needs to know (in their order)."""
        winners = [j for j in range(len(candidates)) if success[j]]
        if winners:
            passed = yield from problem.filter.filter_steps(step, [candidates[j] for j in winners])
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
            passed = yield from problem.filter.filter_steps(step, [candidates[j] for j in batch])
            passing = set(passed)
            kept += [j for j in batch if candidates[j] in passing]
            chunk *= 2
        return sorted(kept[: self.beam_width])

    # -- the walk ------------------------------------------------------------------------------
    def run(self, problem: Problem) -> SearchOutcome:
        return run_now(self.steps(problem))

    def steps(self, problem: Problem) -> Steps[SearchOutcome]:
        """``run`` as steps: every model call is yielded (see ``textrobust.attacks.requests``)."""
        original, oracle, pool_of = problem.original, problem.oracle, problem.candidates
        tried_positions = queried = 0

        def summary() -> str:
            parts = [f"{tried_positions} positions tried", f"{queried} candidates queried"]
            rejected = problem.filter.summary()
            return "; ".join([*parts, rejected] if rejected else parts)

        start = _State(original, (), frozenset(), float(oracle.score(oracle.observe([original.text]))[0]))
        reasons: Counter[str] = Counter()
        positions = []
        for i in range(len(original)):
            reason = problem.filter.position_reason(Step(original, original, i, frozenset()))
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
                step = Step(original, state.text, index, state.modified)
                if problem.filter.position_reason(step) is not None:
                    continue
                source = original if self.candidates_from == "original" else state.text
                raw = (yield from pool_of.generate_steps(source, [index]))[0]
                if self.order == "victim-first":
                    candidates = problem.filter.words(step, raw)  # every constraint comes later
                else:
                    candidates = yield from problem.filter.filter_steps(step, raw)
                tried = True
                if not candidates:
                    continue
                texts = [state.text.replace(index, c) for c in candidates]
                if self.textattack:  # TextAttack sorts candidate texts, so ties go to the first text
                    order = sorted(range(len(texts)), key=lambda j: texts[j].text)
                    candidates, texts = [candidates[j] for j in order], [texts[j] for j in order]
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
                    kept = yield from self._victim_first(problem, step, candidates, scores, success, floor)
                    candidates, texts = [candidates[j] for j in kept], [texts[j] for j in kept]
                    scores, success = scores[kept], success[kept]
                    if not candidates:
                        continue
                if success.any():
                    winners = np.flatnonzero(success)
                    if self.textattack:  # TextAttack walks the winners from the highest score down
                        winners = winners[np.argsort(-scores[winners], kind="stable")]
                    similarities = None
                    if problem.similarity is not None:
                        flips = [candidates[j] for j in winners]
                        similarities = yield from problem.similarity.scores_steps(step, flips)
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
