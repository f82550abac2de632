"""``openai:MODEL@BASE_URL`` victims: an LLM behind an OpenAI-compatible server as a zero-shot classifier.

The parsing of names and answers is checked on answers as servers write them; the victim itself against a
real server, llama.cpp's ``llama-server`` serving SmolLM2-135M-Instruct (``tests.llama_server``), and, for
what that server cannot be made to do (no log-probabilities, no choices, a key to check), a stand-in
endpoint that is not a model.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from tests.llama_server import ChatStandIn, LlamaServer, chat_stand_in, llama_server, llama_server_float32  # noqa: F401
from textrobust.cli import main
from textrobust.errors import EndpointError, ParameterError, VictimError
from textrobust.store import Store
from textrobust.victims import resolve_victim
from textrobust.victims.prompting import DEFAULT_PROMPT, DEFAULT_SYSTEM, PromptOptions, render
from textrobust.victims.remote import openai
from textrobust.victims.remote.openai import Asking, Endpoint, parse_name
from textrobust.victims.remote.options import RemoteOptions
from textrobust.victims.resolve import SourceOptions

VERBALIZER = 'negative="negative",positive="positive"'
# Sentences SmolLM2-135M-Instruct classifies right with the default prompt, by a clear margin.
OBVIOUS = [
    ("A wonderful, moving film.", "positive"),
    ("A dull, tedious mess.", "negative"),
    ("I loved every minute of it, a triumph.", "positive"),
    ("Terrible acting and a boring, stupid plot.", "negative"),
    ("The best movie of the year: brilliant and funny.", "positive"),
    ("The worst film I have ever seen.", "negative"),
]


def _options(tmp_path: Path, verbalizer: str | None = VERBALIZER, **remote: object) -> SourceOptions:
    return SourceOptions(
        prompt=PromptOptions(verbalizer=verbalizer),
        remote=RemoteOptions(request_cache=str(tmp_path / "requests.sqlite"), **remote),  # type: ignore[arg-type]
    )


# -- names ------------------------------------------------------------------------------------------------


def test_a_name_is_a_model_and_a_base_url_whose_ending_chooses_the_endpoint() -> None:
    assert parse_name("smollm2@http://127.0.0.1:8080/v1") == Endpoint(
        "smollm2", "http://127.0.0.1:8080/v1", "chat"
    )
    assert parse_name("m@http://h/v1/") == Endpoint("m", "http://h/v1", "chat")
    assert parse_name("m@https://h/v1/chat/completions") == Endpoint("m", "https://h/v1", "chat")
    assert parse_name("m@http://h/v1/completions") == Endpoint("m", "http://h/v1", "completions")
    assert parse_name("gpt-4o-mini") == Endpoint("gpt-4o-mini", "https://api.openai.com/v1", "chat")
    assert parse_name("m@http://h/v1/completions").url == "http://h/v1/completions"
    for bad in ("", "m@", "m@ftp://h/v1", "m@localhost:8080", "two words@http://h"):
        with pytest.raises(VictimError, match="openai:"):
            parse_name(bad)


# -- requests: the prompt is the one llm: victims build -----------------------------------------------------


def test_a_chat_request_is_the_system_message_and_the_rendered_prompt_for_one_answer_token() -> None:
    prompt = PromptOptions(verbalizer=VERBALIZER)
    answers = ("negative", "positive")
    asking = Asking(Endpoint("m", "http://h/v1", "chat"), prompt.template, prompt.system_message, answers)
    body = asking.body("a fine film")
    assert body == {
        "model": "m",
        "temperature": 0,
        "max_tokens": 1,
        "logprobs": True,
        "top_logprobs": 20,
        "messages": [
            {"role": "system", "content": prompt.system_message},
            {"role": "user", "content": render(prompt.template, "a fine film", answers)},
        ],
    }
    assert "negative or positive" in body["messages"][1]["content"]
    no_system = Asking(asking.endpoint, asking.template, "", answers)
    assert [m["role"] for m in no_system.body("a fine film")["messages"]] == ["user"]
    plain = Asking(
        Endpoint("m", "http://h/v1", "completions"), "Text: {text}\nLabel ({labels}):", "Be brief.", answers
    )
    assert plain.body("ok") == {
        "model": "m",
        "temperature": 0,
        "max_tokens": 1,
        "logprobs": 5,
        "prompt": "Be brief.\n\nText: ok\nLabel (negative or positive):\n",
    }


# -- answers ----------------------------------------------------------------------------------------------


def _chat_answer(top: dict[str, float], content: str | None = None) -> dict:
    tokens = [{"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in top.items()]
    first = max(top, key=top.__getitem__)
    return {
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content or first},
                "logprobs": {"content": [{"token": first, "logprob": top[first], "top_logprobs": tokens}]},
            }
        ]
    }


def test_scores_are_the_verbalizers_first_tokens_exactly_normalised() -> None:
    answer = _chat_answer(
        {"positive": -1.0, "negative": -2.0, "Positive": -0.5, " negative": -0.1, "A": -3.0}
    )
    top = openai.first_token_logprobs(answer["choices"][0])
    assert top is not None and set(top) == {"positive", "negative", "Positive", " negative", "A"}
    scores = openai.class_scores(top, ["negative", "positive"])
    expected = np.array([np.exp(-2.0), np.exp(-1.0)])
    assert np.allclose(scores, expected / expected.sum())  # "Positive" and " negative" are other answers
    # a token that begins the verbalizer counts when the whole word is not listed; the longest one wins
    partial = openai.class_scores({"pos": -1.0, "p": -0.2, "negative": -1.5}, ["negative", "positive"])
    assert np.allclose(partial, np.array([np.exp(-1.5), np.exp(-1.0)]) / (np.exp(-1.5) + np.exp(-1.0)))


def test_a_class_no_listed_token_begins_gets_the_most_an_unlisted_token_could_have() -> None:
    top = {"positive": np.log(0.6), "The": np.log(0.3), "A": np.log(0.05)}
    scores = openai.class_scores(top, ["negative", "positive"])
    assert np.allclose(scores, [0.05 / 0.65, 0.6 / 0.65])  # min(smallest listed 0.05, left over 0.05)
    tight = openai.class_scores({"positive": np.log(0.9), "The": np.log(0.08)}, ["negative", "positive"])
    assert np.allclose(tight, [0.02 / 0.92, 0.9 / 0.92])  # what the listed tokens leave: 0.02
    none = openai.class_scores({"The": -1.0, "A": -2.0}, ["negative", "positive"])
    assert np.allclose(none, [0.5, 0.5])


def test_legacy_completions_log_probabilities_are_read_too() -> None:
    choice = {
        "text": " positive",
        "logprobs": {
            "tokens": [" positive"],
            "token_logprobs": [-0.3],
            "top_logprobs": [{" positive": -0.3, " negative": -1.6, "positive": -2.0, "negative": -2.5}],
        },
    }
    top = openai.first_token_logprobs(choice)
    assert top == {" positive": -0.3, " negative": -1.6, "positive": -2.0, "negative": -2.5}
    row, from_logprobs = openai.scores({"choices": [choice]}, ["negative", "positive"], "where")
    assert from_logprobs and np.allclose(
        row, np.array([np.exp(-2.5), np.exp(-2.0)]) / (np.exp(-2.5) + np.exp(-2.0))
    )


def test_without_log_probabilities_the_answer_text_is_a_hard_label() -> None:
    answers = ["negative", "positive"]
    for text, expected in [
        ("Positive.", [0, 1]),
        (" negative", [1, 0]),
        ("neg", [1, 0]),
        ("The", [0.5, 0.5]),
    ]:
        row, from_logprobs = openai.scores({"choices": [{"message": {"content": text}}]}, answers, "where")
        assert not from_logprobs and np.allclose(row, expected), text
    with pytest.raises(EndpointError, match="where answered without choices"):
        openai.scores({"choices": []}, answers, "where")
    assert openai.usage_tokens({"prompt": "x" * 40, "max_tokens": 1}, {}) == (10, 1)
    assert openai.usage_tokens({}, {"usage": {"prompt_tokens": 53, "completion_tokens": 1}}) == (53, 1)


# -- resolution -------------------------------------------------------------------------------------------


def test_the_classes_are_the_verbalizers_keys_and_must_begin_with_their_own_word(tmp_path: Path) -> None:
    with pytest.raises(VictimError, match="--verbalizer"):
        resolve_victim("openai:m@http://127.0.0.1:9/v1", _options(tmp_path, verbalizer=None))
    with pytest.raises(ParameterError, match="begin alike"):
        resolve_victim("openai:m@http://127.0.0.1:9/v1", _options(tmp_path, 'a="very good",b="very bad"'))
    with pytest.raises(ParameterError, match="two or more"):
        resolve_victim("openai:m@http://127.0.0.1:9/v1", _options(tmp_path, 'a="good"'))


def test_openais_own_api_needs_a_key_variable_that_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(VictimError, match="--api-key-env"):
        resolve_victim("openai:gpt-4o-mini", _options(tmp_path))
    monkeypatch.delenv("TEXTROBUST_TEST_NO_KEY", raising=False)
    with pytest.raises(VictimError, match="TEXTROBUST_TEST_NO_KEY"):
        resolve_victim("openai:gpt-4o-mini", _options(tmp_path, api_key_env="TEXTROBUST_TEST_NO_KEY"))


def test_a_server_without_log_probabilities_makes_a_hard_label_victim(
    chat_stand_in: ChatStandIn,  # noqa: F811
    tmp_path: Path,
) -> None:
    ref = resolve_victim(f"openai:m@{chat_stand_in.base_url}", _options(tmp_path))
    assert ref.hard_label_only and ref.kind == "openai" and ref.labels == ("negative", "positive")
    victim = ref.load()
    rows = victim.predict_proba(["a good film", "a bad film", "a film"])
    assert np.array_equal(rows, [[0, 1], [1, 0], [0.5, 0.5]])
    usage = victim.usage()
    assert usage.requests == 4 == chat_stand_in.requests  # the probe and three texts
    assert (usage.tokens_in, usage.tokens_out) == (4 * 30, 4)


def test_an_api_key_is_sent_and_never_kept(
    chat_stand_in: ChatStandIn,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = "sk-test-0123456789abcdef"
    monkeypatch.setenv("TEXTROBUST_TEST_KEY", key)
    ref = resolve_victim(
        f"openai:m@{chat_stand_in.base_url}", _options(tmp_path, api_key_env="TEXTROBUST_TEST_KEY")
    )
    ref.load().predict_proba(["a good film"])
    assert chat_stand_in.authorizations and set(chat_stand_in.authorizations) == {f"Bearer {key}"}
    kept = json.dumps(dict(ref.config)) + ref.digest + repr(ref) + str(pickle.dumps(ref))
    assert key not in kept and "TEXTROBUST_TEST_KEY" in json.dumps(dict(ref.config))
    assert key.encode() not in (tmp_path / "requests.sqlite").read_bytes()


def test_answers_without_choices_are_an_endpoint_error_and_not_cached(tmp_path: Path) -> None:
    server = ChatStandIn(choices=False)
    try:
        for _ in range(2):  # nothing was cached: the second try asks again
            with pytest.raises(EndpointError, match="answered without choices"):
                resolve_victim(f"openai:m@{server.base_url}", _options(tmp_path))
        assert server.requests == 2
    finally:
        server.close()


# -- a real server: llama.cpp's llama-server serving SmolLM2-135M-Instruct --------------------------------


@pytest.mark.slow
def test_llama_server_classifies_obvious_sentences_from_log_probabilities(
    llama_server: LlamaServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    ref = resolve_victim(llama_server.victim, _options(tmp_path))
    assert not ref.hard_label_only and ref.labels == ("negative", "positive")
    assert (
        ref.config["served_model"] == "smollm2" and ref.location == f"{llama_server.victim}/chat/completions"
    )
    victim = ref.load()
    before = llama_server.requests()
    rows = victim.predict_proba([text for text, _label in OBVIOUS])
    assert rows.shape == (len(OBVIOUS), 2) and np.allclose(rows.sum(axis=1), 1)
    assert [ref.labels[i] for i in rows.argmax(axis=1)] == [label for _text, label in OBVIOUS]
    assert llama_server.requests() - before == len(OBVIOUS)
    usage = victim.usage()
    assert usage.requests == len(OBVIOUS) + 1 and usage.tokens_out == usage.requests  # and the probe
    assert usage.tokens_in > 40 * usage.requests  # the chat template, system message and prompt
    # a worker elsewhere loads it from its config: the same answers, from the request cache
    shipped = pickle.loads(pickle.dumps(ref)).load()
    assert np.array_equal(shipped.predict_proba([text for text, _label in OBVIOUS]), rows)
    assert shipped.usage().requests == 0 and llama_server.requests() - before == len(OBVIOUS)


@pytest.mark.slow
def test_the_completions_endpoint_with_the_chat_template_by_hand_scores_as_the_chat_endpoint(
    llama_server: LlamaServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The completions endpoint sends the prompt as it is: spelled out in SmolLM2's chat format (ChatML),
    with no system message of its own, it is the chat endpoint's prompt, and the scores agree. One request
    at a time: llama-server batches concurrent requests, and its scores move in the second decimal with
    the batch."""
    by_hand = (
        f"<|im_start|>system\n{DEFAULT_SYSTEM}<|im_end|>\n<|im_start|>user\n{DEFAULT_PROMPT}<|im_end|>\n"
        "<|im_start|>assistant"
    )
    plain = SourceOptions(
        prompt=PromptOptions(prompt=by_hand, system="", verbalizer=VERBALIZER),
        remote=RemoteOptions(request_cache=str(tmp_path / "requests.sqlite"), concurrency=1),
    )
    ref = resolve_victim(f"{llama_server.victim}/completions", plain)
    assert not ref.hard_label_only and ref.config["endpoint"]["mode"] == "completions"
    chat = resolve_victim(llama_server.victim, _options(tmp_path, concurrency=1))
    assert ref.digest != chat.digest
    texts = [text for text, _label in OBVIOUS]
    rows = ref.load().predict_proba(texts)
    assert np.allclose(rows, chat.load().predict_proba(texts), atol=1e-4)
    assert [ref.labels[i] for i in rows.argmax(axis=1)] == [label for _text, label in OBVIOUS]


