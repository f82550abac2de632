"""Defenses on tiny data: each method changes the model, co-tuning and augmentation train on gold labels from
the training split only, the store links a defense to its evaluation runs, a smoothed victim is
deterministic and reloads identically, and a killed ``defend`` leaves its output folder as it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.stand_ins import (
    FILLERS,
    NEGATIVE,
    NOUNS,
    POSITIVE,
    keyword_dataset,
    stand_in_resources,
)
from textrobust.attacks.result import AttackResult
from textrobust.data import Dataset, Split
from textrobust.defenses.cotune import CoTuningHooks
from textrobust.defenses.defend import defend, defense_of
from textrobust.defenses.embedding import EmbeddingAdversarialHooks
from textrobust.defenses.evaluate import evaluate_defense, paired_bootstrap
from textrobust.defenses.settings import DefenseRun
from textrobust.defenses.spec import defense_from_mapping
from textrobust.errors import ParameterError
from textrobust.runs.generation import Generation
from textrobust.store import Store
from textrobust.victims import load_victim
from textrobust.victims.smoothed import SmoothedVictim
from textrobust.victims.training import TrainConfig, new_victim, train_victim


@pytest.fixture(scope="module")
def keywords() -> Dataset:
    return keyword_dataset()


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory: pytest.TempPathFactory, keywords: Dataset) -> Path:
    directory = tmp_path_factory.mktemp("defend") / "base"
    config = TrainConfig(epochs=4, batch_size=32, learning_rate=3e-3, progress=False, seed=1)
    victim, report = train_victim("wordcnn", keywords, directory, config, vectors=None)
    assert report.best_validation_accuracy > 0.9, "the keyword task should be learnt"
    return directory


def defend_with(base: Path, dataset: Dataset, out: Path, method: str, **keys):
    """``defend`` with a method and keys as a benchmark table gives them (the method's and the training's),
    attacks made with textfooler on the stand-in resources."""
    if method in ("co-tune", "augment"):
        keys = {"recipe": "textfooler", **keys}
    run = DefenseRun(attack_options=stand_in_resources(), progress=False)
    spec = defense_from_mapping(method, keys, run)
    return defend(base, dataset, out, spec.method, spec.settings, spec.run)


def weights(directory: Path) -> dict[str, torch.Tensor]:
    return load_victim(directory).module.state_dict()


def differ(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return any(not torch.equal(a[key], b[key]) for key in a)


# -- co-tuning --------------------------------------------------------------------------------------


def test_co_tuning_a_lora_victim_trains_adapters_against_its_current_self(
    keywords: Dataset, tmp_path: Path
) -> None:
    from tests.victims.test_families import family_model
    from textrobust.victims.bert import parameter_counts

    model, tokenizer = family_model("bert", keywords.split("train").texts)
    model.save_pretrained(tmp_path / "encoder")
    tokenizer.save_pretrained(tmp_path / "encoder")
    config = TrainConfig(epochs=2, batch_size=16, learning_rate=5e-3, progress=False, max_train_examples=160)
    train_victim("bert", keywords, tmp_path / "lora", config, model=str(tmp_path / "encoder"), peft="lora",
                 lora_rank=4, max_length=32)  # fmt: skip
    outcome = defend_with(tmp_path / "lora", keywords, tmp_path / "co-tuned", "co-tune", epochs=2)
    defended = load_victim(tmp_path / "co-tuned")
    assert defended.peft is not None and defended.peft["lora_rank"] == 4  # a LoRA victim, co-tuned as one
    (epoch,) = outcome.details["epochs"]  # the adversarial epoch attacked the model as it then was
    assert epoch["epoch"] == 2 and epoch["attacked"] > 0
    total, trainable = parameter_counts(defended.model)
    assert trainable < total / 2
    # The encoder under the adapters is the base's, untouched; the adapters moved.
    base, lora = load_victim(tmp_path / "lora").model, defended.model
    frozen = {n: p for n, p in base.named_parameters() if not p.requires_grad}
    assert all(torch.equal(p, frozen[n]) for n, p in lora.named_parameters() if n in frozen)
    assert differ(dict(base.named_parameters()), dict(lora.named_parameters()))


def test_co_tuning_trains_on_successful_attacks_with_gold_labels_in_eval_mode(keywords: Dataset) -> None:
    train = keywords.split("train")
    modes: list[bool] = []

    def generate(victim, examples: Split, description: str) -> Generation:
        modes.append(victim.module.training)
        generation = Generation()
        for i, (text, label) in enumerate(zip(examples.texts, examples.labels, strict=True)):
            wrong = 1 - label  # the model's prediction on the adversarial text: never the label trained on
            generation.results[i] = AttackResult(
                text, label, label, [0.5, 0.5], "success", adversarial_text=f"{text} twist",
                adversarial_prediction=wrong, adversarial_proba=[0.5, 0.5],
            )  # fmt: skip
        return generation

    hooks = CoTuningHooks(train, generate, clean_epochs=1, adv_share=0.1, seed=3)
    victim = new_victim("wordcnn", keywords, train, seed=0, device="cpu", vectors=None)
    assert hooks.examples_for_epoch(1, victim) is train  # the clean epoch
    victim.module.eval()
    epoch_two = hooks.examples_for_epoch(2, victim)
    added = Split(epoch_two.texts[len(train) :], epoch_two.labels[len(train) :])
    assert len(added) == round(0.1 * len(train)) and modes == [False]
    gold = dict(zip(train.texts, train.labels, strict=True))
    assert all(
        label == gold[text.removesuffix(" twist")]
        for text, label in zip(added.texts, added.labels, strict=True)
    )
    assert hooks.sample(2) != hooks.sample(3)  # a fresh share every epoch
    assert not hooks.selectable(1) and hooks.selectable(2)  # the warm-up is never the defended model


def test_co_tune_changes_the_model_and_the_store_links_the_defense_to_its_runs(
    keywords: Dataset, base_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "co-tuned"
    outcome = defend_with(base_dir, keywords, out, "co-tune", epochs=3, adv_share=0.3)
    assert outcome.adversarial_examples > 0 and outcome.generation_seconds > 0
    assert outcome.clean_train_seconds is not None and outcome.train_seconds > outcome.generation_seconds
    assert differ(weights(base_dir), weights(out))
    record = defense_of(out)
    assert record["method"] == "co-tune" and record["parameters"]["adv_share"] == 0.3
    assert record["parameters"]["attack_options"]["neighbours"] == "<HashedNeighbourTable>"
    store = tmp_path / "s.sqlite"
    evaluation = evaluate_defense(
        out, base_dir, keywords, recipes=["textfooler"], n=20, store=store, progress=False,
        defense=record, attack_options=stand_in_resources(),
    )  # fmt: skip
    assert evaluation.n == 20 and evaluation.defense_id is not None
    with Store(store) as opened:
        (row,) = opened.defenses()
        assert row.info.method == "co-tune" and row.info.base.path == str(base_dir)
        assert row.info.defended.path == str(out.resolve())
        assert sorted(role for _run, role in row.runs) == ["base", "defended"]
        runs = {run.id: run for run in opened.runs()}
        assert {runs[run_id].parameters.victim.path for run_id, _role in row.runs} == {
            str(base_dir),
            str(out.resolve()),
        }
        assert row.info.generation_seconds == pytest.approx(outcome.generation_seconds, abs=1e-3)
    again = evaluate_defense(  # the base's run is reused, not attacked again
        out, base_dir, keywords, recipes=["textfooler"], n=20, store=store, progress=False,
        attack_options=stand_in_resources(),
    )  # fmt: skip
    assert again.recipes[0].base_run == evaluation.recipes[0].base_run


# -- augmentation -----------------------------------------------------------------------------------


def test_augmentation_attacks_only_the_training_split_and_uses_gold_labels_by_default(
    keywords: Dataset, base_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textrobust.defenses import augment as augment_module
    from textrobust.defenses.generation import AdversarialGenerator

    attacked: list[str] = []
    trained_on: list[Split] = []
    original_generate = AdversarialGenerator.__call__

    def spy(self, victim, examples: Split, description: str = "generate") -> Generation:
        attacked.extend(examples.texts)
        generation = original_generate(self, victim, examples, description)
        return generation

    class RecordingHooks(augment_module.AugmentedHooks):
        def __init__(self, split: Split, **cost) -> None:
            trained_on.append(split)
            super().__init__(split, **cost)

    monkeypatch.setattr(AdversarialGenerator, "__call__", spy)
    monkeypatch.setattr(augment_module, "AugmentedHooks", RecordingHooks)
    outcome = defend_with(base_dir, keywords, tmp_path / "gold", "augment", epochs=2, adv_share=0.5)
    train, test = keywords.split("train"), keywords.split("test")
    assert attacked and set(attacked) <= set(train.texts) and not set(attacked) & set(test.texts)
    assert outcome.adversarial_examples > 0
    (augmented,) = trained_on
    gold = dict(zip(train.texts, train.labels, strict=True))
    added = list(zip(augmented.texts[len(train) :], augmented.labels[len(train) :], strict=True))
    assert len(added) == outcome.adversarial_examples
    base = load_victim(base_dir)
    flipped = [label != int(base.predict_proba([text])[0].argmax()) for text, label in added]
    assert all(flipped), "gold labels: every added example is one the base victim gets wrong"
    assert differ(weights(base_dir), weights(tmp_path / "gold"))
    del gold

    trained_on.clear()
    defend_with(base_dir, keywords, tmp_path / "predicted", "augment", epochs=1, adv_share=0.5,
                label_source="predicted")  # fmt: skip
    (predicted,) = trained_on
    added = list(zip(predicted.texts[len(train) :], predicted.labels[len(train) :], strict=True))
    assert all(label == int(base.predict_proba([text])[0].argmax()) for text, label in added)


# -- embedding-space training -----------------------------------------------------------------------


def test_embedding_perturbations_raise_the_loss_and_change_what_is_learnt(
    keywords: Dataset, base_dir: Path, tmp_path: Path
) -> None:
    victim = load_victim(base_dir)
    train = keywords.split("train")
    texts, labels = train.texts[:32], torch.tensor(train.labels[:32])
    clean = torch.nn.functional.cross_entropy(victim.logits(texts), labels).item()
    hooks = EmbeddingAdversarialHooks(train, steps=4, epsilon=2.0, step_size=1.0)
    perturbed = hooks.batch_loss(victim, texts, labels)
    assert perturbed.item() > clean  # the ascent steps found worse embeddings than the clean ones
    perturbed.backward()
    assert victim.module.embedding.weight.grad is not None

    out = tmp_path / "embedding"
    outcome = defend_with(base_dir, keywords, out, "embedding", epochs=1, steps=2)
    assert differ(weights(base_dir), weights(out))
    plain = tmp_path / "plain"
    defend_with(base_dir, keywords, plain, "embedding", epochs=1, steps=1)  # K = 1: clean training
    assert differ(weights(plain), weights(out)), "the perturbation changed what was learnt"
    assert outcome.clean_train_seconds is not None and outcome.forward_passes == 1


# -- randomized smoothing ---------------------------------------------------------------------------


@pytest.fixture
def vectors_file(tmp_path: Path) -> Path:
    """A tiny word-vector file: the sentiment words of each polarity near each other."""
    rng = np.random.default_rng(0)
    lines = []
    for group, centre in ((POSITIVE, 1.0), (NEGATIVE, -1.0), (NOUNS, 0.0), (FILLERS, 0.5)):
        for word in group:
            vector = centre + 0.1 * rng.standard_normal(8)
            vector[group.index(word) % 8] += 1.0 if centre == 0.0 else 0.0
            lines.append(word + " " + " ".join(f"{x:.4f}" for x in vector))
    path = tmp_path / "vectors.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_smoothed_victim_is_deterministic_and_reloads_with_identical_probabilities(
    keywords: Dataset, base_dir: Path, tmp_path: Path, vectors_file: Path
) -> None:
    out = tmp_path / "smoothed"
    outcome = defend_with(
        base_dir, keywords, out, "smooth", copies=6, ratio=0.5, neighbours=str(vectors_file)
    )
    assert outcome.forward_passes == 6 and outcome.train_seconds == 0.0
    smoothed = load_victim(out)
    assert isinstance(smoothed, SmoothedVictim) and smoothed.forward_passes == 6
    texts = keywords.split("test").texts[:8]
    first = smoothed.predict_proba(texts)
    np.testing.assert_array_equal(first, smoothed.predict_proba(texts))
    np.testing.assert_array_equal(
        first[::-1], smoothed.predict_proba(texts[::-1])
    )  # batching does not matter
    np.testing.assert_array_equal(first, load_victim(out).predict_proba(texts))
    np.testing.assert_allclose(first.sum(axis=1), 1.0, rtol=1e-5)
    copies = smoothed.perturbed_copies(texts[0])
    assert len(copies) == 6 and any(copy != texts[0] for copy in copies)
    config = json.loads((out / "config.json").read_text())
    assert config["textrobust_victim"] == "smoothed" and Path(config["base"]) == base_dir.resolve()


def test_a_smoothed_victim_refuses_a_base_that_changed(
    keywords: Dataset, base_dir: Path, tmp_path: Path, vectors_file: Path
) -> None:
    import shutil

    base_copy = tmp_path / "base"
    shutil.copytree(base_dir, base_copy)
    out = tmp_path / "smoothed"
    defend_with(base_copy, keywords, out, "smooth", neighbours=str(vectors_file))
    (base_copy / "vocab.json").write_text('["<pad>", "<unk>", "x"]', encoding="utf-8")
    from textrobust.errors import VictimError

    with pytest.raises(VictimError, match="changed"):
        load_victim(out)


# -- protocol and bad input -------------------------------------------------------------------------


def test_the_paired_bootstrap_interval_covers_the_difference_and_excludes_zero_when_clear() -> None:
    base = [0.0] * 50 + [1.0] * 50
    better = [1.0] * 90 + [0.0] * 10
    clear = paired_bootstrap(base, better, seed=0)
    assert clear.difference == pytest.approx(0.4) and clear.low > 0 and clear.low <= 0.4 <= clear.high
    same = paired_bootstrap(base, base, seed=0)
    assert same.difference == 0 and not same.significant
    assert paired_bootstrap(base, better, seed=0) == clear  # seeded


@pytest.mark.parametrize(
    ("overrides", "parameter"),
    [
        ({"method": "dropout"}, "method"),
        ({"adv_share": 1.5}, "adv_share"),
        ({"label_source": "oracle"}, "label_source"),
        ({"recipe": "nope"}, "recipe"),
        ({"copies": 0}, "copies"),
        ({"epochs": 1}, "epochs"),  # co-tune needs an epoch after the clean one
    ],
)
def test_bad_settings_fail_before_any_training(
    overrides: dict, parameter: str, keywords: Dataset, base_dir: Path, tmp_path: Path
) -> None:
    values = {"method": "co-tune", **overrides}
    method = values.pop("method")
    with pytest.raises(ParameterError) as error:
        defend_with(base_dir, keywords, tmp_path / "out", method, **values)
    assert error.value.parameter == parameter
    assert not (tmp_path / "out").exists()


def test_a_killed_defend_leaves_the_output_folder_as_it_was(base_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "defended"
    out.mkdir()
    (out / "config.json").write_text('{"previous": true}', encoding="utf-8")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    data = tmp_path / "keywords.csv"
    dataset = keyword_dataset()
    lines = ["text,label,split"] + [
        f"{t},{dataset.label_names[label]},{name}"
        for name, split in dataset.splits.items()
        for t, label in zip(split.texts, split.labels, strict=True)
    ]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    command = [
        sys.executable, "-m", "textrobust", "defend", "--victim", str(base_dir), "--dataset", str(data),
        "--method", "embedding", "--steps", "400", "--epochs", "50", "--out", str(out), "--overwrite",
        "--no-evaluate", "--no-progress",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}
    )
    # Kill on a sign that training is under way (its note on stderr, after imports, data and the base's
    # checks), not after a fixed sleep that a slow or busy machine may not have reached.
    stderr: list[str] = []
    training = threading.Event()

    def read_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            stderr.append(line)
            if "timing one clean epoch" in line:
                training.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        deadline = 180  # seconds: imports and data take a few on an idle machine
        if not training.wait(timeout=deadline):
            pytest.fail(f"defend did not start training within {deadline} s; stderr: {''.join(stderr)!r}")
        assert process.poll() is None, f"defend ended before it could be killed: {''.join(stderr)!r}"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        reader.join(timeout=30)
    assert process.returncode == -signal.SIGKILL, "".join(stderr)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".defended")]
    assert all(not (tmp_path / name / "config.json").exists() for name in leftovers)
