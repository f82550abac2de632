"""Every error a user can cause, in one hierarchy; the CLI prints them on one line and exits non-zero.

Each package raises the class of its own kind (``AttackError`` from attacks, ``MLMError`` from lm,
``StoreError`` from store …); all are defined here so a caller catches ``TextrobustError`` or one kind
without importing the package that raises it.
"""

from collections.abc import Collection


class TextrobustError(Exception):
    """Base of every error caused by input or environment, with a message that says what to do."""


class DataError(TextrobustError):
    """A dataset file, column, label or text is unusable."""


class VictimError(TextrobustError):
    """A victim cannot be built, loaded or saved."""


class EndpointError(VictimError):
    """An HTTP victim's endpoint failed for good (after its retries) or answered something unusable: the
    message names the endpoint and the status or the problem."""


class BudgetExhausted(TextrobustError):
    """A victim's request or token budget (``--max-requests``, ``--max-tokens``) is spent: the run stops
    cleanly, every finished example stored; rerunning with a larger budget resumes it."""


class ResourceMissingError(TextrobustError):
    """A linguistic resource or model is not available; the message names the command that provides it."""


class AttackError(TextrobustError):
    """An attack cannot run against this victim (e.g. a white-box search on a black-box victim)."""


class MLMError(TextrobustError):
    """A masked language model or its training run cannot be built, loaded, resumed or saved."""


class StoreError(TextrobustError):
    """The store file cannot be opened or does not hold what was asked for."""


class ConfigError(TextrobustError):
    """A benchmark config file has a mistake: the message names the file, the place in it and the
    problem (``bench.toml: [[victims]] #2: unknown key 'epoch'``)."""

    def __init__(self, where: str, problem: str, path: object = None) -> None:
        self.where = where
        self.problem = problem
        self.path = path
        super().__init__(f"{path}: {where}: {problem}" if path is not None else f"{where}: {problem}")


class ParameterError(TextrobustError, ValueError):
    """A parameter of a library call has a value it cannot take.

    The message names the parameter as the library calls it (``budget must be ≥ 1, got 0``); the CLI
    puts the flag that set it in its place (``--budget must be ≥ 1, got 0``). A ``ValueError`` too, as
    Python's own functions raise for a bad argument value.
    """

    def __init__(self, parameter: str, problem: str) -> None:
        self.parameter = parameter
        self.problem = problem
        super().__init__(f"{parameter} {problem}")


def require_at_least(parameter: str, value: int | float | None, minimum: int | float) -> None:
    """A ``ParameterError`` unless ``value`` is None or at least ``minimum``."""
    if value is not None and value < minimum:
        raise ParameterError(parameter, f"must be ≥ {minimum}, got {value}")


def require_one_of(parameter: str, value: object, choices: Collection[object]) -> None:
    """A ``ParameterError`` unless ``value`` is one of ``choices`` (named in the message)."""
    if value not in choices:
        raise ParameterError(
            parameter, f"{value!r} is unknown; choose one of {', '.join(str(c) for c in choices)}"
        )
