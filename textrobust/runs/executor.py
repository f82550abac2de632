"""Executors: who attacks a shard of examples — this process, a local process pool, or Ray actors.

The unit of work is a :class:`Shard` (example indices with their texts and labels) and the result is a
stream of ``(example index, AttackResult)``. A worker rebuilds its victim and attack from a picklable
:class:`WorkerSpec`, so an executor only moves specs, shards and results around; it never touches the
attacks or the store. The Ray executor (``runs/ray_executor.py``) runs the same ``Worker`` in Ray actors.

What a victim that costs (``usage()``: an HTTP endpoint, an LLM) spent travels with the results, so it
comes back from any process: each result carries in ``AttackResult.usage`` what the worker's victim spent
since the worker's previous result, and an exception raised while attacking carries what was spent since
then too (``spent_before``), so a run that stops still records every request it made.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from textrobust.attacks.requests import Steps, run_together
from textrobust.attacks.result import Attack, AttackResult
from textrobust.errors import DataError, require_at_least
from textrobust.victims.protocols import Classifier
from textrobust.victims.usage import Usage

ExampleResult = tuple[int, AttackResult]
# Examples a worker attacks side by side by default from the CLI. benchmarks/attack_overhead.py, textfooler
# on MR, 2 CPU cores: against BERT, 16 took 11.9 s where 1 took 15.0 s and 4 took 13.1 s (20 examples);
# against WordCNN 1-64 were within noise (3.5-3.9 s for 40). The results are the same for any value.
DEFAULT_BATCH_EXAMPLES = 16


@dataclass(frozen=True)
class WorkerSpec:
    """How a worker builds its victim and its attack, and the run's seed; picklable for other processes.

    ``load_victim`` and ``build_attack`` are zero-argument callables (module-level classes or
    ``functools.partial`` of module-level functions, so that they pickle).
    """

    load_victim: Callable[[], Classifier]
    build_attack: Callable[[], Attack]
    seed: int = 0
    # Examples attacked side by side, their model calls pooled into shared batches (1: one at a time).
    batch_examples: int = 1
    # The victim runs faster on a GPU (a transformer): executors that place workers give it one.
    gpu: bool = False


# The attribute of an exception raised while attacking that holds what the victim spent since the worker's
# previous result (a plain attribute: it survives pickling to the process that reads it).
_SPENT = "textrobust_spent"


def spent_before(error: BaseException) -> Usage | None:
    """What the victim spent between the worker's last result and ``error`` (None when it counts nothing)."""
    spent = getattr(error, _SPENT, None)
    return spent if isinstance(spent, Usage) else None


def victim_usage(victim: object) -> Usage | None:
    """The victim's counters now (``usage()``), or None for a victim that counts nothing."""
    usage = getattr(victim, "usage", None)
    if not callable(usage):
        return None
    counted = usage()
    return counted if isinstance(counted, Usage) else None


@dataclass(frozen=True)
class Shard:
    """Examples to attack together: their indices in the split, texts and labels."""

    indices: tuple[int, ...]
    texts: tuple[str, ...]
    labels: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.indices)


def make_shards(
    indices: Sequence[int], texts: Sequence[str], labels: Sequence[int], size: int
) -> list[Shard]:
    """Consecutive shards of at most ``size`` of the given example indices."""
    require_at_least("shard_size", size, 1)
    shards = []
    for start in range(0, len(indices), size):
        chunk = indices[start : start + size]
        shards.append(Shard(tuple(chunk), tuple(texts[i] for i in chunk), tuple(labels[i] for i in chunk)))
    return shards


