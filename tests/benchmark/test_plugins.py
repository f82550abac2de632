"""A third party extends textrobust without editing it: a victim kind and a defense, installed as a package
with entry points, run from ``textrobust benchmark --config`` like the built-in ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stand_ins import install_plugin, keyword_dataset, write_dataset
from textrobust.cli import main
from textrobust.store import Store

PLUGIN = '''
from dataclasses import dataclass, field

from textrobust.defenses.method import TrainedDefense
from textrobust.victims.wordcnn import WordCNN


class ToyCNN(WordCNN):
    """A third party's victim kind: a small WordCNN under a name of its own."""

    victim_type = "toy-cnn"


@dataclass(frozen=True)
class HalfSettings:
    share: float = field(default=0.5, metadata={"help": "share of the training split trained on"})


class HalfRetrain(TrainedDefense):
    """A third party's defense: retrain on a share of the training split."""

    name = "half-retrain"
    Settings = HalfSettings

    def hooks(self, settings, training):
        from textrobust.victims.training import TrainerHooks

        return TrainerHooks(training.train.head(max(1, round(settings.share * len(training.train)))))
'''

CONFIG = """
[benchmark]
dataset = "{data}"
folder = "{folder}"

[attacks]
recipes = ["pwws"]
n = 6

[[victims]]
name = "toy"
type = "toy-cnn"
epochs = 1
learning_rate = 0.003
vectors = "none"

[[victims]]
name = "cnn"
type = "wordcnn"
epochs = 1
learning_rate = 0.003
vectors = "none"

[[defenses]]
victim = "toy"
method = "half-retrain"
share = 0.5
"""


def test_a_plugin_victim_kind_and_defense_run_from_a_benchmark_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("spacy", reason="PWWS tags parts of speech with spaCy")
    install_plugin(
        tmp_path / "site",
        monkeypatch,
        "toy_textrobust_plugin",
        PLUGIN,
        {
            "textrobust.victims": {"toy-cnn": "toy_textrobust_plugin:ToyCNN"},
            "textrobust.defenses": {"half-retrain": "toy_textrobust_plugin:HalfRetrain"},
        },
    )
    data = write_dataset(keyword_dataset(300), tmp_path / "keywords.csv")
    config = tmp_path / "plugins.toml"
    config.write_text(CONFIG.format(data=data, folder=tmp_path / "out"), encoding="utf-8")
    assert main(["benchmark", "--config", str(config), "--no-progress"]) == 0, capsys.readouterr().err
    with Store(tmp_path / "out" / "textrobust.sqlite") as store:
        kinds = {Path(r.parameters.victim.path).name: r.parameters.victim.type for r in store.runs()}
        (defense,) = store.defenses()
    assert kinds == {"toy": "toy-cnn", "cnn": "wordcnn", "toy-half-retrain": "toy-cnn"}
    assert defense.info.method == "half-retrain" and defense.info.parameters == {"share": 0.5}
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "toy-cnn" in report and "half-retrain" in report
