"""How HTTP victims talk to their endpoint: JSON requests with httpx, several in flight, timeouts, retries
with backoff, a persistent cache, budgets and accounting. Every HTTP victim (``http://…``, ``openai:…``) is
built on it.

Interface::

    transport = HttpTransport(endpoint, options, headers=api_key_headers(options),
                              cache=request_cache(options), tokens=count, check=validate)
    transport.post_many(bodies) -> list[dict]   # POST each body (JSON) to the endpoint, answers in order
    transport.get(url) -> dict                  # GET a JSON object (an endpoint's description; not cached)
    transport.usage() -> Usage                  # requests sent, cache hits, tokens in/out, seconds waiting
    api_key_headers(options) -> dict           # Authorization: Bearer $KEY, from options.api_key_env

``post_many`` first answers what the request cache holds (and each repeated body once); the rest are sent,
at most ``options.concurrency`` at once. ``tokens(body, answer) -> (tokens_in, tokens_out)`` counts an
answer's tokens; ``check(body, answer)`` raises ``EndpointError`` for an answer the victim cannot use, which
is then neither cached nor returned. Every usable answer is cached as soon as it arrives, before any error
of another request is raised, so a run stopped by a failure or a budget and run again repeats nothing.

Failures: a timeout (``options.timeout``, for the whole request), a connection error, HTTP 429 or 5xx is
retried ``options.retries`` times with exponential backoff and jitter; a 429 or 503 with ``Retry-After``
(seconds or an HTTP date) waits as long as it says. After the last retry, or at once for any other status
or an answer that is not a JSON object, an ``EndpointError`` on one line names the endpoint (without a
query string or user info) and the status or the problem (``EndpointUnreachable``, a subclass, when no
answer came at all); the API key is never in a message.

Budgets: ``options.max_requests`` and ``options.max_tokens`` count what this transport sent (a request is
counted once, whatever its retries; cache hits are free). Before a request that the budget no longer
allows, ``BudgetExhausted`` is raised, after the requests already in flight are answered and cached.
Tokens are known only from answers, so requests in flight when the token budget runs out may pass it by
their own tokens.

The victim API is synchronous: the transport runs its own asyncio event loop in a daemon thread of the
process that uses it (made on first use, again after a fork or unpickling), so it works when called
repeatedly, from any thread, and under a caller's running event loop. A pickled transport carries its
settings, headers and cache file, not its loop, client or counters.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import random
import threading
import time
import weakref
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from textrobust.errors import BudgetExhausted, EndpointError, TextrobustError, VictimError
from textrobust.victims.remote.cache import RequestCache
from textrobust.victims.remote.options import RemoteOptions
from textrobust.victims.usage import Usage

INSTALL_HINT = 'pip install "textrobust[http]"'
BACKOFF_BASE_S = 0.5  # the first retry waits about this long, each later one twice as long as the last
BACKOFF_CAP_S = 30.0
MAX_RETRY_AFTER_S = 600.0  # a server asking to wait longer than this ends the run (resumable) instead
RETRY_AFTER_STATUSES = frozenset({429, 503})
MESSAGE_SNIPPET = 80  # characters of a bad answer quoted in an error

TokenCounter = Callable[[Mapping[str, Any], Mapping[str, Any]], tuple[int, int]]
AnswerCheck = Callable[[Mapping[str, Any], Mapping[str, Any]], None]


class EndpointUnreachable(EndpointError):
    """No connection to the endpoint, or no answer in time, after the last retry (not a wrong answer)."""


def display_url(url: str) -> str:
    """``url`` as messages show it: no user info, query or fragment (where credentials may hide)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path or "/", "", ""))


def api_key_headers(options: RemoteOptions) -> dict[str, str]:
    """``Authorization: Bearer KEY`` with the key read from the variable ``options.api_key_env`` names (no
    header without one); an unset or empty variable is a ``VictimError`` naming the variable, never a
    value."""
    name = options.api_key_env
    if not name:
        return {}
    key = os.environ.get(name, "").strip()
    if not key:
        raise VictimError(
            f"--api-key-env names the environment variable {name}, which is not set: export {name}=… first"
        )
    return {"Authorization": f"Bearer {key}"}


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (a number of seconds or an HTTP date), or ``None``."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


