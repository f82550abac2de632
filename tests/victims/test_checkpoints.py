"""Hugging Face checkpoints as victims: a sequence classifier fine-tuned with plain transformers and torch and
saved with ``save_pretrained`` (no textrobust code) is attacked and evaluated from its folder, with the same
results as the same weights saved as a textrobust ``bert`` victim; ``hf:ORG/NAME`` names a Hub model."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from tests.stand_ins import keyword_dataset, write_dataset
from tests.victims.test_families import CLS_STYLE, TINY, tiny_tokenizer
from textrobust.cli import main
from textrobust.errors import VictimError
from textrobust.files import directory_digest
from textrobust.store import Store
from textrobust.victims import load_victim, resolve_victim
from textrobust.victims.resolve import SourceOptions

TEXTS = ["the film was really good and cast", "the plot was so awful and ending"]


def fine_tune_with_plain_transformers(folder: Path, id2label: dict[int, str]) -> float:
    """A tiny BERT sequence classifier trained on the keyword data with a plain torch loop and saved with
    ``save_pretrained``, as a team outside textrobust would; its test accuracy."""
    import transformers as hf

    data = keyword_dataset()
    train, test = data.split("train"), data.split("test")
    tokenizer = tiny_tokenizer(CLS_STYLE, list(train.texts))
    config = hf.BertConfig(**TINY, max_position_embeddings=64, vocab_size=len(tokenizer), num_labels=2,
                           pad_token_id=tokenizer.pad_token_id, id2label=id2label,
                           label2id={name: i for i, name in id2label.items()})  # fmt: skip
    torch.manual_seed(0)
    model = hf.AutoModelForSequenceClassification.from_config(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _epoch in range(3):
        for start in range(0, len(train.texts), 32):
            batch = tokenizer(list(train.texts[start : start + 32]), padding=True, return_tensors="pt")
            gold = torch.tensor(list(train.labels[start : start + 32]))
            loss = model(**batch, labels=gold).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    model.eval()
    with torch.no_grad():
        logits = model(**tokenizer(list(test.texts), padding=True, return_tensors="pt")).logits
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return float((logits.argmax(-1) == torch.tensor(list(test.labels))).float().mean())


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The plain-transformers checkpoint, the same weights saved as a textrobust ``bert`` victim, and the
    keyword data as a CSV file."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from textrobust.victims.bert import BertClassifier

    folder = tmp_path_factory.mktemp("checkpoints")
    data = keyword_dataset()
    accuracy = fine_tune_with_plain_transformers(folder / "hf", dict(enumerate(data.label_names)))
    assert accuracy > 0.9, accuracy
    bert = BertClassifier(
        AutoModelForSequenceClassification.from_pretrained(folder / "hf"),
        AutoTokenizer.from_pretrained(folder / "hf"),
        list(data.label_names),
        device="cpu",
    )
    bert.save(folder / "bert")
    return {
        "hf": folder / "hf",
        "bert": folder / "bert",
        "data": write_dataset(data, folder / "keywords.csv"),
    }


def test_a_save_pretrained_folder_is_a_checkpoint_victim_like_the_same_weights_in_bert(checkpoint) -> None:
    ref = resolve_victim(checkpoint["hf"])
    assert ref.kind == "checkpoint" and ref.family == "bert" and ref.architecture == "transformer"
    assert ref.labels == ("negative", "positive") and ref.language is None
    assert ref.white_box and ref.uses_gpu and not ref.trainable and not ref.wraps_base
    assert ref.digest == directory_digest(checkpoint["hf"]) and ref.location == str(
        checkpoint["hf"].resolve()
    )
    victim, bert = ref.load(device="cpu"), load_victim(checkpoint["bert"])
    assert np.array_equal(victim.predict_proba(TEXTS), bert.predict_proba(TEXTS))
    spans = [(0, 3), (4, 8), (9, 12), (13, 19), (20, 24)]
    assert np.array_equal(
        victim.word_gradient_norms(TEXTS[0], spans, 1), bert.word_gradient_norms(TEXTS[0], spans, 1)
    )
    shipped = pickle.loads(pickle.dumps(ref))  # a worker in another process loads it from the folder
    assert np.array_equal(shipped.load(device="cpu").predict_proba(TEXTS), bert.predict_proba(TEXTS))


@pytest.mark.parametrize("recipe", ["textfooler", "pwws"])
def test_a_checkpoint_is_attacked_as_the_same_weights_saved_by_textrobust(
    recipe: str, checkpoint, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if recipe == "pwws":
        pytest.importorskip("spacy", reason="PWWS tags parts of speech with spaCy")
    rows, victims = {}, {}
    for name in ("hf", "bert"):
        store = tmp_path / f"{name}.sqlite"
        argv = [
            "attack",
            "--victim",
            str(checkpoint[name]),
            "--recipe",
            recipe,
            "--dataset",
            str(checkpoint["data"]),
        ]
        argv += ["--n", "10", "--no-progress", "--store", str(store)]
        assert main(argv) == 0, capsys.readouterr().err
        with Store(store) as opened:
            (run,) = opened.runs()
            rows[name] = [(r.status, r.adversarial_text, r.queries) for r in opened.results(run.id)]
            victims[name] = run.parameters.victim
    assert rows["hf"] == rows["bert"]
    assert any(status == "success" for status, _text, _queries in rows["hf"]), rows
    assert victims["hf"].type == "checkpoint" and victims["bert"].type == "bert"
    details = victims["hf"].details
    assert details["family"] == "bert" and details["architecture"] == "transformer"
    assert details["parameters"] == victims["bert"].details["parameters"] and details["fine_tuning"] is None


def test_a_checkpoint_is_evaluated_like_the_bert_victim(
    checkpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = []
    for name in ("hf", "bert"):
        assert (
            main(
                [
                    "evaluate",
                    "--victim",
                    str(checkpoint[name]),
                    "--dataset",
                    str(checkpoint["data"]),
                    "--allow-overlap",
                ]
            )
            == 0
        )
        rows.append(capsys.readouterr().out.split("\n")[-3])  # the table's row
    assert rows[0].split("│")[5:7] == rows[1].split("│")[5:7]  # n and accuracy


def test_unnamed_classes_need_a_label_map(
    checkpoint, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unnamed = tmp_path / "unnamed"
    shutil.copytree(checkpoint["hf"], unnamed)
    config = json.loads((unnamed / "config.json").read_text(encoding="utf-8"))
    del config["id2label"], config["label2id"]  # as transformers saves its default names, LABEL_0 and LABEL_1
    (unnamed / "config.json").write_text(json.dumps(config), encoding="utf-8")
    data = str(checkpoint["data"])
    assert main(["evaluate", "--victim", str(unnamed), "--dataset", data]) == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1 and "its classes are unnamed (LABEL_0, LABEL_1); name them: --label-map" in err
    )
    mapping = "LABEL_0=negative,LABEL_1=positive"
    assert (
        main(
            [
                "evaluate",
                "--victim",
                str(unnamed),
                "--dataset",
                data,
                "--label-map",
                mapping,
                "--allow-overlap",
            ]
        )
        == 0
    )
    ref = resolve_victim(unnamed, SourceOptions(label_map={"LABEL_0": "negative", "LABEL_1": "positive"}))
    assert ref.labels == ("negative", "positive") and ref.config["label_map"] == {
        "LABEL_0": "negative",
        "LABEL_1": "positive",
    }
    assert pickle.loads(pickle.dumps(ref)).load(device="cpu").labels == ["negative", "positive"]


def _broken(folder: Path, problem: str) -> None:
    config = folder / "config.json"
    if problem == "corrupt config":
        config.write_text("{not json", encoding="utf-8")
    elif problem == "unknown model type":
        config.write_text(
            json.dumps({**json.loads(config.read_text()), "model_type": "abacus"}), encoding="utf-8"
        )
    elif problem == "not a classifier":
        config.write_text(
            json.dumps({**json.loads(config.read_text()), "architectures": ["BertModel"]}), encoding="utf-8"
        )
    elif problem == "no weights":
        (folder / "model.safetensors").unlink()
    elif problem == "no tokenizer":
        for name in ("tokenizer.json", "tokenizer_config.json"):
            (folder / name).unlink()
    elif problem == "corrupt weights":
        (folder / "model.safetensors").write_bytes(b"not safetensors")


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("corrupt config", "config.json is corrupt"),
        ("unknown model type", "its config.json is corrupt"),
        ("not a classifier", "a Hugging Face BertModel, not a sequence classifier"),
        ("no weights", "is incomplete: no weights (model.safetensors or pytorch_model.bin)"),
        ("no tokenizer", "is incomplete: no tokenizer files"),
    ],
)
def test_a_broken_checkpoint_folder_is_a_one_line_error_before_anything_is_written(
    problem: str, message: str, checkpoint, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(checkpoint["hf"], folder)
    _broken(folder, problem)
    store = tmp_path / "store.sqlite"
    argv = ["attack", "--victim", str(folder), "--recipe", "textfooler", "--dataset", str(checkpoint["data"])]
    assert main([*argv, "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert not store.exists()


def test_corrupt_weights_are_a_one_line_error_when_loaded(checkpoint, tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(checkpoint["hf"], folder)
    _broken(folder, "corrupt weights")
    with pytest.raises(VictimError, match="cannot load the checkpoint") as raised:
        resolve_victim(folder).load(device="cpu")
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "name", ["hf:textrobust-tests/no-such-model", "hf:textrobust-tests/no-such-model@v1"]
)
def test_a_hub_model_out_of_reach_is_a_one_line_error(name: str, checkpoint, capsys) -> None:
    """HF_HUB_OFFLINE=1 (tests/conftest.py): transformers' own loading path, with nothing in the cache."""
    with pytest.raises(VictimError, match="cannot load from the Hugging Face Hub"):
        resolve_victim(name)
    assert main(["evaluate", "--victim", name, "--dataset", str(checkpoint["data"])]) == 2
    err = capsys.readouterr().err
    expected = f"error: {name}: cannot load from the Hugging Face Hub (offline, or no such model): "
    assert err.startswith(expected) and err.count("\n") == 1, err


