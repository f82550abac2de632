"""The dry run's estimator (``runs.costs``): a pure function of the sample's measured costs and the other
examples' words, skips and confidences."""

from __future__ import annotations

import math

import pytest

from textrobust.errors import ParameterError
from textrobust.runs.costs import OtherExample, SampledExample, estimate_cost, estimate_queries
from textrobust.victims.usage import Usage

# logit(0.75) = ln 3, logit(0.9) = ln 9.
SAMPLE = [
    SampledExample(words=10, queries=1, skipped=True, confidence=0.3),
    SampledExample(words=10, queries=11 + 20, skipped=False, confidence=0.75),  # search 20 over ln 3
    SampledExample(words=4, queries=5 + 40, skipped=False, confidence=0.9),  # search 40 over ln 9
]
PER_LOGIT = 60 / (math.log(3) + math.log(9))


def test_each_other_example_costs_a_skip_or_its_ranking_and_a_search_as_sure_as_the_victim_is() -> None:
    others = [
        OtherExample(words=20, skipped=True, confidence=0.1),
        OtherExample(words=20, skipped=False, confidence=0.75),
        OtherExample(words=5, skipped=False, confidence=0.9),
    ]
    estimate = estimate_queries(SAMPLE, others)
    expected = 77 + 1 + (1 + 20 + PER_LOGIT * math.log(3)) + (1 + 5 + PER_LOGIT * math.log(9))
    assert estimate.value == pytest.approx(expected)
    assert estimate.low <= estimate.value <= estimate.high
    # Longer texts and surer predictions cost more; a known skip costs what the sample's skips did.
    longer = estimate_queries(SAMPLE, [OtherExample(40, False, 0.75)]).value
    surer = estimate_queries(SAMPLE, [OtherExample(20, False, 0.99)]).value
    assert longer > estimate_queries(SAMPLE, [OtherExample(20, False, 0.75)]).value < surer
    assert estimate_queries(SAMPLE, [OtherExample(99, True, 0.1)]).value == pytest.approx(78)


def test_examples_not_asked_about_mix_skips_and_attacks_at_the_samples_rates() -> None:
    unknown = estimate_queries(SAMPLE, [OtherExample(words=20)]).value - 77
    mean_logit = (math.log(3) + math.log(9)) / 2
    assert unknown == pytest.approx(1 / 3 * 1 + 2 / 3 * (1 + 20 + PER_LOGIT * mean_logit))


def test_the_sample_alone_is_exact_and_a_sample_is_required() -> None:
    alone = estimate_queries(SAMPLE, [])
    assert alone.value == alone.low == alone.high == 77
    with pytest.raises(ParameterError, match="sample"):
        estimate_queries([], [OtherExample(3)])


def test_requests_tokens_and_waiting_follow_queries_at_the_samples_rates() -> None:
    others = [OtherExample(20, False, 0.75)] * 10
    usage = Usage(requests=30, cache_hits=8, tokens_in=3000, tokens_out=30, seconds_waiting=6.0)
    cost = estimate_cost(SAMPLE, others, usage)
    assert cost.examples == 13 and cost.sampled == 3 and cost.sample_queries == 77
    assert cost.requests is not None and cost.tokens_in is not None and cost.seconds_waiting is not None
    assert cost.requests.value == pytest.approx(cost.queries.value * 38 / 77)  # cache hits were requests
    assert cost.tokens_in.value == pytest.approx(cost.requests.value * 100)  # per request sent
    assert cost.seconds_waiting.value == pytest.approx(cost.requests.value * 0.2)
    assert cost.sample_requests == 38 and cost.requests_to_send == pytest.approx(cost.requests.value - 38)
    assert cost.warning is None


def test_a_victim_that_counts_nothing_gives_queries_only_and_a_cached_sample_no_rates() -> None:
    counted_nothing = estimate_cost(SAMPLE, [OtherExample(8, False, 0.8)])
    assert counted_nothing.requests is None and counted_nothing.requests_to_send is None
    all_cached = estimate_cost(SAMPLE, [OtherExample(8, False, 0.8)], Usage(cache_hits=77))
    assert all_cached.requests is not None
    assert all_cached.requests.value == pytest.approx(all_cached.queries.value)
    assert all_cached.tokens_in is None and all_cached.seconds_waiting is None


def test_a_sample_the_victim_got_all_wrong_says_the_estimate_counts_no_attack() -> None:
    skipped = [SampledExample(10, 1, True, 0.2), SampledExample(12, 1, True, 0.4)]
    cost = estimate_cost(skipped, [OtherExample(10, False, 0.9), OtherExample(10, True, 0.1)])
    assert cost.warning is not None and "sample more" in cost.warning
    assert estimate_cost(skipped, [OtherExample(10, True, 0.1)]).warning is None  # nothing to attack anyway