@pytest.mark.slow
def test_an_attack_from_the_command_line_and_its_repetition_sends_nothing(
    llama_server: LlamaServer,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("spacy", reason="PWWS tags parts of speech with spaCy")

    def attack(store: Path) -> list[tuple]:
        argv = ["attack", "--victim", llama_server.victim, "--verbalizer", VERBALIZER, "--recipe", "pwws"]
        extra = ["--n", "3", "--no-progress", "--request-cache", str(tmp_path / "requests.sqlite")]
        assert main([*argv, *extra, "--store", str(store)]) == 0
        with Store(store) as opened:
            (run,) = opened.runs()
            assert run.parameters.victim.type == "openai"
            return [(r.status, r.adversarial_text, r.queries) for r in opened.results(run.id)]

    before = llama_server.requests()
    first = attack(tmp_path / "first.sqlite")
    sent = llama_server.requests() - before
    assert len(first) == 3 and sent > 3
    again = attack(tmp_path / "again.sqlite")  # a new store: the whole attack again, answered by the cache
    assert again == first
    assert llama_server.requests() - before == sent


AGREEMENT_SENTENCES = 50


@pytest.mark.slow
def test_the_same_weights_through_llm_and_through_llama_server_give_the_same_prompts_and_classes(
    llama_server_float32: LlamaServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    """SmolLM2-135M-Instruct's Q4_1 weights, dequantised (what ``llm:`` loads) and served by llama-server in
    float32: the server's chat template makes the prompt ``llm:`` makes, and the classes agree. (The Q4_1
    file served as it is agreed on 93.5 % of 200 MR sentences: llama.cpp then multiplies the 4-bit
    weights by 8-bit quantised activations, and this small model's margins are small.)"""
    import httpx

    from textrobust.data import load_dataset

    texts = load_dataset("mr").split("test").texts[:AGREEMENT_SENTENCES]
    options = _options(tmp_path, concurrency=1)  # one at a time: the server's batching moves its scores
    served = resolve_victim(llama_server_float32.victim, options).load()
    local = resolve_victim("llm:smollm2-135m-instruct", SourceOptions(prompt=options.prompt)).load("cpu")
    template = f"http://127.0.0.1:{llama_server_float32.port}/apply-template"
    for text in texts[:3]:
        rendered = httpx.post(template, json={"messages": served.asking.messages(text)}, timeout=30)
        assert rendered.json()["prompt"] == local.prompt(text)
    remote, here = served.predict_proba(texts), local.predict_proba(texts)
    assert (remote.argmax(axis=1) == here.argmax(axis=1)).mean() >= 0.95
    assert np.abs(remote - here).max() < 0.01, np.abs(remote - here).max()


@pytest.mark.slow
def test_a_dry_run_predicts_the_requests_of_the_real_run(
    llama_server: LlamaServer,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``attack --dry-run`` attacks a sample for real and estimates the whole run; the real run then reuses
    the sample's answers from the request cache, so the requests of both together are what a run from an
    empty cache sends (counted by the server)."""
    import re

    store = tmp_path / "runs.sqlite"
    argv = ["attack", "--victim", llama_server.victim, "--verbalizer", VERBALIZER, "--recipe", "textfooler"]
    argv += ["--n", "12", "--concurrency", "1", "--request-cache", str(tmp_path / "requests.sqlite")]
    argv += ["--no-progress", "--store", str(store)]
    before = llama_server.requests()
    assert main([*argv, "--dry-run", "--dry-run-sample", "6"]) == 0
    printed = capsys.readouterr().out
    estimated = int(re.search(r"~([\d,]+) requests", printed)[1].replace(",", ""))  # type: ignore[index]
    assert not store.exists()
    assert main(argv) == 0
    real = llama_server.requests() - before - 1  # the probe at resolution (cached after the first)
    assert abs(estimated - real) <= 0.25 * real, (estimated, real, printed)
