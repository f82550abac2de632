"""Model calls as requests, so several examples can share one batch.

Every model an attack uses (victim, sentence encoder, POS tagger, masked LM) is reached through a
``Call``: a batch function and the inputs of one example's step. Code that needs a model is a
generator (``Steps``) that yields its ``Call`` and receives the outputs, one per input. ``run_now``
answers each call at once (one example at a time); ``run_together`` advances several examples'
generators side by side and answers all pending calls of one kind with one batch. Each example still
receives exactly the outputs of its own inputs, so results do not change as long as a model's output
for an input does not depend on what it is batched with.

A method that calls a model is written once, as steps (``observe_steps``); its plain form
(``observe = at_once(observe_steps)``) runs those same steps with every call answered at once, so no
algorithm exists twice.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True)
class Call:
    """One step's request to a model: ``function(inputs)`` gives one output per input.

    ``key`` says which calls may share a batch (the same model with the same settings).
    """

    key: Hashable
    function: Callable[[list[Any]], Sequence[Any]]
    inputs: list[Any]


Steps = Generator[Call, Sequence[Any], T]


def run_now(steps: Steps[T]) -> T:
    """Drive one generator, answering each call as it comes."""
    try:
        call = next(steps)
        while True:
            call = steps.send(call.function(call.inputs))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def at_once(steps: Callable[P, Steps[T]]) -> Callable[P, T]:
    """The plain form of a step method (``observe = at_once(observe_steps)``): the same steps, each
    model call answered as it comes; its name drops ``_steps`` and its docstring is the step form's."""

    @functools.wraps(steps)
    def plain(*args: P.args, **kwargs: P.kwargs) -> T:
        return run_now(steps(*args, **kwargs))

    plain.__name__ = steps.__name__.removesuffix("_steps")
    plain.__qualname__ = steps.__qualname__.removesuffix("_steps")
    return plain


def steps_of(owner: Any, method: str, *args: Any) -> Steps[Any]:
    """``owner.<method>_steps(*args)``, or ``owner.<method>(*args)`` answered without steps when ``owner``
    has only the plain form (a component from outside this package, a test's stand-in)."""
    stepwise = getattr(owner, f"{method}_steps", None)
    if stepwise is None:
        return getattr(owner, method)(*args)
    return (yield from stepwise(*args))


def answer(calls: Sequence[Call]) -> list[Sequence[Any]]:
    """The outputs of calls that share a key, from one batch (repeated inputs computed once)."""
    inputs: list[Any] = []
    for call in calls:
        inputs.extend(call.inputs)
    try:
        unique = list(dict.fromkeys(inputs))
    except TypeError:  # unhashable inputs: no de-duplication
        unique = inputs
    outputs = calls[0].function(unique)
    if len(outputs) != len(unique):
        raise RuntimeError(f"a batch call returned {len(outputs)} outputs for {len(unique)} inputs")
    if unique is not inputs:
        position = {item: i for i, item in enumerate(unique)}
        rows = [outputs[position[item]] for item in inputs]
    else:
        rows = list(outputs)
    answers: list[Sequence[Any]] = []
    start = 0
    for call in calls:
        part = rows[start : start + len(call.inputs)]
        start += len(call.inputs)
        answers.append(_like(outputs, part))
    return answers


def _like(outputs: Sequence[Any], rows: list[Any]) -> Sequence[Any]:
    """``rows`` in the container type of ``outputs`` (an array stays an array)."""
    stack = getattr(outputs, "__array__", None)
    if stack is not None:
        import numpy as np

        if rows:
            return np.stack(rows)
        shape = getattr(outputs, "shape", (0,))
        return np.zeros((0, *shape[1:]), dtype=getattr(outputs, "dtype", None))
    return rows


def run_together(steps: Sequence[Steps[T]]) -> Iterator[tuple[int, T]]:
    """Drive several generators side by side, yielding ``(i, value)`` as soon as generator ``i`` finishes:
    in each round, every pending call of one kind is answered with one batch."""
    pending: dict[int, Call] = {}
    finished: list[tuple[int, T]] = []

    def advance(i: int, value: Sequence[Any] | None) -> None:
        try:
            call = next(steps[i]) if value is None else steps[i].send(value)
        except StopIteration as stop:
            finished.append((i, stop.value))
            return
        pending[i] = call

    for i in range(len(steps)):
        advance(i, None)
    yield from finished
    while pending:
        finished.clear()
        groups: dict[Hashable, list[int]] = {}
        for i, call in pending.items():
            groups.setdefault(call.key, []).append(i)
        for members in groups.values():
            calls = [pending.pop(i) for i in members]
            for i, output in zip(members, answer(calls), strict=True):
                advance(i, output)
        yield from list(finished)
