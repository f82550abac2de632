"""Fixtures shared by the whole suite."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SHARED = Path(__file__).resolve().parents[2] / "shared"
AJGT = SHARED / "data" / "ajgt" / "ajgt.tsv"
SHARED_MLM = SHARED / "models" / "minilm-mlm-en"


@pytest.fixture
def ajgt_path() -> Path:
    if not AJGT.exists():
        pytest.skip("AJGT is not available (expected ../shared/data/ajgt/ajgt.tsv next to the checkout)")
    return AJGT


@pytest.fixture(scope="session")
def mr_dataset():
    from textrobust.data import load_dataset

    return load_dataset("mr")


@pytest.fixture(scope="session")
def small_mr(mr_dataset):
    """MR cut to 600 train / 200 validation / 200 test sentences, for quick training in tests."""
    from textrobust.data import Dataset

    sizes = {"train": 600, "validation": 200, "test": 200}
    return Dataset(
        "mr-small",
        "en",
        mr_dataset.label_names,
        {name: mr_dataset.split(name).head(n) for name, n in sizes.items()},
    )


@pytest.fixture(scope="session")
def tiny_wordcnn_dir(tmp_path_factory: pytest.TempPathFactory, small_mr) -> Path:
    """A WordCNN trained for two epochs on 600 MR sentences with random embeddings (a few seconds)."""
    from textrobust.victims.training import TrainConfig, train_victim

    directory = tmp_path_factory.mktemp("victims") / "wordcnn"
    train_victim(
        "wordcnn",
        small_mr,
        directory,
        TrainConfig(epochs=2, progress=False, seed=0),
        vectors=None,
    )
    return directory


@pytest.fixture(scope="session")
def report_store(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A store with everything a report shows, made for real on tiny data: two WordCNN victims attacked
    with textfooler (stand-in resources), the transfer between them, an embedding defense of the first with
    its evaluation, and a human evaluation of one run from filled-in sheets."""
    import csv

    from tests.stand_ins import keyword_dataset, stand_in_resources
    from textrobust.defenses.defend import defend
    from textrobust.defenses.evaluate import evaluate_defense
    from textrobust.defenses.methods import EmbeddingSettings
    from textrobust.defenses.settings import DefenseRun
    from textrobust.leaderboard.humaneval import export_kit, read_ratings, summarize_ratings
    from textrobust.runs.jobs import record_human_evaluation
    from textrobust.runs.transfer import transfer_matrix
    from textrobust.store import Store
    from textrobust.victims.training import TrainConfig, train_victim

    folder = tmp_path_factory.mktemp("report")
    dataset = keyword_dataset()
    victims = []
    for name, seed, epochs in (("cnn-a", 1, 3), ("cnn-b", 2, 1)):
        config = TrainConfig(epochs=epochs, batch_size=32, learning_rate=3e-3, progress=False, seed=seed)
        train_victim("wordcnn", dataset, folder / name, config, vectors=None)
        victims.append(folder / name)
    store_path = folder / "store.sqlite"
    with Store(store_path) as store:
        matrix = transfer_matrix(
            victims, "textfooler", dataset, store, n=30, resources=stand_in_resources(), progress=False
        )
        run = DefenseRun(epochs=1, progress=False)
        outcome = defend(
            victims[0], dataset, folder / "cnn-a-embedding", "embedding", EmbeddingSettings(steps=2), run
        )
        evaluate_defense(
            folder / "cnn-a-embedding", victims[0], dataset, recipes=["textfooler"], n=30, store=store,
            progress=False, defense=outcome.record(), attack_options=stand_in_resources(),
        )  # fmt: skip
        run_id = matrix.runs[str(victims[0])]
        kit = export_kit(store, run_id, folder / "kit", n=8, raters=3)
        key = json.loads((kit.directory / "key.json").read_text(encoding="utf-8"))
        for rater, sheet in enumerate(kit.sheets):
            rows = list(csv.DictReader(sheet.open(encoding="utf-8")))
            for number, row in enumerate(rows):
                row.update(grammar_a=str(3 + (number + rater) % 3), grammar_b="4", meaning=str(2 + rater),
                           label_a="positive" if number % 2 else "negative", label_b="positive")  # fmt: skip
            with sheet.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        ratings = read_ratings(kit.sheets, key)
        record_human_evaluation(store, run_id, summarize_ratings(ratings, key), ratings)
    return {"store": store_path, "victims": victims, "defended": folder / "cnn-a-embedding", "run": run_id}


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def browser():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("Debian chromium and chromium-driver are absent: bash scripts/test.sh installs them")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1200,2400"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


# -- real resources and a real victim, for the attack tests that need them -------------------


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """Torch on one thread: on a small shared machine, more threads than free cores are many times slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def real_resources(one_thread) -> dict[str, object]:
    # textrobust's own modules are imported unguarded: one that fails to import is a failure, not a skip.
    from textrobust.resources.neighbours import load_neighbour_table
    from textrobust.resources.pos import load_pos_tagger
    from textrobust.resources.sentence_encoder import load_sentence_encoder
    from textrobust.resources.stopwords import stopwords

    return {
        "neighbours": load_neighbour_table("counter-fitted-glove-50d"),
        "sentence_encoder": load_sentence_encoder("use-multilingual"),
        "pos_tagger": load_pos_tagger("en"),
        "stopwords": stopwords("en"),
    }


@pytest.fixture(scope="module")
def mr_wordcnn(mr_dataset):
    """A WordCNN trained for two epochs on 2,000 MR sentences (random embeddings; about 6 s on 2 cores)."""
    from textrobust.data import Dataset
    from textrobust.victims.training import TrainConfig, train_victim

    data = Dataset(
        "mr-2k",
        "en",
        mr_dataset.label_names,
        {
            "train": mr_dataset.split("train").head(2000),
            "validation": mr_dataset.split("validation").head(200),
            "test": mr_dataset.split("test").head(20),
        },
    )
    victim, _report = train_victim(
        "wordcnn", data, config=TrainConfig(epochs=2, progress=False, seed=0), vectors=None
    )
    return victim, data.split("test")
