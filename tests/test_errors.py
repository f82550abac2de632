"""One error hierarchy: every error class lives in ``textrobust.errors`` and derives from TextrobustError."""

from __future__ import annotations

import inspect

import pytest

import textrobust.errors as errors
from textrobust.errors import ParameterError, TextrobustError, require_at_least, require_one_of


def test_every_error_class_is_a_textrobust_error_defined_in_errors() -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, Exception)]
    names = {c.__name__ for c in classes}
    assert {"AttackError", "MLMError", "StoreError", "ParameterError", "DataError"} <= names
    for error in classes:
        assert issubclass(error, TextrobustError) and error.__module__ == "textrobust.errors"


def test_the_old_import_paths_give_the_same_classes() -> None:
    from textrobust.attacks.oracle import AttackError
    from textrobust.lm import MLMError
    from textrobust.store import StoreError
    from textrobust.store.sqlite import StoreError as SqliteStoreError

    assert AttackError is errors.AttackError and MLMError is errors.MLMError
    assert StoreError is SqliteStoreError is errors.StoreError


def test_a_parameter_error_names_the_parameter_and_is_a_value_error() -> None:
    error = ParameterError("budget", "must be ≥ 1, got 0")
    assert (error.parameter, error.problem, str(error)) == (
        "budget",
        "must be ≥ 1, got 0",
        "budget must be ≥ 1, got 0",
    )
    assert isinstance(error, ValueError) and isinstance(error, TextrobustError)


def test_the_shared_checks() -> None:
    require_at_least("beam_width", None, 1)  # None: not given
    require_at_least("beam_width", 1, 1)
    with pytest.raises(ParameterError, match="beam_width must be ≥ 1, got 0"):
        require_at_least("beam_width", 0, 1)
    require_one_of("metric", "cosine", ("cosine", "angular"))
    with pytest.raises(ParameterError, match="metric 'dot' is unknown; choose one of cosine, angular"):
        require_one_of("metric", "dot", ("cosine", "angular"))
