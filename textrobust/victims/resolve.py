"""A victim is named once: the string a user gives is resolved, once, into a ``VictimRef`` — what the
victim is (kind, capabilities, language, labels), where it lives, its config and the digest that
identifies it — and every later step (checks, GPU placement, the store's records, workers in other
processes or on Ray, reports) takes that record instead of reading the folder again.

A name is a saved victim's folder, or ``SOURCE:REST`` for a victim from elsewhere: the sources are a
registry (``VICTIM_SOURCES``; built in: ``py:MODULE:FACTORY`` or ``py:path/to/file.py:FACTORY``, any
Python object with ``labels`` and ``predict_proba``; ``hf:ORG/NAME[@REVISION]``, a Hugging Face Hub
sequence classifier; ``sklearn:FILE``, a fitted scikit-learn pipeline in a skops file, or a pickle with
``trust_pickle``), extended through the ``textrobust.victim_sources`` entry-point group with a function
``(rest: str, options: SourceOptions) -> VictimRef``. A folder another tool saved (its config.json names no
textrobust kind) is read by the first of ``FOREIGN_FOLDERS`` that knows it (built in: a transformers
sequence classifier saved with ``save_pretrained``), extended through ``textrobust.victim_folders`` with a
function ``(directory, config, options) -> VictimRef | None``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textrobust.errors import TextrobustError, VictimError
from textrobust.registry import Registry
from textrobust.victims.base import CONFIG_FILE, VICTIM_TYPE_KEY, find_base, read_config
from textrobust.victims.kinds import capability, victim_class
from textrobust.victims.prompting import PromptOptions
from textrobust.victims.protocols import Victim
from textrobust.victims.remote.options import RemoteOptions


@dataclass(frozen=True)
class VictimRef:
    """A resolved victim (picklable: it is shipped to workers as it is). ``load()`` builds the victim from
    the config read at resolution, so its folder's config is read once per run."""

    kind: str
    location: str  # an absolute folder path, or the name a source resolved (``py:…``)
    config: Mapping[str, Any] = field(repr=False, compare=False, hash=False)
    digest: str  # the victim's identity: a digest of its files (of a source's files and settings)
    language: str | None
    labels: tuple[str, ...] | None
    family: str
    trainable: bool
    white_box: bool
    wraps_base: bool
    uses_gpu: bool
    architecture: str | None  # "transformer", "word" or None (see ``kinds.CAPABILITIES``)
    # It answers with a class only, no probabilities (a labels-only endpoint): attacks on it are hard-label.
    hard_label_only: bool = False
    # A victim its source built while resolving (a ``py:`` factory's object), handed to the first load in
    # this process; never pickled: a worker elsewhere loads its own.
    prepared: Any = field(default=None, repr=False, compare=False, hash=False)

    def load(self, device: str = "auto") -> Victim:
        """The victim, loaded (its class reads its own files, the config it is given)."""
        if self.prepared is not None:
            return self.prepared
        return victim_class(self.kind).load(self.location, device=device, config=self.config)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "prepared": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)

    def __call__(self) -> Victim:
        """The victim, loaded: a ``VictimRef`` is the zero-argument victim loader workers are given."""
        return self.load()

    @property
    def path(self) -> Path:
        return Path(self.location)


@dataclass(frozen=True)
class SourceOptions:
    """What a user says about a victim besides its name: ``label_map`` renames the model's own class names
    (``{"LABEL_0": "negative"}``) so that they match the dataset's; ``trust_pickle`` allows loading files
    whose loading runs code (pickle, joblib); ``prompt``: how LLM victims are asked (``llm:``, ``openai:``);
    ``remote``: how HTTP victims are called (concurrency, retries, budgets, API key variable, cache)."""

    label_map: Mapping[str, str] | None = None
    trust_pickle: bool = False
    prompt: PromptOptions = field(default_factory=PromptOptions)
    remote: RemoteOptions = field(default_factory=RemoteOptions)


