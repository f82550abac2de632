"""The query oracle: an attack's one window on the victim for one example.

It holds the victim, the goal (what the attacker may see of an output), the query budget, the one cache
of outputs and the one query counter. A text is scored at most once per example, and every victim call
an attack makes — probabilities or gradients — goes through here and is counted here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from textrobust.attacks.goals import Goal
from textrobust.attacks.requests import Call, Steps, at_once
from textrobust.attacks.result import AttackResult
from textrobust.errors import AttackError
from textrobust.victims.protocols import Classifier, WhiteBoxVictim


class QueryOracle:
    """Budgeted, cached victim queries for one example (true label ``label``)."""

    def __init__(self, victim: Classifier, goal: Goal, label: int, max_queries: int | None = None) -> None:
        self.victim = victim
        self.goal = goal
        self.label = label
        self.max_queries = max_queries
        self.queries = 0
        self.exhausted = False
        self._outputs: dict[str, np.ndarray] = {}

    @property
    def n_labels(self) -> int:
        return len(self.victim.labels)

    def probabilities(self, text: str) -> np.ndarray:
        """The victim's probabilities for a text already scored."""
        return self._outputs[text]

    def observe_steps(self, texts: Sequence[str]) -> Steps[np.ndarray]:
        """What the attacker sees for ``texts``; fewer rows when the budget runs out (then ``exhausted``).
        Texts not scored before go to the victim in one call."""
        new: list[str] = []
        affordable = len(texts)
        pending: set[str] = set()
        for position, text in enumerate(texts):
            if text in self._outputs or text in pending:
                continue
            if self.max_queries is not None and self.queries + len(new) >= self.max_queries:
                affordable = position
                self.exhausted = True
                break
            new.append(text)
            pending.add(text)
        if new:
            rows = np.asarray((yield self.victim_call(new)), dtype=np.float64)
            self.queries += len(new)
            for text, row in zip(new, rows, strict=True):
                self._outputs[text] = row
        if affordable == 0:
            return np.zeros((0, self.n_labels))
        return self.goal.observe(np.stack([self._outputs[text] for text in texts[:affordable]]))

    observe = at_once(observe_steps)

    def victim_call(self, texts: list[str]) -> Call:
        """The victim's probabilities for ``texts`` as a request (any example of this victim may share it)."""
        return Call(("victim", id(self.victim)), self.victim.predict_proba, texts)

    def score(self, observed: np.ndarray) -> np.ndarray:
        """Closeness to success of each observed row (higher is closer)."""
        return self.goal.score(observed, self.label)

    def succeeded(self, observed: np.ndarray) -> np.ndarray:
        return self.goal.succeeded(observed, self.label)

    def word_gradient_norms(self, text: str, spans: Sequence[tuple[int, int]]) -> np.ndarray | None:
        """Per-span gradient norms from a white-box victim (one query); None when the budget is spent."""
        if not isinstance(self.victim, WhiteBoxVictim):
            raise AttackError(
                "this recipe ranks words by gradients and needs a white-box victim (word_gradient_norms); "
                "use a black-box recipe such as textfooler for this victim"
            )
        if self.max_queries is not None and self.queries >= self.max_queries:
            self.exhausted = True
            return None
        self.queries += 1
        norms = np.asarray(self.victim.word_gradient_norms(text, spans, self.label), dtype=np.float64)
        if norms.shape != (len(spans),):
            raise AttackError(f"word_gradient_norms returned shape {norms.shape}, expected ({len(spans)},)")
        return norms

    def original_result_steps(self, text: str, num_words: int) -> Steps[AttackResult]:
        """Score the original text and start its result: ``skipped`` when the victim already gets it wrong
        (the attack stops there), otherwise ``failed`` until a search finds an adversarial example.

        The one place where an example is skipped and where the original prediction is recorded.
        """
        yield from self.observe_steps([text])
        proba = self._outputs[text]
        prediction = int(np.argmax(proba))
        result = AttackResult(
            original_text=text,
            label=self.label,
            original_prediction=prediction,
            original_proba=[float(p) for p in proba],
            status="failed",
            num_words=num_words,
            queries=self.queries,
        )
        if prediction != self.label:
            result.status = "skipped"
            result.failure_reason = "the victim already misclassifies the original"
        return result

    original_result = at_once(original_result_steps)
