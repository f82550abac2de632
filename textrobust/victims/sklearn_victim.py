"""scikit-learn victims: ``sklearn:path/to/model.skops`` (or ``.pkl`` / ``.joblib``) names a fitted pipeline
on raw texts with ``predict_proba`` (a ``TfidfVectorizer`` + ``LogisticRegression``, say), its classes its
``classes_``.

A ``.skops`` file is loaded with skops, the secure format, and only when every type in it is one skops
trusts by default (scikit-learn, numpy, scipy); anything else is refused with the list of its untrusted
types, never trusted silently. A pickle (``.pkl``, ``.pickle``, ``.joblib``) runs code when it is loaded,
so it is loaded only with ``--trust-pickle``. The victim's identity in the store is the digest of the file.

skops and scikit-learn are imported only when an ``sklearn:`` victim is used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from textrobust.errors import TextrobustError, VictimError
from textrobust.files import file_digest
from textrobust.victims.base import VICTIM_TYPE_KEY, validate_texts
from textrobust.victims.resolve import SourceOptions, VictimRef, apply_label_map, resolved_config

PREFIX = "sklearn:"
KIND = "sklearn"
SKOPS_SUFFIXES = (".skops",)
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
INSTALL_HINT = 'pip install "textrobust[sklearn]"'


def _format(path: Path, name: str) -> str:
    """``"skops"`` or ``"pickle"``, by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix in SKOPS_SUFFIXES:
        return "skops"
    if suffix in PICKLE_SUFFIXES:
        return "pickle"
    raise VictimError(f"{name}: expected a .skops, .pkl or .joblib file, got '{path.suffix or path.name}'")


def _load_skops(path: Path, name: str) -> Any:
    """The object in a skops file, when every type in it is one skops trusts by default."""
    try:
        import skops.io as sio
    except ImportError:
        raise VictimError(f"{name}: loading a .skops file needs skops: {INSTALL_HINT}") from None
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # a corrupt or foreign file: say which error, on one line
        raise VictimError(f"{name}: not a readable skops file: {type(exc).__name__}: {exc}") from None
    if untrusted:
        raise VictimError(
            f"{name}: the file holds types skops does not trust by default, refused: {', '.join(untrusted)}"
        )
    try:
        return sio.load(path)
    except Exception as exc:
        raise VictimError(f"{name}: skops cannot load it: {type(exc).__name__}: {exc}") from None


def _load_pickle(path: Path, name: str, trusted: bool) -> Any:
    """The object in a pickle or joblib file, only when the user trusts it (loading runs its code)."""
    if not trusted:
        raise VictimError(
            f"{name}: loading a pickle runs code in it; pass --trust-pickle if you trust this file, "
            "or save the model with skops.io.dump as a .skops file"
        )
    try:
        import joblib  # a dependency of scikit-learn; it reads plain pickles too
    except ImportError:
        raise VictimError(f"{name}: loading a pickled pipeline needs scikit-learn: {INSTALL_HINT}") from None
    try:
        return joblib.load(path)
    except ModuleNotFoundError as exc:
        raise VictimError(f"{name}: the pickle needs a missing module ({exc.name}): {INSTALL_HINT}") from None
    except Exception as exc:
        raise VictimError(f"{name}: the pickle does not load: {type(exc).__name__}: {exc}") from None


def load_model(path: Path, name: str, trust_pickle: bool) -> Any:
    """The fitted model in ``path``, checked to have ``predict_proba`` and two or more ``classes_``."""
    if not path.is_file():
        raise VictimError(f"{name}: file not found")
    if _format(path, name) == "skops":
        model = _load_skops(path, name)
    else:
        model = _load_pickle(path, name, trust_pickle)
    if not callable(getattr(model, "predict_proba", None)):
        raise VictimError(f"{name}: the file's {type(model).__name__} has no predict_proba")
    classes = getattr(model, "classes_", None)
    if classes is None or len(classes) < 2:
        raise VictimError(f"{name}: the file's {type(model).__name__} is not fitted on two or more classes")
    return model


def _is_number(label: str) -> bool:
    return label.lstrip("-").isdigit()


def class_names(model: Any, label_map: Mapping[str, str] | None, name: str) -> tuple[str, ...]:
    """The model's ``classes_`` as strings, renamed by ``label_map``; classes that are only numbers (a model
    trained on label ids) need a map, since no dataset's label names can be matched to them."""
    labels = tuple(str(label) for label in model.classes_)
    if not label_map and all(_is_number(label) for label in labels):
        example = ",".join(f"{label}=NAME" for label in labels[:2])
        raise VictimError(
            f"{name}: its classes are numbers ({', '.join(labels)}); name them: --label-map {example}"
        )
    return apply_label_map(labels, label_map, name)


def _family(model: Any) -> str:
    """The model's steps' class names (``TfidfVectorizer+LogisticRegression``), or its class name."""
    steps = getattr(model, "steps", None)
    if isinstance(steps, list) and steps:
        return "+".join(type(step).__name__ for _name, step in steps)
    return type(model).__name__


class SklearnVictim:
    """A fitted scikit-learn pipeline on raw texts behind the victim door (the kind of ``sklearn:`` names)."""

    victim_type = KIND
    trainable = False
    white_box = False
    wraps_base = False
    uses_gpu = False
    architecture = None

    def __init__(self, model: Any, labels: Sequence[str]):
        self.model = model
        self.labels = list(labels)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """The pipeline's class probabilities for ``texts``, one float64 row per text."""
        texts = validate_texts(texts)
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float64)
        return np.asarray(self.model.predict_proba(texts), dtype=np.float64)

    @classmethod
    def load(
        cls, location: str | Path, device: str = "auto", config: Mapping[str, Any] | None = None
    ) -> SklearnVictim:
        """The pipeline loaded from its file again (a worker in another process), with the labels resolved."""
        config = resolved_config(location, config, "an sklearn victim")
        path = Path(str(config["path"]))
        model = load_model(path, f"{PREFIX}{path}", bool(config.get("trust_pickle")))
        return cls(model, config["labels"])


def resolve_sklearn(rest: str, options: SourceOptions) -> VictimRef:
    """The ``VictimRef`` of ``sklearn:FILE``: the file is loaded now, so its classes are known (and checked)
    before any work; the victim is handed to the first ``load()`` in this process."""
    name = f"{PREFIX}{rest}"
    if not rest:
        raise VictimError(f"'{name}' names no file: write {PREFIX}path/to/model.skops")
    path = Path(rest).expanduser().resolve()
    try:
        model = load_model(path, name, options.trust_pickle)
    except TextrobustError:
        raise
    except OSError as exc:
        raise VictimError(f"{name}: cannot read it: {exc}") from None
    labels = class_names(model, options.label_map, name)
    config = {
        VICTIM_TYPE_KEY: KIND,
        "path": str(path),
        "format": _format(path, name),
        "trust_pickle": options.trust_pickle,  # the user's word, carried to workers that load the file again
        "labels": list(labels),
    }
    return VictimRef(
        kind=KIND,
        location=f"{PREFIX}{path}",
        config=config,
        digest=file_digest(path),
        language=None,  # a pipeline does not say which language it reads
        labels=labels,
        family=_family(model),
        trainable=SklearnVictim.trainable,
        white_box=SklearnVictim.white_box,
        wraps_base=SklearnVictim.wraps_base,
        uses_gpu=SklearnVictim.uses_gpu,
        architecture=SklearnVictim.architecture,
        prepared=SklearnVictim(model, labels),
    )