@contextlib.contextmanager
def attack_threads(victim: object) -> Iterator[None]:
    """Torch's intra-op threads as the victim asks for during an attack (``attack_threads``), restored
    after: the process keeps its own setting for everything else."""
    threads = getattr(victim, "attack_threads", None)
    torch = sys.modules.get("torch")
    if threads is None or torch is None or threads >= torch.get_num_threads():
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class Worker:
    """Attacks examples with one victim and one attack, both built once from a :class:`WorkerSpec`."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.victim = spec.load_victim()
        self.attack = spec.build_attack()
        self._precision_chosen = False
        self._counted = victim_usage(self.victim)  # the victim's counters at the worker's previous result

    def _spent(self) -> Usage | None:
        """What the victim spent since the previous call (None for a victim that counts nothing)."""
        now = victim_usage(self.victim)
        if now is None or self._counted is None:
            return None
        spent, self._counted = now - self._counted, now
        return spent

    def attack_example(self, index: int, text: str, label: int) -> AttackResult:
        """Attack one example (the attack decides whether it is skipped and counts its queries); ``seconds``
        is measured here, the original prediction included.

        Python's, NumPy's and torch's global generators are left alone: an attack draws from its own
        generators, seeded from the run seed and the example (see ``textrobust.seeding``), so results do not
        depend on what ran before, and attacking examples between training steps (co-tuning) leaves the
        training's dropout and shuffling draws as they were."""
        self._check_label(index, label)
        start = time.perf_counter()
        with attack_threads(self.victim):
            result = self.attack.attack(text, label, self.victim)
        result.seconds = time.perf_counter() - start
        return result

    def _choose_precision(self, texts: Sequence[str]) -> None:
        """On CUDA, the victim and the attack's masked LM run in reduced precision where it keeps their
        outputs (checked once on the first shard's texts); on the CPU everything stays float32."""
        if self._precision_chosen:
            return
        self._precision_chosen = True
        device = getattr(self.victim, "device", None)
        if getattr(device, "type", "cpu") == "cuda" and hasattr(self.victim, "use_precision"):
            self.victim.use_precision("auto", list(texts[:32]))
        mlm = getattr(getattr(self.attack, "candidates", None), "mlm", None)
        if getattr(getattr(mlm, "device", None), "type", "cpu") == "cuda":
            from textrobust.data.text import segment_text

            mlm.use_precision("auto", [segment_text(t) for t in texts[:16]])

    def _check_label(self, index: int, label: int) -> None:
        n_labels = len(self.victim.labels)
        if not 0 <= label < n_labels:
            raise DataError(f"example {index} has label {label} but the victim has {n_labels} labels")

    def _example_steps(self, index: int, text: str, label: int) -> Steps[AttackResult]:
        start = time.perf_counter()
        result = yield from self.attack.attack_steps(text, label, self.victim)  # type: ignore[attr-defined]
        result.seconds = time.perf_counter() - start
        return result

    def attack_shard(self, shard: Shard) -> Iterator[ExampleResult]:
        """Each example's result as soon as it is done: one at a time, or ``batch_examples`` side by side
        with their model calls pooled (in finishing order; the same results either way).

        Each result carries what the victim spent since the previous one (``usage``: exactly its own when
        examples are attacked one at a time); an exception carries what was spent since the last result
        (``spent_before``)."""
        try:
            for index, result in self._attack_shard(shard):
                result.usage = self._spent()
                yield index, result
        except BaseException as error:  # an exhausted budget, a failing endpoint, Ctrl-C: spent is spent
            spent = self._spent()
            if spent is not None:
                earlier = spent_before(error)
                setattr(error, _SPENT, spent if earlier is None else earlier + spent)
            raise

    def _attack_shard(self, shard: Shard) -> Iterator[ExampleResult]:
        examples = list(zip(shard.indices, shard.texts, shard.labels, strict=True))
        self._choose_precision(shard.texts)
        size = self.spec.batch_examples
        if size <= 1 or not hasattr(self.attack, "attack_steps"):
            for index, text, label in examples:
                yield index, self.attack_example(index, text, label)
            return
        for start in range(0, len(examples), size):
            group = examples[start : start + size]
            for index, _text, label in group:
                self._check_label(index, label)
            with attack_threads(self.victim):
                steps = [self._example_steps(index, text, label) for index, text, label in group]
                for position, result in run_together(steps):
                    yield group[position][0], result


