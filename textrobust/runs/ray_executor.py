"""The Ray executor: shards of examples attacked by Ray actors, on this machine or on a Ray cluster.

Each actor builds its victim and attack once from the run's :class:`WorkerSpec` (put in Ray's object
store once per run, not pickled with every shard) and then takes shards; each example's result streams
back to the driver the moment it is done (a Ray streaming generator), and only the driver writes the
store. A worker that dies (its process killed, its node lost) is replaced and the examples of its shard
that had not come back are attacked again elsewhere; results that did come back are never repeated.

Ray is an extra (``pip install "textrobust[distributed]"``), imported only when this executor runs.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import tarfile
import tempfile
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from textrobust.errors import BudgetExhausted, ParameterError, TextrobustError, require_at_least
from textrobust.hub import quiet_loggers
from textrobust.runs.executor import ExampleResult, Shard, Worker, WorkerSpec
from textrobust.victims.resolve import VictimRef

INSTALL_HINT = 'the Ray executor needs Ray: pip install "textrobust[distributed]"'
# How often one shard may lose its worker before the run stops: a shard that kills every worker it meets
# (a text that exhausts memory, say) is an error to report, not to retry forever.
DEFAULT_MAX_RETRIES = 3
# How long a cluster's address may take to accept a TCP connection: a head node answers in milliseconds,
# and Ray itself would retry an address where nothing listens for minutes, logging every try.
RAY_CONNECT_TIMEOUT = 3.0


def import_ray() -> Any:
    """The ``ray`` module, or a one-line error saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise TextrobustError(INSTALL_HINT) from exc
    return ray


def check_ray_address(address: str | None) -> None:
    """``None`` (a local instance), ``auto`` (the cluster this machine belongs to), ``ray://HOST:PORT`` or
    ``HOST:PORT``."""
    if address is None or address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ParameterError("ray_address", f"must be 'auto' or HOST:PORT, got '{address}'")


def check_ray_reachable(address: str | None, timeout: float = RAY_CONNECT_TIMEOUT) -> None:
    """A ``ParameterError`` naming ``address`` unless something accepts a TCP connection at its HOST:PORT
    within ``timeout`` seconds: checked before Ray is imported or started. ``None`` and ``auto`` (found
    by Ray itself) are not checked."""
    check_ray_address(address)
    if address is None or address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
        raise ParameterError(
            "ray_address",
            f"{address}: no Ray cluster answers there within {timeout:g} s ({reason}); start one (ray start "
            "--head) or give the address its head node printed",
        ) from None


@dataclass(frozen=True)
class ShippedVictim:
    """A saved victim folder carried as bytes (through Ray's object store) and unpacked by the worker
    that loads it: for clusters whose nodes do not share a file system."""

    archive: bytes
    victim: VictimRef

    @classmethod
    def pack(cls, victim: VictimRef) -> ShippedVictim:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            tar.add(victim.path, arcname=victim.path.name)
        return cls(buffer.getvalue(), victim)

    def __call__(self) -> Any:
        # A loaded victim holds its weights and vocabulary in memory: the unpacked folder goes right after.
        with tempfile.TemporaryDirectory(prefix="textrobust-victim-") as folder:
            with tarfile.open(fileobj=io.BytesIO(self.archive), mode="r") as tar:
                safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python ≥ 3.11.4
                tar.extractall(folder, **safe)
            unpacked = replace(self.victim, location=str(Path(folder) / self.victim.path.name))
            return unpacked.load()


class _RayWorker:
    """The body of a Ray actor: one :class:`Worker`, shards attacked one after another."""

    def __init__(self, spec: WorkerSpec, threads: int) -> None:
        # A worker that cannot be built keeps its error for every call to raise: the driver then sees the
        # real error (a missing resource, say), not a dead actor.
        self.error: Exception | None = None
        self.worker: Worker | None = None
        try:
            self.worker = Worker(spec)
        except Exception as exc:
            self.error = exc
            return
        import torch

        torch.set_num_threads(max(1, threads))

    def pid(self) -> int:
        if self.error is not None:
            raise self.error
        return os.getpid()

    def attack_shard(self, shard: Shard) -> Iterator[ExampleResult]:
        if self.error is not None:
            raise self.error
        assert self.worker is not None
        yield from self.worker.attack_shard(shard)