def _one_line(text: str, limit: int = MESSAGE_SNIPPET) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Loop:
    """An asyncio event loop in a daemon thread of one process, with the httpx client that lives on it."""

    def __init__(self, limits: int, timeout: float) -> None:
        try:
            import httpx
        except ImportError:
            raise VictimError(f"HTTP victims need httpx: {INSTALL_HINT}") from None
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="textrobust-http", daemon=True)
        self.thread.start()

        async def make() -> Any:
            return httpx.AsyncClient(
                timeout=httpx.Timeout(timeout),
                limits=httpx.Limits(max_connections=limits, max_keepalive_connections=limits),
            )

        self.client = self.run(make())

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coroutine`` on the loop and wait for it (an interrupt cancels it)."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def close(self) -> None:
        """Close the client and stop the loop (only in the process that made them)."""
        if self.pid != os.getpid() or not self.thread.is_alive():
            return
        if threading.current_thread() is self.thread:  # collected on its own loop: stop without waiting
            self.loop.create_task(self.client.aclose()).add_done_callback(lambda _task: self.loop.stop())
            return
        try:
            asyncio.run_coroutine_threadsafe(self.client.aclose(), self.loop).result(timeout=5)
        except Exception:  # closing at exit: nothing left to report to
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()


class HttpTransport:
    """JSON requests to one endpoint (see the module's docstring)."""

    def __init__(
        self,
        endpoint: str,
        options: RemoteOptions,
        *,
        headers: Mapping[str, str] | None = None,
        cache: RequestCache | None = None,
        tokens: TokenCounter | None = None,
        check: AnswerCheck | None = None,
        backoff: float = BACKOFF_BASE_S,
    ) -> None:
        self.endpoint = endpoint
        self.options = options
        self.headers = dict(headers or {})
        self.cache = cache if cache is not None else RequestCache(None)
        self.tokens = tokens
        self.check = check
        self.backoff = backoff
        self._reset()

    def _reset(self) -> None:
        self._loop: _Loop | None = None
        self._finalizer: Any = None
        self._requests = 0
        self._cache_hits = 0
        self._tokens_in = 0
        self._tokens_out = 0
        self._waiting = 0.0
        self._random = random.Random()  # jitter only: never part of a result
        self._starting = threading.Lock()  # two threads' first calls make one loop

    @property
    def where(self) -> str:
        """The endpoint as messages name it."""
        return display_url(self.endpoint)

    def usage(self) -> Usage:
        """What this transport has cost since it was made."""
        return Usage(
            requests=self._requests,
            cache_hits=self._cache_hits,
            tokens_in=self._tokens_in,
            tokens_out=self._tokens_out,
            seconds_waiting=self._waiting,
        )

    # -- the synchronous door -------------------------------------------------------------------------

    def post_many(self, bodies: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The endpoint's answers to ``bodies`` (each POSTed as JSON), in order; cached answers are not
        requested again, and a body repeated in ``bodies`` is sent once."""
        bodies = [dict(body) for body in bodies]
        keys = [RequestCache.key(self.endpoint, body) for body in bodies]
        answers: dict[str, dict[str, Any]] = {}
        missing: dict[str, dict[str, Any]] = {}
        for key, body in zip(keys, bodies, strict=True):
            if key in answers or key in missing:
                self._cache_hits += 1  # answered by the same request as its first copy
                continue
            cached = self.cache.get(key)
            if cached is not None:
                self._cache_hits += 1
                answers[key] = cached
            else:
                missing[key] = body
        if missing:
            started = time.monotonic()
            try:
                answers.update(self._running().run(self._send_all(missing)))
            finally:
                self._waiting += time.monotonic() - started
        return [answers[key] for key in keys]

    def get(self, url: str | None = None) -> dict[str, Any]:
        """The JSON object at ``url`` (default: the endpoint), retried alike; neither cached nor counted."""
        return self._running().run(self._request("GET", url or self.endpoint, None))

    def close(self) -> None:
        """Close the connections (a later call opens new ones)."""
        if self._finalizer is not None:
            self._finalizer()
        self._loop = self._finalizer = None

    # -- the event loop ---------------------------------------------------------------------------------

    def _running(self) -> _Loop:
        """This process's loop and client, made on first use (and again in a forked child)."""
        loop = self._loop
        if loop is not None and loop.pid == os.getpid():
            return loop
        with self._starting:
            if self._loop is None or self._loop.pid != os.getpid():
                self._loop = _Loop(self.options.concurrency, self.options.timeout)
                self._finalizer = weakref.finalize(self, self._loop.close)
            return self._loop

    async def _send_all(self, bodies: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Send ``bodies`` (by cache key), ``options.concurrency`` at a time; every answer is checked,
        cached and returned, or the first error raised once the requests in flight are answered."""
        gate = asyncio.Semaphore(self.options.concurrency)
        answers: dict[str, dict[str, Any]] = {}
        errors: list[BaseException] = []

        async def one(key: str, body: dict[str, Any]) -> None:
            async with gate:
                if errors:  # something failed already: send nothing more
                    return
                try:
                    self._spend_request()
                    answer = await self._request("POST", self.endpoint, body)
                    if self.check is not None:
                        self.check(body, answer)
                except TextrobustError as exc:  # EndpointError, BudgetExhausted, a check's VictimError
                    errors.append(exc)
                    return
                if self.tokens is not None:
                    tokens_in, tokens_out = self.tokens(body, answer)
                    self._tokens_in += int(tokens_in)
                    self._tokens_out += int(tokens_out)
                self.cache.put(key, answer, self.where)
                answers[key] = answer

        await asyncio.gather(*(one(key, body) for key, body in bodies.items()))
        if errors:  # an endpoint's failure says more than the budget that stopped the requests after it
            raise next((e for e in errors if not isinstance(e, BudgetExhausted)), errors[0])
        return answers

    def _spend_request(self) -> None:
        """Count one more request, or ``BudgetExhausted`` when the budget does not allow it."""
        limit, tokens = self.options.max_requests, self.options.max_tokens
        if limit is not None and self._requests >= limit:
            raise BudgetExhausted(
                f"{self.where}: the budget of {limit} requests (max_requests) is spent; run again with a "
                "larger budget to resume"
            )
        spent = self._tokens_in + self._tokens_out
        if tokens is not None and spent >= tokens:
            raise BudgetExhausted(
                f"{self.where}: the budget of {tokens} tokens (max_tokens) is spent ({spent} used); run "
                "again with a larger budget to resume"
            )
        self._requests += 1

    async def _request(self, method: str, url: str, body: Mapping[str, Any] | None) -> dict[str, Any]:
        """One request with its retries: the JSON object answered, or an ``EndpointError``."""
        import httpx

        client = self._running().client
        where = display_url(url)
        attempts = self.options.retries + 1
        for attempt in range(attempts):
            wait: float | None = None
            unreachable = True
            try:
                response = await asyncio.wait_for(
                    client.request(method, url, json=body, headers=self.headers), self.options.timeout
                )
            except (TimeoutError, httpx.TimeoutException):
                problem = f"no answer within {self.options.timeout:g} s"
            except httpx.TransportError as exc:  # refused, reset, DNS: the server may be starting
                problem = f"cannot connect ({self._redact(_one_line(str(exc) or type(exc).__name__))})"
            else:
                unreachable = False
                status = response.status_code
                if status < 300:
                    return self._json(response, where)
                reason = f"HTTP {status} {response.reason_phrase}".strip()
                if status != 429 and status < 500:  # the request is wrong: sending it again will not help
                    raise EndpointError(f"{where}: {reason}{self._detail(response)}")
                problem = reason
                if status in RETRY_AFTER_STATUSES:
                    wait = retry_after(response.headers.get("Retry-After"))
                    if wait is not None and wait > MAX_RETRY_AFTER_S:
                        raise EndpointError(
                            f"{where}: {reason}, asked to wait {wait:.0f} s (Retry-After); run again later"
                        )
            if attempt + 1 == attempts:
                tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
                raise (EndpointUnreachable if unreachable else EndpointError)(
                    f"{where}: {problem} after {tries}"
                )
            await asyncio.sleep(self._delay(attempt, wait))
        raise AssertionError("unreachable")  # the loop returns or raises

    def _delay(self, attempt: int, asked: float | None) -> float:
        """Seconds before retry ``attempt + 1``: what ``Retry-After`` asked (and a little jitter on top), else
        exponential backoff with equal jitter."""
        if asked is not None:
            return asked + self._random.uniform(0.0, min(1.0, 0.1 * asked))
        delay = min(BACKOFF_CAP_S, self.backoff * 2**attempt)
        return delay / 2 + self._random.uniform(0.0, delay / 2)

    def _json(self, response: Any, where: str) -> dict[str, Any]:
        try:
            answer = response.json()
        except ValueError:
            snippet = self._redact(_one_line(response.text))
            raise EndpointError(f"{where}: the answer is not JSON: '{snippet}'") from None
        if not isinstance(answer, dict):
            raise EndpointError(f"{where}: the answer is JSON but not an object ({type(answer).__name__})")
        return answer

    def _detail(self, response: Any) -> str:
        """A short quote of an error answer's body (many servers say there what was wrong)."""
        text = self._redact(_one_line(response.text or ""))
        return f": {text}" if text else ""

    def _redact(self, text: str) -> str:
        """``text`` without any header value long enough to be a secret (a server may echo the request)."""
        for value in self.headers.values():
            for secret in (value, value.partition(" ")[2]):
                if len(secret) >= 8:
                    text = text.replace(secret, "***")
        return text

    # -- pickling: settings travel, the loop, the client and the counters do not -----------------------

    def __getstate__(self) -> dict[str, Any]:
        keep = ("endpoint", "options", "headers", "cache", "tokens", "check", "backoff")
        return {name: self.__dict__[name] for name in keep}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset()

    def __repr__(self) -> str:
        return f"HttpTransport({self.where})"
