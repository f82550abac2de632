"""A victim that costs, as HTTP and LLM victims do — a test double of their protocol, written as a ``py:``
factory file: a keyword classifier whose every text not yet answered is one request (its words the
tokens in, one token out), whose answers persist in a request cache file (re-asking is free), which
exposes ``usage()`` and raises ``BudgetExhausted`` when its request budget would be exceeded. Every request
it sends is also appended to a log, the stand-in for a server's request count.

The budget and the folder of its files come from environment variables (read when an object is made), so
they are not part of the victim's identity, as ``--max-requests`` is not part of an HTTP victim's.
"""

from __future__ import annotations

from pathlib import Path

BUDGET_VARIABLE = "TEXTROBUST_TEST_BUDGET"
FOLDER_VARIABLE = "TEXTROBUST_TEST_COSTED"

COSTED_VICTIM = '''
import json
import math
import os
from pathlib import Path

import numpy as np

from textrobust.errors import BudgetExhausted
from textrobust.victims.usage import Usage

# "fine" and "weak" lean the wrong way: examples built on them are misclassified (skipped by attacks).
WEIGHTS = {{
    "good": 2.0, "great": 2.5, "superb": 2.0, "lovely": 1.5, "fine": -0.4,
    "bad": -2.0, "awful": -2.5, "dull": -1.5, "poor": -2.0, "weak": 0.3,
}}


class CostedModel:
    labels = ["negative", "positive"]

    def __init__(self, counts_usage=True):
        budget = os.environ.get("{budget}")
        self.budget = int(budget) if budget else None
        self.folder = Path(os.environ["{folder}"])
        self.counts_usage = counts_usage
        self.answers = {{}}
        cache = self.folder / "cache.jsonl"
        if cache.exists():
            for line in cache.read_text(encoding="utf-8").splitlines():
                text, proba = json.loads(line)
                self.answers[text] = proba
        self.counted = {{"requests": 0, "cache_hits": 0, "tokens_in": 0, "tokens_out": 0}}

    def usage(self):
        return Usage(**self.counted, seconds_waiting=0.0)

    def _score(self, text):
        logit = sum(WEIGHTS.get(word, 0.0) for word in text.lower().split())
        positive = 1.0 / (1.0 + math.exp(-logit))
        return [1.0 - positive, positive]

    def predict_proba(self, texts):
        rows = []
        for text in texts:
            if text in self.answers:
                self.counted["cache_hits"] += 1
            else:
                if self.budget is not None and self.counted["requests"] + 1 > self.budget:
                    raise BudgetExhausted(f"the request budget of {{self.budget}} requests is spent")
                self.answers[text] = self._score(text)
                self.counted["requests"] += 1
                self.counted["tokens_in"] += len(text.split())
                self.counted["tokens_out"] += 1
                line = json.dumps([text, self.answers[text]])
                with open(self.folder / "cache.jsonl", "a", encoding="utf-8") as cache:
                    cache.write(line + "\\n")
                with open(self.folder / "sent.jsonl", "a", encoding="utf-8") as log:
                    log.write(json.dumps(text) + "\\n")
            rows.append(self.answers[text])
        return np.asarray(rows, dtype=np.float32)


class FreeModel(CostedModel):
    """The same classifier, counting nothing (no usage())."""

    usage = None


def make():
    return CostedModel()


def free():
    return FreeModel()
'''


def write_costed_victim(folder: Path) -> Path:
    """The factory file (``py:FILE:make`` costs, ``py:FILE:free`` counts nothing)."""
    path = folder / "costed_model.py"
    path.write_text(COSTED_VICTIM.format(budget=BUDGET_VARIABLE, folder=FOLDER_VARIABLE), encoding="utf-8")
    return path


def sent_texts(folder: Path) -> list[str]:
    """Every request the victims of ``folder`` sent, in order."""
    import json

    log = folder / "sent.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
