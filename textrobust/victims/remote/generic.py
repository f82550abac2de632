"""Generic JSON endpoints as victims: ``--victim http://HOST:PORT/PATH`` (or ``https://…``).

The protocol (``textrobust serve`` implements it; a team's own server needs the same two answers):

- ``GET URL`` → ``{"labels": ["negative", "positive"], "output": "probabilities"}``: the class names, in the
  order of the probability columns, and what a prediction answers (``"probabilities"`` or ``"labels"``;
  when it does not say, one prediction is asked for to find out); optional ``"language"``, ``"family"``
  and ``"digest"`` (what identifies the model behind it: a new model is a new victim). The classes are
  known before any work starts.
- ``POST URL`` with ``{"texts": ["…", …]}`` → ``{"probabilities": [[p, …], …]}``, one row per text summing
  to 1, or, from a labels-only endpoint, ``{"labels": ["positive", …]}``, one class name per text.

Texts are sent ``request_batch`` to a request, ``concurrency`` requests at once, through ``HttpTransport``
(retries, timeouts, the request cache, budgets, accounting: ``usage()``). A labels-only endpoint gives a
hard-label victim (``VictimRef.hard_label_only``) whose ``predict_proba`` rows are one-hot. An answer with
the wrong number of rows or classes, rows that are not probabilities, or unknown class names is an
``EndpointError`` on one line (and never cached).

The victim's identity (``VictimRef.digest``) is its URL, its class names (as the endpoint names them and as
``--label-map`` renames them), what it answers and the ``digest`` its description gives; concurrency,
retries and budgets are not part of it, so a run resumed with a larger budget attacks the same victim.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from textrobust.errors import EndpointError, ParameterError, VictimError
from textrobust.victims.base import VICTIM_TYPE_KEY, validate_texts
from textrobust.victims.remote.cache import canonical, request_cache
from textrobust.victims.remote.options import RemoteOptions
from textrobust.victims.remote.transport import (
    EndpointUnreachable,
    HttpTransport,
    api_key_headers,
    display_url,
)
from textrobust.victims.resolve import SourceOptions, VictimRef, apply_label_map, resolved_config
from textrobust.victims.usage import Usage

KIND = "http"
PROBABILITIES = "probabilities"
LABELS = "labels"
OUTPUTS = (PROBABILITIES, LABELS)
PROBE_TEXT = "A first text, to learn what the endpoint answers."  # when its description does not say
SUM_TOLERANCE = 1e-3  # a row of probabilities may sum to 1 give or take this (float32 servers round)
PROTOCOL = (
    'GET must answer {"labels": [class names…], "output": "probabilities" or "labels"}, and POST '
    '{"texts": […]} must answer {"probabilities": [[…], …]} or {"labels": […]} (textrobust serve does)'
)


def _url(scheme: str, rest: str) -> str:
    """The URL a ``http:REST`` name stands for, checked to name a host."""
    url = f"{scheme}:{rest}"
    if not rest.startswith("//") or not rest[2:].split("/", 1)[0].rpartition("@")[2]:
        raise VictimError(f"'{display_url(url)}' is not an endpoint URL: write {scheme}://HOST[:PORT]/PATH")
    return url


def describe_endpoint(url: str, options: RemoteOptions) -> dict[str, Any]:
    """The endpoint's description (``GET URL``), checked: class names and what its predictions answer."""
    where = display_url(url)
    transport = HttpTransport(url, options, headers=api_key_headers(options))
    try:
        info = transport.get(url)
    except EndpointUnreachable:
        raise
    except EndpointError as exc:  # it answered, not as the protocol says
        raise EndpointError(f"{exc}; an endpoint victim's {PROTOCOL}") from None
    finally:
        transport.close()
    labels = info.get("labels")
    if (
        not isinstance(labels, list)
        or len(labels) < 2
        or not all(isinstance(label, str) and label for label in labels)
        or len(set(labels)) != len(labels)
    ):
        raise EndpointError(f"{where}: GET answered no class names ('labels'); {PROTOCOL}")
    output = info.get("output")
    if output is None:  # not said: what one prediction answers tells (one request, cached)
        info = {**info, "output": _probe(url, options)}
    elif output not in OUTPUTS:
        raise EndpointError(f"{where}: GET answered output {output!r}, not 'probabilities' or 'labels'")
    return info


