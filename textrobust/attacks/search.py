"""Search: in what order words are tried and which substitution is kept.

``Problem`` is one example under attack: it owns the query budget, the per-example cache of
victim outputs, candidate generation and constraint filtering, so a search method only decides
what to try next. ``GreedyByImportance`` ranks the words once (leave-one-out deletion, [UNK] or
[MASK] replacement in one batched query; PWWS's probability-weighted saliency; gradient norms for
white-box victims; or text order / random), then walks the ranking, scoring all candidates of a
position in one victim call and keeping the best — or the ``beam_width`` best — texts.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from textrobust.attacks.candidates import CandidateGenerator
from textrobust.attacks.constraints import CandidateConstraint, PositionConstraint, SentenceSimilarity, Step
from textrobust.attacks.goals import Goal
from textrobust.attacks.result import ProbabilityModel, WordChange
from textrobust.attacks.text import SplitText, is_word
from textrobust.errors import TextrobustError

RankBy = Literal["deletion", "unk", "mask", "pwws", "gradient", "order", "random"]
RANK_METHODS: tuple[str, ...] = ("deletion", "unk", "mask", "pwws", "gradient", "order", "random")


class AttackError(TextrobustError):
    """An attack cannot run against this victim (e.g. a white-box search on a black-box victim)."""


@runtime_checkable
class WordGradientModel(Protocol):
    """A white-box victim: how strongly the loss reacts to each word (A2T's gradient ranking).

    ``word_gradient_norms(text, spans, label)`` returns, for each character span ``(start, end)``
    of ``text``, the L1 norm of the gradient of the cross-entropy loss (w.r.t. ``label``) with
    respect to the input embeddings of the victim's tokens inside that span, summed over those
    tokens; 0 for a span that has no token (e.g. truncated). Shape ``(len(spans),)``.
    """

    def word_gradient_norms(self, text: str, spans: Sequence[tuple[int, int]], label: int) -> np.ndarray: ...


class Problem:
    """One example under attack: budgeted, cached victim queries, candidates and constraint checks."""

    def __init__(
        self,
        original: SplitText,
        label: int,
        model: ProbabilityModel,
        goal: Goal,
        generator: CandidateGenerator,
        position_constraints: Sequence[PositionConstraint],
        candidate_constraints: Sequence[CandidateConstraint],
        *,
        max_queries: int | None = None,
        seed: int = 0,
    ) -> None:
        self.original = original
        self.label = label
        self.model = model
        self.goal = goal
        self.generator = generator
        self.position_constraints = list(position_constraints)
        self.candidate_constraints = list(candidate_constraints)
        self.max_queries = max_queries
        # Seeded by the example itself too, so a result does not depend on which shard ran it.
        self.rng = np.random.default_rng([seed, zlib.crc32(original.text.encode("utf-8"))])
        self.queries = 0
        self.exhausted = False
        self.raw: dict[str, np.ndarray] = {}
        self.rejections: Counter[str] = Counter()
        self.positions_tried = 0
        self.candidates_queried = 0
        self._generated: dict[tuple[tuple[str, ...], int], list[str]] = {}
        self._similarity = next((c for c in candidate_constraints if isinstance(c, SentenceSimilarity)), None)

    # -- the victim ----------------------------------------------------------------------------
    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Observed outputs for ``texts``; fewer rows when the budget runs out (then ``exhausted`` is set)."""
        new: list[str] = []
        affordable = len(texts)
        pending: set[str] = set()
        for position, text in enumerate(texts):
            if text in self.raw or text in pending:
                continue
            if self.max_queries is not None and self.queries + len(new) >= self.max_queries:
                affordable = position
                self.exhausted = True
                break
            new.append(text)
            pending.add(text)
        if new:
            rows = np.asarray(self.model.predict_proba(new), dtype=np.float64)
            self.queries += len(new)
            for text, row in zip(new, rows, strict=True):
                self.raw[text] = row
        if affordable == 0:
            return np.zeros((0, len(self.model.labels)))
        return self.goal.observe(np.stack([self.raw[text] for text in texts[:affordable]]))

    def count_query(self) -> bool:
        """Account for one non-``predict_proba`` model call (a gradient); False when over budget."""
        if self.max_queries is not None and self.queries >= self.max_queries:
            self.exhausted = True
            return False
        self.queries += 1
        return True

    def score(self, observed: np.ndarray) -> np.ndarray:
        return self.goal.score(observed, self.label)

    def succeeded(self, observed: np.ndarray) -> np.ndarray:
        return self.goal.succeeded(observed, self.label)

    # -- positions and candidates --------------------------------------------------------------
    def position_reason(self, current: SplitText, index: int, modified: frozenset[int]) -> str | None:
        step = Step(self.original, current, index, modified)
        for constraint in self.position_constraints:
            reason = constraint.check_position(step)
            if reason is not None:
                return f"{constraint.name}: {reason}"
        return None

    def generate(self, text: SplitText, indices: Sequence[int]) -> list[list[str]]:
        """Raw candidates (cached by text and position; missing positions generated in one call)."""
        missing = [i for i in dict.fromkeys(indices) if (text.words, i) not in self._generated]
        if missing:
            for index, found in zip(missing, self.generator.candidates(text, missing), strict=True):
                self._generated[(text.words, index)] = found
        return [self._generated[(text.words, i)] for i in indices]

    def is_generated(self, text: SplitText, index: int) -> bool:
        return (text.words, index) in self._generated

    def filter(self, step: Step, candidates: Sequence[str]) -> list[str]:
        """The candidates every candidate constraint accepts (cheap constraints first, as ordered)."""
        current_word = step.current.words[step.index]
        alive = [c for c in candidates if is_word(c) and c != current_word]
        for constraint in self.candidate_constraints:
            if not alive:
                break
            verdicts = constraint.check_candidates(step, alive)
            rejected = sum(v is not None for v in verdicts)
            if rejected:
                self.rejections[constraint.name] += rejected
                alive = [c for c, v in zip(alive, verdicts, strict=True) if v is None]
        return alive

    def similarities(self, step: Step, candidates: Sequence[str]) -> np.ndarray | None:
        """Sentence similarities of candidates when the attack has a sentence-similarity constraint."""
        if self._similarity is None or not candidates:
            return None
        return self._similarity.scores(step, candidates)

    def summary(self) -> str:
        parts = [f"{self.positions_tried} positions tried", f"{self.candidates_queried} candidates queried"]
        if self.rejections:
            rejected = ", ".join(f"{name} {count}" for name, count in self.rejections.most_common())
            parts.append(f"rejected by {rejected}")
        return "; ".join(parts)


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
    ) -> None:
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

    def describe(self) -> dict[str, Any]:
        return {
            "search": self.name,
            "rank_by": self.rank_by,
            "beam_width": self.beam_width,
            "candidates_from": self.candidates_from,
        }

    # -- ranking -------------------------------------------------------------------------------
    def _leave_one_out(self, problem: Problem, positions: list[int]) -> np.ndarray:
        original = problem.original
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
        observed = problem.predict([texts[j] for j in scorable])
        base = problem.score(problem.predict([original.text]))[0]
        for j, row_score in zip(scorable, problem.score(observed), strict=False):
            importance[j] = row_score - base
        return importance

    def _pwws(self, problem: Problem, positions: list[int]) -> np.ndarray:
        saliency = self._leave_one_out(problem, positions)
        if problem.exhausted:
            return saliency
        original = problem.original
        generated = problem.generate(original, positions)
        texts: list[str] = []
        owners: list[int] = []
        for j, (i, raw) in enumerate(zip(positions, generated, strict=True)):
            for candidate in problem.filter(Step(original, original, i, frozenset()), raw):
                texts.append(original.replace(i, candidate).text)
                owners.append(j)
        observed = problem.predict(texts)
        best_drop = np.full(len(positions), -np.inf)
        base = problem.score(problem.predict([original.text]))[0]
        for owner, row_score in zip(owners, problem.score(observed), strict=False):
            best_drop[owner] = max(best_drop[owner], row_score - base)
        finite = np.isfinite(saliency)
        weights = np.zeros(len(positions))
        if finite.any():
            weights[finite] = _softmax(saliency[finite])
        return np.where(np.isfinite(best_drop), weights * best_drop, -np.inf)

    def _gradient(self, problem: Problem, positions: list[int]) -> np.ndarray:
        model = problem.model
        if not isinstance(model, WordGradientModel):
            raise AttackError(
                "this recipe ranks words by gradients and needs a white-box victim (word_gradient_norms); "
                "use a black-box recipe such as textfooler for this victim"
            )
        if not problem.count_query():
            return np.full(len(positions), -np.inf)
        norms = np.asarray(
            model.word_gradient_norms(problem.original.text, problem.original.spans(), problem.label),
            dtype=np.float64,
        )
        if norms.shape != (len(problem.original),):
            raise AttackError(
                f"word_gradient_norms returned shape {norms.shape}, expected ({len(problem.original)},)"
            )
        return norms[positions]

    def rank(self, problem: Problem, positions: list[int]) -> list[int]:
        """``positions`` from most to least important (ties keep text order)."""
        if self.rank_by == "order":
            return list(positions)
        if self.rank_by == "random":
            return [positions[j] for j in problem.rng.permutation(len(positions))]
        if self.rank_by == "pwws":
            importance = self._pwws(problem, positions)
        elif self.rank_by == "gradient":
            importance = self._gradient(problem, positions)
        else:
            importance = self._leave_one_out(problem, positions)
        order = np.argsort(-importance, kind="stable")
        return [positions[j] for j in order]

    # -- the walk ------------------------------------------------------------------------------
    def run(self, problem: Problem) -> SearchOutcome:
        original = problem.original
        start = _State(original, (), frozenset(), float(problem.score(problem.predict([original.text]))[0]))
        reasons = Counter()
        positions = []
        for i in range(len(original)):
            reason = problem.position_reason(original, i, frozenset())
            if reason is None:
                positions.append(i)
            else:
                reasons[reason.split(":")[0]] += 1
        if not positions:
            detail = ", ".join(f"{name} {count}" for name, count in reasons.most_common())
            return SearchOutcome(False, original, reason=f"no word may be changed ({detail or 'no words'})")
        ranking = self.rank(problem, positions)
        if problem.exhausted:
            return SearchOutcome(False, original, reason="budget exhausted while ranking words")
        beam = [start]
        chunk = min(4, self.prefetch)
        for r, index in enumerate(ranking):
            if self.candidates_from == "original" and not problem.is_generated(original, index):
                # Growing batches: most attacks end within a few positions, long ones get big batches.
                problem.generate(original, ranking[r : r + chunk])
                chunk = min(chunk * 2, self.prefetch)
            pool = list(beam)
            seen = {state.text.words for state in beam}
            tried = False
            for state in beam:
                if problem.position_reason(state.text, index, state.modified) is not None:
                    continue
                source = original if self.candidates_from == "original" else state.text
                raw = problem.generate(source, [index])[0]
                step = Step(original, state.text, index, state.modified)
                candidates = problem.filter(step, raw)
                tried = True
                if not candidates:
                    continue
                texts = [state.text.replace(index, c) for c in candidates]
                observed = problem.predict([t.text for t in texts])
                problem.candidates_queried += len(observed)
                candidates, texts = candidates[: len(observed)], texts[: len(observed)]
                if not candidates:
                    break
                scores = problem.score(observed)
                success = problem.succeeded(observed)
                if success.any():
                    winners = np.flatnonzero(success)
                    similarities = problem.similarities(step, [candidates[j] for j in winners])
                    # Among flips: the most similar text (BAE, TextFooler), else the most confident flip.
                    best = winners[
                        int(np.argmax(similarities if similarities is not None else scores[winners]))
                    ]
                    change = WordChange(index, state.text.words[index], candidates[best])
                    problem.positions_tried += 1
                    return SearchOutcome(True, texts[best], [*state.changes, change])
                for j, text in enumerate(texts):
                    if text.words in seen:
                        continue
                    seen.add(text.words)
                    change = WordChange(index, state.text.words[index], candidates[j])
                    pool.append(
                        _State(text, (*state.changes, change), state.modified | {index}, float(scores[j]))
                    )
                if problem.exhausted:
                    break
            if tried:
                problem.positions_tried += 1
            pool.sort(key=lambda s: -s.score)  # stable: on ties the unchanged text stays ahead
            beam = pool[: self.beam_width]
            if problem.exhausted:
                best = beam[0]
                return SearchOutcome(
                    False, best.text, list(best.changes), reason=f"budget exhausted ({problem.summary()})"
                )
        best = beam[0]
        return SearchOutcome(
            False,
            best.text,
            list(best.changes),
            reason=f"no substitution flipped the label ({problem.summary()})",
        )
