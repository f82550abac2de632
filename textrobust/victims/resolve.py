"""A victim is named once: the string a user gives is resolved, once, into a ``VictimRef`` — what the
victim is (kind, capabilities, language, labels), where it lives, its config and the digest that
identifies its files — and every later step (checks, GPU placement, the store's records, workers in other
processes or on Ray, reports) takes that record instead of reading the folder again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textrobust.errors import TextrobustError
from textrobust.victims.base import VICTIM_TYPE_KEY, find_base, read_config
from textrobust.victims.kinds import capability, victim_class
from textrobust.victims.protocols import Victim


@dataclass(frozen=True)
class VictimRef:
    """A resolved victim (picklable: it is shipped to workers as it is). ``load()`` builds the victim from
    the config read at resolution, so its folder's config is read once per run."""

    kind: str
    location: str  # an absolute folder path
    config: Mapping[str, Any] = field(repr=False, compare=False, hash=False)
    digest: str  # the victim's identity: a digest of its files
    language: str | None
    labels: tuple[str, ...] | None
    family: str
    trainable: bool
    white_box: bool
    wraps_base: bool
    uses_gpu: bool
    architecture: str | None  # "transformer", "word" or None (see ``kinds.CAPABILITIES``)

    def load(self, device: str = "auto") -> Victim:
        """The victim, loaded (its class reads its own files, the config it is given)."""
        return victim_class(self.kind).load(self.location, device=device, config=self.config)

    def __call__(self) -> Victim:
        """The victim, loaded: a ``VictimRef`` is the zero-argument victim loader workers are given."""
        return self.load()

    @property
    def path(self) -> Path:
        return Path(self.location)


def resolve_victim(name: str | Path | VictimRef) -> VictimRef:
    """What ``name`` (a saved victim's folder) is; a ``VictimError`` saying what is wrong otherwise. A
    ``VictimRef`` is returned as it is."""
    from textrobust.files import directory_digest

    if isinstance(name, VictimRef):
        return name
    directory = Path(name)
    config = read_config(directory)
    kind = str(config[VICTIM_TYPE_KEY])
    victim_class(kind)  # an unknown kind fails here
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


def _uses_gpu(kind: str, directory: Path, config: Mapping[str, Any]) -> bool:
    """Whether a GPU worker runs the victim faster: its kind says, or (``None``) as its base does."""
    uses = capability(kind, "uses_gpu")
    if uses is not None:
        return bool(uses)
    try:
        base = find_base(directory, dict(config), kind, check=False)
        base_kind = str(read_config(base)[VICTIM_TYPE_KEY])
        return _uses_gpu(base_kind, base, read_config(base))
    except TextrobustError:
        return False
