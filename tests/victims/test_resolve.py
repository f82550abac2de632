"""A victim is named once: ``resolve_victim`` reads what it is into a ``VictimRef`` that every later step
takes (and that travels to workers as it is)."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from textrobust.errors import VictimError
from textrobust.files import directory_digest
from textrobust.victims import VICTIM_KINDS, capability, load_victim, resolve_victim


def test_a_saved_victim_resolves_to_what_it_is(tiny_wordcnn_dir: Path) -> None:
    ref = resolve_victim(tiny_wordcnn_dir)
    config = json.loads((tiny_wordcnn_dir / "config.json").read_text(encoding="utf-8"))
    assert ref.kind == "wordcnn" and ref.family == "wordcnn" and ref.architecture == "word"
    assert ref.location == str(tiny_wordcnn_dir.resolve())
    assert ref.labels == tuple(config["labels"]) and ref.language == config["language"]
    assert ref.digest == directory_digest(tiny_wordcnn_dir)
    assert ref.trainable and ref.white_box and not ref.wraps_base and not ref.uses_gpu
    assert resolve_victim(ref) is ref


def test_a_resolved_victim_travels_and_loads_with_identical_probabilities(tiny_wordcnn_dir: Path) -> None:
    ref = pickle.loads(pickle.dumps(resolve_victim(tiny_wordcnn_dir)))
    texts = ["a gripping , funny film", "dull and far too long"]
    assert np.array_equal(ref().predict_proba(texts), load_victim(tiny_wordcnn_dir).predict_proba(texts))


def test_capabilities_are_class_attributes_of_the_kinds() -> None:
    assert capability("bert", "uses_gpu") and capability("bert", "architecture") == "transformer"
    assert not capability("quantized", "trainable") and capability("quantized", "wraps_base")
    assert capability("smoothed", "uses_gpu") is None  # as its base
    assert {"wordcnn", "wordlstm", "bert", "smoothed", "quantized", "python", "sklearn"} <= set(
        VICTIM_KINDS.builtin_names()
    )


def test_an_unknown_kind_or_a_foreign_folder_is_a_victim_error(
    tiny_wordcnn_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(tiny_wordcnn_dir, copy)
    config = json.loads((copy / "config.json").read_text(encoding="utf-8"))
    (copy / "config.json").write_text(json.dumps({**config, "textrobust_victim": "abacus"}), encoding="utf-8")
    with pytest.raises(VictimError, match="unknown victim type 'abacus'"):
        resolve_victim(copy)
    with pytest.raises(VictimError, match="victim directory not found"):
        resolve_victim(tmp_path / "nowhere")
