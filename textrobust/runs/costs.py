"""What an attack would cost, estimated from a small sample attacked for real (``attack --dry-run``).

Queries per example vary a lot, and not at random: an example the victim already gets wrong costs one
query (it is skipped); an attacked one costs a ranking of its words (about one query per word) and then a
search whose length grows with how sure the victim is of the right class (a confident prediction takes
more swaps to flip). So the estimate is not the sample's mean times the number of examples. The sampled
examples count what they really cost. Before the estimate, the victim is asked about every other
example's original text (one query each, which the real run asks anyway), so for each it is known whether
it will be skipped and how confident the victim is. Each other example then costs what a skip costs, or
``1 + words + k × logit(confidence)``, with ``k`` the sample's search queries per unit of logit; where
the survey could not be made (a budget ran out), the sample's skip rate and mean logit stand in.
Requests, tokens and waiting follow from queries at the sample's own rates (a victim that batches texts
sends fewer requests than queries).

Checked on textfooler against a WordCNN on MR (26 windows of 50 examples): with 10 sampled examples the
estimate was within 25 % of the real query count in 81 % of the windows (median error 15 %), with 15 in
92 % (mean × N: 54 % and 65 %). Against SmolLM2-135M behind llama-server (``openai:``, 50 MR examples) the
real request count itself varies between runs (1,334 to 1,509: the server's scores move with how it
batches concurrent requests), and the estimate was within 25 % with 15 sampled examples (+18 %) and with
10 one at a time (-8 %), not with 10 four at a time (+37 %: the same 10 examples cost 456 requests in the
dry run and 340 in the real run). The interval is the 5th to 95th percentile of the same estimate over
bootstrap resamples of the sample: rough, as a small sample's must be. Everything here is a pure function
of numbers; ``runs.jobs.estimate_attack_cost`` attacks the sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from textrobust.errors import ParameterError
from textrobust.victims.usage import Usage

BOOTSTRAP_RESAMPLES = 2000
INTERVAL = (5.0, 95.0)  # percentiles of the bootstrap estimates
LOGIT_FLOOR = 0.05  # a barely right prediction still needs a search of some length


@dataclass(frozen=True)
class SampledExample:
    """One example of the sample as attacked: its words, the victim queries it took, whether skipped, and
    the victim's probability of the right class on the original (None when unknown)."""

    words: int
    queries: int
    skipped: bool
    confidence: float | None = None


@dataclass(frozen=True)
class OtherExample:
    """An example not in the sample: its words, whether the victim already gets it wrong (it will be
    skipped) and its probability of the right class (``None`` when not asked)."""

    words: int
    skipped: bool | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class Estimate:
    """A rough figure: the point estimate and an interval around it."""

    value: float
    low: float
    high: float

    def scaled(self, factor: float) -> Estimate:
        return Estimate(self.value * factor, self.low * factor, self.high * factor)


@dataclass(frozen=True)
class CostEstimate:
    """What attacking ``examples`` examples would cost, from the ``sampled`` ones attacked for real.

    ``requests``: requests the whole run needs with nothing cached (the sample's answers are cached now, so
    the real run sends about ``requests_to_send``); ``None`` where the victim counts nothing (only queries
    are known). ``tokens_in``/``tokens_out``/``seconds_waiting``: ``None`` also when the sample sent no
    request (all its answers came from the request cache), so no rate was measured. ``sample_usage``: what
    the sample cost; ``survey_usage``: what asking about the other originals cost (both ``None`` for a
    victim that counts nothing).
    """

    examples: int
    sampled: int
    queries: Estimate
    sample_queries: int
    sample_usage: Usage | None = None
    survey_usage: Usage | None = None
    requests: Estimate | None = None
    tokens_in: Estimate | None = None
    tokens_out: Estimate | None = None
    seconds_waiting: Estimate | None = None
    warning: str | None = None  # when the sample says too little (no example of it was attacked)

    @property
    def sample_requests(self) -> int:
        """Requests the sample needed (sent, or answered by the request cache)."""
        u = self.sample_usage
        return 0 if u is None else u.requests + u.cache_hits

    @property
    def requests_to_send(self) -> float | None:
        """Requests the real run would still send, the sample's answers being cached now."""
        return None if self.requests is None else max(0.0, self.requests.value - self.sample_requests)