class Executor(Protocol):
    """Runs shards and yields each example's result as soon as it has it (in any order)."""

    def run(self, spec: WorkerSpec, shards: Sequence[Shard]) -> Iterator[ExampleResult]: ...


class InProcessExecutor:
    """Attacks every shard in this process, yielding after each example."""

    def run(self, spec: WorkerSpec, shards: Sequence[Shard]) -> Iterator[ExampleResult]:
        if not shards:
            return
        worker = Worker(spec)
        for shard in shards:
            yield from worker.attack_shard(shard)


# One worker per pool process, built by the pool initializer; module-level because that is how a process
# pool hands state to its tasks (it exists only inside pool processes). A worker that cannot be built
# keeps its error, which every task re-raises: the parent sees the real error (say, a missing
# resource), not a broken pool.
_POOL_WORKER: Worker | None = None
_POOL_ERROR: Exception | None = None


def _exit_with_parent(interval: float = 1.0) -> None:
    """End this worker process as soon as its parent is gone (killed with -9, say), instead of attacking
    on as an orphan: a daemon thread watches the parent's process id."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _init_pool_worker(spec: WorkerSpec, threads: int) -> None:
    global _POOL_WORKER, _POOL_ERROR
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to report, once
    _exit_with_parent()
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))  # before torch is imported by the victim
    os.environ.setdefault("MKL_NUM_THREADS", str(threads))
    try:
        _POOL_WORKER = Worker(spec)
    except Exception as exc:  # re-raised by every task of this process
        _POOL_ERROR = exc
        return
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


def _attack_shard_in_pool(shard: Shard) -> tuple[list[ExampleResult], Exception | None]:
    """The shard's results, and the exception that stopped it (with the results finished before it, which
    the parent stores: a budget spent in one example loses no other)."""
    if _POOL_ERROR is not None:
        raise _POOL_ERROR
    assert _POOL_WORKER is not None, "pool worker not initialised"
    results: list[ExampleResult] = []
    try:
        for item in _POOL_WORKER.attack_shard(shard):
            results.append(item)
    except Exception as error:
        return results, error
    return results, None


class ProcessPoolExecutor:
    """Attacks shards in ``workers`` local processes; each builds its own victim and attack once.

    Processes are started with ``spawn`` (safe with torch's thread pools); each gets an equal share of
    the CPU cores for its intra-op threads unless ``threads_per_worker`` says otherwise.
    """

    def __init__(
        self, workers: int, threads_per_worker: int | None = None, start_method: str = "spawn"
    ) -> None:
        require_at_least("workers", workers, 1)
        self.workers = workers
        self.threads_per_worker = threads_per_worker or max(1, (os.cpu_count() or 1) // workers)
        self.start_method = start_method

    def run(self, spec: WorkerSpec, shards: Sequence[Shard]) -> Iterator[ExampleResult]:
        if not shards:
            return
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=min(self.workers, len(shards)),
            mp_context=multiprocessing.get_context(self.start_method),
            initializer=_init_pool_worker,
            initargs=(spec, self.threads_per_worker),
        )
        stop: Exception | None = None
        try:
            futures = [pool.submit(_attack_shard_in_pool, shard) for shard in shards]
            for future in concurrent.futures.as_completed(futures):
                try:
                    results, error = future.result()
                except concurrent.futures.CancelledError:
                    continue
                except Exception as failed:  # a worker that could not be built: nothing of it to keep
                    results, error = [], failed
                yield from results
                if error is not None and stop is None:
                    # No new shard starts; those running finish (shutting down waits for them anyway) and
                    # their results are kept, then the first error is raised.
                    stop = error
                    for other in futures:
                        other.cancel()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        if stop is not None:
            raise stop
