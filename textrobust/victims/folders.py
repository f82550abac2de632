"""The folders a saved victim is read from: what a folder written from it (a quantized variant, a defended
victim) must stay apart from (``textrobust.files.check_apart``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textrobust.errors import VictimError
from textrobust.files import check_apart
from textrobust.victims.base import CONFIG_FILE, find_base

# A chain of wrappers deeper than this is a loop in damaged configs, not a real victim.
MAX_WRAPPER_DEPTH = 16


def victim_folders(directory: str | Path) -> dict[str, Path]:
    """The saved victim in ``directory`` and every victim it wraps (a wrapper's base, that base's base…),
    by what an error calls them. A base that is gone or unreadable ends the chain: loading the victim
    reports that, not this."""
    folders: dict[str, Path] = {}
    current = Path(directory)
    for depth in range(MAX_WRAPPER_DEPTH):
        if not current.is_dir() or current.resolve() in {p.resolve() for p in folders.values()}:
            break
        what = (
            "the victim's folder" if depth == 0 else "the victim's base" + " base" * (depth - 1) + " folder"
        )
        folders[what] = current
        try:
            config: Any = json.loads((current / CONFIG_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            break
        if not isinstance(config, dict) or "base" not in config:
            break
        try:
            current = find_base(current, config, "wrapped", check=False)
        except VictimError:
            break
    return folders


def check_output_apart(out: str | Path, victim_directory: str | Path) -> None:
    """A ``ParameterError`` for ``out`` when it is, contains or is inside the folder of the saved victim in
    ``victim_directory`` or of a victim it wraps: written there, an output would overwrite its own input."""
    check_apart(out, victim_folders(victim_directory))
