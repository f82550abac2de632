"""A word-substitution attack: candidates, constraints, a search and a goal, run on one example at a time."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from textrobust.attacks.candidates import CandidateCache, CandidateGenerator
from textrobust.attacks.constraints import (
    CandidateConstraint,
    CandidateFilter,
    PositionConstraint,
    QueryBudget,
    SentenceSimilarity,
    Substitution,
)
from textrobust.attacks.goals import Goal
from textrobust.attacks.oracle import QueryOracle
from textrobust.attacks.requests import Steps, at_once, steps_of
from textrobust.attacks.result import AttackResult
from textrobust.attacks.search import Problem, Search
from textrobust.data.text import WordRule, is_word, segment_text
from textrobust.victims.protocols import Classifier

# Similarity scores re-computed on a stored result may differ from the attack's in the last float
# digits (the encoder batches texts differently); a re-check allows this much.
RECHECK_TOLERANCE = 1e-4


class WordSubstitutionAttack:
    """An attack in four parts (TextAttack's decomposition): where candidates come from, what they
    must satisfy, in which order words are tried, and what counts as success.

    Implements the ``Attack`` protocol (``attack(text, label, victim) -> AttackResult``)
    and ``recheck(result)``, which replays a stored result's substitutions and lists every
    constraint it violates.
    """

    def __init__(
        self,
        name: str,
        candidates: CandidateGenerator,
        constraints: Sequence[Any],
        search: Search,
        goal: Goal,
        *,
        similarity: SentenceSimilarity | None = None,
        language: str = "en",
        seed: int = 0,
        notes: str = "",
        word_rule: WordRule = "textrobust",
        profile: str = "paper",
    ) -> None:
        self.name = name
        self.word_rule = word_rule
        self.profile = profile
        self.candidates = candidates
        self.constraints = list(constraints)
        self.search = search
        self.goal = goal
        self.language = language
        self.seed = seed
        self.notes = notes
        for constraint in self.constraints:
            if not isinstance(constraint, PositionConstraint | CandidateConstraint | QueryBudget):
                raise TypeError(f"{constraint!r} is not a constraint")
        # The encoder that reports the original/adversarial similarity in results.
        self.similarity = similarity or next(
            (c for c in self.constraints if isinstance(c, SentenceSimilarity)), None
        )

    # -- configuration -------------------------------------------------------------------------
    @property
    def position_constraints(self) -> list[PositionConstraint]:
        return [c for c in self.constraints if isinstance(c, PositionConstraint)]

    @property
    def candidate_constraints(self) -> list[CandidateConstraint]:
        return [c for c in self.constraints if isinstance(c, CandidateConstraint)]

    @property
    def max_queries(self) -> int | None:
        budgets = [c.max_queries for c in self.constraints if isinstance(c, QueryBudget)]
        return min(budgets) if budgets else None

    @property
    def constraint_names(self) -> list[str]:
        return [c.name for c in self.constraints]

    def prepare(self) -> WordSubstitutionAttack:
        """Load every resource now, so a missing one fails before a long run starts."""
        self.candidates.prepare()
        for constraint in self.constraints:
            constraint.prepare()
        if self.similarity is not None:
            self.similarity.prepare()
        return self

    def describe(self) -> dict[str, Any]:
        """The attack's settings as plain data (stored with a run)."""
        return {
            "recipe": self.name,
            "language": self.language,
            "seed": self.seed,
            "candidates": self.candidates.describe(),
            "constraints": [c.describe() for c in self.constraints],
            "search": self.search.describe(),
            "goal": self.goal.describe(),
            "notes": self.notes,
            "profile": self.profile,
            "word_rule": self.word_rule,
        }

    # -- attacking -----------------------------------------------------------------------------
    def attack_steps(self, text: str, label: int, victim: Classifier) -> Steps[AttackResult]:
        """Attack one example; ``queries`` in the result is what the attack spent on ``victim``. As steps,
        every model call is yielded, so a worker can pool the calls of several examples into shared
        batches (``textrobust.attacks.requests.run_together``)."""
        started = time.perf_counter()
        original = segment_text(text, self.word_rule)
        oracle = QueryOracle(victim, self.goal, label, self.max_queries)
        result = yield from oracle.original_result_steps(text, len(original))
        if result.status == "skipped":
            pass
        elif len(original) == 0:
            result.failure_reason = "no words to change"
        else:
            problem = Problem(
                original,
                oracle,
                CandidateCache(self.candidates),
                CandidateFilter(self.constraints, self.word_rule),
                similarity=next(
                    (c for c in self.candidate_constraints if isinstance(c, SentenceSimilarity)), None
                ),
                seed=self.seed,
            )
            outcome = yield from steps_of(self.search, "run", problem)
            if outcome.success:
                adversarial = outcome.text.text
                proba = oracle.probabilities(adversarial)
                result.status = "success"
                result.adversarial_text = adversarial
                result.adversarial_prediction = int(np.argmax(proba))
                result.adversarial_proba = [float(p) for p in proba]
                result.changes = outcome.changes
                if self.similarity is not None:
                    result.similarity = yield from self.similarity.text_similarity_steps(text, adversarial)
            else:
                result.failure_reason = outcome.reason
        result.queries = oracle.queries
        result.seconds = time.perf_counter() - started
        return result

    attack = at_once(attack_steps)

    # -- checking stored results ---------------------------------------------------------------
    def recheck(self, result: AttackResult, tolerance: float = RECHECK_TOLERANCE) -> list[str]:
        """Every way a stored result breaks this attack's constraints or goal (empty: it satisfies them all).

        The substitutions are replayed in their stored order, each checked against every
        constraint exactly as the search checked it. Results that are not successes have
        nothing to check.
        """
        if result.status != "success":
            return []
        violations: list[str] = []
        if result.adversarial_text is None:
            return ["a successful result has no adversarial text"]
        original = segment_text(result.original_text, self.word_rule)
        current = original
        modified: set[int] = set()
        checks = CandidateFilter(self.constraints, self.word_rule)
        for number, change in enumerate(result.changes, start=1):
            where = f"change {number} (word {change.index} '{change.original}' → '{change.replacement}')"
            if not 0 <= change.index < len(original):
                violations.append(f"{where}: no such word in the original text")
                return violations
            if current.words[change.index] != change.original:
                violations.append(f"{where}: the word there is '{current.words[change.index]}'")
                return violations
            if not is_word(change.replacement, self.word_rule):
                violations.append(f"{where}: the replacement is not a single word")
                return violations
            substitution = Substitution(original, current, change.index, frozenset(modified))
            violations += [
                f"{where}: {reason}"
                for reason in checks.violations(substitution, change.replacement, tolerance)
            ]
            current = current.replace(change.index, change.replacement)
            modified.add(change.index)
        if current.text != result.adversarial_text:
            violations.append("the changes do not reproduce the adversarial text")
        if not result.changes:
            violations.append("a successful result lists no changes")
        budget = self.max_queries
        if budget is not None and result.queries > budget:
            violations.append(f"budget: {result.queries} queries > {budget}")
        if result.adversarial_prediction is None or result.adversarial_proba is None:
            violations.append("goal: no adversarial prediction stored")
        else:
            observed = self.goal.observe(np.asarray([result.adversarial_proba]))
            if not bool(self.goal.succeeded(observed, result.label)[0]):
                violations.append("goal: the stored adversarial prediction is the true label")
            if int(np.argmax(result.adversarial_proba)) != result.adversarial_prediction:
                violations.append(
                    "goal: the stored prediction is not the arg-max of the stored probabilities"
                )
        return violations

    def __repr__(self) -> str:
        return f"WordSubstitutionAttack({self.name!r}, constraints={self.constraint_names})"
