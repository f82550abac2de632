"""Prompts and verbalizers for LLM victims (``llm:`` models and OpenAI-compatible endpoints): a template
with ``{text}`` (and optionally ``{labels}``) that asks for the class, and a verbalizer per class — the
word(s) whose likelihood as the answer scores that class. One definition for local and remote LLMs, so the
same model asked the same way gives the same prompt on both sides."""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from textrobust.errors import ParameterError

# A plain instruction that names the classes and asks for one word: small instruction-tuned models answer
# it reliably; {labels} lists the verbalizers ("negative or positive").
DEFAULT_PROMPT = (
    "Classify the sentiment or category of the following text as {labels}.\n\nText: {text}\n\n"
    "Answer with one word."
)
# Without a system message some chat templates add their own (SmolLM2's names the model): an explicit
# one makes the prompt the same whichever side applies the template.
DEFAULT_SYSTEM = "You are a careful text classifier."


def _option(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class PromptOptions:
    """How an LLM victim is asked: the template, the verbalizers (class name → answer text) and the system
    message of chat models. ``None`` means the default (verbalizers: the class names themselves)."""

    prompt: str | None = _option(
        None,
        "LLM victims: prompt template with {text} and optionally {labels} (default: a short instruction)",
    )
    verbalizer: str | None = _option(
        None,
        'LLM victims: the answer text of each class: neg="negative",pos="positive" (default: the class '
        "names)",
    )
    system: str | None = _option(None, "LLM victims: the chat system message (default: a short one)")

    def __post_init__(self) -> None:
        if self.prompt is not None:
            check_template(self.prompt)
        if self.verbalizer is not None:
            parse_verbalizers(self.verbalizer)

    @classmethod
    def fields(cls) -> list[Any]:
        from textrobust.fields import setting_fields

        return setting_fields(cls)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> PromptOptions:
        from textrobust.fields import dataclass_from_mapping

        return dataclass_from_mapping(cls, mapping, "the prompt options")

    @property
    def template(self) -> str:
        return self.prompt if self.prompt is not None else DEFAULT_PROMPT

    @property
    def system_message(self) -> str:
        return self.system if self.system is not None else DEFAULT_SYSTEM

    def verbalizers(self, labels: Sequence[str]) -> dict[str, str]:
        """Class name → answer text for every class of ``labels`` (a given verbalizer must name only those
        classes; a class it does not name answers with its own name)."""
        given = parse_verbalizers(self.verbalizer) if self.verbalizer else {}
        unknown = [name for name in given if name not in labels]
        if unknown:
            raise ParameterError(
                "verbalizer", f"names '{unknown[0]}', not one of the classes ({', '.join(labels)})"
            )
        answers = {label: given.get(label, label) for label in labels}
        if len(set(answers.values())) != len(answers):
            raise ParameterError("verbalizer", f"gives two classes the same answer ({answers})")
        return answers

    def render(self, text: str, answers: Sequence[str]) -> str:
        """The prompt for ``text``; ``answers`` are the verbalizers in class order."""
        return render(self.template, text, answers)

    def identity(self, labels: Sequence[str]) -> dict[str, Any]:
        """What identifies the prompting in the store (the template, system message and verbalizers)."""
        return {
            "prompt": self.template,
            "system": self.system_message,
            "verbalizers": self.verbalizers(labels),
        }


def check_template(template: str) -> None:
    """A ``ParameterError`` unless ``template`` is a format string with ``{text}`` and no other field than
    ``{labels}`` (literal braces are written ``{{`` and ``}}``)."""
    try:
        names = [
            name for _literal, name, _spec, _conv in string.Formatter().parse(template) if name is not None
        ]
    except ValueError as exc:
        raise ParameterError("prompt", f"is not a valid template: {exc}") from None
    if "text" not in names:
        raise ParameterError("prompt", "must contain {text}, where the text to classify goes")
    other = [name for name in names if name not in ("text", "labels")]
    if other:
        raise ParameterError("prompt", f"has an unknown field {{{other[0]}}}; only {{text}} and {{labels}}")


def render(template: str, text: str, answers: Sequence[str]) -> str:
    """``template`` with the text and the answers listed ("negative or positive")."""
    answers = list(answers)
    listed = ", ".join(answers[:-1]) + f" or {answers[-1]}" if len(answers) > 1 else "".join(answers)
    return template.format(text=text, labels=listed)


def parse_verbalizers(text: str) -> dict[str, str]:
    """``neg="negative",pos="positive"`` (quotes optional; a quoted answer may hold commas) → a dict."""
    pairs: dict[str, str] = {}
    rest = text.strip()
    while rest:
        name, equals, rest = rest.partition("=")
        name = name.strip()
        if not equals or not name:
            raise ParameterError(
                "verbalizer", f'must be CLASS="answer" pairs separated by commas, got {text!r}'
            )
        rest = rest.lstrip()
        if rest[:1] in ('"', "'"):
            quote = rest[0]
            end = rest.find(quote, 1)
            if end < 0:
                raise ParameterError("verbalizer", f"has an unclosed quote in {text!r}")
            answer, rest = rest[1:end], rest[end + 1 :].lstrip()
            if rest and not rest.startswith(","):
                raise ParameterError(
                    "verbalizer", f"expects a comma after {quote}{answer}{quote} in {text!r}"
                )
        else:
            answer, _comma, rest = rest.partition(",")
            answer = answer.strip()
            rest = "," + rest if _comma else ""
        rest = rest.removeprefix(",").strip()
        if not answer:
            raise ParameterError("verbalizer", f"gives class '{name}' an empty answer")
        if name in pairs:
            raise ParameterError("verbalizer", f"names class '{name}' twice")
        pairs[name] = answer
    if not pairs:
        raise ParameterError("verbalizer", "is empty")
    return pairs