def _probe(url: str, options: RemoteOptions) -> str:
    """What the endpoint's predictions answer, from one prediction: ``"labels"`` or ``"probabilities"``."""
    transport = HttpTransport(url, options, headers=api_key_headers(options), cache=request_cache(options))
    try:
        answer = transport.post_many([{"texts": [PROBE_TEXT]}])[0]
    except EndpointUnreachable:
        raise
    except EndpointError as exc:
        raise EndpointError(f"{exc}; an endpoint victim's {PROTOCOL}") from None
    finally:
        transport.close()
    if answer.get(PROBABILITIES) is not None:
        return PROBABILITIES
    if answer.get(LABELS) is not None:
        return LABELS
    keys = ", ".join(sorted(answer)) or "nothing"
    raise EndpointError(f"{display_url(url)}: answered {keys}, not 'probabilities' or 'labels'; {PROTOCOL}")


class EndpointVictim:
    """A generic JSON endpoint behind the victim door (the kind of ``http://…`` names)."""

    victim_type = KIND
    trainable = False
    white_box = False
    wraps_base = False
    uses_gpu = False
    architecture = None

    def __init__(
        self,
        url: str,
        endpoint_labels: Sequence[str],
        labels: Sequence[str],
        options: RemoteOptions,
        *,
        hard_label_only: bool = False,
        language: str | None = None,
    ) -> None:
        self.url = url
        self.endpoint_labels = list(endpoint_labels)  # the names the endpoint answers in
        self.labels = list(labels)  # the same classes as the dataset names them (--label-map)
        self.options = options
        self.hard_label_only = hard_label_only
        self.language = language
        self._column = {label: i for i, label in enumerate(self.endpoint_labels)}
        self.transport = HttpTransport(
            url, options, headers=api_key_headers(options), cache=request_cache(options), check=self._check
        )

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """The endpoint's class probabilities for ``texts`` (one-hot rows from a labels-only endpoint)."""
        texts = validate_texts(texts)
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float64)
        size = self.options.request_batch
        bodies = [{"texts": texts[start : start + size]} for start in range(0, len(texts), size)]
        rows: list[np.ndarray] = []
        for body, answer in zip(bodies, self.transport.post_many(bodies), strict=True):
            rows.append(self._rows(body, answer))
        return np.concatenate(rows, axis=0)

    def usage(self) -> Usage:
        """What this victim's requests cost since it was made."""
        return self.transport.usage()

    def close(self) -> None:
        self.transport.close()

    def _rows(self, body: Mapping[str, Any], answer: Mapping[str, Any]) -> np.ndarray:
        """An answer's rows as probabilities (checked by ``_check`` before it was cached)."""
        count, classes = len(body["texts"]), len(self.endpoint_labels)
        probabilities = answer.get(PROBABILITIES)
        if probabilities is not None and not self.hard_label_only:
            return np.asarray(probabilities, dtype=np.float64).reshape(count, classes)
        if answer.get(LABELS) is not None:
            chosen = [self._column[label] for label in answer[LABELS]]
        else:  # a labels-only victim whose endpoint gives probabilities anyway: its top class only
            chosen = list(np.asarray(probabilities, dtype=np.float64).reshape(count, classes).argmax(axis=1))
        rows = np.zeros((count, classes), dtype=np.float64)
        rows[np.arange(count), chosen] = 1.0
        return rows

    def _check(self, body: Mapping[str, Any], answer: Mapping[str, Any]) -> None:
        """An ``EndpointError`` for an answer this victim cannot use (it is then neither cached nor used)."""
        where = display_url(self.url)
        count, classes = len(body["texts"]), len(self.endpoint_labels)
        probabilities, labels = answer.get(PROBABILITIES), answer.get(LABELS)
        if probabilities is None and labels is None:
            keys = ", ".join(sorted(answer)) or "nothing"
            raise EndpointError(f"{where}: answered {keys}, not 'probabilities' or 'labels'; {PROTOCOL}")
        if probabilities is None and not self.hard_label_only:
            raise EndpointError(
                f"{where}: answered class names only, but its description (GET) promised probabilities; "
                'it should say "output": "labels"'
            )
        if probabilities is not None:
            _check_probabilities(where, probabilities, count, classes)
        elif not isinstance(labels, list) or len(labels) != count:
            given = len(labels) if isinstance(labels, list) else type(labels).__name__
            raise EndpointError(f"{where}: answered {given} labels for {count} texts")
        else:
            unknown = [label for label in labels if label not in self._column]
            if unknown:
                known = ", ".join(self.endpoint_labels)
                raise EndpointError(f"{where}: answered the class {unknown[0]!r}, not one of {known}")

    @classmethod
    def load(
        cls, location: str | Path, device: str = "auto", config: Mapping[str, Any] | None = None
    ) -> EndpointVictim:
        """The victim again from its resolved config (a worker in another process); no request is sent."""
        config = resolved_config(location, config, "an endpoint victim")
        return cls(
            str(config["url"]),
            config["endpoint_labels"],
            config["labels"],
            RemoteOptions.from_mapping(config["remote"]),
            hard_label_only=config["output"] == LABELS,
            language=config.get("language"),
        )


