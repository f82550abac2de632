"""Quantized victims: an int8 variant of a saved victim, rebuilt from its base with identical
probabilities, judged against its float base, refusing a base that changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from textrobust.cli import main
from textrobust.errors import VictimError
from textrobust.victims import load_victim
from textrobust.victims.quantized import QuantizedVictim, quantize_saved_victim


def _quantized_layers(victim: QuantizedVictim) -> int:
    return sum(".quantized." in type(m).__module__ for m in victim.base.module.modules())


def _tiny_bert_dir(tmp_path: Path) -> Path:
    from tests.victims.test_families import family_model
    from textrobust.victims.bert import BertClassifier

    model, tokenizer = family_model("bert")
    BertClassifier(model, tokenizer, ["negative", "positive"], max_length=32, device="cpu").save(
        tmp_path / "bert"
    )
    return tmp_path / "bert"


@pytest.mark.parametrize("kind", ["wordcnn", "bert"])
def test_an_int8_variant_is_judged_saved_and_rebuilt_identically(
    kind: str, tiny_wordcnn_dir: Path, small_mr, tmp_path: Path
) -> None:
    base = tiny_wordcnn_dir if kind == "wordcnn" else _tiny_bert_dir(tmp_path)
    victim = quantize_saved_victim(base, tmp_path / "int8", small_mr, n=60)
    assert _quantized_layers(victim) > 0
    e = victim.evaluation
    assert e["n"] == 60 and 0 <= e["accuracy"] <= 1 and 0 <= e["float_accuracy"] <= 1
    float_probs = load_victim(base).predict_proba(small_mr.split("test").texts[:60])
    int8_probs = victim.predict_proba(small_mr.split("test").texts[:60])
    assert e["agreement"] == float((float_probs.argmax(1) == int8_probs.argmax(1)).mean())
    assert not np.array_equal(float_probs, int8_probs)  # the weights really are int8
    config = json.loads((tmp_path / "int8" / "config.json").read_text())
    assert (
        config["precision"] == "int8"
        and config["base_type"] == kind
        and set(config) >= {"base", "base_files"}
    )
    from textrobust.victims.details import describe_saved_victim

    assert describe_saved_victim(tmp_path / "int8") == {**describe_saved_victim(base), "precision": "int8"}
    reloaded = load_victim(tmp_path / "int8")
    assert isinstance(reloaded, QuantizedVictim) and reloaded.evaluation == e
    texts = small_mr.split("test").texts[:20]
    assert np.array_equal(reloaded.predict_proba(texts), victim.predict_proba(texts))


def test_a_quantized_victim_refuses_a_base_that_changed(
    tiny_wordcnn_dir: Path, small_mr, tmp_path: Path
) -> None:
    base = tmp_path / "base"
    shutil.copytree(tiny_wordcnn_dir, base)
    quantize_saved_victim(base, tmp_path / "int8", small_mr, n=10)
    (base / "model.safetensors").write_bytes((base / "model.safetensors").read_bytes()[::-1])
    with pytest.raises(VictimError, match="changed since it was quantized"):
        load_victim(tmp_path / "int8")


def test_quantize_command_prints_both_precisions_and_the_variant_evaluates(
    tiny_wordcnn_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "int8"
    assert main(["quantize", "--victim", str(tiny_wordcnn_dir), "--out", str(out), "--n", "40"]) == 0
    printed = capsys.readouterr().out
    assert "float32" in printed and "int8" in printed and "agreement" in printed
    assert main(["evaluate", "--victim", str(out), "--n", "40"]) == 0
    assert main(["quantize", "--victim", str(out), "--out", str(tmp_path / "again"), "--n", "5"]) == 2
    assert "already quantized" in capsys.readouterr().err
