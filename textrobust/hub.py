"""Loading from Hugging Face: quiet logs and progress bars, and one-line errors."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' load reports and progress bars ("Loading weights", "Writing model shards")
    inside the block, and torchao's import notices (transformers and peft import torchao, when it is
    installed, on their first model); we say what matters ourselves."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with quiet_torchao():
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


@contextlib.contextmanager
def quiet_loggers(*names: str, level: int = logging.ERROR) -> Iterator[None]:
    """Raise the named loggers to ``level`` inside the block: notices a library logs for its own authors
    (a missing CUDA kernel on a CPU machine, a deprecation) would break through our progress bars."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(max(level, logger.getEffectiveLevel()))
    try:
        yield
    finally:
        for logger, previous in zip(loggers, levels, strict=True):
            logger.setLevel(previous)


def quiet_torchao() -> contextlib.AbstractContextManager[None]:
    """torchao logs, on import, each CUDA kernel library it cannot load on a CPU machine, and torch logs
    a deprecation in torchao's code: notices for their authors, not for a user. Import it (or a library
    that imports it) inside this block; once imported, it is silent."""
    return quiet_loggers("torchao", "torch.utils._pytree")


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
