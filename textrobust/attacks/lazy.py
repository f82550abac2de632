"""A resource loaded on first use: a recipe names what it needs without loading what is switched off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    """Calls ``load`` once, on the first ``get``; shared by every component given the same object."""

    def __init__(self, load: Callable[[], T], name: str = "") -> None:
        self._load = load
        self.name = name
        self._value: T | None = None
        self._loaded = False

    def get(self) -> T:
        if not self._loaded:
            self._value = self._load()
            self._loaded = True
        return self._value  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"Lazy({self.name or self._load!r}, loaded={self._loaded})"


def resolve(value: T | Lazy[T]) -> T:
    """The value itself, or the loaded value of a ``Lazy``."""
    return value.get() if isinstance(value, Lazy) else value
