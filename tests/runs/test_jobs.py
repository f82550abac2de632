"""Jobs: a victim is named once — one attack run reads its victim's config.json once and digests its files
once — and what a run stores is what its options say."""

from __future__ import annotations

import builtins
import pathlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.stand_ins import keyword_dataset, stand_in_resources
from textrobust.attacks.options import AttackOptions
from textrobust.errors import ParameterError
from textrobust.runs.jobs import attack_victim
from textrobust.store import Store


@pytest.fixture(scope="module")
def keyword_wordcnn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from textrobust.victims.training import TrainConfig, train_victim

    directory = tmp_path_factory.mktemp("jobs") / "wordcnn"
    config = TrainConfig(epochs=1, batch_size=32, learning_rate=3e-3, progress=False, seed=0)
    train_victim("wordcnn", keyword_dataset(), directory, config, vectors=None)
    return directory


class FileReads:
    """Counts the openings of chosen files (however they are opened; not those of a digest, which reads
    every file's bytes) and the digests of chosen folders."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, files: list[Path], folders: list[Path]) -> None:
        self.files = {str(path.resolve()) for path in files}
        self.folders = {str(path.resolve()) for path in folders}
        self.opened: Counter[str] = Counter()
        self.digested: Counter[str] = Counter()
        self.digesting = False
        original_open = builtins.open
        original_io_open = pathlib.Path.open
        import textrobust.files
        import textrobust.store.records

        original_digest = textrobust.files.directory_digest

        def counting_open(file: Any, *args: Any, **kwargs: Any) -> Any:
            self._count(file)
            return original_open(file, *args, **kwargs)

        def counting_path_open(path: pathlib.Path, *args: Any, **kwargs: Any) -> Any:
            self._count(path)
            return original_io_open(path, *args, **kwargs)

        def counting_digest(directory: str | Path) -> str:
            if str(Path(directory).resolve()) in self.folders:
                self.digested[str(Path(directory).resolve())] += 1
            self.digesting = True
            try:
                return original_digest(directory)
            finally:
                self.digesting = False

        monkeypatch.setattr(builtins, "open", counting_open)
        monkeypatch.setattr(pathlib.Path, "open", counting_path_open)
        monkeypatch.setattr(textrobust.files, "directory_digest", counting_digest)
        monkeypatch.setattr(textrobust.store.records, "directory_digest", counting_digest)

    def _count(self, file: Any) -> None:
        if not self.digesting and isinstance(file, str | Path) and str(Path(file).resolve()) in self.files:
            self.opened[str(Path(file).resolve())] += 1


def test_one_attack_run_reads_its_victims_config_once_and_digests_it_once(
    keyword_wordcnn: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = keyword_wordcnn / "config.json"
    reads = FileReads(monkeypatch, [config], [keyword_wordcnn])
    outcome = attack_victim(
        keyword_wordcnn, "textfooler", dataset=keyword_dataset(), n=3, resources=stand_in_resources(),
        store=tmp_path / "store.sqlite", progress=False,
    )  # fmt: skip
    assert outcome.attacked == 3
    assert reads.opened[str(config.resolve())] == 1
    assert reads.digested[str(keyword_wordcnn.resolve())] == 1


def test_a_run_stores_the_options_that_differ_from_the_defaults(
    keyword_wordcnn: Path, tmp_path: Path
) -> None:
    options = AttackOptions(max_words=1, budget=40, disable=["pos"])
    outcome = attack_victim(
        keyword_wordcnn, "textfooler", options=options, dataset=keyword_dataset(), n=2,
        resources=stand_in_resources(), store=tmp_path / "store.sqlite", progress=False,
    )  # fmt: skip
    stored = outcome.run.parameters
    assert stored.budget == 40
    assert {k: v for k, v in stored.options.items() if k in ("max_words", "disable")} == {
        "max_words": 1,
        "disable": ["pos"],
    }
    assert AttackOptions.from_run(stored.options, stored.budget) == options
    with Store(tmp_path / "store.sqlite") as store:
        assert all(r.queries <= 40 for r in store.results(outcome.run.id))


def test_recipe_and_options_are_checked_before_the_store_is_touched(keyword_wordcnn: Path, tmp_path: Path):
    store = tmp_path / "store.sqlite"
    with pytest.raises(ParameterError) as unknown:
        attack_victim(keyword_wordcnn, "fooler", dataset=keyword_dataset(), store=store, progress=False)
    assert unknown.value.parameter == "recipe"
    with pytest.raises(ParameterError) as english_only:
        attack_victim(
            keyword_wordcnn, "a2t", options=AttackOptions(profile="textattack"), dataset=keyword_dataset(),
            store=store, progress=False,
        )  # fmt: skip
    assert english_only.value.parameter == "profile"
    assert not store.exists()
