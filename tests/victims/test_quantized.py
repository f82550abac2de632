"""Quantized victims: an int8, int4 or int2 variant of a saved victim, rebuilt from its base with identical
probabilities, judged against its float base, refusing a base that changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from textrobust.cli import main
from textrobust.errors import ParameterError, VictimError
from textrobust.victims import load_victim
from textrobust.victims.quantized import (
    LOW_BIT_GROUP_SIZE,
    QuantizedVictim,
    check_precision,
    quantize_saved_victim,
    quantized_share,
)


def _quantized_layers(victim: QuantizedVictim) -> int:
    """torch.ao's dynamic layers (classes of their own) and linear layers holding a torchao weight."""
    import torch

    return sum(
        ".quantized." in type(m).__module__
        or type(getattr(m, "weight", None)).__module__.startswith("torchao")
        and isinstance(m, torch.nn.Linear)
        for m in victim.base.module.modules()
    )


def _tiny_bert_dir(tmp_path: Path) -> Path:
    from tests.victims.test_families import family_model
    from textrobust.victims.bert import BertClassifier

    model, tokenizer = family_model("bert")
    BertClassifier(model, tokenizer, ["negative", "positive"], max_length=32, device="cpu").save(
        tmp_path / "bert"
    )
    return tmp_path / "bert"


@pytest.mark.parametrize(
    ("kind", "precision"),
    [("wordcnn", "int8"), ("bert", "int8"), ("wordcnn", "int4"), ("bert", "int4"), ("bert", "int2")],
)
def test_a_quantized_variant_is_judged_saved_and_rebuilt_identically(
    kind: str, precision: str, tiny_wordcnn_dir: Path, small_mr, tmp_path: Path
) -> None:
    base = tiny_wordcnn_dir if kind == "wordcnn" else _tiny_bert_dir(tmp_path)
    out = tmp_path / precision
    victim = quantize_saved_victim(base, out, small_mr, n=60, precision=precision)
    assert _quantized_layers(victim) > 0
    e = victim.evaluation
    assert e["n"] == 60 and 0 <= e["accuracy"] <= 1 and 0 <= e["float_accuracy"] <= 1
    float_probs = load_victim(base).predict_proba(small_mr.split("test").texts[:60])
    quantized_probs = victim.predict_proba(small_mr.split("test").texts[:60])
    assert e["agreement"] == float((float_probs.argmax(1) == quantized_probs.argmax(1)).mean())
    assert not np.array_equal(float_probs, quantized_probs)  # the weights really are quantized
    assert e["quantized_share"] == pytest.approx(quantized_share(load_victim(base).module, precision))
    config = json.loads((out / "config.json").read_text())
    assert (
        config["precision"] == precision
        and config["base_type"] == kind
        and set(config) >= {"base", "base_files"}
    )
    from textrobust.victims.details import describe_saved_victim

    assert describe_saved_victim(out) == {**describe_saved_victim(base), "precision": precision}
    reloaded = load_victim(out)
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


@pytest.mark.parametrize(("precision", "bits"), [("int4", 4), ("int2", 2)])
def test_low_bit_weights_take_at_most_two_to_the_bits_values_per_group(
    precision: str, bits: int, tmp_path: Path, small_mr
) -> None:
    victim = QuantizedVictim.of(_tiny_bert_dir(tmp_path), precision=precision)
    import torch

    layers = [m for m in victim.base.module.modules() if isinstance(m, torch.nn.Linear)]
    assert layers and all(type(m.weight).__module__.startswith("torchao") for m in layers)
    for layer in layers:
        weight = layer.weight.dequantize()
        group = LOW_BIT_GROUP_SIZE if layer.in_features % LOW_BIT_GROUP_SIZE == 0 else layer.in_features
        groups = weight.reshape(-1, group)
        assert max(len(torch.unique(g)) for g in groups) <= 2**bits


def test_the_quantized_share_counts_lstm_weights_at_int8_only(small_mr, tmp_path: Path) -> None:
    from textrobust.victims.training import new_victim

    lstm = new_victim("wordlstm", small_mr, small_mr.split("train"), seed=0, device="cpu", vectors=None)
    int8, int4 = quantized_share(lstm.module, "int8"), quantized_share(lstm.module, "int4")
    assert 0 < int4 < int8 < 1  # the recurrent weights count at int8 only; embeddings never
    lstm.save(tmp_path / "lstm")
    victim = QuantizedVictim.of(tmp_path / "lstm", precision="int4")
    assert type(victim.base.module.lstm).__module__.startswith("torch.nn")  # left float at int4


def test_an_unknown_precision_is_refused_before_and_after_saving(
    tiny_wordcnn_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(ParameterError, match="int8, int4, int2"):
        check_precision("int3")
    QuantizedVictim.of(tiny_wordcnn_dir).save(tmp_path / "q")
    config = json.loads((tmp_path / "q" / "config.json").read_text())
    (tmp_path / "q" / "config.json").write_text(json.dumps({**config, "precision": "fp3"}))
    with pytest.raises(VictimError, match="names precision 'fp3'"):
        load_victim(tmp_path / "q")


def test_low_bits_without_torchao_is_one_line_naming_the_extra(
    tiny_wordcnn_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torchao" else find_spec(name, *a)
    )
    out = tmp_path / "int4"
    argv = ["quantize", "--victim", str(tiny_wordcnn_dir), "--out", str(out), "--precision", "int4"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ['error: int4 and int2 victims need torchao: pip install "textrobust[lowbit]"']
    assert not out.exists()
