"""Any victim behind the generic JSON endpoint (``textrobust serve``), so that a team can put a model behind
an API and HTTP victims are tested against a real server.

The app (starlette, run by uvicorn) answers the protocol ``generic`` reads:

- ``GET /`` → ``{"labels": [...], "output": "probabilities" | "labels", "language", "family", "kind",
  "digest"}`` (``digest``: the served victim's identity, so a new model behind the same URL is a new victim);
- ``POST /`` with ``{"texts": [...]}`` → ``{"probabilities": [[...], ...]}``, or with ``labels_only``
  ``{"labels": [...]}`` (the class with the highest probability);
- ``GET /stats`` → ``{"requests": N, "texts": M, "errors": E}``: prediction requests answered, texts
  predicted and requests refused since the server started (tests count requests with it).

Predictions run one at a time in a worker thread (victims are not made to be called from several threads
at once), so the event loop keeps accepting requests meanwhile. starlette and uvicorn are imported only
when a server is made.
"""

from __future__ import annotations

import json
import signal
import socket
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from textrobust.errors import ParameterError, TextrobustError, VictimError
from textrobust.victims.resolve import VictimRef

INSTALL_HINT = 'pip install "textrobust[http]"'
MAX_TEXTS = 10_000  # per request: a larger one is refused (413) rather than tying the server up


def _bad_request(problem: str, status: int = 400) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse({"error": problem}, status_code=status)


class ServedVictim:
    """A loaded victim, its description, and counters of what it served."""

    def __init__(self, victim: Any, ref: VictimRef, *, labels_only: bool = False) -> None:
        self.victim = victim
        self.labels = [str(label) for label in victim.labels]
        self.labels_only = labels_only or ref.hard_label_only
        self.info = {
            "labels": self.labels,
            "output": "labels" if self.labels_only else "probabilities",
            "language": ref.language,
            "family": ref.family,
            "kind": ref.kind,
            "digest": ref.digest,
        }
        self.requests = 0
        self.texts = 0
        self.errors = 0
        self._lock = threading.Lock()  # one prediction at a time

    def stats(self) -> dict[str, int]:
        return {"requests": self.requests, "texts": self.texts, "errors": self.errors}

    def predict(self, texts: list[str]) -> dict[str, Any]:
        """The answer to ``{"texts": texts}``."""
        with self._lock:
            rows = np.asarray(self.victim.predict_proba(texts), dtype=np.float64)
            if rows.shape != (len(texts), len(self.labels)):
                raise VictimError(
                    f"the served victim answered shape {rows.shape} for {len(texts)} texts and "
                    f"{len(self.labels)} classes"
                )
            self.requests += 1
            self.texts += len(texts)
        if self.labels_only:
            return {"labels": [self.labels[i] for i in rows.argmax(axis=1)]}
        return {"probabilities": rows.tolist()}


def _texts(payload: Any) -> list[str] | str:
    """The texts of a prediction request, or what is wrong with it."""
    if not isinstance(payload, dict) or "texts" not in payload:
        return 'expected a JSON object {"texts": ["…", …]}'
    texts = payload["texts"]
    if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
        return '"texts" must be a list of strings'
    if len(texts) > MAX_TEXTS:
        return f"at most {MAX_TEXTS} texts per request, got {len(texts)}"
    return texts


def make_app(served: ServedVictim) -> Any:
    """The starlette app of the generic endpoint around ``served``."""
    try:
        from starlette.applications import Starlette
        from starlette.concurrency import run_in_threadpool
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route
    except ImportError:
        raise VictimError(f"textrobust serve needs starlette and uvicorn: {INSTALL_HINT}") from None

    async def describe(_request: Request) -> JSONResponse:
        return JSONResponse(served.info)

    async def stats(_request: Request) -> JSONResponse:
        return JSONResponse(served.stats())

    async def predict(request: Request) -> JSONResponse:
        try:
            payload = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            served.errors += 1
            return _bad_request("the request body is not JSON")
        texts = _texts(payload)
        if isinstance(texts, str):
            served.errors += 1
            return _bad_request(texts, 413 if texts.startswith("at most") else 400)
        try:
            answer = await run_in_threadpool(served.predict, texts)
        except TextrobustError as exc:  # an empty text, say: the client's request, not the server
            served.errors += 1
            return _bad_request(str(exc))
        return JSONResponse(answer)

    return Starlette(
        routes=[
            Route("/", describe, methods=["GET"]),
            Route("/", predict, methods=["POST"]),
            Route("/stats", stats, methods=["GET"]),
        ]
    )


class _Stopped(Exception):
    """SIGTERM, turned into a clean stop."""


def _stop(_signum: int, _frame: Any) -> None:
    raise _Stopped


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one), or a ``ParameterError`` for the port."""
    if not 0 <= port <= 65535:
        raise ParameterError("port", f"must be between 0 and 65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _name, address = infos[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except (OSError, IndexError) as exc:
        problem = getattr(exc, "strerror", None) or str(exc)
        raise ParameterError("port", f"{port}: cannot listen on {host} ({problem})") from None
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(app: Any, sock: socket.socket, announce: Callable[[str], None]) -> None:
    """Run ``app`` on ``sock`` until Ctrl-C or SIGTERM (both a clean stop); ``announce(url)`` is called once
    the server accepts requests."""
    try:
        import uvicorn
    except ImportError:
        raise VictimError(f"textrobust serve needs uvicorn: {INSTALL_HINT}") from None

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                announce(url_of(sock))

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = _Server(config)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stop) if main_thread else None
    try:
        server.run(sockets=[sock])  # uvicorn stops gracefully on a signal, then raises it again here
    except (KeyboardInterrupt, _Stopped):
        pass
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        sock.close()
