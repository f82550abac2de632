"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
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
