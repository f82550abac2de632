"""The defense methods by name: built-in ones, and a third party's through the ``textrobust.defenses``
entry-point group (see ``textrobust.defenses.method`` for what a method implements)."""

from __future__ import annotations

from typing import Any

from textrobust.defenses.method import DefenseMethod, TrainedDefense, WrapperDefense
from textrobust.errors import TextrobustError
from textrobust.registry import Registry

DEFENSES: Registry[type[DefenseMethod]] = Registry(
    "defense",
    {
        "co-tune": "textrobust.defenses.methods:CoTune",
        "augment": "textrobust.defenses.methods:Augment",
        "embedding": "textrobust.defenses.methods:EmbeddingTraining",
        "smooth": "textrobust.defenses.methods:Smooth",
    },
    group="textrobust.defenses",
)


def resolve_method(method: DefenseMethod | type[DefenseMethod] | str) -> DefenseMethod:
    """The method a name (or a class, or an instance) stands for; a ``ParameterError`` naming ``method``
    for an unknown name, a ``TextrobustError`` for a registered object that is no defense method."""
    if isinstance(method, DefenseMethod):
        return method
    if isinstance(method, str):
        found: Any = DEFENSES.get(method, "method")
        where = f"defense '{method}'"
    else:
        found, where = method, f"{method!r}"
    if not (isinstance(found, type) and issubclass(found, TrainedDefense | WrapperDefense)):
        raise TextrobustError(
            f"{where} is not a defense method: subclass textrobust.defenses.method.TrainedDefense or "
            "WrapperDefense"
        )
    if isinstance(method, str) and found.name != method:
        raise TextrobustError(f"{where} is registered as a class named '{found.name}'; the names must agree")
    if not found.name:
        raise TextrobustError(f"{where} has no name: set its class attribute 'name'")
    return found()
