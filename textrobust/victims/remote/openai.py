"""OpenAI-compatible LLM servers as victims: ``openai:MODEL@BASE_URL`` asks the model behind an
OpenAI-compatible API (OpenAI itself, llama.cpp's ``llama-server``, vLLM, Ollama, …) to classify each text
with a prompt (``textrobust.victims.prompting``: the same template, verbalizers and system message as
``llm:`` victims) and scores the classes from the log-probabilities of its first answer token.

The name:

- ``openai:MODEL@BASE_URL`` — the chat endpoint ``BASE_URL/chat/completions`` (one system and one user
  message; the server applies the model's chat template);
- ``openai:MODEL@BASE_URL/completions`` — the completions endpoint, for base models: no chat template, the
  prompt is the system message, a blank line, the rendered template and a newline (as ``llm:`` victims
  ask a model without a chat template); a URL ending in ``/chat/completions`` names the chat endpoint;
- ``openai:MODEL`` — OpenAI's own API (``https://api.openai.com/v1``), which needs ``--api-key-env``.

``--api-key-env NAME`` sends ``Authorization: Bearer`` with the value of that environment variable, read
when the victim is loaded; the key is never stored, logged, cached or put in the victim's identity.

The classes are the keys of ``--verbalizer`` (``neg="negative",pos="positive"``), which must name the
dataset's classes; without one, an ``openai:`` victim cannot know them before it meets the data and is
refused with the flag that fixes it (a remote model has no class names of its own).

Scores: the answer is one token (``temperature 0``, ``max_tokens 1``) with its top log-probabilities
(``top_logprobs`` 20 on chat, ``logprobs`` 5 on completions: OpenAI's limits). A class's score is the
probability of its verbalizer's first token: the longest listed token the verbalizer begins with, exactly
— what ``llm:`` victims score (the verbalizer's own log-probability), so that the same model asked the
same way predicts the same class on both sides. Case and space variants ("Positive", " positive") are
other answers and not counted: on 200 MR sentences, SmolLM2-135M behind llama-server (its Q4_1 weights
dequantised to float32) predicted the class its ``llm:`` twin did for all 200 this way, for 81 % with the
variants added; served as the Q4_1 file, for 93.5 % (llama.cpp then multiplies by 8-bit quantised
activations, and this small model's margins are small). A class with no listed token gets the most an
unlisted token could have: the smallest listed probability (or what the listed tokens leave, if less).
The scores are normalised over the classes. A server that gives no log-probabilities (found by one probe
request when the victim is resolved) makes the victim hard-label: the class whose verbalizer the answer
begins (case aside) gets 1, others 0; an answer that fits no class gets equal scores (so the first class
wins ties). The first answer token scores a class, so verbalizers must differ in their first word.

One request per text (a chat endpoint takes one conversation), ``--concurrency`` of them in flight, each
answer kept in the request cache (a repeated run sends nothing again), tokens counted from the answer's
``usage``. A server that batches concurrent requests (llama-server with several slots) may score a text
differently with its batch (in the second decimal, for SmolLM2 on a CPU); ``--concurrency 1`` makes its
answers reproducible, and the request cache makes a repeated run identical either way. The victim's
identity: the base URL, the endpoint, the model name and the model the server says it serves
(``/models``), the prompt, system message and verbalizers, and whether it is hard-label.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from textrobust.errors import EndpointError, ParameterError, VictimError
from textrobust.victims.base import VICTIM_TYPE_KEY, validate_texts
from textrobust.victims.prompting import PromptOptions, parse_verbalizers, render
from textrobust.victims.remote.options import RemoteOptions
from textrobust.victims.resolve import SourceOptions, VictimRef, resolved_config
from textrobust.victims.usage import Usage

PREFIX = "openai:"
KIND = "openai"
OFFICIAL_BASE_URL = "https://api.openai.com/v1"
CHAT = "chat"
COMPLETIONS = "completions"
ENDPOINT_PATHS = {CHAT: "/chat/completions", COMPLETIONS: "/completions"}
# The most alternatives OpenAI lists per token on each endpoint (top_logprobs ≤ 20; legacy logprobs ≤ 5).
TOP_LOGPROBS = {CHAT: 20, COMPLETIONS: 5}
# Sent once at resolution to learn whether the server gives log-probabilities (cached like any request).
PROBE_TEXT = "An honest, moving and beautifully acted film."
MODELS_TIMEOUT_S = 10.0  # /models is asked once, at resolution; a server that does not answer it is fine
_NAME = re.compile(r"^(?P<model>[^@\s]+)(?:@(?P<url>\S+))?$")


@dataclass(frozen=True)
class Endpoint:
    """Where the model is: the base URL (``…/v1``), which endpoint, the model's name."""

    model: str
    base_url: str
    mode: str  # CHAT or COMPLETIONS

    @property
    def url(self) -> str:
        return self.base_url + ENDPOINT_PATHS[self.mode]


