"""Writing folders and files so that a reader never sees them half-written."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path


@contextlib.contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yields a fresh temporary sibling directory that replaces ``target`` only if the block succeeds.

    A crash leaves the old content (or nothing) at ``target``; two processes building the same entry at
    once both succeed, and the last one to finish wins.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield staging
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            os.replace(target, old / target.name)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """Writes ``data`` to ``target`` through a temporary file in the same directory."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)  # an ordinary file's permissions, not mkstemp's private 0600
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(name, target)
    finally:
        if os.path.exists(name):
            os.unlink(name)


def directory_digest(directory: str | Path) -> str:
    """sha256 over every file under ``directory`` (relative paths and contents, in sorted order; dot-files
    left out): the same files give the same digest wherever they are."""
    root = Path(directory)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def file_digest(path: str | Path) -> str:
    """The sha256 of a file's bytes (a model file's identity: an edited or retrained model is another)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def output_problem(path: str | Path, kind: str = "file") -> str | None:
    """Why ``path`` cannot be written as a ``file`` or a ``directory`` (None when it can), checked before
    any work starts: a directory where a file goes (or the reverse), a file in the way of its folder, a
    place that is not writable."""
    target = Path(path)
    if kind == "file" and target.is_dir():
        return f"{target} is a directory; give a file path"
    if kind == "directory" and target.exists() and not target.is_dir():
        return f"{target} is a file, not a directory"
    if target.exists():
        writable = os.access(target, os.W_OK) and (not target.is_dir() or _can_create_in(target))
        return None if writable else f"{target} is not writable"
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{ancestor} is a file, so {target} cannot be created"
    if not os.access(ancestor, os.W_OK) or not _can_create_in(ancestor):
        return f"{ancestor} is not writable, so {target} cannot be created"
    return None


def check_apart(out: str | Path, inputs: Mapping[str, str | Path], parameter: str = "out") -> None:
    """A ``ParameterError`` (for ``parameter``) when the folder ``out`` is, contains or is inside one of
    ``inputs`` (what each input is, as the message names it → its folder), checked before any work: an
    output written there (and replaced, with an overwrite) would destroy or change its own input; a wrapper
    whose base changed under it no longer matches the digest it recorded."""
    from textrobust.errors import ParameterError

    target = Path(out).resolve()
    for what, folder in inputs.items():
        source = Path(folder).resolve()
        if target == source:
            relation = "is"
        elif target in source.parents:
            relation = "contains"
        elif source in target.parents:
            relation = "is inside"
        else:
            continue
        raise ParameterError(
            parameter, f"{out} {relation} {what} {folder}; writing it would overwrite its own input"
        )


def _can_create_in(directory: Path) -> bool:
    """Whether a file can really be created in ``directory`` (``os.access`` says yes to root everywhere,
    even on a read-only file system)."""
    try:
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False
