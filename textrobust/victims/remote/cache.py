"""The persistent request cache of HTTP victims: an endpoint's answer to a request, kept in SQLite, so a
resumed or repeated run sends no request twice.

Interface (used by ``transport.HttpTransport`` and every HTTP victim built on it)::

    cache = request_cache(options)           # RemoteOptions.request_cache: a file, 'off', or None (default)
    key = RequestCache.key(url, body)        # sha256 of the canonical JSON of the URL and the whole body
    cache.get(key) -> dict | None            # the answer stored for the key
    cache.put(key, response)                 # store an answer (last write wins)

The key is the URL and the whole request body — model name, prompt, sampling settings, texts — so a request
that differs in anything is another entry; headers (where an API key travels) are never part of it, and
nothing but the URL, the body's digest and the answer is written. The file is in WAL mode with a busy
timeout, so several processes (workers of one run, runs side by side) share it; each process opens its own
connection (a pickled cache reopens in the process that unpickles it).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from textrobust.errors import VictimError
from textrobust.victims.remote.options import RemoteOptions

DEFAULT_FILE = "requests.sqlite"  # under textrobust's cache folder (textrobust.paths.cache_dir)
OFF = "off"
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another process's write to finish

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    response TEXT NOT NULL,
    stored REAL NOT NULL
)
"""


def canonical(value: Any) -> str:
    """``value`` as JSON with sorted keys and no spaces: equal requests give equal text."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class RequestCache:
    """Answers of HTTP endpoints by request (``path`` ``None``: no cache, every ``get`` misses)."""

    def __init__(self, path: Path | str | None) -> None:
        self.path = None if path is None else Path(path).expanduser()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._locks: tuple[int, threading.Lock] = (os.getpid(), threading.Lock())
        if self.path is not None:
            self._connect()  # a file that cannot be a cache fails now, before any work

    @property
    def enabled(self) -> bool:
        return self.path is not None

    @staticmethod
    def key(url: str, body: Mapping[str, Any]) -> str:
        """The request's key: the sha256 of the canonical JSON of its URL and whole body."""
        return hashlib.sha256(canonical({"url": url, "body": body}).encode("utf-8")).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        """The answer stored for ``key``, or ``None``."""
        if self.path is None:
            return None
        with self._lock():
            row = self._execute("SELECT response FROM answers WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            answer = json.loads(row[0])
        except ValueError:  # a damaged row is a miss: the request is sent again and the row replaced
            return None
        return answer if isinstance(answer, dict) else None

    def put(self, key: str, response: Mapping[str, Any], url: str = "") -> None:
        """Store ``response`` as the answer to ``key`` (committed at once: a crash loses nothing stored)."""
        if self.path is None:
            return
        text = canonical(response)
        with self._lock():
            self._execute(
                "INSERT OR REPLACE INTO answers (key, url, response, stored) VALUES (?, ?, ?, ?)",
                (key, url, text, time.time()),
            )

    def __len__(self) -> int:
        if self.path is None:
            return 0
        with self._lock():
            return int(self._execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def close(self) -> None:
        with self._lock():
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None

    def _lock(self) -> threading.Lock:
        """This process's lock (the transport's event-loop thread and its caller share the connection; a
        forked child must not inherit a lock another thread held)."""
        if self._locks[0] != os.getpid():
            self._locks = (os.getpid(), threading.Lock())
        return self._locks[1]

    def _execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        connection = self._connect()
        try:
            return connection.execute(sql, parameters)
        except sqlite3.Error as exc:
            raise VictimError(f"the request cache {self.path} failed: {exc}") from None

    def _connect(self) -> sqlite3.Connection:
        """This process's connection (a forked or unpickled copy opens its own)."""
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        assert self.path is not None
        try:
            if self.path.exists() and not self.path.is_file():
                raise VictimError(f"the request cache {self.path} is not a file")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise VictimError(f"the request cache {self.path} cannot be used: {exc}") from None
        except OSError as exc:
            raise VictimError(
                f"the request cache {self.path} cannot be written: {exc.strerror or exc}"
            ) from None
        self._connection, self._pid = connection, os.getpid()
        return connection

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path = state["path"]
        self._connection = None
        self._pid = 0
        self._locks = (os.getpid(), threading.Lock())

    def __repr__(self) -> str:
        return f"RequestCache({str(self.path) if self.path else 'off'})"


def cache_path(options: RemoteOptions) -> Path | None:
    """Where ``options`` put the request cache: its file, ``None`` for ``'off'``, else the default file in
    textrobust's cache folder."""
    setting = options.request_cache
    if setting is not None and setting.strip().lower() == OFF:
        return None
    if setting:
        return Path(setting).expanduser()
    from textrobust.paths import cache_dir

    return cache_dir() / DEFAULT_FILE


def request_cache(options: RemoteOptions) -> RequestCache:
    """The request cache ``options`` name (opened now: a place that cannot hold it fails before any work)."""
    return RequestCache(cache_path(options))
