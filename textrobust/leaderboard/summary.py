"""A run's summary with TextAttack's columns, computed from stored results and nothing else.

The terminal shows ``summary_rows`` (the CLI draws them); reports use the markdown tables here.

Definitions follow TextAttack's attack metrics so numbers are comparable:
original accuracy = (total - skipped) / total; accuracy under attack = failed / total;
attack success rate = successful / (successful + failed); average perturbed word % over successful
attacks; average words per input over every example; average queries over attacked (not skipped)
examples. Added here: average similarity over successful attacks and seconds per attacked example.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tabulate import tabulate

from textrobust.attacks.result import AttackResult


@dataclass(frozen=True)
class Summary:
    """Aggregate numbers of one run; rates are fractions in [0, 1], ``None`` where undefined."""

    total: int
    successful: int
    failed: int
    skipped: int
    original_accuracy: float | None
    accuracy_under_attack: float | None
    attack_success_rate: float | None
    avg_perturbed_word_fraction: float | None
    avg_words_per_input: float | None
    avg_queries: float | None
    avg_similarity: float | None
    avg_seconds: float | None


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarize(results: Iterable[AttackResult]) -> Summary:
    """The summary of a run's results (in any order)."""
    results = list(results)
    successful = [r for r in results if r.status == "success"]
    failed = [r for r in results if r.status == "failed"]
    attacked = successful + failed
    total = len(results)
    return Summary(
        total=total,
        successful=len(successful),
        failed=len(failed),
        skipped=total - len(attacked),
        original_accuracy=len(attacked) / total if total else None,
        accuracy_under_attack=len(failed) / total if total else None,
        attack_success_rate=len(successful) / len(attacked) if attacked else None,
        avg_perturbed_word_fraction=_mean([r.perturbed_fraction for r in successful]),
        avg_words_per_input=_mean([float(r.num_words) for r in results]),
        avg_queries=_mean([float(r.queries) for r in attacked]),
        avg_similarity=_mean([r.similarity for r in successful if r.similarity is not None]),
        avg_seconds=_mean([r.seconds for r in attacked]),
    )


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def _number(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def summary_rows(summary: Summary) -> list[tuple[str, str]]:
    """(label, formatted value) pairs, TextAttack's labels first."""
    return [
        ("Number of successful attacks", str(summary.successful)),
        ("Number of failed attacks", str(summary.failed)),
        ("Number of skipped attacks", str(summary.skipped)),
        ("Original accuracy", _percent(summary.original_accuracy)),
        ("Accuracy under attack", _percent(summary.accuracy_under_attack)),
        ("Attack success rate", _percent(summary.attack_success_rate)),
        ("Average perturbed word %", _percent(summary.avg_perturbed_word_fraction)),
        ("Average num. words per input", _number(summary.avg_words_per_input)),
        ("Avg num queries", _number(summary.avg_queries)),
        ("Average similarity", _number(summary.avg_similarity, 3)),
        ("Seconds per attacked example", _number(summary.avg_seconds)),
    ]


def summary_markdown(summary: Summary, tablefmt: str = "github") -> str:
    """A two-column table of the summary (markdown by default; any tabulate format)."""
    return tabulate(
        summary_rows(summary), headers=["Attack results", ""], tablefmt=tablefmt, disable_numparse=True
    )


COMPARISON_COLUMNS = (
    "succ", "fail", "skip", "orig acc", "acc under attack", "success rate", "perturbed %", "words/input",
    "queries", "similarity", "s/example",
)  # fmt: skip


def comparison_markdown(
    rows: Sequence[tuple[Sequence[str], Summary]],
    keys: Sequence[str] = ("victim", "recipe"),
    tablefmt: str = "github",
) -> str:
    """One table of many runs (e.g. victim × recipe), a row per (key values, summary); markdown by default."""
    table = []
    for key_values, s in rows:
        values = [value for _label, value in summary_rows(s)]
        table.append([*key_values, *values])
    return tabulate(table, headers=[*keys, *COMPARISON_COLUMNS], tablefmt=tablefmt, disable_numparse=True)
