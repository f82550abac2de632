"""Errors a user can cause; the CLI prints them on one line and exits non-zero."""


class TextrobustError(Exception):
    """Base of every error caused by input or environment, with a message that says what to do."""


class DataError(TextrobustError):
    """A dataset file, column, label or text is unusable."""


class VictimError(TextrobustError):
    """A victim cannot be built, loaded or saved."""


class ResourceMissingError(TextrobustError):
    """A linguistic resource or model is not available; the message names the command that provides it."""