def apply_label_map(
    labels: Sequence[str], label_map: Mapping[str, str] | None, victim: str
) -> tuple[str, ...]:
    """The victim's class names renamed by ``label_map`` (each key must be one of them); without a map, names
    like ``LABEL_0`` (a checkpoint that never named its classes) are refused with the flag that fixes it."""
    labels = tuple(str(label) for label in labels)
    if not label_map:
        if all(label.upper().startswith("LABEL_") for label in labels):
            example = ",".join(f"{label}=NAME" for label in labels[:2])
            raise VictimError(
                f"{victim}: its classes are unnamed ({', '.join(labels)}); name them: --label-map {example}"
            )
        return labels
    unknown = [key for key in label_map if key not in labels]
    if unknown:
        raise VictimError(
            f"{victim}: --label-map names '{unknown[0]}', not one of its classes ({', '.join(labels)})"
        )
    renamed = tuple(label_map.get(label, label) for label in labels)
    if len(set(renamed)) != len(renamed):
        raise VictimError(f"{victim}: --label-map gives two classes one name ({', '.join(renamed)})")
    return renamed


# Victim sources by the prefix of a name (``py:``); a name without a known prefix is a folder.
VICTIM_SOURCES: Registry[Any] = Registry(
    "victim source",
    {
        "py": "textrobust.victims.python:resolve_python",
        "hf": "textrobust.victims.checkpoint:resolve_hub",
        "sklearn": "textrobust.victims.sklearn_victim:resolve_sklearn",  # a fitted pipeline: .skops, a pickle
        "http": "textrobust.victims.remote.generic:resolve_http",  # a generic JSON endpoint (its URL)
        "https": "textrobust.victims.remote.generic:resolve_https",
        "openai": "textrobust.victims.remote.openai:resolve_openai",  # openai:MODEL@BASE_URL, an LLM server
        "llm": "textrobust.victims.llm:resolve_llm",  # llm:NAME_OR_PATH, a local causal LM zero-shot
    },
    group="textrobust.victim_sources",
)
# Readers of folders other tools saved, asked in turn when a folder's config.json names no textrobust kind.
FOREIGN_FOLDERS: Registry[Any] = Registry(
    "victim folder reader",
    {"transformers": "textrobust.victims.checkpoint:resolve_folder"},
    group="textrobust.victim_folders",
)


def resolved_config(location: str | Path, config: Mapping[str, Any] | None, what: str) -> Mapping[str, Any]:
    """The config a victim from a source is loaded from: only its resolved name carries one (``what``
    names the kind in the error, "a Python victim")."""
    if config is None:
        raise VictimError(f"{location}: {what} is loaded from its resolved name (resolve_victim)")
    return config


def source_of(name: str) -> tuple[str, str] | None:
    """``(source, rest)`` when ``name`` is ``SOURCE:REST`` for a registered source (a one-letter prefix
    is a drive letter, not a source)."""
    prefix, colon, rest = name.partition(":")
    if colon and len(prefix) > 1 and prefix in VICTIM_SOURCES:
        return prefix, rest
    return None


def resolve_victim(name: str | Path | VictimRef, options: SourceOptions | None = None) -> VictimRef:
    """What ``name`` (a saved victim's folder, or ``SOURCE:REST``) is; a ``VictimError`` saying what is
    wrong otherwise. A ``VictimRef`` is returned as it is. ``options``: what the user said besides the name
    (a source takes them as its second argument)."""
    from textrobust.files import directory_digest

    if isinstance(name, VictimRef):
        return name
    options = options or SourceOptions()
    if isinstance(name, str) and (source := source_of(name)) is not None:
        return VICTIM_SOURCES.get(source[0])(source[1], options)
    directory = Path(name)
    try:
        config = read_config(directory)
    except VictimError:  # not a textrobust folder: one another tool saved, if a reader knows it
        foreign = _foreign_folder(directory, options)
        if foreign is None:
            raise
        return foreign
    kind = str(config[VICTIM_TYPE_KEY])
    victim_class(kind)  # an unknown kind fails here
    if options.label_map:  # silently ignored, it would let a user believe the classes were renamed
        raise VictimError(
            f"{directory}: --label-map renames the classes of victims from elsewhere (checkpoints, py:, "
            "sklearn:); a textrobust victim names its classes already"
        )
    labels = config.get("labels")
    return VictimRef(
        kind=kind,
        location=str(directory.resolve()),
        config=config,
        digest=directory_digest(directory),
        language=config.get("language") or None,
        labels=tuple(str(label) for label in labels) if isinstance(labels, list) else None,
        family=str(config.get("family") or config.get("model_type") or kind),
        trainable=bool(capability(kind, "trainable")),
        white_box=bool(capability(kind, "white_box")),
        wraps_base=bool(capability(kind, "wraps_base")),
        uses_gpu=_uses_gpu(kind, directory, config),
        architecture=capability(kind, "architecture"),
    )


