"""Where textrobust keeps what it builds or copies: ``~/.cache/textrobust`` or ``$TEXTROBUST_CACHE``."""

import os
from pathlib import Path

from textrobust.errors import TextrobustError


def cache_dir() -> Path:
    """The cache root (created on demand by whoever writes into it)."""
    override = os.environ.get("TEXTROBUST_CACHE")
    root = Path(override).expanduser() if override else Path.home() / ".cache" / "textrobust"
    if root.exists() and not root.is_dir():
        where = "TEXTROBUST_CACHE" if override else "the cache"
        raise TextrobustError(f"{where} ({root}) is a file, not a folder: point TEXTROBUST_CACHE at a folder")
    return root


def check_cache_dir() -> Path:
    """The cache root, checked before a command that writes into it works: a folder that exists or can be
    made, and in which files can be written (a read-only place fails here, not after minutes of work).

    It creates the folder and writes and deletes a file in it: only callers about to write the cache
    call it (the CLI's cache-writing commands), never one that merely reads or lists things."""
    root = cache_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise TextrobustError(
            f"the cache {root} cannot be written ({exc.strerror or exc}): point TEXTROBUST_CACHE at a "
            "writable folder"
        ) from None
    return root
