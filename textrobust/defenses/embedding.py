"""Embedding-space adversarial training (FreeLB, Zhu et al. 2020; PGD, Madry et al. 2018): every batch
takes K ascent steps of a norm-bounded perturbation of the input embeddings and trains on the average
loss over the K perturbed copies (FreeLB's "free" large batch; the first copy is the clean one).

Deviations: the perturbation starts at zero (FreeLB starts from a small random one), its norm is bounded
per example over all its tokens (FreeLB's ``adv-max-norm``), padding positions are never perturbed.
Works for every victim that exposes its input embeddings (BERT, WordCNN, WordLSTM).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from textrobust.data import Split
from textrobust.errors import ParameterError, require_at_least
from textrobust.victims.protocols import EmbeddingTrainable, Trainable
from textrobust.victims.training import TrainerHooks


def token_mask(batch: dict[str, torch.Tensor], shape: torch.Size) -> torch.Tensor:
    """1 for real tokens, 0 for padding, shaped (batch, length, 1)."""
    if "attention_mask" in batch:
        mask = batch["attention_mask"]
    elif "lengths" in batch:
        positions = torch.arange(shape[1], device=batch["lengths"].device)
        mask = positions.unsqueeze(0) < batch["lengths"].unsqueeze(1)
    else:
        mask = torch.ones(shape[:2], device=batch["input_ids"].device)
    return mask.to(torch.float32).unsqueeze(-1)


class EmbeddingAdversarialHooks(TrainerHooks):
    """``steps`` ascent steps of size ``step_size`` (L2, per example) within an ``epsilon`` ball."""

    def __init__(self, train: Split, *, steps: int = 3, epsilon: float = 1.0, step_size: float = 0.5) -> None:
        super().__init__(train)
        require_at_least("steps", steps, 1)
        if not epsilon > 0 or not step_size > 0:
            raise ParameterError("epsilon" if not epsilon > 0 else "step_size", "must be > 0")
        self.steps = steps
        self.epsilon = epsilon
        self.step_size = step_size

    def batch_loss(self, victim: Trainable, texts: Sequence[str], labels: torch.Tensor) -> torch.Tensor:
        if not isinstance(victim, EmbeddingTrainable):
            raise ParameterError("method", f"{type(victim).__name__} does not expose its input embeddings")
        batch = {key: value.to(victim.device) for key, value in victim.encode(texts).items()}
        embeddings = victim.input_embeddings()(batch["input_ids"])
        mask = token_mask(batch, embeddings.shape).to(embeddings.device)
        delta = torch.zeros_like(embeddings)
        total = embeddings.new_zeros(())
        for step in range(self.steps):
            delta.requires_grad_(True)
            logits = victim.logits_from_embeddings(batch, embeddings + delta * mask)
            loss = torch.nn.functional.cross_entropy(logits.float(), labels)
            total = total + loss / self.steps
            if step == self.steps - 1:
                break
            (gradient,) = torch.autograd.grad(loss, delta, retain_graph=True)
            gradient = gradient * mask
            norms = gradient.flatten(1).norm(dim=1).clamp(min=1e-12).view(-1, 1, 1)
            delta = (delta.detach() + self.step_size * gradient / norms) * mask
            delta_norms = delta.flatten(1).norm(dim=1).view(-1, 1, 1)
            delta = delta * torch.clamp(self.epsilon / delta_norms.clamp(min=1e-12), max=1.0)
        return total
