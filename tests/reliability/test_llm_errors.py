# ruff: noqa: E501 - one command line per row reads best
"""Bad input to ``llm:`` victims: one line on stderr that begins ``error:`` and says what is wrong, a non-zero
exit, no traceback, and nothing written in the working folder (no store)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.test_cli_errors import assert_one_error_line
from tests.stand_ins import keyword_dataset, write_dataset
from tests.victims.tiny_llm import tiny_causal_lm

VERBALIZER = ["--verbalizer", 'negative="negative",positive="positive"']
ATTACK = ["attack", "--recipe", "pwws", "--n", "2", "--dataset", "data.csv", "--store", "runs.sqlite"]

# (case id, command line, what the error line must say)
CASES: list[tuple[str, list[str], str]] = [
    ("llm: GGUF file missing", [*ATTACK, "--victim", "llm:nowhere.gguf", *VERBALIZER], "llm:nowhere.gguf: file not found"),
    ("llm: folder missing", ["evaluate", "--victim", "llm:./no-such-model", *VERBALIZER], "file not found"),
    ("llm: Hub name offline", [*ATTACK, "--victim", "llm:no-such-org/no-such-model", *VERBALIZER], "cannot load it from the Hugging Face Hub"),
    ("llm: Hub name offline says how to pass a local model", ["evaluate", "--victim", "llm:no-such-org/no-such-model", *VERBALIZER], "pass a local folder (save_pretrained) or a GGUF file"),
    ("llm: not a GGUF file", [*ATTACK, "--victim", "llm:notes.txt", *VERBALIZER], "expected a .gguf file or a model folder"),
    ("llm: a damaged GGUF file", [*ATTACK, "--victim", "llm:broken.gguf", *VERBALIZER], "llm:broken.gguf: cannot load the model"),
    ("llm: a folder without config.json", [*ATTACK, "--victim", "llm:empty-folder", *VERBALIZER], "has no config.json"),
    ("llm: a sequence classifier, not a causal LM", [*ATTACK, "--victim", "llm:classifier", *VERBALIZER], "not a causal LM"),
    ("llm: no verbalizer", [*ATTACK, "--victim", "llm:tiny"], "classes are the classes --verbalizer names"),
    ("llm: verbalizer naming a class the data lacks", [*ATTACK, "--victim", "llm:tiny", "--verbalizer", 'negative="bad",neutral="so so"'], "dataset label 'positive' is not among the victim's labels"),
    ("llm: verbalizer naming one class", [*ATTACK, "--victim", "llm:tiny", "--verbalizer", 'negative="bad"'], "names one class"),
    ("llm: verbalizer not pairs", [*ATTACK, "--victim", "llm:tiny", "--verbalizer", "negative"], '--verbalizer must be CLASS="answer" pairs'),
    ("llm: verbalizer with two classes answering alike", [*ATTACK, "--victim", "llm:tiny", "--verbalizer", "negative=bad,positive=bad"], "the same answer"),
    ("llm: template without {text}", [*ATTACK, "--victim", "llm:tiny", *VERBALIZER, "--prompt", "Is it {labels}?"], "--prompt must contain {text}"),
    ("llm: template with an unknown field", [*ATTACK, "--victim", "llm:tiny", *VERBALIZER, "--prompt", "{text} {mood}"], "unknown field {mood}"),
    ("llm: --label-map", [*ATTACK, "--victim", "llm:tiny", *VERBALIZER, "--label-map", "negative=neg"], "named by --verbalizer, not --label-map"),
    ("llm: no model named", ["evaluate", "--victim", "llm:", *VERBALIZER], "names no model"),
]  # fmt: skip


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import LlamaConfig, LlamaForSequenceClassification

    root = tmp_path_factory.mktemp("llm-errors")
    tiny_causal_lm(root / "tiny")
    write_dataset(keyword_dataset(60), root / "data.csv")
    (root / "empty-folder").mkdir()
    (root / "notes.txt").write_text("not a model\n", encoding="utf-8")
    (root / "broken.gguf").write_bytes(b"GGUF" + b"\x00" * 60)
    config = LlamaConfig(vocab_size=50, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, num_labels=2)  # fmt: skip
    LlamaForSequenceClassification(config).save_pretrained(root / "classifier")
    return root


@pytest.mark.parametrize(("case", "argv", "says"), CASES, ids=[case for case, _, _ in CASES])
def test_bad_llm_input_is_one_error_line_and_writes_nothing(
    case: str, argv: list[str], says: str, workspace: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("TEXTROBUST_CACHE", str(tmp_path / "cache"))  # a damaged GGUF is never cached
    assert_one_error_line(case, argv, workspace, capsys, says)
    cache = tmp_path / "cache"
    assert not cache.exists() or not any((cache / "llm-gguf").glob("broken-*")), "a damaged GGUF was cached"
