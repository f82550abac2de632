"""Python victims: ``py:MODULE:FACTORY`` or ``py:path/to/file.py:FACTORY`` names a function that returns any
object with ``labels`` (the class names, in the order of the probability columns) and
``predict_proba(texts) -> array (n, len(labels))`` — a model a team already has, behind the one door
attacks use. An object that also has ``word_gradient_norms(text, spans, label)`` is white-box (A2T's
ranking); one with a ``language`` attribute is checked against the data's.

The factory is called once per process: at resolution (its labels are checked before any work) and by each
worker in another process. The victim's identity in the store is the digest of the factory's source file
and its name, so an edited model file is a new victim.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from textrobust.errors import TextrobustError, VictimError
from textrobust.victims.base import VICTIM_TYPE_KEY
from textrobust.victims.resolve import SourceOptions, VictimRef, apply_label_map, resolved_config

PREFIX = "py:"
KIND = "python"


def _split(rest: str) -> tuple[str, str]:
    """``MODULE:FACTORY`` or ``path/to/file.py:FACTORY`` → (module or file, factory name)."""
    where, colon, factory = rest.rpartition(":")
    if not colon or not where or not factory.isidentifier():
        raise VictimError(
            f"'{PREFIX}{rest}' names no factory: write {PREFIX}MODULE:FACTORY or {PREFIX}FILE.py:FACTORY"
        )
    return where, factory


def _is_file(where: str) -> bool:
    return where.endswith(".py") or "/" in where or "\\" in where


def _module(where: str) -> ModuleType:
    """The module ``where`` names (a dotted module name, or a ``.py`` file loaded under a name of its own)."""
    if not _is_file(where):
        try:
            return importlib.import_module(where)
        except ImportError as exc:
            raise VictimError(f"{PREFIX}{where}: the module does not import: {exc}") from None
    path = Path(where).expanduser().resolve()
    if not path.is_file():
        raise VictimError(f"{PREFIX}{where}: file not found")
    name = "textrobust_victim_" + hashlib.sha256(str(path).encode()).hexdigest()[:16]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise VictimError(f"{PREFIX}{where}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except TextrobustError:
        raise
    except Exception as exc:  # the user's file: say which error, on one line
        raise VictimError(f"{PREFIX}{where}: the file fails to run: {type(exc).__name__}: {exc}") from None
    return module


def _factory(where: str, factory: str) -> Callable[[], Any]:
    module = _module(where)
    found = getattr(module, factory, None)
    if found is None:
        raise VictimError(f"{PREFIX}{where}:{factory}: {where} has no '{factory}'")
    if not callable(found):
        raise VictimError(f"{PREFIX}{where}:{factory}: '{factory}' is not callable")
    return found


def build(where: str, factory: str) -> Any:
    """The object the factory returns, checked to have ``labels`` and ``predict_proba``."""
    name = f"{PREFIX}{where}:{factory}"
    make = _factory(where, factory)
    try:
        victim = make()
    except TextrobustError:
        raise
    except Exception as exc:
        raise VictimError(f"{name}: the factory failed: {type(exc).__name__}: {exc}") from None
    if not callable(getattr(victim, "predict_proba", None)):
        raise VictimError(f"{name}: the factory's {type(victim).__name__} has no predict_proba(texts)")
    labels = getattr(victim, "labels", None)
    if isinstance(labels, str) or not hasattr(labels, "__len__") or len(labels) < 2:
        raise VictimError(
            f"{name}: the factory's {type(victim).__name__} needs labels: two or more class names"
        )
    return victim


def _identity(where: str, factory: str) -> str:
    """The digest of the factory's source file (or, for a module without one, its name) and the factory."""
    digest = hashlib.sha256(factory.encode() + b"\0")
    if _is_file(where):
        digest.update(Path(where).expanduser().resolve().read_bytes())
        return digest.hexdigest()
    source = inspect.getsourcefile(importlib.import_module(where))
    digest.update(Path(source).read_bytes() if source else where.encode())
    return digest.hexdigest()


class PythonVictim:
    """The victim kind of ``py:`` names: loading calls the factory (in a worker of another process)."""

    victim_type = KIND
    trainable = False
    white_box = False  # per object: resolve_python reads it from the object
    wraps_base = False
    uses_gpu = False
    architecture = None

    @classmethod
    def load(cls, location: str | Path, device: str = "auto", config: Mapping[str, Any] | None = None) -> Any:
        config = resolved_config(location, config, "a Python victim")
        return build(str(config["where"]), str(config["factory"]))


def resolve_python(rest: str, options: SourceOptions) -> VictimRef:
    """The ``VictimRef`` of ``py:REST``: the factory is called now, so its labels are known (and checked)
    before any work; the object is handed to the first ``load()`` in this process."""
    where, factory = _split(rest)
    victim = build(where, factory)
    absolute = str(Path(where).expanduser().resolve()) if _is_file(where) else where
    labels = apply_label_map(victim.labels, options.label_map, f"{PREFIX}{rest}")
    if list(labels) != [str(label) for label in victim.labels]:
        victim.labels = list(labels)  # the names the dataset uses (--label-map)
    language = getattr(victim, "language", None)
    config = {
        VICTIM_TYPE_KEY: KIND,
        "where": absolute,
        "factory": factory,
        "labels": list(labels),
        "language": language if isinstance(language, str) else None,
    }
    return VictimRef(
        kind=KIND,
        location=f"{PREFIX}{absolute}:{factory}",
        config=config,
        digest=_identity(where, factory),
        language=config["language"],
        labels=labels,
        family=type(victim).__name__,
        trainable=False,
        white_box=callable(getattr(victim, "word_gradient_norms", None)),
        wraps_base=False,
        uses_gpu=False,
        architecture=None,
        prepared=victim,
    )
