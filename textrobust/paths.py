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
