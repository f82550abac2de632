"""Adversarial co-tuning (online adversarial training, A2T-style): after ``clean_epochs`` clean epochs,
every epoch attacks a share of the training split against the *current* model and trains on the clean
examples plus the successful adversarial ones, with their gold labels.

Yoo & Qi (2021, A2T): one clean epoch, then 20 % of the training set attacked every epoch with a cheap
recipe. The Trainer asks for an epoch's examples with the model in eval mode, so the attack sees the model
that answers queries (TextAttack's issue #457 was a model attacked in train mode).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from textrobust.data import Split
from textrobust.errors import ParameterError, require_at_least
from textrobust.runs.generation import Generation
from textrobust.victims.protocols import Trainable
from textrobust.victims.training import TrainerHooks

Generate = Callable[[Trainable, Split, str], Generation]


def weighted_cross_entropy(
    victim: Trainable, texts: Sequence[str], labels: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy averaged with per-example weights."""
    losses = torch.nn.functional.cross_entropy(victim.logits(texts), labels, reduction="none")
    weights = weights.to(losses.device)
    return (losses * weights).sum() / weights.sum()


def seeded_share(indices: Sequence[int], share: float, seed: Sequence[int]) -> list[int]:
    """A seeded random ``share`` of ``indices`` (at least one), in increasing order."""
    count = min(len(indices), max(1, round(share * len(indices))))
    chosen = np.random.default_rng(list(seed)).choice(len(indices), size=count, replace=False)
    return sorted(int(indices[int(i)]) for i in chosen)


class CoTuningHooks(TrainerHooks):
    """Clean epochs first, then clean + adversarial examples regenerated against the current model.

    ``generate(victim, examples, description)`` attacks examples (labels are the victim's label ids);
    ``adv_weight`` scales the loss of adversarial examples against clean ones.
    """

    def __init__(
        self,
        train: Split,
        generate: Generate,
        *,
        clean_epochs: int = 1,  # A2T: one clean epoch first
        adv_share: float = 0.2,  # A2T: 20 % of the training set attacked every epoch
        adv_weight: float = 1.0,
        seed: int = 0,
        attackable: Sequence[int] | None = None,
    ) -> None:
        super().__init__(train)
        require_at_least("clean_epochs", clean_epochs, 0)
        if not 0.0 < adv_share <= 1.0:
            raise ParameterError("adv_share", f"must be in (0, 1], got {adv_share}")
        if not adv_weight > 0:
            raise ParameterError("adv_weight", f"must be > 0, got {adv_weight}")
        self.generate = generate
        self.clean_epochs = clean_epochs
        self.adv_share = adv_share
        self.adv_weight = adv_weight
        self.seed = seed
        # Indices of the training examples that may be attacked (default: all of them).
        self.attackable = list(range(len(train))) if attackable is None else list(attackable)
        if not self.attackable:
            raise ParameterError("adv_share", "no training example may be attacked")
        self.adversarial_texts: set[str] = set()
        self.history: list[dict[str, float]] = []  # per adversarial epoch: attacked, successes, seconds
        self.generation_seconds = 0.0

    def sample(self, epoch: int) -> list[int]:
        """The training examples attacked in ``epoch``: a seeded share, fresh every epoch."""
        return seeded_share(self.attackable, self.adv_share, [self.seed, epoch])

    def examples_for_epoch(self, epoch: int, victim: Trainable) -> Split:
        if epoch <= self.clean_epochs:
            self.adversarial_texts = set()
            return self.train
        chosen = self.sample(epoch)
        sample = Split([self.train.texts[i] for i in chosen], [self.train.labels[i] for i in chosen])
        generation = self.generate(victim, sample, f"epoch {epoch}: attack {len(sample)}")
        successes = generation.successes
        self.generation_seconds += generation.seconds
        self.history.append(
            {
                "epoch": epoch,
                "attacked": len(sample),
                "successes": len(successes),
                "seconds": generation.seconds,
            }
        )
        texts = [result.adversarial_text or "" for _i, result in successes]
        labels = [sample.labels[i] for i, _result in successes]  # gold labels, not the model's predictions
        self.adversarial_texts = set(texts)
        return Split(self.train.texts + texts, self.train.labels + labels)

    def selectable(self, epoch: int) -> bool:
        return epoch > self.clean_epochs  # the defended model is never a clean warm-up epoch

    def batch_loss(self, victim: Trainable, texts: Sequence[str], labels: torch.Tensor) -> torch.Tensor:
        if self.adv_weight == 1.0 or not self.adversarial_texts:
            return super().batch_loss(victim, texts, labels)
        weights = torch.tensor([self.adv_weight if t in self.adversarial_texts else 1.0 for t in texts])
        return weighted_cross_entropy(victim, texts, labels, weights)