def resolve_victims(
    names: Sequence[str | Path | VictimRef], options: SourceOptions | None = None
) -> list[VictimRef]:
    """Several victims named with one set of options (a transfer matrix): ``label_map`` renames the classes
    of the victims from elsewhere only (checkpoints, sources); textrobust victims name theirs already."""
    options = options or SourceOptions()
    plain = dataclasses.replace(options, label_map=None)
    return [resolve_victim(name, plain if _is_saved_victim(name) else options) for name in names]


def _is_saved_victim(name: str | Path | VictimRef) -> bool:
    """Whether ``name`` is a folder ``textrobust`` saved (its config.json names a textrobust kind)."""
    if isinstance(name, VictimRef) or (isinstance(name, str) and source_of(name) is not None):
        return False
    try:
        config = json.loads((Path(name) / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and VICTIM_TYPE_KEY in config


def _foreign_folder(directory: Path, options: SourceOptions) -> VictimRef | None:
    """The ``VictimRef`` of a folder whose config.json names no textrobust kind, from the first reader of
    ``FOREIGN_FOLDERS`` that knows it; ``None`` for anything else (``read_config`` then says what is
    wrong)."""
    try:
        config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(config, dict) or VICTIM_TYPE_KEY in config:
        return None
    for reader in FOREIGN_FOLDERS.names():
        ref = FOREIGN_FOLDERS.get(reader)(directory, config, options)
        if ref is not None:
            return ref
    return None


def _uses_gpu(kind: str, directory: Path, config: Mapping[str, Any]) -> bool:
    """Whether a GPU worker runs the victim faster: its kind says, or (``None``) as its base does."""
    uses = capability(kind, "uses_gpu")
    if uses is not None:
        return bool(uses)
    try:
        base = find_base(directory, dict(config), kind, check=False)
        base_config = read_config(base)
        return _uses_gpu(str(base_config[VICTIM_TYPE_KEY]), base, base_config)
    except TextrobustError:
        return False


def load_victim(directory: str | Path, label_map: Mapping[str, str] | None = None) -> Victim:
    """Load any saved victim from its directory: a textrobust victim (its config.json says which class it
    is) or a folder another tool saved that a reader knows (a Hugging Face checkpoint; ``label_map``
    renames its classes as ``--label-map`` does)."""
    from textrobust.victims.kinds import VICTIM_KINDS

    directory = Path(directory)
    try:
        config = read_config(directory)
    except VictimError:  # not a textrobust folder: one another tool saved, if a reader knows it
        return resolve_victim(directory, SourceOptions(label_map=label_map)).load()
    victim_type = config[VICTIM_TYPE_KEY]
    if victim_type not in VICTIM_KINDS:
        raise VictimError(f"{directory}: unknown victim type '{victim_type}'; known: {VICTIM_KINDS.names()}")
    return victim_class(victim_type).load(directory, config=config)


def load_base(directory: str | Path, config: dict[str, Any], what: str) -> tuple[Victim, Path]:
    """The loaded base a wrapper's ``config`` names (see ``find_base``; its classes renamed as when the
    wrapper was made) and the base's folder."""
    base_directory = find_base(directory, config, what)
    label_map = config.get("base_label_map")
    base = load_victim(base_directory, dict(label_map) if isinstance(label_map, dict) else None)
    return base, base_directory
