"""Victim kinds: the name a saved victim's config.json gives its class (``textrobust_victim``) → the class.

A third party adds a kind without editing this package through an entry point in the
``textrobust.victims`` group (``my-kind = "my_package.victims:MyVictim"``): a class with ``victim_type``,
``load(directory, device, config)`` and, to be trained by ``textrobust train``, ``from_dataset``. Its
capabilities are class attributes, read with these defaults when a class does not set them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textrobust.errors import VictimError
from textrobust.registry import Registry
from textrobust.victims.protocols import VictimType

VICTIM_KINDS: Registry[VictimType] = Registry(
    "victim kind",
    {
        "wordcnn": "textrobust.victims.wordcnn:WordCNN",
        "wordlstm": "textrobust.victims.wordlstm:WordLSTM",
        "bert": "textrobust.victims.bert:BertClassifier",
        "smoothed": "textrobust.victims.smoothed:SmoothedVictim",  # a wrapper around a saved victim
        "quantized": "textrobust.victims.quantized:QuantizedVictim",  # an int8/int4/int2 variant
        "python": "textrobust.victims.python:PythonVictim",  # any object a Python factory returns (py:)
        # a transformers sequence classifier as saved elsewhere (save_pretrained folder, hf:ORG/NAME)
        "checkpoint": "textrobust.victims.checkpoint:CheckpointClassifier",
        "sklearn": "textrobust.victims.sklearn_victim:SklearnVictim",  # a fitted scikit-learn pipeline
        "llm": "textrobust.victims.llm:LLMClassifier",  # a causal LM as a zero-shot classifier (llm:)
        "http": "textrobust.victims.remote.generic:EndpointVictim",  # a generic JSON endpoint (its URL)
        "openai": "textrobust.victims.remote.openai:OpenAIVictim",  # an LLM behind an OpenAI-compatible API
    },
    group="textrobust.victims",
)
# The built-in kinds `textrobust train` makes (named here so the command line lists them without torch).
TRAINABLE_TYPES = ("wordcnn", "wordlstm", "bert")

# What a kind can do, and the default of each for a class that does not say.
CAPABILITIES: dict[str, Any] = {
    "trainable": False,  # `textrobust train` and the trained defenses can make one (``from_dataset``)
    "white_box": False,  # an attacker may read its word gradients (A2T's ranking)
    "wraps_base": False,  # it is a variant of another saved victim, named in its config
    "uses_gpu": False,  # a GPU worker runs it faster (None: as its base)
    "architecture": None,  # "transformer" or "word" (reports compare the two); None: neither, or unknown
}
# The built-in kinds' architectures, for store records written before victims recorded theirs.
_BUILTIN_ARCHITECTURES = {"bert": "transformer", "wordcnn": "word", "wordlstm": "word"}


def victim_class(kind: str) -> VictimType:
    """The class registered under a victim kind."""
    if kind not in VICTIM_KINDS:
        raise VictimError(f"unknown victim type '{kind}'; choose one of {', '.join(VICTIM_KINDS.names())}")
    return VICTIM_KINDS.get(kind)


def capability(kind: str, name: str) -> Any:
    """A capability of a victim kind (its class attribute, or the default of ``CAPABILITIES``)."""
    return getattr(victim_class(kind), name, CAPABILITIES[name])


def architecture(kind: str, details: Mapping[str, Any] | None) -> str | None:
    """A stored victim's architecture ("transformer", "word" or None), from its recorded details (or, for
    records older than that, its built-in kind), without importing its class."""
    if details and "architecture" in details:
        return details["architecture"]
    return _BUILTIN_ARCHITECTURES.get(kind)
