"""Victims: text classifiers behind one black-box door, ``predict_proba(texts) -> ndarray``.

Classes are imported on first use so that ``import textrobust.victims`` stays light.
"""

from __future__ import annotations

import importlib

from textrobust.errors import VictimError
from textrobust.victims.base import load_victim, victim_label_ids
from textrobust.victims.protocols import Classifier, Trainable, Victim, VictimType, WhiteBoxVictim

# victim type name -> "module:Class"; the name is what `--victim` and config.json use.
VICTIM_TYPES: dict[str, str] = {
    "wordcnn": "textrobust.victims.wordcnn:WordCNN",
    "wordlstm": "textrobust.victims.wordlstm:WordLSTM",
    "bert": "textrobust.victims.bert:BertClassifier",
    "smoothed": "textrobust.victims.smoothed:SmoothedVictim",  # a wrapper around a saved victim
    "quantized": "textrobust.victims.quantized:QuantizedVictim",  # int8/int4/int2 variant of a saved victim
}
TRAINABLE_TYPES = ("wordcnn", "wordlstm", "bert")


def victim_class(name: str) -> VictimType:
    """The class registered under a victim type name."""
    if name not in VICTIM_TYPES:
        raise VictimError(f"unknown victim type '{name}'; choose one of {', '.join(VICTIM_TYPES)}")
    module_name, _, class_name = VICTIM_TYPES[name].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


__all__ = [
    "TRAINABLE_TYPES",
    "VICTIM_TYPES",
    "Classifier",
    "Trainable",
    "Victim",
    "VictimType",
    "WhiteBoxVictim",
    "load_victim",
    "victim_class",
    "victim_label_ids",
]
