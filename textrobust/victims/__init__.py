"""Victims: text classifiers behind one black-box door, ``predict_proba(texts) -> ndarray``.

Classes are imported on first use so that ``import textrobust.victims`` stays light. A victim is named
once: ``resolve_victim(name)`` reads what it is (``VictimRef``) and every later step takes that record.
"""

from __future__ import annotations

from textrobust.victims.base import victim_label_ids
from textrobust.victims.kinds import TRAINABLE_TYPES, VICTIM_KINDS, capability, victim_class
from textrobust.victims.protocols import Classifier, Trainable, Victim, VictimType, WhiteBoxVictim
from textrobust.victims.resolve import VictimRef, load_victim, resolve_victim

__all__ = [
    "TRAINABLE_TYPES",
    "VICTIM_KINDS",
    "Classifier",
    "Trainable",
    "Victim",
    "VictimRef",
    "VictimType",
    "WhiteBoxVictim",
    "capability",
    "load_victim",
    "resolve_victim",
    "victim_class",
    "victim_label_ids",
]
