"""The one progress bar: rich, on stderr (stdout keeps results), with an optional status line."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any


def progress_bar(
    status: str | None = None, *, enabled: bool = True, transient: bool = False, console: Any = None
) -> Any:
    """A ``rich.progress.Progress``: description, bar, done/total, ``status`` (a template over the task's
    fields, e.g. ``"{task.fields[loss]}"``), elapsed and remaining time. Use it as a context manager.

    ``console``: a rich console to share with messages printed meanwhile (default: a new one on stderr).
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns: list[Any] = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn()]
    if status:
        columns.append(TextColumn(status))
    columns += [TimeElapsedColumn(), TimeRemainingColumn()]
    return Progress(
        *columns, console=console or Console(stderr=True), disable=not enabled, transient=transient
    )


@contextlib.contextmanager
def stage_progress(title: str, enabled: bool = True) -> Iterator[Callable[[str, float], None] | None]:
    """For builds made of stages: yields ``update(stage, fraction)``, or None when disabled."""
    if not enabled:
        yield None
        return
    with progress_bar(transient=True) as progress:
        tasks: dict[str, Any] = {}

        def update(stage: str, fraction: float) -> None:
            if stage not in tasks:
                for other in tasks.values():
                    progress.update(other, completed=100)
                tasks[stage] = progress.add_task(f"{title}: {stage} (%)", total=100)
            progress.update(tasks[stage], completed=round(100 * fraction))

        yield update
