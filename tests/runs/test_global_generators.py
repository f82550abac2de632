"""Attacks leave Python's, NumPy's and torch's global generators alone: whatever an attack draws comes from
generators of its own (run seed and text), so attacking examples between two training steps (co-tuning)
leaves the training's dropout as it was, however many examples were attacked."""

from __future__ import annotations

import pickle
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.runs.test_batching import TEXTS
from tests.runs.test_batching import stand_in_resources as batching_resources
from tests.stand_ins import keyword_dataset, stand_in_resources
from textrobust.attacks.recipes import RecipeResources, build_attack
from textrobust.defenses.cotune import CoTuningHooks
from textrobust.defenses.generation import AdversarialGenerator
from textrobust.runs.executor import Shard, Worker, WorkerSpec
from textrobust.seeding import seed_everything
from textrobust.victims import load_victim
from textrobust.victims.training import TrainConfig, train_victim


def global_states() -> tuple[bytes, bytes, bytes]:
    """Where Python's, NumPy's and torch's global generators stand."""
    return (
        pickle.dumps(random.getstate()),
        pickle.dumps(np.random.get_state()),
        torch.random.get_rng_state().numpy().tobytes(),
    )


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("recipe", ["textfooler", "pwws", "bae", "mlm-synonym", "bert-attack", "a2t"])
def test_attacking_examples_leaves_the_global_generators_as_they_were(
    recipe: str, batch: int, tiny_wordcnn_dir: Path
) -> None:
    victim = load_victim(tiny_wordcnn_dir)  # a torch victim; the MLM recipes' masked LM is torch too
    labels = tuple(int(label) for label in victim.predict(TEXTS))  # what it gets right: nothing skipped
    resources = batching_resources()
    spec = WorkerSpec(
        lambda: victim,
        lambda: build_attack(recipe, None, RecipeResources(**resources)),
        seed=0,
        batch_examples=batch,
    )
    worker = Worker(spec)  # building may draw (weights are initialised); attacking may not
    seed_everything(123)
    before = global_states()
    results = dict(worker.attack_shard(Shard(tuple(range(len(TEXTS))), tuple(TEXTS), labels)))
    assert global_states() == before
    assert len(results) == len(TEXTS)
    assert sum(r.queries for r in results.values()) > 2 * len(TEXTS), "the attacks searched nothing"


def test_a_co_tuning_epochs_dropout_does_not_depend_on_how_many_examples_were_attacked() -> None:
    dataset = keyword_dataset()
    train = dataset.split("train")
    config = TrainConfig(epochs=3, batch_size=32, learning_rate=3e-3, progress=False, seed=1)
    # Trained, so that it is right often enough to be attacked (an untrained model is mostly skipped).
    victim, _report = train_victim("wordcnn", dataset, None, config, vectors=None)
    victim.module.eval()  # as the Trainer asks for an epoch's examples

    def next_dropout() -> torch.Tensor:
        """The dropout mask the epoch's first training batch would draw."""
        return torch.nn.functional.dropout(torch.ones(256), 0.5, training=True)

    torch.manual_seed(7)
    unattacked = next_dropout()
    masks, attacked = [], []
    for share in (0.02, 0.1):
        generate = AdversarialGenerator("textfooler", options=stand_in_resources(), progress=False)
        hooks = CoTuningHooks(train, generate, clean_epochs=1, adv_share=share, seed=3)
        torch.manual_seed(7)  # where training's generator stands when the epoch asks for its examples
        hooks.examples_for_epoch(2, victim)
        masks.append(next_dropout())
        attacked.append(hooks.history[-1]["attacked"])
        assert hooks.history[-1]["successes"] > 0, "the attacks must have made adversarial examples"
    assert attacked[0] < attacked[1]
    assert torch.equal(masks[0], unattacked) and torch.equal(masks[1], unattacked)
