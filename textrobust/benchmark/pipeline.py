"""Running a benchmark: one function per stage, in order — victims, attacks, rating sheets, the transfer
matrix, defenses, the report. A second call reuses every victim, run, transfer and defense that is already
finished, so an interrupted benchmark continues where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textrobust.benchmark.spec import MLM_MODEL, BenchmarkSpec, DefenseSpec, VictimSpec
from textrobust.data import Dataset
from textrobust.store import Store
from textrobust.victims.resolve import VictimRef

Say = Callable[[str], None]


@dataclass(frozen=True)
class BenchmarkOutcome:
    """What a benchmark wrote: the HTML report (markdown and JSON beside it), and the report itself."""

    html: Path
    report: Any  # leaderboard.report.Report
    victims: list[dict[str, Any]]  # one row per victim: accuracy, seconds, trained or reused


def _quiet(_message: str) -> None:
    pass


@dataclass(frozen=True)
class BenchmarkRun:
    """What every stage after the victims works with: the spec, the data, the victims' folders, the open
    store, who attacks, and how to report progress."""

    spec: BenchmarkSpec
    dataset: Dataset
    directories: dict[str, Path | VictimRef]  # victim name → its folder, or its resolved name (given ones)
    store: Store
    executor: Any
    retrain: bool = False
    progress: bool = True
    say: Say = _quiet


def resolve_given_victims(spec: BenchmarkSpec) -> dict[str, VictimRef]:
    """The victims the benchmark does not train (``victim = NAME``), resolved: a mistake in one (an
    unreachable endpoint, a missing file, a wrong label map) is found before any work."""
    from textrobust.victims.resolve import resolve_victim

    return {v.name: resolve_victim(v.victim, v.source) for v in spec.victims if v.victim is not None}


def train_victims(
    spec: BenchmarkSpec,
    dataset: Dataset,
    *,
    retrain: bool = False,
    say: Say = _quiet,
    given: dict[str, VictimRef] | None = None,
) -> tuple[dict[str, Path | VictimRef], list[dict[str, Any]]]:
    """Each victim trained (or reused from its folder), or, for one that exists already, its resolved name
    (``given``: as ``resolve_given_victims`` returns them; resolved here when not given): victim name →
    folder (or resolved name), and a row per victim."""
    given = resolve_given_victims(spec) if given is None else given
    directories: dict[str, Path | VictimRef] = {}
    rows = []
    for victim in spec.victims:
        if victim.name in given:
            directories[victim.name], row = given[victim.name], _given_row(spec, given[victim.name], dataset)
        else:
            directories[victim.name], row = _victim(spec, victim, dataset, retrain, say)
        rows.append({"victim": victim.name, **row})
    return directories, rows


def _given_row(spec: BenchmarkSpec, ref: VictimRef, dataset: Dataset) -> dict[str, Any]:
    """A given victim's row: its kind, and its accuracy on the examples the attacks use (the first ``n``:
    a whole split through an endpoint or an LLM costs requests and time the attacks need)."""
    from textrobust.victims.evaluation import evaluate_victim

    started = time.perf_counter()
    test = evaluate_victim(ref.load(), dataset, spec.split, n=spec.n)
    return {
        f"{spec.split} accuracy": test.accuracy,
        "seconds": f"{time.perf_counter() - started:.1f}",
        "note": f"given ({ref.kind}), accuracy on the first {test.n}",
    }


def _victim(
    spec: BenchmarkSpec, victim: VictimSpec, dataset: Dataset, retrain: bool, say: Say
) -> tuple[Path, dict[str, Any]]:
    from textrobust.victims import load_victim
    from textrobust.victims.evaluation import evaluate_victim
    from textrobust.victims.training import TrainConfig, train_victim

    assert victim.type is not None  # a trained victim (read_benchmark checks it)
    directory = spec.folder / victim.name
    started = time.perf_counter()
    if (directory / "config.json").exists() and not retrain:
        model, note = load_victim(directory), "reused"
    else:
        say(f"training {victim.name} ({victim.type})")
        options: dict[str, Any] = {
            key: getattr(victim, key)
            for key in ("vectors", "model", "max_length")
            if getattr(victim, key) is not None
        }
        if options.get("vectors") == "none":
            options["vectors"] = None
        if options.get("model") == MLM_MODEL:
            options["model"] = spec.mlm
        config = TrainConfig(
            epochs=victim.epochs,
            batch_size=victim.batch_size,
            learning_rate=victim.learning_rate,
            seed=victim.seed if victim.seed is not None else spec.seed,
            max_train_examples=victim.max_train_examples,
        )
        model, report = train_victim(victim.type, dataset, directory, config, **options)
        note = f"trained {report.epochs_run} epoch{'s' if report.epochs_run != 1 else ''}"
    test = evaluate_victim(model, dataset, spec.split)
    row = {
        f"{spec.split} accuracy": test.accuracy,
        "seconds": f"{time.perf_counter() - started:.1f}",
        "note": note,
    }
    return directory, row


def run_attacks(run: BenchmarkRun) -> dict[tuple[str, str], int]:
    """Every victim under every attack; (victim, recipe) → run id of the attacks with the shared options."""
    from textrobust.runs.jobs import attack_victim

    spec = run.spec
    run_ids: dict[tuple[str, str], int] = {}
    for name, directory in run.directories.items():
        for attack in spec.attacks:
            run.say(f"attacking {name} with {attack.label} (first {spec.n} {spec.split} examples)")
            outcome = attack_victim(
                directory, attack.recipe, options=attack.options, dataset=run.dataset, split=spec.split,
                n=spec.n, seed=spec.seed, mlm=spec.mlm, store=run.store, resume=True, progress=run.progress,
                executor=run.executor,
            )  # fmt: skip
            if attack.options == spec.shared_options:
                run_ids[(name, attack.recipe)] = outcome.run.id
    return run_ids


def export_ratings(run: BenchmarkRun, run_ids: dict[tuple[str, str], int]) -> None:
    """The rating sheets of ``[humaneval]``; a kit already written is left alone (raters may be at work)."""
    from textrobust.leaderboard.humaneval import export_kit

    spec = run.spec
    wanted = spec.humaneval
    if wanted is None or (spec.folder / "humaneval" / "key.json").exists():
        return
    kit = export_kit(
        run.store,
        run_ids[(wanted.victim, wanted.recipe)],
        spec.folder / "humaneval",
        n=wanted.n,
        raters=wanted.raters,
        seed=spec.seed,
    )
    run.say(f"rating sheets ({kit.items} items, {kit.raters} raters, {kit.language}): {kit.directory}")


def run_transfer(run: BenchmarkRun) -> None:
    """The transfer matrix of ``[transfer]``: every victim's adversarial texts replayed on the others."""
    from textrobust.runs.transfer import transfer_matrix

    spec = run.spec
    if spec.transfer_recipe is None:
        return
    run.say(f"transfer matrix: {spec.transfer_recipe} over {', '.join(run.directories)}")
    transfer_matrix(
        list(run.directories.values()),
        spec.transfer_recipe,
        run.dataset,
        run.store,
        options=spec.shared_options,
        split=spec.split,
        n=spec.transfer_n if spec.transfer_n is not None else spec.n,
        seed=spec.seed,
        mlm=spec.mlm,
        progress=run.progress,
        executor=run.executor,
    )