def parse_name(rest: str) -> Endpoint:
    """``MODEL@BASE_URL`` (a URL ending in ``/completions`` or ``/chat/completions`` names the endpoint;
    otherwise chat) or ``MODEL`` (OpenAI's API) → an ``Endpoint``."""
    match = _NAME.match(rest.strip())
    if match is None:
        raise VictimError(
            f"'{PREFIX}{rest}' is not a model: write {PREFIX}MODEL@BASE_URL (http://host:port/v1) or "
            f"{PREFIX}MODEL for OpenAI's API"
        )
    model, url = match["model"], match["url"]
    if url is None:
        return Endpoint(model, OFFICIAL_BASE_URL, CHAT)
    if not re.match(r"^https?://[^/\s]+", url):
        raise VictimError(f"'{PREFIX}{rest}': the base URL must begin with http:// or https://, got '{url}'")
    base, mode = url.rstrip("/"), CHAT
    for name in (CHAT, COMPLETIONS):  # /chat/completions first: it also ends in /completions
        if base.endswith(ENDPOINT_PATHS[name]):
            base, mode = base.removesuffix(ENDPOINT_PATHS[name]), name
            break
    return Endpoint(model, base, mode)


@dataclass(frozen=True)
class Asking:
    """How each text is asked: the endpoint, the prompt template and system message, the verbalizers
    (in class order). Log-probabilities are asked for even of a server found not to give them (it ignores
    the request): the probe's answer and a later one are the same request, cached once."""

    endpoint: Endpoint
    template: str
    system: str
    answers: tuple[str, ...]

    def user(self, text: str) -> str:
        return render(self.template, text, self.answers)

    def messages(self, text: str) -> list[dict[str, str]]:
        """The chat conversation for ``text``, as ``llm:`` victims build it: the system message (none when
        it is empty: the server's chat template then adds its own, as a local tokenizer's would) and the
        prompt."""
        system = [{"role": "system", "content": self.system}] if self.system else []
        return [*system, {"role": "user", "content": self.user(text)}]

    def prompt(self, text: str) -> str:
        """The plain prompt of the completions endpoint, as ``llm:`` victims build it for a model without a
        chat template: the system message, a blank line, the prompt and a newline."""
        return f"{self.system}\n\n{self.user(text)}\n" if self.system else f"{self.user(text)}\n"

    def body(self, text: str) -> dict[str, Any]:
        """The request body for ``text``: the whole of it is the request cache's key (with the URL)."""
        body: dict[str, Any] = {"model": self.endpoint.model, "temperature": 0, "max_tokens": 1}
        if self.endpoint.mode == CHAT:
            body.update(messages=self.messages(text), logprobs=True, top_logprobs=TOP_LOGPROBS[CHAT])
        else:
            body.update(prompt=self.prompt(text), logprobs=TOP_LOGPROBS[COMPLETIONS])
        return body


# -- answers ---------------------------------------------------------------------------------------------