def _check_probabilities(where: str, rows: Any, count: int, classes: int) -> None:
    if not isinstance(rows, list) or len(rows) != count:
        given = len(rows) if isinstance(rows, list) else type(rows).__name__
        raise EndpointError(f"{where}: answered {given} rows of probabilities for {count} texts")
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != classes:
            given = len(row) if isinstance(row, list) else type(row).__name__
            raise EndpointError(
                f"{where}: answered {given} probabilities in row {i}, expected {classes} classes"
            )
        if not all(isinstance(p, int | float) and not isinstance(p, bool) and math.isfinite(p) for p in row):
            raise EndpointError(f"{where}: row {i} of its probabilities holds something other than numbers")
        if min(row) < 0 or abs(sum(row) - 1.0) > SUM_TOLERANCE:
            raise EndpointError(
                f"{where}: row {i} of its probabilities is not a distribution (sums to {sum(row):g})"
            )


def _digest(url: str, info: Mapping[str, Any], labels: Sequence[str]) -> str:
    """The endpoint victim's identity: URL, class names (the endpoint's and the dataset's), output and the
    digest the endpoint gives of its model."""
    identity = {
        "url": url,
        "endpoint_labels": list(info["labels"]),
        "labels": list(labels),
        "output": info.get("output", PROBABILITIES),
        "model": info.get("digest"),
    }
    return hashlib.sha256(canonical(identity).encode("utf-8")).hexdigest()


def _resolve(scheme: str, rest: str, options: SourceOptions) -> VictimRef:
    url = _url(scheme, rest)
    if options.remote.max_tokens is not None:  # a budget that could never stop the run: refused, not ignored
        raise ParameterError(
            "max_tokens", "does not apply to a generic endpoint, which counts no tokens; use max_requests"
        )
    info = describe_endpoint(url, options.remote)
    labels = apply_label_map(info["labels"], options.label_map, display_url(url))
    output = str(info.get("output", PROBABILITIES))
    language = info.get("language") if isinstance(info.get("language"), str) else None
    config = {
        VICTIM_TYPE_KEY: KIND,
        "url": url,
        "endpoint_labels": list(info["labels"]),
        "labels": list(labels),
        "output": output,
        "language": language,
        "remote": {name: getattr(options.remote, name) for name in RemoteOptions.__dataclass_fields__},
    }
    victim = EndpointVictim(
        url, info["labels"], labels, options.remote, hard_label_only=output == LABELS, language=language
    )
    return VictimRef(
        kind=KIND,
        location=display_url(url),
        config=config,
        digest=_digest(url, info, labels),
        language=language,
        labels=tuple(labels),
        family=str(info.get("family") or "http endpoint"),
        trainable=False,
        white_box=False,
        wraps_base=False,
        uses_gpu=False,
        architecture=None,
        hard_label_only=output == LABELS,
        prepared=victim,
    )


def resolve_http(rest: str, options: SourceOptions) -> VictimRef:
    """The ``VictimRef`` of ``http:REST`` (``http://HOST/PATH``): the endpoint describes itself now (``GET``),
    so its classes are known and checked before any work."""
    return _resolve("http", rest, options)


def resolve_https(rest: str, options: SourceOptions) -> VictimRef:
    """The ``VictimRef`` of ``https:REST``."""
    return _resolve("https", rest, options)