def test_a_hub_name_without_a_model_is_refused() -> None:
    for name in ("hf:", "hf:org/name@"):
        with pytest.raises(VictimError, match="names no model"):
            resolve_victim(name)


def test_a_saved_checkpoint_victim_reloads_as_one(checkpoint, tmp_path: Path) -> None:
    from textrobust.victims.checkpoint import CheckpointClassifier

    victim = resolve_victim(checkpoint["hf"]).load(device="cpu")
    unresolved = CheckpointClassifier.load(checkpoint["hf"], device="cpu")  # resolved inside, as load_victim
    assert np.array_equal(unresolved.predict_proba(TEXTS), victim.predict_proba(TEXTS))
    victim.save(tmp_path / "copy")
    ref = resolve_victim(tmp_path / "copy")
    assert ref.kind == "checkpoint" and ref.labels == ("negative", "positive")
    assert np.array_equal(ref.load(device="cpu").predict_proba(TEXTS), victim.predict_proba(TEXTS))


@pytest.mark.parametrize("family", ["roberta", "distilbert", "deberta-v2"])
def test_a_checkpoint_of_another_family_predicts_as_its_bert_victim(family: str, tmp_path: Path) -> None:
    """Positions after the padding index (RoBERTa), no token types (DistilBERT), relative attention
    (DeBERTa): the family differences are the bert victim's, so the two agree."""
    from tests.victims.test_families import family_model
    from textrobust.victims.bert import BertClassifier

    model, tokenizer = family_model(family)  # random weights, transformers' default names LABEL_0, LABEL_1
    model.save_pretrained(tmp_path / "hf")
    tokenizer.save_pretrained(tmp_path / "hf")
    names = {"LABEL_0": "negative", "LABEL_1": "positive"}
    ref = resolve_victim(tmp_path / "hf", SourceOptions(label_map=names))
    assert ref.kind == "checkpoint" and ref.family == family.replace("-v3", "-v2")
    BertClassifier(model, tokenizer, ["negative", "positive"], device="cpu").save(tmp_path / "bert")
    texts = ["a gorgeous , moving film with fine acting", "an unseen word : zyzzyva !"]
    checkpoint = ref.load(device="cpu")
    assert np.array_equal(
        checkpoint.predict_proba(texts), load_victim(tmp_path / "bert").predict_proba(texts)
    )
