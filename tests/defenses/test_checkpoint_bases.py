"""Checkpoints trained elsewhere are first-class bases: a ``save_pretrained`` folder is co-tuned, augmented,
trained in embedding space, smoothed and quantized like a textrobust victim; the defended folder names its
base, and a checkpoint whose classes needed ``--label-map`` keeps the map in every variant made of it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from tests.defenses.test_defenses import defend_with
from tests.stand_ins import NEGATIVE, NOUNS, POSITIVE, keyword_dataset
from tests.victims.test_checkpoints import TEXTS
from tests.victims.test_checkpoints import checkpoint as checkpoint  # noqa: F401 - a fixture
from textrobust.cli import main
from textrobust.defenses.defend import defense_of
from textrobust.errors import ParameterError
from textrobust.files import directory_digest
from textrobust.store import Store
from textrobust.victims import load_victim, resolve_victim
from textrobust.victims.resolve import SourceOptions

LABEL_MAP = "LABEL_0=negative,LABEL_1=positive"


@pytest.fixture(scope="module")
def unnamed(checkpoint: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkpoint as transformers saves one whose classes were never named (LABEL_0, LABEL_1)."""
    folder = tmp_path_factory.mktemp("unnamed") / "ckpt"
    shutil.copytree(checkpoint["hf"], folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    del config["id2label"], config["label2id"]
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def vectors(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny word-vector file for smoothing's neighbours."""
    path = tmp_path_factory.mktemp("vectors") / "vectors.txt"
    rows = [f"{w} 1.0 0.1 {i / 10:.1f}" for i, w in enumerate(POSITIVE)]
    rows += [f"{w} -1.0 0.1 {i / 10:.1f}" for i, w in enumerate(NEGATIVE)]
    rows += [f"{w} 0.0 1.0 {i / 10:.1f}" for i, w in enumerate(NOUNS)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("method", "keys"),
    [
        ("co-tune", {"epochs": 2, "adv_share": 0.2, "max_train_examples": 96}),
        ("augment", {"epochs": 1, "adv_share": 0.2, "max_train_examples": 96}),
        ("embedding", {"epochs": 1, "steps": 1, "max_train_examples": 96}),
    ],
)
def test_a_checkpoint_is_trained_further_by_a_defense_from_its_own_weights(
    method: str,
    keys: dict[str, Any],
    checkpoint: dict[str, Any],
    tmp_path: Path,
) -> None:
    out = tmp_path / method
    outcome = defend_with(checkpoint["hf"], keyword_dataset(), out, method, **keys)
    assert outcome.victim_type == "bert"  # trained further as a bert victim whose weights start at the base's
    defended, base = resolve_victim(out), resolve_victim(checkpoint["hf"])
    assert defended.kind == "bert" and defended.labels == base.labels
    record = defense_of(out)
    assert record["method"] == method and record["base"] == str(checkpoint["hf"].resolve())
    training = dict(defended.config["training"])
    assert training["base_fingerprint"] == directory_digest(checkpoint["hf"])
    moved = load_victim(out).module.state_dict()
    start = base.load(device="cpu").module.state_dict()
    assert any(not torch.equal(moved[name], start[name]) for name in start)
    # It started from the checkpoint, not from a new head: it still reads the keyword task.
    data = keyword_dataset().split("test")
    predicted = load_victim(out).predict_proba(list(data.texts)).argmax(axis=1)
    assert float(np.mean(predicted == np.asarray(data.labels))) > 0.85


def test_defend_co_tune_runs_on_a_checkpoint_from_the_command_line_with_a_label_map(
    unnamed: Path,
    checkpoint: dict[str, Any],
    tmp_path: Path,
    capsys,
) -> None:
    out = tmp_path / "co-tuned"
    data = str(checkpoint["data"])
    argv = ["defend", "--victim", str(unnamed), "--label-map", LABEL_MAP, "--dataset", data,
            "--method", "co-tune", "--recipe", "pwws", "--epochs", "2", "--adv-share", "0.1",
            "--max-train", "64", "--out", str(out), "--no-evaluate", "--no-progress"]  # fmt: skip
    pytest.importorskip("spacy", reason="PWWS tags parts of speech with spaCy")
    assert main(argv) == 0, capsys.readouterr().err
    defended = resolve_victim(out)
    assert defended.kind == "bert" and defended.labels == ("negative", "positive")
    assert defense_of(out)["base"] == str(unnamed.resolve())
    capsys.readouterr()
    without = [arg for arg in argv if arg not in ("--label-map", LABEL_MAP)]
    assert main([*without[:-2], "--overwrite", "--no-evaluate"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--label-map" in err


def test_a_smoothed_checkpoint_keeps_its_label_map_and_is_judged_against_its_base(
    unnamed: Path,
    checkpoint: dict[str, Any],
    vectors: Path,
    tmp_path: Path,
    capsys,
) -> None:
    pytest.importorskip("spacy", reason="PWWS tags parts of speech with spaCy")
    out, store = tmp_path / "smoothed", tmp_path / "runs.sqlite"
    data = str(checkpoint["data"])
    argv = ["defend", "--victim", str(unnamed), "--label-map", LABEL_MAP, "--dataset", data,
            "--method", "smooth", "--copies", "3", "--neighbours", str(vectors), "--out", str(out),
            "--eval-recipes", "pwws", "--n", "4", "--store", str(store), "--no-progress"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    smoothed = load_victim(out)  # the base loads again with the classes the user named
    assert smoothed.labels == ["negative", "positive"]
    assert json.loads((out / "config.json").read_text(encoding="utf-8"))["base_label_map"] == {
        "LABEL_0": "negative",
        "LABEL_1": "positive",
    }
    with Store(store) as opened:
        (defense,) = opened.defenses()
        assert defense.info.base.type == "checkpoint" and defense.info.defended.type == "smoothed"


def test_a_checkpoint_is_quantized_from_the_command_line(
    checkpoint: dict[str, Any],
    tmp_path: Path,
    capsys,
) -> None:
    out = tmp_path / "int8"
    data = str(checkpoint["data"])
    argv = ["quantize", "--victim", str(checkpoint["hf"]), "--out", str(out), "--dataset", data,
            "--n", "40"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    assert "int8 variant" in capsys.readouterr().out
    variant, base = load_victim(out), load_victim(checkpoint["hf"])
    assert variant.labels == base.labels
    agreement = np.mean(variant.predict_proba(TEXTS).argmax(1) == base.predict_proba(TEXTS).argmax(1))
    assert agreement == 1.0


def test_a_victim_not_saved_in_a_folder_cannot_be_a_defended_base(tmp_path: Path) -> None:
    factory = tmp_path / "team_model.py"
    factory.write_text(
        "import numpy as np\n"
        "class Model:\n"
        "    labels = ['negative', 'positive']\n"
        "    def predict_proba(self, texts):\n"
        "        return np.full((len(texts), 2), 0.5)\n"
        "def make():\n"
        "    return Model()\n",
        encoding="utf-8",
    )
    from textrobust.defenses.defend import defend

    with pytest.raises(ParameterError, match="names its base by folder"):
        defend(
            resolve_victim(f"py:{factory}:make", SourceOptions()), keyword_dataset(), tmp_path / "x", "smooth"
        )
    assert not (tmp_path / "x").exists()
