"""What a user says about an HTTP victim besides its URL: how many requests at once, how long to wait, how
often to retry, what it may spend, where its API key is and where its answers are cached."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from textrobust.errors import require_at_least


def _option(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class RemoteOptions:
    """Settings of HTTP victims (``http://…``, ``openai:…``); their flags and config keys come from the
    fields."""

    concurrency: int = _option(4, "HTTP victims: requests in flight at once (default: 4)")
    request_batch: int = _option(
        32, "HTTP victims: texts per request where the endpoint takes batches (default: 32)"
    )
    timeout: float = _option(60.0, "HTTP victims: seconds to wait for one answer (default: 60)")
    retries: int = _option(
        5, "HTTP victims: retries of a failed request (429/5xx/timeouts), with backoff (default: 5)"
    )
    max_requests: int | None = _option(
        None, "HTTP victims: stop the run cleanly (resumable) after this many requests"
    )
    max_tokens: int | None = _option(
        None, "HTTP victims: stop the run cleanly (resumable) after this many tokens in and out"
    )
    api_key_env: str | None = _option(
        None, "HTTP victims: the environment variable holding the API key (never stored or logged)"
    )
    request_cache: str | None = _option(
        None, "HTTP victims: SQLite file of cached answers, or 'off' (default: in the textrobust cache)"
    )

    def __post_init__(self) -> None:
        require_at_least("concurrency", self.concurrency, 1)
        require_at_least("request_batch", self.request_batch, 1)
        require_at_least("timeout", self.timeout, 0.001)
        require_at_least("retries", self.retries, 0)
        require_at_least("max_requests", self.max_requests, 1)
        require_at_least("max_tokens", self.max_tokens, 1)

    @classmethod
    def fields(cls) -> list[Any]:
        from textrobust.fields import setting_fields

        return setting_fields(cls)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> RemoteOptions:
        from textrobust.fields import dataclass_from_mapping

        return dataclass_from_mapping(cls, mapping, "the HTTP victim options")
