"""A rich progress bar on stderr for long builds, as a ``(stage, fraction)`` callback."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def stage_progress(title: str, enabled: bool = True) -> Iterator[Callable[[str, float], None] | None]:
    """Yields a callback that shows each stage with its completed fraction; None when disabled."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn(f"{title}: [bold]{{task.description}}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        tasks: dict[str, int] = {}

        def update(stage: str, fraction: float) -> None:
            if stage not in tasks:
                for other in tasks.values():
                    progress.update(other, completed=100)
                tasks[stage] = progress.add_task(stage, total=100)
            progress.update(tasks[stage], completed=round(100 * fraction))

        yield update
