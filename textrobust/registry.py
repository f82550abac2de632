"""Registries of named things (victim kinds, recipes, defenses, executors): name → ``"module:attr"``.

One small helper for all of them. A name is bound to where its object lives, as a string, so nothing is
imported until that name is used (``import textrobust.victims`` stays light). A third party adds a name
without editing this package through a Python entry point in the registry's group, e.g. in its
``pyproject.toml``::

    [project.entry-points."textrobust.victims"]
    my-kind = "my_package.victims:MyVictim"

Built-in names come first: an entry point cannot replace one (it is reported as a conflict instead).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

from textrobust.errors import ParameterError, TextrobustError

T = TypeVar("T")


class Registry(Generic[T]):
    """Names of one kind of thing, each bound to an importable ``"module:attr"``.

    ``what`` is how errors name the kind ("victim kind", "recipe"); ``group`` is the entry-point group a
    third party registers in (``None``: built-in names only). Lookups are by exact name.
    """

    def __init__(self, what: str, builtins: Mapping[str, str], group: str | None = None) -> None:
        for name, target in builtins.items():
            _check_target(name, target)
        self.what = what
        self.group = group
        self._builtins = dict(builtins)
        self._extra: dict[str, str] = {}
        self._loaded: dict[str, T] = {}

    def add(self, name: str, target: str | T) -> None:
        """Register ``name`` (a ``"module:attr"`` string, or the object itself) for this process."""
        if name in self._builtins:
            raise ParameterError(self.what, f"'{name}' is built in and cannot be replaced")
        if isinstance(target, str):
            _check_target(name, target)
            self._extra[name] = target
            self._loaded.pop(name, None)
        else:
            self._extra[name] = f"<object {name}>"
            self._loaded[name] = target

    def _plugins(self) -> dict[str, str]:
        """The entry points of this registry's group, read when a name is not built in (reading every
        installed package's metadata takes tens of milliseconds: never for a built-in name)."""
        if self.group is None:
            return {}
        from importlib.metadata import entry_points

        return {ep.name: ep.value for ep in entry_points(group=self.group) if ep.name not in self._builtins}

    def _targets(self) -> dict[str, str]:
        return {**self._builtins, **self._plugins(), **self._extra}

    def names(self) -> list[str]:
        """Every registered name: built-in ones in their order, then the added ones sorted."""
        added = sorted(set(self._targets()) - set(self._builtins))
        return [*self._builtins, *added]

    def builtin_names(self) -> list[str]:
        return list(self._builtins)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return name in self._builtins or name in self._extra or name in self._plugins()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def check(self, name: str, parameter: str | None = None) -> None:
        """A ``ParameterError`` (naming ``parameter``, default: the kind) unless ``name`` is registered."""
        if name not in self:
            raise ParameterError(
                parameter or self.what, f"'{name}' is unknown; choose one of {', '.join(self.names())}"
            )

    def get(self, name: str, parameter: str | None = None) -> T:
        """The object registered under ``name``, imported on first use."""
        self.check(name, parameter)
        if name not in self._loaded:
            target = self._builtins.get(name) or self._extra.get(name) or self._plugins()[name]
            self._loaded[name] = _import(target, f"{self.what} '{name}'")
        return self._loaded[name]


def _check_target(name: str, target: str) -> None:
    module, _, attr = target.partition(":")
    if not module or not attr:
        raise ValueError(f"registry entry '{name}' must be 'module:attr', got '{target}'")


def _import(target: str, what: str) -> Any:
    import importlib

    module_name, _, attr = target.partition(":")
    try:
        value: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            value = getattr(value, part)
    except (ImportError, AttributeError) as exc:
        raise TextrobustError(
            f"{what} is registered as '{target}', which cannot be imported: {exc}"
        ) from None
    return value
