"""What a victim is, seen from each side: the black-box door attacks use, the white-box access of gradient
attacks, what the Trainer needs, and how a victim type is built and loaded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Classifier(Protocol):
    """The black-box door: class probabilities for texts, and the label names their columns stand for."""

    labels: list[str]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape ``(len(texts), len(labels))``, rows summing to 1."""
        ...


@runtime_checkable
class Victim(Classifier, Protocol):
    """A classifier that can be saved to a folder and loaded back (``load_victim``) identically."""

    def save(self, directory: str | Path) -> None:
        """Write the victim to ``directory`` (config.json, model.safetensors, vocab/tokenizer)."""
        ...


@runtime_checkable
class WhiteBoxVictim(Classifier, Protocol):
    """A victim whose gradients an attacker may read (A2T's word ranking).

    ``word_gradient_norms(text, spans, label)`` returns, for each character span ``(start, end)`` of
    ``text``, the L1 norm of the gradient of the cross-entropy loss (w.r.t. ``label``) with respect to the
    input embeddings of the victim's tokens inside that span, summed over those tokens; 0 for a span that
    has no token (e.g. truncated). Shape ``(len(spans),)``.
    """

    def word_gradient_norms(self, text: str, spans: Sequence[tuple[int, int]], label: int) -> np.ndarray: ...


@runtime_checkable
class Trainable(Victim, Protocol):
    """What the Trainer needs: a torch module, its device, and logits with gradients for a batch of texts."""

    module: Any  # torch.nn.Module
    device: Any  # torch.device

    def logits(self, texts: Sequence[str]) -> Any:
        """Logits (a torch tensor on ``device``, gradients enabled) for a batch of texts."""
        ...


class VictimType(Protocol):
    """A victim class as the registry holds it: it builds a new, untrained victim from a dataset's texts
    and label names, and loads a saved one."""

    victim_type: str

    def from_dataset(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        language: str,
        seed: int,
        device: str,
        **options: Any,
    ) -> Trainable: ...

    def load(
        self, directory: str | Path, device: str = "auto", config: Mapping[str, Any] | None = None
    ) -> Victim:
        """The victim saved in ``directory``; ``config``: its config.json when the caller has read it
        (``resolve_victim`` has: a victim's config is read once per run)."""
        ...


@runtime_checkable
class EmbeddingTrainable(Trainable, Protocol):
    """A trainable victim whose input embeddings can be perturbed (embedding-space adversarial training)."""

    def encode(self, texts: Sequence[str]) -> dict[str, Any]:
        """A batch of tensors for ``texts`` (padded to the batch's longest text)."""
        ...

    def input_embeddings(self) -> Any:
        """The module mapping ``input_ids`` to input embeddings."""
        ...

    def logits_from_embeddings(self, batch: dict[str, Any], embeddings: Any) -> Any:
        """Logits from (possibly perturbed) input embeddings of an encoded batch."""
        ...
