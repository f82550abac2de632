"""Where textrobust keeps what it builds or copies: ``~/.cache/textrobust`` or ``$TEXTROBUST_CACHE``."""

import os
from pathlib import Path


def cache_dir() -> Path:
    """The cache root (created on demand by whoever writes into it)."""
    override = os.environ.get("TEXTROBUST_CACHE")
    if override:
        return Path(override).expanduser()
    return Path.home() / ".cache" / "textrobust"
