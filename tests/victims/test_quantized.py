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
from textrobust.victims.int8 import Int8Linear
from textrobust.victims.quantized import (
    LOW_BIT_GROUP_SIZE,
    QUANTIZATION_SCHEMES,
    QuantizedVictim,
    check_precision,
    quantize_saved_victim,
    quantized_share,
)


def _quantized_layers(victim: QuantizedVictim) -> int:
    """Our int8 linear layers and linear layers holding a torchao weight."""
    import torch

    return sum(
        isinstance(m, Int8Linear)
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
        and config["scheme"] == QUANTIZATION_SCHEMES[precision]
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


@pytest.mark.parametrize("kind", ["wordcnn", "wordlstm", "bert"])
def test_an_int8_victim_gives_a_text_the_same_probabilities_alone_and_in_any_batch(
    kind: str, small_mr, tmp_path: Path
) -> None:
    """Activation scales per row: what a text is judged does not depend on the texts beside it, so an
    adversarial example found in a batch is adversarial on its own."""
    if kind == "bert":
        base = _tiny_bert_dir(tmp_path)
    else:
        from textrobust.victims.training import new_victim

        new_victim(kind, small_mr, small_mr.split("train"), seed=0, device="cpu", vectors=None).save(
            tmp_path / kind
        )
        base = tmp_path / kind
    victim = QuantizedVictim.of(base)
    texts = small_mr.split("test").texts[:24]
    together = victim.predict_proba(texts)
    alone = np.concatenate([victim.predict_proba([text]) for text in texts])
    reversed_ = victim.predict_proba(texts[::-1])[::-1]
    np.testing.assert_allclose(alone, together, rtol=0, atol=1e-6)
    np.testing.assert_allclose(reversed_, together, rtol=0, atol=1e-6)


def test_int8_rounds_lstm_weights_to_255_levels_per_row(small_mr, tmp_path: Path) -> None:
    import torch

    from textrobust.victims.training import new_victim

    lstm = new_victim("wordlstm", small_mr, small_mr.split("train"), seed=0, device="cpu", vectors=None)
    lstm.save(tmp_path / "lstm")
    float_weights = dict(lstm.module.lstm.named_parameters())
    victim = QuantizedVictim.of(tmp_path / "lstm")
    recurrent = victim.base.module.lstm
    assert type(recurrent) is torch.nn.LSTM  # float arithmetic on int8-precision weights
    for name, weight in recurrent.named_parameters():
        if name.startswith("weight"):
            assert max(len(torch.unique(row)) for row in weight) <= 255
            assert not torch.equal(weight, float_weights[name])
            step = float_weights[name].abs().amax(dim=1, keepdim=True) / 127
            assert ((weight - float_weights[name]).abs() <= step / 2 + 1e-7).all()  # round to nearest
        else:
            assert torch.equal(weight, float_weights[name])  # biases stay as trained


@pytest.mark.parametrize("precision", ["int8", "int4"])
def test_a_lora_victim_is_quantized_with_its_adapters_merged(precision: str, tmp_path: Path) -> None:
    from tests.victims.test_families import CORPUS, tiny_lora_victim

    lora = tiny_lora_victim("bert", tmp_path / "base")
    lora.save(tmp_path / "lora")
    victim = QuantizedVictim.of(tmp_path / "lora", precision=precision)
    assert _quantized_layers(victim) > 0
    assert not any("lora" in name for name, _ in victim.base.module.named_modules())
    probabilities = victim.predict_proba(CORPUS)
    np.testing.assert_allclose(probabilities, lora.predict_proba(CORPUS), atol=0.05)
    victim.save(tmp_path / "q")
    assert np.array_equal(load_victim(tmp_path / "q").predict_proba(CORPUS), probabilities)


def test_an_int8_variant_made_by_another_scheme_is_refused(tiny_wordcnn_dir: Path, tmp_path: Path) -> None:
    """Variants saved before schemes were recorded used PyTorch's dynamic quantization; rebuilding them
    with today's int8 would give other probabilities than they recorded."""
    QuantizedVictim.of(tiny_wordcnn_dir).save(tmp_path / "q")
    config = json.loads((tmp_path / "q" / "config.json").read_text())
    del config["scheme"]
    (tmp_path / "q" / "config.json").write_text(json.dumps(config))
    with pytest.raises(
        VictimError, match="another scheme .PyTorch dynamic quantization.*quantize on its base"
    ):
        load_victim(tmp_path / "q")
