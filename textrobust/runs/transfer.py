"""Transfer runs: a run's successful adversarial texts replayed on other victims.

For every target, the original and the adversarial text of each successful example are scored in batches
and stored as one row per (example, target), committed batch by batch: a killed transfer resumes where it
stopped, and a finished one is never repeated. Scores are computed from these rows by the leaderboard.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textrobust import __version__
from textrobust.attacks.options import AttackOptions
from textrobust.data import Dataset
from textrobust.errors import ParameterError, require_at_least
from textrobust.progress import progress_bar
from textrobust.runs.executor import Executor
from textrobust.runs.jobs import attack_victim
from textrobust.store import Store, TransferRecord, TransferRow, VictimInfo
from textrobust.victims import victim_label_ids
from textrobust.victims.resolve import VictimRef, resolve_victim


def transfer_run(
    store: Store,
    run_id: int,
    targets: Sequence[str | Path | VictimRef],
    *,
    batch_size: int = 64,
    progress: bool = True,
) -> list[TransferRecord]:
    """Replay the successful adversarial texts of run ``run_id`` on each target victim."""
    require_at_least("batch_size", batch_size, 1)
    if not targets:
        raise ParameterError("targets", "name at least one target victim")
    run = store.run(run_id)
    refs = [resolve_victim(target) for target in targets]  # every victim checked before any work
    source_labels = list(run.parameters.dataset.label_names)
    for ref in refs:
        if ref.digest == run.parameters.victim.fingerprint:
            # Its texts were made to fool this very victim: replaying them measures nothing (100 % by
            # construction) and would read as perfect transfer.
            raise ParameterError(
                "targets", f"{ref.location} is run {run_id}'s own victim (the same fingerprint); a transfer "
                "replays a run's adversarial texts on other victims"
            )  # fmt: skip
        victim_label_ids(list(ref.labels or ()), source_labels, [])
        if ref.language is not None and ref.language != run.parameters.dataset.language:
            raise ParameterError(
                "targets", f"{ref.location} is a '{ref.language}' victim; the run's texts are "
                f"'{run.parameters.dataset.language}'"
            )  # fmt: skip
    successes = [
        (i, r) for i, r in store.iter_results(run_id) if r.status == "success" and r.adversarial_text
    ]
    records = []
    for ref in refs:
        info = VictimInfo.from_ref(ref)
        record = store.start_transfer(run_id, info, __version__)
        if record.status == "finished":
            records.append(record)
            continue
        if record.status != "running":
            store.set_transfer_status(record.id, "running")
        done = {row.example_index for row in store.transfer_rows(record.id)}
        todo = [(i, r) for i, r in successes if i not in done]
        target_labels = list(ref.labels or ())
        try:
            if todo:
                victim = ref.load()
                with progress_bar(enabled=progress, transient=True) as bar:
                    task = bar.add_task(f"transfer run {run_id} → {ref.path.name}", total=len(todo))
                    for start in range(0, len(todo), batch_size):
                        chunk = todo[start : start + batch_size]
                        originals = victim.predict_proba([r.original_text for _i, r in chunk])
                        adversarial = victim.predict_proba([r.adversarial_text or "" for _i, r in chunk])
                        gold = victim_label_ids(target_labels, source_labels, [r.label for _i, r in chunk])
                        store.add_transfer_rows(
                            record.id,
                            [
                                TransferRow(
                                    i,
                                    label,
                                    int(o.argmax()),
                                    int(a.argmax()),
                                    tuple(float(p) for p in o),
                                    tuple(float(p) for p in a),
                                )  # fmt: skip
                                for (i, _r), label, o, a in zip(
                                    chunk, gold, originals, adversarial, strict=True
                                )
                            ],
                        )
                        bar.update(task, advance=len(chunk))
        except BaseException:
            store.set_transfer_status(record.id, "interrupted")
            raise
        store.set_transfer_status(record.id, "finished")
        records.append(store.transfer(record.id))
    return records


@dataclass(frozen=True)
class TransferMatrix:
    """The runs attacking each source victim, and the transfers of each to every other victim."""

    victims: list[str]
    runs: dict[str, int]  # source victim folder -> its run id
    transfers: dict[tuple[str, str], int]  # (source, target) -> transfer id


def transfer_matrix(
    victims: Sequence[str | Path | VictimRef],
    recipe: str,
    dataset: Dataset,
    store: Store,
    *,
    options: AttackOptions | None = None,
    split: str = "test",
    n: int | None = 200,
    seed: int = 0,
    mlm: str | None = None,
    resources: Mapping[str, Any] | None = None,
    workers: int = 1,
    progress: bool = True,
    notify: Callable[[str], None] | None = None,
    executor: Executor | None = None,
) -> TransferMatrix:
    """Attack every victim with ``recipe`` (a finished run with the same parameters is reused), then replay
    each run's adversarial texts on every other victim."""
    if len(victims) < 2:
        raise ParameterError("victims", "a transfer matrix needs at least two victims")
    resolved = [resolve_victim(victim) for victim in victims]  # every victim checked before any work
    names = [v.location if isinstance(v, VictimRef) else str(v) for v in victims]  # as the caller named them
    seen: dict[str, str] = {}
    for name, ref in zip(names, resolved, strict=True):
        if ref.digest in seen:  # its transfers onto itself would be refused after every attack had run
            first = seen[ref.digest]
            same = "is named twice" if name == first else f"is the same victim as {first}"
            raise ParameterError(
                "victims", f"{name} {same} (the same fingerprint); a matrix names each victim once"
            )  # fmt: skip
        seen[ref.digest] = name
    refs = dict(zip(names, resolved, strict=True))
    runs: dict[str, int] = {}
    for victim in names:
        outcome = attack_victim(
            refs[victim], recipe, options=options, dataset=dataset, split=split, n=n, seed=seed, mlm=mlm,
            resources=resources, store=store, workers=workers, resume=True, progress=progress,
            notify=notify, executor=executor,
        )  # fmt: skip
        runs[victim] = outcome.run.id
    transfers: dict[tuple[str, str], int] = {}
    for source in names:
        targets = [t for t in names if t != source]
        for target, record in zip(
            targets,
            transfer_run(store, runs[source], [refs[t] for t in targets], progress=progress),
            strict=True,
        ):
            transfers[(source, target)] = record.id
    return TransferMatrix(names, runs, transfers)
