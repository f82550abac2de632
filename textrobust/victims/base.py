"""Saved victims: the folder layout (config.json, weights, vocabulary), checks on it, and ``load_victim``."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from textrobust.errors import DataError, VictimError

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
# The key in config.json that names the victim class; Hugging Face keeps its own keys beside it.
VICTIM_TYPE_KEY = "textrobust_victim"


def validate_texts(texts: Sequence[str]) -> list[str]:
    """The texts as a list; a VictimError when one is not a non-empty string."""
    if isinstance(texts, str):
        raise VictimError("predict_proba expects a list of texts, got a single string")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise VictimError(f"text {i} is a {type(text).__name__}, expected str")
        if not text.strip():
            raise VictimError(f"text {i} is empty or whitespace-only")
    return texts


def write_config(directory: Path, config: dict[str, Any]) -> None:
    (directory / CONFIG_FILE).write_text(
        json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def read_config(directory: str | Path, expected_type: str | None = None) -> dict[str, Any]:
    """The victim config of a saved victim directory; a VictimError saying what is wrong otherwise.

    With ``expected_type``, a directory holding another victim type is an error too.
    """
    directory = Path(directory)
    if not directory.exists():
        raise VictimError(f"victim directory not found: {directory}")
    if not directory.is_dir():
        raise VictimError(f"victim path is not a directory: {directory}")
    path = directory / CONFIG_FILE
    if not path.exists():
        raise VictimError(f"{directory} is not a saved victim: {CONFIG_FILE} is missing")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise VictimError(f"{path} is corrupt: {exc}") from None
    if not isinstance(config, dict) or VICTIM_TYPE_KEY not in config:
        raise VictimError(f"{path} does not name a textrobust victim type (key '{VICTIM_TYPE_KEY}')")
    if expected_type is not None and config[VICTIM_TYPE_KEY] != expected_type:
        raise VictimError(f"{directory} holds a '{config[VICTIM_TYPE_KEY]}' victim, not '{expected_type}'")
    return config


def saved_config(directory: Path, kind: str, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A saved victim's config: ``config`` when its loader was given it (the victim was resolved, its
    config read once), else read from ``directory`` and checked to hold a ``kind`` victim."""
    return dict(config) if config is not None else read_config(directory, expected_type=kind)


def require_files(directory: Path, names: Sequence[str]) -> None:
    missing = [name for name in names if not (directory / name).exists()]
    if missing:
        raise VictimError(
            f"{directory} is incomplete: missing {', '.join(missing)}; re-save or retrain the victim"
        )


def load_weights(directory: Path) -> dict[str, Any]:
    """The tensors of ``model.safetensors``; a VictimError when missing or corrupt."""
    require_files(directory, [WEIGHTS_FILE])
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(directory / WEIGHTS_FILE))
    except (SafetensorError, OSError, ValueError) as exc:
        raise VictimError(f"{directory / WEIGHTS_FILE} is corrupt: {exc}") from None


def check_victim_language(
    victim_language: str | None, dataset: str, dataset_language: str, victim: str = ""
) -> None:
    """A victim only judges text of the language it was trained on: an English victim "evaluating"
    Arabic tweets sees nothing but unknown words and reports a meaningless accuracy."""
    if victim_language and victim_language != dataset_language:
        raise DataError(
            f"victim {victim + ' ' if victim else ''}was trained on '{victim_language}' text but dataset "
            f"'{dataset}' is '{dataset_language}'; use a victim trained on this language"
        )


def victim_label_ids(
    victim_labels: Sequence[str], dataset_labels: Sequence[str], labels: Sequence[int]
) -> list[int]:
    """Dataset label ids re-expressed as the victim's label ids, matched by name."""
    victim_labels = list(victim_labels)
    missing = [name for name in dataset_labels if name not in victim_labels]
    if missing:
        raise DataError(
            f"dataset label '{missing[0]}' is not among the victim's labels {victim_labels}; "
            "use a victim trained on this dataset's labels"
        )
    return [victim_labels.index(dataset_labels[label]) for label in labels]


def base_reference(base_directory: str | Path, target: str | Path) -> dict[str, str]:
    """How a wrapper victim saved in ``target`` names the saved victim it wraps: by absolute path, by path
    relative to ``target`` (the pair may move together) and by the digest of its files (so that a changed
    base is never taken for the one the wrapper was built on)."""
    from textrobust.files import directory_digest

    base = Path(base_directory).resolve()
    where = Path(target).resolve()
    return {
        "base": str(base),
        "base_relative": os.path.relpath(base, where),
        "base_files": directory_digest(base),
    }


def find_base(directory: str | Path, config: dict[str, Any], what: str, check: bool = True) -> Path:
    """The saved victim a wrapper's ``config`` names (see ``base_reference``); a ``VictimError`` when it is
    gone or (with ``check``) changed since."""
    from textrobust.files import directory_digest

    directory = Path(directory)
    try:
        candidates = [(directory / str(config.get("base_relative", ""))).resolve(), Path(config["base"])]
        base = next((p for p in candidates if (p / CONFIG_FILE).exists()), None)
        if base is None:
            raise VictimError(f"{directory}: its base victim is gone (was {config['base']})")
        if check and directory_digest(base) != config["base_files"]:
            raise VictimError(f"{directory}: its base victim {base} changed since it was {what}")
    except (KeyError, TypeError) as exc:
        raise VictimError(f"{directory / CONFIG_FILE} is corrupt: missing {exc}") from None
    return base


def save_wrapper_config(
    directory: str | Path, config: dict[str, Any], base_directory: str | Path, base: Any = None
) -> None:
    """Save a wrapper victim (a folder with one config.json naming its base, see ``base_reference``),
    atomically. ``base``: the loaded base, whose ``label_map`` (a checkpoint's renamed classes) is kept so
    that the base loads again with the same class names (``load_base``)."""
    from textrobust.files import atomic_directory

    config = {**config, **base_reference(base_directory, directory)}
    label_map = getattr(base, "label_map", None)
    if label_map:
        config["base_label_map"] = dict(label_map)
    with atomic_directory(directory) as staging:
        (staging / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", "utf-8")
