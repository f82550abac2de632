"""The one table style for the terminal (rich); markdown and CSV reports use tabulate (``leaderboard``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _cell(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def print_table(rows: Sequence[dict[str, Any]], title: str | None = None) -> None:
    """Rows (dicts with the same keys) as a rich table on stdout; numbers right-aligned."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(120, Console().width))
    if not rows:
        console.print("(no rows)")
        return
    table = Table(title=title)
    for column in rows[0]:
        numeric = isinstance(rows[0][column], int | float)
        table.add_column(str(column), justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(_cell(v) for v in row.values()))
    console.print(table)


def print_pairs(pairs: Sequence[tuple[str, str]], header: tuple[str, str], title: str | None = None) -> None:
    """(label, value) pairs as a two-column rich table."""
    print_table([{header[0]: label, header[1]: value} for label, value in pairs], title)


def diff_texts(original: str, adversarial: str) -> tuple[Any, Any]:
    """The two texts as rich ``Text``: what was replaced in red, what replaced it in green."""
    from rich.text import Text

    from textrobust.data.text import word_diff

    before, after = Text(), Text()
    for same, old, new in word_diff(original, adversarial):
        before.append(old, style=None if same else "bold red")
        after.append(new, style=None if same else "bold green")
    return before, after
