"""What a victim's answers cost: requests sent, answers from the request cache, tokens in and out, seconds
spent waiting. HTTP and LLM victims count it (``usage()``); runs record, per run, what its attack cost."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Usage:
    """Counters since a victim was made (a snapshot; subtract two to get what happened in between)."""

    requests: int = 0  # requests sent (cache hits not counted)
    cache_hits: int = 0  # answers the request cache gave without a request
    tokens_in: int = 0  # prompt tokens (as the endpoint or the tokenizer counts them)
    tokens_out: int = 0  # generated tokens
    seconds_waiting: float = 0.0  # wall time spent waiting on requests (retries and backoff included)

    def __add__(self, other: Usage) -> Usage:
        return Usage(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def __sub__(self, other: Usage) -> Usage:
        return Usage(**{f.name: getattr(self, f.name) - getattr(other, f.name) for f in fields(self)})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Usage:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in (data or {}).items() if key in known})


@runtime_checkable
class CountsUsage(Protocol):
    """A victim whose answers cost something worth reporting (HTTP endpoints, LLMs)."""

    def usage(self) -> Usage:
        """What this victim has cost since it was made."""
        ...
