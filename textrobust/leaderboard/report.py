"""The leaderboard as data: a pure function of the store (``build_report``), rendered by ``render``.

Entries are finished attack runs (victim × recipe × dataset split); for each victim, the worst case over the
recipes it was attacked with on the same examples ranks its robustness (as RobustBench ranks by its strongest
attack); defenses show before/after on the same examples; transfers show how far each run's adversarial
texts carry to other victims; human evaluations show how many successes raters accept. Every number says
how it was made: each entry carries its run's settings hash (``key``) and the textrobust version.

``answers`` turns the numbers into the seed paper's questions: the most susceptible victim, whose examples
transfer most, who receives the most transferred attacks, whether BERT-type victims are more susceptible
than word victims, and what a defense regains.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textrobust import __version__
from textrobust.attacks.result import AttackResult
from textrobust.errors import StoreError
from textrobust.leaderboard.summary import summarize
from textrobust.leaderboard.transfer import TransferScores, transfer_scores
from textrobust.statistics import Interval, bootstrap_mean
from textrobust.store import RunRecord, Store, VictimInfo
from textrobust.store.records import canonical_json
from textrobust.victims.kinds import architecture

CURVE_THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(11))  # share of words changed, 0 … 0.5
EXAMPLES_PER_ENTRY = 3
MIN_REGAIN = 0.02  # a defense "regains" accuracy when the mean gain is at least 2 points


@dataclass(frozen=True)
class ReportVictim:
    """A victim as the report names it (its folder's name, made unique with its fingerprint if needed)."""

    name: str
    type: str
    path: str
    fingerprint: str
    defense: str | None = None  # the defense method when this victim is a defended one
    # family, parameters, trainable_parameters, precision, fine_tuning (victims.details); None if unknown
    details: dict[str, Any] | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class Example:
    """A successful adversarial example, for the report's readers."""

    index: int
    original: str
    adversarial: str
    label: str
    original_prediction: str
    adversarial_prediction: str
    words_changed: int
    num_words: int


@dataclass(frozen=True)
class Entry:
    """One finished attack run and its numbers."""

    run_id: int
    key: str  # hash of every setting that decides the run's results
    version: str
    victim: ReportVictim
    recipe: str
    dataset: str
    split: str
    n: int
    seed: int
    budget: int | None
    options: dict[str, Any]
    clean_accuracy: Interval
    accuracy_under_attack: Interval
    success_rate: Interval
    perturbed_words: float | None
    queries: float | None
    similarity: float | None
    seconds_per_example: float | None
    examples: tuple[Example, ...]
    curve: tuple[tuple[float, float], ...]  # (share of words changed allowed, accuracy under attack)
    language: str = "en"  # the dataset's, so a renderer can set the text direction of its examples
    # (example index, still classified correctly after the attack) for every example: victims attacked on
    # the same examples are compared example by example (paired), not mean against mean.
    outcomes: tuple[tuple[int, bool], ...] = field(default=(), repr=False)
    # What the attack cost where the victim counts it (an endpoint, an LLM): requests, cache hits, tokens in
    # and out, seconds waiting, as ``textrobust.victims.usage.Usage.as_dict``; None for victims that do not.
    usage: dict[str, Any] | None = None


@dataclass(frozen=True)
class Ranking:
    """A victim's robustness on one set of examples: its worst accuracy under attack over the recipes."""

    victim: ReportVictim
    dataset: str
    split: str
    n: int
    clean_accuracy: Interval
    worst_accuracy: Interval
    worst_recipe: str
    recipes: tuple[str, ...]


@dataclass(frozen=True)
class Measure:
    """Base and defended accuracy on the same examples, and their paired difference with its interval."""

    name: str
    base: float
    defended: float
    difference: Interval
    under_attack: bool = False  # accuracy under attack (what a defense should regain), not clean accuracy


@dataclass(frozen=True)
class DefenseEntry:
    id: int
    method: str
    base: ReportVictim
    defended: ReportVictim
    dataset: str
    parameters: dict[str, Any]
    train_seconds: float
    clean_train_seconds: float | None
    forward_passes: int
    measures: tuple[Measure, ...]

    @property
    def cost_ratio(self) -> float | None:
        return self.train_seconds / self.clean_train_seconds if self.clean_train_seconds else None


@dataclass(frozen=True)
class TransferCell:
    recipe: str
    dataset: str
    source: ReportVictim
    target: ReportVictim
    run_id: int
    transfer_id: int
    scores: TransferScores
    # For each replayed example the target had right on the original, whether the adversarial text fooled
    # it (the values behind ``scores.success_rate``), so a target's column can be pooled over sources.
    fooled: tuple[bool, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class HumanEntry:
    run_id: int
    victim: ReportVictim
    recipe: str
    raters: int
    items: int
    summary: dict[str, Any]


@dataclass(frozen=True)
class Report:
    """Everything the leaderboard shows, as plain records."""

    version: str
    dataset: str | None
    entries: tuple[Entry, ...]
    rankings: tuple[Ranking, ...]
    defenses: tuple[DefenseEntry, ...]
    transfers: tuple[TransferCell, ...]
    human: tuple[HumanEntry, ...]
    answers: dict[str, str] = field(default_factory=dict)


def accuracy_curve(results: Sequence[AttackResult]) -> tuple[tuple[float, float], ...]:
    """Accuracy under attack if the attacker may change at most a share t of the words, for each t."""
    total = len(results)
    if not total:
        return ()
    curve = []
    for threshold in CURVE_THRESHOLDS:
        kept = sum(
            1
            for r in results
            if r.status == "failed" or (r.status == "success" and r.perturbed_fraction > threshold + 1e-12)
        )
        curve.append((threshold, kept / total))
    return tuple(curve)


def short_name(path: str) -> str:
    """How a report names a victim: a folder by its name; a victim from elsewhere by its source and what
    tells it apart (``openai:MODEL``, ``llm:FILE``, ``py:FILE:FACTORY``, an endpoint's host and path)."""
    prefix, colon, rest = path.partition(":")
    if not colon or len(prefix) == 1:  # a folder (or a Windows path)
        return Path(path).name
    if prefix in ("http", "https"):
        return rest.lstrip("/").rstrip("/") or path
    if prefix == "openai":
        return f"openai:{rest.rpartition('@')[0] or rest}"
    where, _colon, factory = rest.rpartition(":")
    if prefix == "py" and where:
        return f"py:{Path(where).name}:{factory}"
    return f"{prefix}:{Path(rest).name or rest}"


def _names(victims: Sequence[VictimInfo]) -> dict[str, str]:
    """fingerprint → display name (``short_name``), with a fingerprint prefix where two share a name."""
    by_name: dict[str, set[str]] = defaultdict(set)
    for victim in victims:
        by_name[short_name(victim.path)].add(victim.fingerprint)
    names = {}
    for victim in victims:
        base = short_name(victim.path)
        names[victim.fingerprint] = base if len(by_name[base]) == 1 else f"{base}@{victim.fingerprint[:6]}"
    return names


def _examples(results: Sequence[tuple[int, AttackResult]], labels: Sequence[str]) -> tuple[Example, ...]:
    def name(label: int | None) -> str:
        return labels[label] if label is not None and 0 <= label < len(labels) else str(label)

    chosen = [(i, r) for i, r in results if r.status == "success" and r.adversarial_text][:EXAMPLES_PER_ENTRY]
    return tuple(
        Example(
            i,
            r.original_text,
            r.adversarial_text or "",
            name(r.label),
            name(r.original_prediction),
            name(r.adversarial_prediction),
            r.words_changed,
            r.num_words,
        )  # fmt: skip
        for i, r in chosen
    )


def recipe_label(recipe: str, options: dict[str, Any], budget: int | None = None) -> str:
    """The recipe as the report names it: with every option that makes a variant of it ("mlm-synonym
    (max 1 word)"), so two variants of one recipe stay two rows (``AttackOptions.label``)."""
    from textrobust.attacks import options as attack_options
    from textrobust.errors import ParameterError

    try:
        return attack_options.AttackOptions.from_run(options, budget).label(recipe)
    except ParameterError:  # stored by a version whose options this one does not take: shown as stored
        kept = {k: v for k, v in options.items() if k not in attack_options.RUN_KEYS}
        return f"{recipe} ({canonical_json(kept)})" if kept else recipe


def _latest_finished(runs: Sequence[RunRecord], dataset: str | None) -> list[RunRecord]:
    """The newest finished run of every settings key (a repeated run counts once)."""
    latest: dict[str, RunRecord] = {}
    for run in runs:
        if run.status != "finished" or (dataset is not None and run.parameters.dataset.name != dataset):
            continue
        if run.key not in latest or run.id > latest[run.key].id:
            latest[run.key] = run
    return sorted(latest.values(), key=lambda r: r.id)


def build_report(store: Store, dataset: str | None = None, seed: int = 0) -> Report:
    """The leaderboard of everything in ``store`` (of one dataset when given); reads, never writes."""
    all_runs = store.runs()
    runs = _latest_finished(all_runs, dataset)
    defenses = [d for d in store.defenses() if dataset is None or d.info.dataset == dataset]
    victims = {r.parameters.victim.fingerprint: r.parameters.victim for r in all_runs}
    for d in defenses:
        victims.setdefault(d.info.base.fingerprint, d.info.base)
        victims.setdefault(d.info.defended.fingerprint, d.info.defended)
    transfer_records = store.transfers()
    for t in transfer_records:
        victims.setdefault(t.target.fingerprint, t.target)
    names = _names(sorted(victims.values(), key=lambda v: (short_name(v.path), v.fingerprint)))
    defended_by = {d.info.defended.fingerprint: d.info.method for d in defenses}

    def ref(victim: VictimInfo) -> ReportVictim:
        return ReportVictim(
            names[victim.fingerprint], victim.type, victim.path, victim.fingerprint,
            defended_by.get(victim.fingerprint), victim.details,
        )  # fmt: skip

    results: dict[int, list[tuple[int, AttackResult]]] = {}

    def results_of(run_id: int) -> list[tuple[int, AttackResult]]:
        if run_id not in results:
            results[run_id] = list(store.iter_results(run_id))
        return results[run_id]

    entries = []
    for run in runs:
        p = run.parameters
        indexed = results_of(run.id)
        plain = [r for _i, r in indexed]
        summary = summarize(plain)
        attacked = [r for r in plain if r.status != "skipped"]
        entries.append(
            Entry(
                run_id=run.id,
                key=run.key,
                version=p.version,
                victim=ref(p.victim),
                recipe=recipe_label(p.recipe, p.options, p.budget),
                dataset=p.dataset.name,
                split=p.dataset.split,
                n=p.n,
                seed=p.seed,
                budget=p.budget,
                options=dict(p.options),
                clean_accuracy=bootstrap_mean([float(r.correct_before) for r in plain], seed),
                accuracy_under_attack=bootstrap_mean([float(r.correct_after) for r in plain], seed),
                success_rate=bootstrap_mean([float(r.status == "success") for r in attacked], seed),
                perturbed_words=summary.avg_perturbed_word_fraction,
                queries=summary.avg_queries,
                similarity=summary.avg_similarity,
                seconds_per_example=summary.avg_seconds,
                examples=_examples(indexed, p.dataset.label_names),
                curve=accuracy_curve(plain),
                language=p.dataset.language,
                outcomes=tuple((i, r.correct_after) for i, r in indexed),
                usage=None if run.usage is None else run.usage.as_dict(),
            )  # fmt: skip
        )
    entries.sort(key=lambda e: (e.dataset, e.split, e.victim.name, e.recipe, e.n, e.run_id))

    # Worst case per victim over the recipes run on the same examples (dataset, split, n).
    groups: dict[tuple[str, str, str, int], list[Entry]] = defaultdict(list)
    for entry in entries:
        groups[(entry.victim.fingerprint, entry.dataset, entry.split, entry.n)].append(entry)
    rankings = []
    for (_fingerprint, data, split, n), group in groups.items():
        worst = min(group, key=lambda e: (e.accuracy_under_attack.mean or 0.0, e.recipe))
        rankings.append(
            Ranking(
                worst.victim,
                data,
                split,
                n,
                group[0].clean_accuracy,
                worst.accuracy_under_attack,
                worst.recipe,
                tuple(sorted(e.recipe for e in group)),
            )  # fmt: skip
        )
    rankings.sort(key=lambda r: (r.dataset, r.split, -(r.worst_accuracy.mean or 0.0), r.victim.name))

    run_by_id = {run.id: run for run in all_runs}
    defense_entries = []
    for d in defenses:
        by_recipe: dict[str, dict[str, int]] = defaultdict(dict)
        for run_id, role in d.runs:
            if run_id in run_by_id and run_by_id[run_id].status == "finished":
                by_recipe[run_by_id[run_id].parameters.recipe][role] = run_id
        measures = []
        complete = sorted(recipe for recipe, roles in by_recipe.items() if len(roles) == 2)
        for position, recipe in enumerate(complete):
            base = [r for _i, r in results_of(by_recipe[recipe]["base"])]
            defended = [r for _i, r in results_of(by_recipe[recipe]["defended"])]
            if len(base) != len(defended):
                continue
            if position == 0:
                measures.append(_measure("clean", base, defended, "correct_before", seed))
            measures.append(_measure(f"under {recipe}", base, defended, "correct_after", seed))
        info = d.info
        defense_entries.append(
            DefenseEntry(
                d.id,
                info.method,
                ref(info.base),
                ref(info.defended),
                info.dataset,
                dict(info.parameters),
                info.train_seconds,
                info.clean_train_seconds,
                info.forward_passes,
                tuple(measures),
            )  # fmt: skip
        )

    cells = []
    runs_by_id = {run.id: run for run in runs}
    for t in transfer_records:
        source = runs_by_id.get(t.source_run_id)
        if source is None or t.status != "finished":
            continue
        if t.target.fingerprint == source.parameters.victim.fingerprint:
            # A run's texts replayed on its own victim fool it by construction (100 %): not a transfer.
            # ``transfer_run`` refuses them; a store written before it did may still hold some.
            continue
        rows = store.transfer_rows(t.id)
        cells.append(
            TransferCell(
                source.parameters.recipe,
                source.parameters.dataset.name,
                ref(source.parameters.victim),
                ref(t.target),
                source.id,
                t.id,
                transfer_scores(rows, seed),
                tuple(r.adversarial_prediction != r.label for r in rows if r.original_prediction == r.label),
            )  # fmt: skip
        )
    cells.sort(key=lambda c: (c.dataset, c.recipe, c.source.name, c.target.name))

    human = []
    for evaluation in store.human_evaluations():
        source = run_by_id.get(evaluation.run_id)
        if source is None or (dataset is not None and source.parameters.dataset.name != dataset):
            continue
        human.append(
            HumanEntry(
                evaluation.run_id,
                ref(source.parameters.victim),
                source.parameters.recipe,
                evaluation.raters,
                evaluation.items,
                evaluation.summary,
            )  # fmt: skip
        )
    parts = (tuple(entries), tuple(rankings), tuple(defense_entries), tuple(cells), tuple(human))
    report = Report(__version__, dataset, *parts)
    report.answers.update(answers(report, seed))
    return report


def require_runs(report: Report, store: Store) -> None:
    """A ``StoreError`` with the reason when ``report`` holds no finished attack run: a report of an empty
    store, of a dataset the store lacks or of a store whose runs were all deleted or never finished would
    be empty tables that read like a result. For callers that ask for a report of a store (the
    ``leaderboard`` command); ``build_report`` itself stays total, as pipelines that made runs use it."""
    if report.entries:
        return
    runs = store.runs()
    finished = [r for r in runs if r.status == "finished"]
    where = f"{store.path} holds no finished attack run"
    if not runs:
        raise StoreError(f"{where}: it holds no run at all; attack a victim first (textrobust attack)")
    if not finished:
        plural = "run is" if len(runs) == 1 else "runs are"
        raise StoreError(
            f"{where}: none of its {len(runs)} {plural} finished (textrobust runs list shows them)"
        )
    held = ", ".join(sorted({r.parameters.dataset.name for r in finished}))
    raise StoreError(f"{where} on dataset '{report.dataset}' (it holds: {held})")


def _measure(
    name: str, base: Sequence[AttackResult], defended: Sequence[AttackResult], correct: str, seed: int
) -> Measure:
    """``correct``: ``correct_before`` (clean accuracy) or ``correct_after`` (accuracy under attack)."""
    a = [float(getattr(r, correct)) for r in base]
    b = [float(getattr(r, correct)) for r in defended]
    difference = bootstrap_mean([y - x for x, y in zip(a, b, strict=True)], seed)
    return Measure(name, sum(a) / len(a), sum(b) / len(b), difference, correct == "correct_after")


def _pct(interval: Interval) -> str:
    return interval.percent(unit=" %")


def _points(interval: Interval) -> str:
    return interval.percent(signed=True, unit=" points")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def answers(report: Report, seed: int = 0) -> dict[str, str]:
    """The seed paper's questions, answered from the report's numbers (with 95 % intervals)."""
    out: dict[str, str] = {}
    for key, answer in (
        ("most_susceptible", _most_susceptible(report)),
        ("transfers_most", _transfers_most(report)),
        ("receives_most", _receives_most(report, seed)),
        ("transformer_vs_word", _transformer_vs_word(report, seed)),
        ("defense_regains", _defense_regains(report)),
    ):
        if answer:
            out[key] = answer
    return out


def _most_susceptible(report: Report) -> str | None:
    undefended = [r for r in report.rankings if r.victim.defense is None]
    if not undefended:
        return None

    def mean_under_attack(ranking: Ranking) -> float:
        """Ties of the worst case are broken by the mean accuracy under every recipe."""
        values = [
            e.accuracy_under_attack.mean or 0.0
            for e in report.entries
            if e.victim.fingerprint == ranking.victim.fingerprint
            and (e.dataset, e.split, e.n) == (ranking.dataset, ranking.split, ranking.n)
        ]
        return sum(values) / len(values) if values else 0.0

    weakest = min(
        undefended, key=lambda r: (r.worst_accuracy.mean or 0.0, mean_under_attack(r), r.victim.name)
    )
    return (
        f"{weakest.victim.name}: worst-case accuracy under attack {_pct(weakest.worst_accuracy)} "
        f"({weakest.worst_recipe}, first {weakest.n} {weakest.dataset}/{weakest.split} examples; clean "
        f"{_pct(weakest.clean_accuracy)}; mean over its recipes {100 * mean_under_attack(weakest):.1f} %)"
    )


def _transfers_most(report: Report) -> str | None:
    if not report.transfers:
        return None
    # Only cells with a success rate count: a target that had none of the originals right (or a source with
    # no adversarial text to replay) measured nothing, and must neither rank nor average as 0 or -100 %.
    by_source: dict[str, list[TransferCell]] = defaultdict(list)
    for cell in report.transfers:
        if cell.scores.success_rate.mean is not None:
            by_source[f"{cell.source.name} ({cell.recipe})"].append(cell)
    if not by_source:
        return (
            "nothing to compare: no target classified any replayed example correctly on its original "
            f"({sum(c.scores.replayed for c in report.transfers)} replayed over "
            f"{len(report.transfers)} transfers)"
        )

    def mean_rate(cells: list[TransferCell]) -> float:
        return sum(c.scores.success_rate.mean or 0.0 for c in cells) / len(cells)

    source, cells = max(sorted(by_source.items()), key=lambda item: mean_rate(item[1]))
    best = max(cells, key=lambda c: (c.scores.success_rate.mean or 0.0, c.target.name))
    return (
        f"{source}: its adversarial texts fool the other victims in {100 * mean_rate(cells):.1f} % of "
        f"the cases they had right (most: {best.target.name}, {_pct(best.scores.success_rate)})"
    )


def _receives_most(report: Report, seed: int) -> str | None:
    """Per recipe, the target whose column of the transfer matrix (examples made against the other victims,
    replayed on it) has the highest success rate; its examples are pooled over the sources, so a source
    that contributed more replayable examples weighs more, as in the matrix's cells."""
    by_recipe: dict[tuple[str, str], list[TransferCell]] = defaultdict(list)
    for cell in report.transfers:
        by_recipe[(cell.recipe, cell.dataset)].append(cell)
    parts = []
    for (recipe, dataset), cells in sorted(by_recipe.items()):
        columns: dict[str, list[TransferCell]] = defaultdict(list)
        for cell in sorted(cells, key=lambda c: c.source.name):
            columns[cell.target.name].append(cell)
        pooled = {
            target: bootstrap_mean([float(f) for c in column for f in c.fooled], seed)
            for target, column in sorted(columns.items())
        }
        measured = {target: interval for target, interval in pooled.items() if interval.mean is not None}
        if not measured:
            continue
        target = max(measured, key=lambda name: measured[name].mean or 0.0)  # ties: first by name
        sources = ", ".join(c.source.name for c in columns[target])
        interval = measured[target]
        parts.append(
            f"{recipe} on {dataset}: {target}, fooled by {_pct(interval)} of the {interval.n} transferred "
            f"examples it had right (made against {sources})"
        )
    return "; ".join(parts) or None


def _transformer_vs_word(report: Report, seed: int) -> str | None:
    """Per recipe and set of examples with both kinds of (undefended) victim: accuracy under attack of the
    BERT-type victims minus that of the word victims, paired example by example. Accuracy under attack
    rather than success rate because it counts every example for every victim, so the pairs are the same
    examples; a success rate would compare different subsets (those each victim had right)."""
    groups: dict[tuple[str, str, str, int], list[Entry]] = defaultdict(list)
    for e in report.entries:
        if e.victim.defense is None and e.outcomes:
            groups[(e.recipe, e.dataset, e.split, e.n)].append(e)
    parts = []
    for (recipe, data, split, n), group in sorted(groups.items()):
        transformers = [e for e in group if architecture(e.victim.type, e.victim.details) == "transformer"]
        words = [e for e in group if architecture(e.victim.type, e.victim.details) == "word"]
        difference = _paired_difference(transformers, words, seed)
        if difference is None or difference.mean is None:
            continue
        if not difference.excludes_zero():
            verdict = "not distinguishable (interval includes 0)"
        elif difference.mean < 0:
            verdict = "yes"
        else:
            verdict = "no, the word victims are more susceptible"
        names = [", ".join(sorted({e.victim.name for e in kind})) for kind in (transformers, words)]
        parts.append(
            f"{recipe} on {data}/{split} (first {n}): {verdict}: accuracy under attack of {names[0]} minus "
            f"that of {names[1]}, {_points(difference)} over {difference.n} paired examples"
        )
    return "; ".join(parts) or None


def _paired_difference(first: Sequence[Entry], second: Sequence[Entry], seed: int) -> Interval | None:
    """Per example, the mean correctness after the attack over ``first``'s runs minus that over
    ``second``'s, on the examples every run has; None if either side is empty."""
    if not first or not second:
        return None
    outcomes = [dict(e.outcomes) for e in (*first, *second)]
    shared = sorted(set.intersection(*(set(o) for o in outcomes)))
    head = outcomes[: len(first)]
    tail = outcomes[len(first) :]
    differences = [sum(o[i] for o in head) / len(head) - sum(o[i] for o in tail) / len(tail) for i in shared]
    return bootstrap_mean(differences, seed)


def _defense_regains(report: Report) -> str | None:
    regained = []
    for d in report.defenses:
        if not d.measures:
            continue
        parts = []
        for m in d.measures:
            part = f"{m.name} {_points(m.difference)}"
            if m.under_attack and m.difference.mean is not None:
                # the clean measure is the defense's cost, not a regain: only accuracy under attack is judged
                at_least = m.difference.mean >= MIN_REGAIN - 1e-12  # 1/50 must count as 2 points
                above = m.difference.low is not None and m.difference.low > 0
                part += f" (regains ≥ {100 * MIN_REGAIN:.0f} points: {_yes(at_least)}, interval above 0: "
                part += f"{_yes(above)})"
            parts.append(part)
        regained.append(f"{d.method} on {d.base.name}: {', '.join(parts)}")
    return "; ".join(regained) or None