@dataclass
class _InFlight:
    actor: Any
    shard: Shard
    done: set[int]


class RayExecutor:
    """Attacks shards with ``workers`` Ray actors.

    ``address``: ``None`` starts a local Ray instance sized to this machine (or uses the one this process
    already started), ``auto`` or ``HOST:PORT`` joins an existing cluster. ``gpus_per_worker``: GPUs each
    worker of a GPU victim (a transformer) asks for, fractions allowed so that several workers share one;
    ``None`` asks for one GPU per worker when the cluster has GPUs and none otherwise. Word victims always
    run on CPU workers. ``cpus_per_worker``: CPU cores each worker asks for (its torch threads).
    ``ship_victims``: carry saved victim folders through the object store (default: when joining a
    cluster, whose nodes may not share this file system). ``max_retries``: how often one shard may lose
    its worker before the run stops with an error.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        address: str | None = None,
        gpus_per_worker: float | None = None,
        cpus_per_worker: float = 1.0,
        ship_victims: bool | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        require_at_least("workers", workers, 1)
        require_at_least("gpus_per_worker", gpus_per_worker, 0)
        require_at_least("max_retries", max_retries, 0)
        if cpus_per_worker <= 0:
            raise ParameterError("cpus_per_worker", f"must be > 0, got {cpus_per_worker}")
        check_ray_address(address)
        self.workers = workers
        self.address = address
        self.gpus_per_worker = gpus_per_worker
        self.cpus_per_worker = cpus_per_worker
        self.ship_victims = address is not None if ship_victims is None else ship_victims
        self.max_retries = max_retries
        self._actors: list[Any] = []
        self._pids: dict[Any, int] = {}

    # -- the cluster ---------------------------------------------------------------------------------
    def connect(self) -> Any:
        """Ray, initialised: the instance this process already has, else the one ``address`` names, else a
        new local one."""
        ray = import_ray()
        if not ray.is_initialized():
            options: dict[str, Any] = {
                "include_dashboard": False,
                "logging_level": logging.WARNING,
                "log_to_driver": False,  # worker output would break through the progress bar
                "configure_logging": False,
            }
            if self.address is not None:
                check_ray_reachable(self.address)  # seconds, not Ray's minutes of retries
                ray.init(address=self.address, **options)
            else:
                # A new local instance gets a token (Ray's default) and Ray says so on every run: a notice
                # that would break through the progress bar, kept quiet.
                with quiet_loggers("ray._private.authentication.authentication_token_setup"):
                    ray.init(**options)
        return ray

    def worker_count(self, ray: Any, spec: WorkerSpec) -> int:
        """The workers asked for, or as many as the cluster has room for."""
        if self.workers is not None:
            return self.workers
        resources = ray.cluster_resources()
        gpus = self._gpus(ray, spec)
        if gpus > 0:
            return max(1, int(resources.get("GPU", 0) / gpus))
        return max(1, int(resources.get("CPU", 1) / self.cpus_per_worker))

    def _gpus(self, ray: Any, spec: WorkerSpec) -> float:
        if not spec.gpu:
            return 0.0
        if self.gpus_per_worker is not None:
            return self.gpus_per_worker
        return 1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0

    def worker_pids(self) -> list[int]:
        """Process ids of the workers the current run started with that are still in it (replacements
        are not listed: asking a new worker would wait for it to load)."""
        return [self._pids[actor] for actor in self._actors if actor in self._pids]

    # -- a run ---------------------------------------------------------------------------------------
    def run(self, spec: WorkerSpec, shards: Sequence[Shard]) -> Iterator[ExampleResult]:
        if not shards:
            return
        ray = self.connect()
        if self.ship_victims:
            spec = _shipped(spec)
        actor_class = ray.remote(_RayWorker).options(
            num_cpus=self.cpus_per_worker,
            num_gpus=self._gpus(ray, spec),
            max_restarts=0,  # a dead worker is replaced here, where its unfinished examples are known
        )
        spec_ref = ray.put(spec)
        threads = int(self.cpus_per_worker)
        queue: deque[tuple[Shard, int]] = deque((shard, 0) for shard in shards)
        running: dict[Any, _InFlight] = {}
        idle: list[Any] = []
        self._actors = []
        self._pids = {}

        def start_actor() -> None:
            actor = actor_class.remote(spec_ref, threads)
            self._actors.append(actor)
            idle.append(actor)

        def retire(actor: Any) -> None:
            self._actors.remove(actor)
            self._pids.pop(actor, None)
            ray.kill(actor, no_restart=True)

        try:
            for _ in range(min(self.worker_count(ray, spec), len(shards))):
                start_actor()
            try:
                pids = ray.get([actor.pid.remote() for actor in self._actors])
            except ray.exceptions.RayTaskError as exc:  # a worker could not build its victim or attack
                raise _cause(exc) from None
            self._pids.update(zip(self._actors, pids, strict=True))
            attempts: dict[Shard, int] = {}
            # A victim's spent budget stops the run cleanly: no new shard starts, the shards running go on
            # until they finish or their own budget is spent, every result that comes back is kept.
            stop: BudgetExhausted | None = None
            while (queue and stop is None) or running:
                while queue and idle and stop is None:
                    shard, attempt = queue.popleft()
                    actor = idle.pop()
                    stream = actor.attack_shard.options(num_returns="streaming").remote(shard)
                    running[stream] = _InFlight(actor, shard, set())
                    attempts[shard] = attempt
                ready, _ = ray.wait(list(running), num_returns=1)
                for stream in ready:
                    flight = running[stream]
                    try:
                        index, result = ray.get(next(stream))
                    except StopIteration:  # the shard is done: its worker takes the next one
                        del running[stream]
                        idle.append(flight.actor)
                        continue
                    except ray.exceptions.RayTaskError as exc:  # the attack raised: the run stops
                        cause = _cause(exc)
                        if not isinstance(cause, BudgetExhausted):
                            raise cause from None
                        del running[stream]
                        stop = stop or cause
                        continue
                    except ray.exceptions.RayActorError:  # the worker died: replace it, retry the rest
                        del running[stream]
                        if stop is not None:  # stopping: its examples wait for the resumed run
                            continue
                        retire(flight.actor)
                        attempt = attempts[flight.shard] + 1
                        rest = _remaining(flight.shard, flight.done)
                        if attempt > self.max_retries:
                            shown = ", ".join(map(str, rest.indices[:5])) + (", …" if len(rest) > 5 else "")
                            raise TextrobustError(
                                f"a worker died {attempt} times attacking examples {shown}; "
                                "stopped (finished results are stored)"
                            ) from None
                        if len(rest):
                            queue.appendleft((rest, attempt))
                        start_actor()
                        continue
                    flight.done.add(index)
                    yield index, result
            if stop is not None:
                raise stop
        finally:
            for actor in self._actors:
                ray.kill(actor, no_restart=True)
            self._actors = []
            self._pids = {}


def _remaining(shard: Shard, done: set[int]) -> Shard:
    keep = [i for i, index in enumerate(shard.indices) if index not in done]
    return Shard(
        tuple(shard.indices[i] for i in keep),
        tuple(shard.texts[i] for i in keep),
        tuple(shard.labels[i] for i in keep),
    )


def _cause(error: Any) -> BaseException:
    """The exception a worker raised, as it was (a one-line ``TextrobustError`` stays one)."""
    cause = getattr(error, "cause", None)
    return cause if isinstance(cause, BaseException) else error


def _shipped(spec: WorkerSpec) -> WorkerSpec:
    """The spec with its saved victim folder carried as bytes (other victims are left as they are)."""
    if isinstance(spec.load_victim, VictimRef):
        return replace(spec, load_victim=ShippedVictim.pack(spec.load_victim))
    return spec
