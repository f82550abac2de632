"""Executors by name (``--executor``): this machine's processes or Ray actors, and any a third party
registers in the ``textrobust.executors`` entry-point group (a function ``(workers, **options) ->
Executor``). ``make_executor`` checks everything before any work; Ray is imported only when chosen."""

from __future__ import annotations

from typing import Any

from textrobust.errors import ParameterError, require_at_least
from textrobust.registry import Registry
from textrobust.runs.executor import Executor, InProcessExecutor, ProcessPoolExecutor

EXECUTORS: Registry[Any] = Registry(
    "executor",
    {"local": "textrobust.runs.executors:local_executor", "ray": "textrobust.runs.executors:ray_executor"},
    group="textrobust.executors",
)


def local_executor(workers: int | None, **options: Any) -> Executor:
    """In-process for one worker (or ``None``), a local process pool for more."""
    given = sorted(name for name, value in options.items() if value is not None)
    if given:
        raise ParameterError(given[0], "applies only to the Ray executor")
    return InProcessExecutor() if workers is None or workers <= 1 else ProcessPoolExecutor(workers)


def ray_executor(
    workers: int | None, *, ray_address: str | None = None, gpus_per_worker: float | None = None
) -> Executor:
    """Ray actors (``workers=None``: as many as the cluster has room for), on a new local instance or the
    cluster at ``ray_address``."""
    from textrobust.runs.ray_executor import RayExecutor, check_ray_reachable, import_ray

    check_ray_reachable(ray_address)  # an address where nothing answers: one line now, whether Ray is here
    import_ray()  # not installed: say how to install it now, not when the run starts
    return RayExecutor(workers, address=ray_address, gpus_per_worker=gpus_per_worker)


def make_executor(workers: int | None = 1, *, kind: str = "local", **options: Any) -> Executor:
    """The executor registered as ``kind`` for ``workers`` (options: ``ray_address``, ``gpus_per_worker``
    for Ray)."""
    require_at_least("workers", workers, 1)
    if kind not in EXECUTORS:
        raise ParameterError("executor", f"must be one of {', '.join(EXECUTORS.names())}, got '{kind}'")
    return EXECUTORS.get(kind)(workers, **options)
