"""Loading from Hugging Face: quiet logs and progress bars, and one-line errors."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' load reports and progress bars ("Loading weights", "Writing model shards")
    inside the block; we say what matters ourselves."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def first_line(exc: BaseException, limit: int = 200) -> str:
    """An exception's message on one line (or its type), for one-line errors: its first line, with the
    next one when the first only announces details ("Error(s) in loading state_dict for X:"), at most
    ``limit`` characters (a cut is marked with "…")."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    text, rest = lines[0], lines[1:]
    if text.endswith(":") and rest:
        text = f"{text} {rest[0]}" + (f" (and {len(rest) - 1} more)" if len(rest) > 1 else "")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def offline_hint(exc: BaseException, hint: str) -> str:
    """``hint`` when the error looks like a missing Hub connection, else an empty string."""
    offline = os.environ.get("HF_HUB_OFFLINE") == "1" or "offline" in str(exc).lower()
    return hint if offline else ""
