"""Adversarial augmentation (the seed paper's method done right): a seeded share of the training split is
attacked once against the undefended victim, the successes are added to the training split, and the model
is retrained from the same initialisation.

Adversarial examples come only from the training split (never from the split a defense is evaluated on).
Their label is the gold one, or the base victim's prediction with ``label_source="predicted"`` (the paper's
choice: the model's own, wrong, predictions).
"""

from __future__ import annotations

from textrobust.data import Split
from textrobust.defenses.cotune import seeded_share
from textrobust.defenses.method import TrainingContext
from textrobust.errors import ParameterError
from textrobust.victims.training import TrainerHooks


class AugmentedHooks(TrainerHooks):
    """Plain training on the training split plus the adversarial examples made before training, with
    what making them cost."""

    def __init__(self, train: Split, *, attacked: int, adversarial: int, generation_seconds: float) -> None:
        super().__init__(train)
        self.attacked = attacked
        self.adversarial = adversarial
        self.generation_seconds = generation_seconds


def augmented_hooks(
    training: TrainingContext, recipe: str, share: float, label_source: str
) -> AugmentedHooks:
    """Attack a seeded ``share`` of the attackable training examples against the base victim with
    ``recipe``; train on the training split plus the successes."""
    generator = training.generator(recipe)
    base = training.load_base()
    if not training.attackable:
        raise ParameterError("adv_share", "no training example may be attacked")
    train = training.train
    chosen = seeded_share(training.attackable, share, [training.base.seed, 0])
    sample = Split([train.texts[i] for i in chosen], [train.labels[i] for i in chosen])
    generation = generator(base, sample, f"augment: attack {len(sample)}")
    texts, labels = [], []
    for index, result in generation.successes:
        texts.append(result.adversarial_text or "")
        predicted = result.adversarial_prediction
        labels.append(sample.labels[index] if label_source == "gold" or predicted is None else predicted)
    return AugmentedHooks(
        Split(train.texts + texts, train.labels + labels),
        attacked=len(chosen),
        adversarial=len(texts),
        generation_seconds=generation.seconds,
    )
