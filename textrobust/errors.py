"""Errors a user can cause; the CLI prints them on one line and exits non-zero."""


class TextrobustError(Exception):
    """Base of every error caused by input or environment, with a message that says what to do."""


class DataError(TextrobustError):
    """A dataset file, column, label or text is unusable."""


class VictimError(TextrobustError):
    """A victim cannot be built, loaded or saved."""


class ResourceMissingError(TextrobustError):
    """A linguistic resource or model is not available; the message names the command that provides it."""


class ParameterError(TextrobustError):
    """A parameter of a library call has a value it cannot take.

    The message names the parameter as the library calls it (``budget must be ≥ 1, got 0``); the CLI
    puts the flag that set it in its place (``--budget must be ≥ 1, got 0``).
    """

    def __init__(self, parameter: str, problem: str) -> None:
        self.parameter = parameter
        self.problem = problem
        super().__init__(f"{parameter} {problem}")


def require_at_least(parameter: str, value: int | float | None, minimum: int | float) -> None:
    """A ``ParameterError`` unless ``value`` is None or at least ``minimum``."""
    if value is not None and value < minimum:
        raise ParameterError(parameter, f"must be ≥ {minimum}, got {value}")