def run_defenses(run: BenchmarkRun) -> None:
    """Each ``[[defenses]]`` entry made (or reused) and judged against its base under one protocol."""
    for defense in run.spec.defenses:
        _defense(run, defense)


def _defense(run: BenchmarkRun, defense: DefenseSpec) -> None:
    from textrobust.defenses.defend import defend, defense_of
    from textrobust.defenses.evaluate import evaluate_defense
    from textrobust.defenses.settings import DefenseRun
    from textrobust.defenses.spec import defense_from_mapping

    spec = run.spec
    base = run.directories[defense.victim]
    out = spec.folder / defense.name
    shared = spec.shared_options.to_json(with_budget=True)
    if (out / "config.json").exists() and not run.retrain:
        record = defense_of(out)
    else:
        how = DefenseRun(
            seed=spec.seed, mlm=spec.mlm, progress=run.progress, executor=run.executor, attack_options=shared
        )
        method, settings, how = defense_from_mapping(defense.method, defense.table, how)
        run.say(f"defending {defense.victim} with {defense.method}")
        record = defend(base, run.dataset, out, method, settings, how, notify=run.say).record()
    evaluate_defense(
        out,
        base,
        run.dataset,
        recipes=list(defense.recipes) if defense.recipes is not None else spec.recipes,
        n=defense.n if defense.n is not None else spec.n,
        seed=spec.seed,
        store=run.store,
        mlm=spec.mlm,
        budget_protocol=defense.budget_protocol,
        progress=run.progress,
        executor=run.executor,
        defense=record,
        attack_options=shared,
    )


def write_reports(spec: BenchmarkSpec, store: Store, dataset: Dataset) -> tuple[Path, Any]:
    """The report from the store: HTML (with plots), markdown and JSON beside it."""
    from textrobust.leaderboard.publish import write_report
    from textrobust.leaderboard.report import build_report

    report = build_report(store, dataset.name)
    html = spec.folder / spec.report
    write_report(report, "html", html)
    write_report(report, "md", html.with_suffix(".md"))
    write_report(report, "json", html.with_suffix(".json"))
    return html, report


def run_benchmark(
    spec: BenchmarkSpec,
    *,
    retrain: bool = False,
    progress: bool = True,
    say: Say = _quiet,
    on_victims: Callable[[list[dict[str, Any]]], None] | None = None,
) -> BenchmarkOutcome:
    """Do everything ``spec`` lists, reusing what is finished. ``say`` receives one-line notes of what
    starts; ``on_victims`` the victims' rows as soon as they are ready (before the long attacks)."""
    from textrobust.data import load_dataset

    dataset = load_dataset(spec.dataset)
    dataset.split(spec.split)
    executor = spec.executor.build()
    given = resolve_given_victims(spec)
    spec.folder.mkdir(parents=True, exist_ok=True)
    directories, rows = train_victims(spec, dataset, retrain=retrain, say=say, given=given)
    if on_victims is not None:
        on_victims(rows)
    with Store(spec.folder / "textrobust.sqlite") as store:
        run = BenchmarkRun(spec, dataset, directories, store, executor, retrain, progress, say)
        run_ids = run_attacks(run)
        export_ratings(run, run_ids)
        run_transfer(run)
        run_defenses(run)
        html, report = write_reports(spec, store, dataset)
    return BenchmarkOutcome(html, report, rows)