def _logit(confidence: float | None, default: float) -> float:
    """How sure the victim is of the right class, as a log-odds floored at ``LOGIT_FLOOR`` (``default``
    when unknown)."""
    if confidence is None:
        return default
    c = min(max(float(confidence), 1e-6), 1.0 - 1e-6)
    return max(LOGIT_FLOOR, float(np.log(c / (1.0 - c))))


def _total_queries(sample: Sequence[SampledExample], others: Sequence[OtherExample], measured: int) -> float:
    """The sample's queries plus the expected queries of the ``others``."""
    skipped = [e.queries for e in sample if e.skipped]
    attacked = [e for e in sample if not e.skipped]
    skip_rate = len(skipped) / len(sample)
    skip_cost = float(np.mean(skipped)) if skipped else 1.0
    logits = [_logit(e.confidence, 1.0) for e in attacked]
    mean_logit = float(np.mean(logits)) if logits else 1.0
    # Search queries (beyond the original and one per word) per unit of logit, over the attacked sample.
    searches = sum(e.queries - 1 - e.words for e in attacked)
    per_logit = searches / sum(logits) if attacked else 0.0
    total = float(measured)
    for other in others:
        attack_cost = max(1.0, 1 + other.words + per_logit * _logit(other.confidence, mean_logit))
        if other.skipped is None:
            total += skip_rate * skip_cost + (1.0 - skip_rate) * attack_cost
        else:
            total += skip_cost if other.skipped else attack_cost
    return total


def estimate_queries(sample: Sequence[SampledExample], others: Sequence[OtherExample]) -> Estimate:
    """Victim queries for every example: ``sample`` is what the sampled ones cost, ``others`` the examples
    not sampled."""
    if not sample:
        raise ParameterError("sample", "must hold at least one attacked example")
    measured = sum(e.queries for e in sample)
    point = _total_queries(sample, others, measured)
    rng = np.random.default_rng(0)  # the same sample gives the same interval
    resampled = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        picks = [sample[i] for i in rng.integers(0, len(sample), len(sample))]
        # The sample's own cost is measured; only the others' is uncertain.
        resampled.append(_total_queries(picks, others, measured))
    low, high = np.percentile(resampled, INTERVAL)
    return Estimate(point, float(min(low, point)), float(max(high, point)))


def estimate_cost(
    sample: Sequence[SampledExample],
    others: Sequence[OtherExample],
    usage: Usage | None = None,
    survey_usage: Usage | None = None,
) -> CostEstimate:
    """The cost of attacking the sampled examples and the ``others``, from what the sample cost: its
    per-example queries and its victim's ``usage`` over the sample (None for a victim that counts nothing).
    ``survey_usage``: what asking about the others' originals cost (reported, not used for rates)."""
    queries = estimate_queries(sample, others)
    measured = sum(e.queries for e in sample)
    warning = None
    attacked_others = sum(1 for other in others if other.skipped is not True)
    if all(e.skipped for e in sample) and attacked_others:
        warning = (
            "the victim got every sampled example wrong already (none was attacked): the estimate counts "
            "no attack; sample more examples"
        )
    known = {"examples": len(sample) + len(others), "sampled": len(sample), "queries": queries}
    known |= {"sample_queries": measured, "sample_usage": usage, "survey_usage": survey_usage}
    if usage is None or measured == 0:
        return CostEstimate(**known, warning=warning)
    needed = usage.requests + usage.cache_hits
    requests = queries.scaled(needed / measured)
    rates: dict[str, Estimate | None] = {"tokens_in": None, "tokens_out": None, "seconds_waiting": None}
    if usage.requests > 0:  # rates of the requests really sent (cached answers cost no tokens, no wait)
        for name in rates:
            rates[name] = requests.scaled(getattr(usage, name) / usage.requests)
    return CostEstimate(**known, requests=requests, warning=warning, **rates)
