"""Real HTTP servers for the tests of HTTP victims: ``textrobust serve`` in a subprocess, and a small stdlib
server in a thread whose answers a test scripts (429s, 500s, slow or malformed answers)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# A team's model in a file of its own (no textrobust code): sentiment from keywords, smooth probabilities.
KEYWORD_MODEL = """
import math

POSITIVE = {"good", "great", "superb", "lovely", "fine"}
NEGATIVE = {"bad", "awful", "dull", "poor", "weak"}


class Keywords:
    labels = ["negative", "positive"]
    language = "en"

    def predict_proba(self, texts):
        rows = []
        for text in texts:
            words = text.lower().split()
            score = sum(w in POSITIVE for w in words) - sum(w in NEGATIVE for w in words)
            p = 1 / (1 + math.exp(-1.5 * score - 0.1))
            rows.append([1 - p, p])
        return rows


def make():
    return Keywords()
"""


def keyword_model() -> Any:
    """The keyword model, in this process."""
    namespace: dict[str, Any] = {}
    exec(KEYWORD_MODEL, namespace)
    return namespace["make"]()


@dataclass
class Reply:
    status: int = 200
    payload: Any = None  # a JSON-able value, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


Script = Callable[[Request, int], Reply]  # (request, number of POSTs so far, this one included) -> reply


def protocol(
    model: Any = None,
    *,
    output: str = "probabilities",
    describe_output: bool = True,
    labels: list[str] | None = None,
) -> Script:
    """Answers of a well-behaved generic endpoint around ``model`` (the keyword model by default):
    ``output`` "probabilities" or "labels"; ``describe_output``: whether GET says which; ``labels``: the class
    names it gives (default: the model's)."""
    model = model or keyword_model()
    names = labels or list(model.labels)

    def answer(request: Request, _posts: int) -> Reply:
        if request.method == "GET":
            return Reply(payload={"labels": names, **({"output": output} if describe_output else {})})
        rows = model.predict_proba(request.body["texts"])
        if output == "labels":
            return Reply(payload={"labels": [names[max(range(len(r)), key=r.__getitem__)] for r in rows]})
        return Reply(payload={"probabilities": rows})

    return answer


class Endpoint:
    """A stdlib HTTP server on 127.0.0.1 in a thread: ``script`` answers each request; every request is
    kept (``requests``), and the most requests handled at once (``most_at_once``)."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[Request] = []
        self.posts = 0
        self.at_once = 0
        self.most_at_once = 0
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:
                endpoint._handle(self, "GET")

            def do_POST(self) -> None:
                endpoint._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def post_requests(self) -> list[Request]:
        return [request for request in self.requests if request.method == "POST"]

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        request = Request(method, handler.path, dict(handler.headers), json.loads(raw) if raw else None)
        with self._lock:
            self.requests.append(request)
            if method == "POST":
                self.posts += 1
            number = self.posts
            self.at_once += 1
            self.most_at_once = max(self.most_at_once, self.at_once)
        try:
            reply = self.script(request, number)
            if reply.delay:
                time.sleep(reply.delay)
            body = reply.payload if isinstance(reply.payload, bytes) else json.dumps(reply.payload).encode()
            handler.send_response(reply.status)
            for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:  # the client gave up waiting (a timeout test)
            pass
        finally:
            with self._lock:
                self.at_once -= 1

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def endpoint(script: Script) -> Iterator[Endpoint]:
    server = Endpoint(script)
    try:
        yield server
    finally:
        server.close()


@dataclass
class Served:
    url: str
    process: subprocess.Popen[str]

    def stats(self) -> dict[str, int]:
        import httpx

        return httpx.get(self.url + "stats", timeout=10).json()


@contextmanager
def textrobust_serve(victim: str, *extra: str, cwd: Path | None = None) -> Iterator[Served]:
    """``textrobust serve --victim VICTIM --port 0`` in a subprocess, until the block ends (then Ctrl-C, which
    must stop it cleanly)."""
    command = [sys.executable, "-m", "textrobust", "serve", "--victim", victim, "--port", "0", *extra]
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = _first_line(process, timeout=120)
        assert line.startswith("serving ") and " at http://127.0.0.1:" in line, line
        url = line.split(" at ", 1)[1].split()[0]
        yield Served(url, process)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert out.strip().splitlines()[-1].startswith("stopped after "), out
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        process.kill()
        raise AssertionError(f"textrobust serve said nothing within {timeout} s: {process.communicate()}")
    line = process.stdout.readline()
    if not line:
        raise AssertionError(f"textrobust serve stopped: {process.communicate()}")
    return line.strip()