def _choice(response: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    choices = response.get("choices") if isinstance(response, Mapping) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        raise EndpointError(f"{where} answered without choices: {json.dumps(response)[:200]}")
    return choices[0]


def answer_text(choice: Mapping[str, Any]) -> str:
    """The generated text of a chat (``message.content``) or completions (``text``) choice."""
    message = choice.get("message")
    if isinstance(message, Mapping):
        return str(message.get("content") or "")
    return str(choice.get("text") or "")


def first_token_logprobs(choice: Mapping[str, Any]) -> dict[str, float] | None:
    """Token → log-probability of the alternatives listed for the first answer token (the generated token
    included), or ``None`` when the answer has none. Reads the chat format (``logprobs.content[0]``, also
    what llama-server's completions answer) and the legacy completions format (``logprobs.top_logprobs[0]``,
    a token → log-probability mapping)."""
    logprobs = choice.get("logprobs")
    if not isinstance(logprobs, Mapping):
        return None
    found: dict[str, float] = {}

    def add(token: Any, logprob: Any) -> None:
        if isinstance(token, str) and isinstance(logprob, int | float) and np.isfinite(logprob):
            # the same text may come as two tokens (other ids): the larger is the token's own
            found[token] = max(found.get(token, -np.inf), float(logprob))

    content = logprobs.get("content")
    if isinstance(content, list) and content and isinstance(content[0], Mapping):
        first = content[0]
        add(first.get("token"), first.get("logprob"))
        for item in first.get("top_logprobs") or []:
            if isinstance(item, Mapping):
                add(item.get("token"), item.get("logprob"))
    else:
        tops, tokens, values = (logprobs.get(key) for key in ("top_logprobs", "tokens", "token_logprobs"))
        if isinstance(tops, list) and tops and isinstance(tops[0], Mapping):
            for token, logprob in tops[0].items():
                add(token, logprob)
        if isinstance(tokens, list) and isinstance(values, list) and tokens and values:
            add(tokens[0], values[0])
    return found or None


def _fold(text: str) -> str:
    return text.strip().casefold()


def matching_class(text: str, answers: Sequence[str]) -> int | None:
    """The class whose verbalizer the generated ``text`` begins or is begun by (case and surrounding space
    ignored: a hard-label answer "Positive." is the class "positive"); ``None`` when none or several fit."""
    folded = _fold(text)
    if not folded:
        return None
    fits = [
        i
        for i, answer in enumerate(answers)
        if _fold(answer).startswith(folded) or folded.startswith(_fold(answer))
    ]
    return fits[0] if len(fits) == 1 else None


def class_scores(top: Mapping[str, float], answers: Sequence[str]) -> np.ndarray:
    """Class probabilities from the first answer token's listed alternatives: each class's score is the
    probability of the longest listed token its verbalizer begins with, exactly (the verbalizer's first
    token, as ``llm:`` victims score the verbalizer itself; "Positive" or " positive" are other answers);
    a class with no such token gets the most an unlisted token could have (the smallest listed
    probability, or what the listed tokens leave, if less); the scores are normalised over the classes."""
    probabilities = {token: float(np.exp(logprob)) for token, logprob in top.items()}
    listed = list(probabilities.values())
    floor = max(min(min(listed), max(1.0 - sum(listed), 0.0)), 1e-12) if listed else 1.0
    mass = np.full(len(answers), floor)
    for i, answer in enumerate(answers):
        begins = [token for token in probabilities if token and answer.startswith(token)]
        if begins:
            mass[i] = probabilities[max(begins, key=len)]
    return mass / mass.sum()


def hard_scores(text: str, answers: Sequence[str]) -> np.ndarray:
    """A one-hot row for the class whose verbalizer the answer begins (or begins with a part of); equal
    scores when it fits no class or several."""
    index = matching_class(text, answers)
    if index is None:
        return np.full(len(answers), 1.0 / len(answers))
    row = np.zeros(len(answers))
    row[index] = 1.0
    return row


def scores(response: Mapping[str, Any], answers: Sequence[str], where: str) -> tuple[np.ndarray, bool]:
    """The class probabilities an answer gives, and whether they came from log-probabilities."""
    choice = _choice(response, where)
    top = first_token_logprobs(choice)
    if top is not None:
        return class_scores(top, answers), True
    return hard_scores(answer_text(choice), answers), False


def usage_tokens(body: Mapping[str, Any], response: Mapping[str, Any]) -> tuple[int, int]:
    """Tokens in and out of one request, as the answer's ``usage`` counts them; a server that does not
    count is estimated (four characters a token in, one token out) so that ``--max-tokens`` still holds."""
    usage = response.get("usage") if isinstance(response, Mapping) else None
    if isinstance(usage, Mapping):
        tokens_in, tokens_out = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if isinstance(tokens_in, int) and isinstance(tokens_out, int):
            return tokens_in, tokens_out
    text = json.dumps(body.get("messages") or body.get("prompt") or "", ensure_ascii=False)
    return max(1, len(text) // 4), int(body.get("max_tokens") or 1)


# -- the victim ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerCheck:
    """The transport's check of each answer: one without choices is an ``EndpointError`` (neither cached
    nor used). A picklable callable, as the transport that holds it travels to workers."""

    where: str

    def __call__(self, body: Mapping[str, Any], answer: Mapping[str, Any]) -> None:
        _choice(answer, self.where)


def _transport(asking: Asking, remote: RemoteOptions) -> Any:
    from textrobust.victims.remote.cache import request_cache
    from textrobust.victims.remote.transport import HttpTransport, api_key_headers, display_url

    return HttpTransport(
        asking.endpoint.url,
        remote,
        headers=api_key_headers(remote),
        cache=request_cache(remote),
        tokens=usage_tokens,
        check=AnswerCheck(display_url(asking.endpoint.url)),
    )


class OpenAIVictim:
    """An LLM behind an OpenAI-compatible endpoint, scoring classes by its first answer token."""

    victim_type = KIND
    trainable = False
    white_box = False
    wraps_base = False
    uses_gpu = False
    architecture = None

    def __init__(self, asking: Asking, labels: Sequence[str], remote: RemoteOptions) -> None:
        self.asking = asking
        self.labels = list(labels)
        self.remote = remote
        self._transport = _transport(asking, remote)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, one request per text (the transport sends a repeated text once and none
        the request cache holds)."""
        texts = validate_texts(texts)
        responses = self._transport.post_many([self.asking.body(text) for text in texts])
        rows = [scores(response, self.asking.answers, self.asking.endpoint.url)[0] for response in responses]
        return np.array(rows, dtype=np.float64).reshape(len(texts), len(self.labels))

    def usage(self) -> Usage:
        """Requests, cache hits, tokens and waiting since this victim was made."""
        return self._transport.usage()

    @classmethod
    def load(
        cls, location: str, device: str = "auto", config: Mapping[str, Any] | None = None
    ) -> OpenAIVictim:
        config = resolved_config(location, config, "an openai: victim")
        endpoint = Endpoint(**config["endpoint"])
        asking = Asking(
            endpoint=endpoint,
            template=str(config["prompt"]),
            system=str(config["system"]),
            answers=tuple(config["answers"]),
        )
        return cls(asking, config["labels"], RemoteOptions(**config["remote"]))


def _check_key(remote: RemoteOptions, endpoint: Endpoint, name: str) -> None:
    """OpenAI's API needs a key (an unset variable is refused when the transport reads it)."""
    if remote.api_key_env is None and endpoint.base_url == OFFICIAL_BASE_URL:
        raise VictimError(f"{name}: OpenAI's API needs a key: --api-key-env NAME (the variable holding it)")


def _classes(prompt: PromptOptions, name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The classes (the verbalizer's keys) and their answers, in the order given."""
    if prompt.verbalizer is None:
        raise VictimError(
            f"{name}: name the classes and their answers with --verbalizer, e.g. "
            'negative="negative",positive="positive" (the keys are the dataset\'s classes)'
        )
    given = parse_verbalizers(prompt.verbalizer)
    if len(given) < 2:
        raise ParameterError("verbalizer", "must name two or more classes")
    labels = tuple(given)
    answers = tuple(prompt.verbalizers(labels)[label] for label in labels)
    firsts = [_fold(answer).split()[0] for answer in answers]
    for i, first in enumerate(firsts):
        for j in range(i + 1, len(firsts)):
            if firsts[j].startswith(first) or first.startswith(firsts[j]):
                raise ParameterError(
                    "verbalizer",
                    f"answers '{answers[i]}' and '{answers[j]}' begin alike; an openai: victim scores the "
                    "first answer token, so each answer must begin with its own word",
                )
    return labels, answers


def served_model(endpoint: Endpoint, headers: Mapping[str, str], timeout: float) -> str | None:
    """The model the server says it serves under this name (``GET BASE_URL/models``): the listed id equal
    to the name, else the only one listed; ``None`` when the server does not say. Asked once, not retried:
    not every compatible server lists its models."""
    import httpx

    try:
        answer = httpx.get(endpoint.base_url + "/models", headers=dict(headers), timeout=timeout)
        data = answer.json().get("data") if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    ids = [str(item["id"]) for item in data or [] if isinstance(item, Mapping) and "id" in item]
    if endpoint.model in ids:
        return endpoint.model
    return ids[0] if len(ids) == 1 else None


def resolve_openai(rest: str, options: SourceOptions) -> VictimRef:
    """The ``VictimRef`` of ``openai:REST``: the name, key variable and verbalizers are checked, then one
    probe request says whether the server gives log-probabilities (hard-label when not)."""
    name = PREFIX + rest
    endpoint = parse_name(rest)
    remote = options.remote
    _check_key(remote, endpoint, name)
    if options.label_map:
        raise VictimError(f"{name}: the --verbalizer's keys are its classes; --label-map does not apply")
    labels, answers = _classes(options.prompt, name)
    prompt = options.prompt
    asking = Asking(endpoint, prompt.template, prompt.system_message, answers)
    victim = OpenAIVictim(asking, labels, remote)  # handed to the first load: its usage counts the probe
    response = victim._transport.post_many([asking.body(PROBE_TEXT)])[0]
    _row, has_logprobs = scores(response, answers, endpoint.url)
    served = served_model(endpoint, victim._transport.headers, min(MODELS_TIMEOUT_S, remote.timeout))
    config = {
        VICTIM_TYPE_KEY: KIND,
        "endpoint": asdict(endpoint),
        "served_model": served,
        "prompt": prompt.template,
        "system": prompt.system_message,
        "answers": list(answers),
        "labels": list(labels),
        "hard_label": not has_logprobs,
        "remote": asdict(remote),  # the key variable's name only, never its value
    }
    identity = {
        key: config[key] for key in ("endpoint", "served_model", "prompt", "system", "answers", "labels")
    }
    identity["hard_label"] = config["hard_label"]
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()
    return VictimRef(
        kind=KIND,
        location=f"{PREFIX}{endpoint.model}@{endpoint.url}",
        config=config,
        digest=digest,
        language=None,
        labels=labels,
        family=served or endpoint.model,
        trainable=False,
        white_box=False,
        wraps_base=False,
        uses_gpu=False,
        architecture=None,
        hard_label_only=not has_logprobs,
        prepared=victim,
    )
