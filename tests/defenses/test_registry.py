"""Defense methods are registered classes: the registry lists the built-ins, settings come from plain data
with unknown keys refused by name, a third party's method installed through an entry point runs through
``defend`` with no edit to this package, and the ``defend`` flags are generated from the settings fields."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from tests.stand_ins import keyword_dataset, write_dataset
from textrobust.data import Dataset
from textrobust.defenses.defend import defend, defense_of
from textrobust.defenses.methods import CoTune, EmbeddingSettings, Smooth, SmoothSettings
from textrobust.defenses.registry import DEFENSES, resolve_method
from textrobust.defenses.settings import DefenseRun
from textrobust.defenses.spec import defense_from_mapping, settings_from_mapping
from textrobust.errors import ParameterError, TextrobustError
from textrobust.fields import setting_fields
from textrobust.victims import load_victim
from textrobust.victims.training import TrainConfig, train_victim

# A third party's package: a defense that trains the base again on a share of its training split.
TOY_MODULE = '''
"""A toy defense, as a third party writes it."""

from dataclasses import dataclass, field

from textrobust.defenses.method import Cost, TrainedDefense
from textrobust.errors import ParameterError


@dataclass(frozen=True)
class RetrainSettings:
    share: float = field(default=1.0, metadata={"help": "share of the training split trained on"})

    def __post_init__(self) -> None:
        if not 0.0 < self.share <= 1.0:
            raise ParameterError("share", f"must be in (0, 1], got {self.share}")


class Retrain(TrainedDefense):
    name = "toy-retrain"
    Settings = RetrainSettings

    def hooks(self, settings, training):
        from textrobust.victims.training import TrainerHooks

        kept = max(1, round(settings.share * len(training.train)))
        return TrainerHooks(training.train.head(kept))

    def cost(self, settings, hooks, report):
        return Cost(details={"trained_on": len(hooks.train)})
'''


@pytest.fixture
def toy_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The toy defense installed as a distribution with a ``textrobust.defenses`` entry point (a real
    ``*.dist-info`` folder on ``sys.path``, as pip leaves one)."""
    site = tmp_path / "site"
    (site / "toy_textrobust_defense-0.1.dist-info").mkdir(parents=True)
    (site / "toy_textrobust_defense.py").write_text(TOY_MODULE, encoding="utf-8")
    info = site / "toy_textrobust_defense-0.1.dist-info"
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: toy-textrobust-defense\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[textrobust.defenses]\ntoy-retrain = toy_textrobust_defense:Retrain\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "toy_textrobust_defense", raising=False)
    yield "toy-retrain"
    sys.modules.pop("toy_textrobust_defense", None)


@pytest.fixture(scope="module")
def keywords() -> Dataset:
    return keyword_dataset()


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory: pytest.TempPathFactory, keywords: Dataset) -> Path:
    directory = tmp_path_factory.mktemp("registry") / "base"
    config = TrainConfig(epochs=1, batch_size=32, learning_rate=3e-3, progress=False, seed=1)
    train_victim("wordcnn", keywords, directory, config, vectors=None)
    return directory


# -- the registry -----------------------------------------------------------------------------------


def test_the_registry_lists_the_four_built_in_methods_in_order() -> None:
    assert DEFENSES.builtin_names() == ["co-tune", "augment", "embedding", "smooth"]
    for name in DEFENSES.builtin_names():
        method = resolve_method(name)
        assert method.name == name and dataclasses.is_dataclass(method.Settings)
        for spec in setting_fields(method.Settings):
            assert spec.help, f"{name}.{spec.name} needs a help line (it becomes a flag)"
            assert spec.default is not dataclasses.MISSING


def test_an_unknown_method_is_a_parameter_error_naming_method() -> None:
    with pytest.raises(ParameterError) as error:
        resolve_method("dropout")
    assert error.value.parameter == "method" and "co-tune" in str(error.value)


# -- settings from plain data -----------------------------------------------------------------------


def test_an_unknown_key_is_a_parameter_error_naming_it_and_listing_the_known_ones() -> None:
    with pytest.raises(ParameterError) as error:
        settings_from_mapping("smooth", {"copies": 4, "steps": 3})
    assert error.value.parameter == "steps"
    assert "copies, ratio, neighbours" in str(error.value)
    with pytest.raises(ParameterError) as error:
        defense_from_mapping("embedding", {"epochs": 1, "adv_share": 0.5})  # a key of another method
    assert (
        error.value.parameter == "adv_share" and "steps" in str(error.value) and "epochs" in str(error.value)
    )


def test_values_are_converted_to_their_field_types_and_checked() -> None:
    settings = settings_from_mapping(CoTune, {"adv_share": 1, "clean_epochs": 2})
    assert settings.adv_share == 1.0 and isinstance(settings.adv_share, float) and settings.recipe == "a2t"
    for mapping, parameter in (
        ({"copies": "8"}, "copies"),
        ({"copies": True}, "copies"),
        ({"ratio": 1.5}, "ratio"),
    ):
        with pytest.raises(ParameterError) as error:
            settings_from_mapping(Smooth, mapping)
        assert error.value.parameter == parameter
    with pytest.raises(ParameterError, match="choose one of gold, predicted"):
        settings_from_mapping("augment", {"label_source": "oracle"})


def test_a_table_splits_into_the_methods_settings_and_the_training_run() -> None:
    shared = DefenseRun(seed=7, progress=False)
    method, settings, run = defense_from_mapping("co-tune", {"epochs": 3, "adv_share": 0.1}, shared)
    assert method.name == "co-tune" and settings.adv_share == 0.1
    assert run.epochs == 3 and run.seed == 7 and not run.progress


def test_the_stored_parameters_keep_their_shape() -> None:
    method, settings, run = defense_from_mapping(
        "co-tune", {}, DefenseRun(attack_options={"disable": ["pos"]})
    )
    assert method.parameters(settings, run) == {
        "recipe": "a2t",
        "clean_epochs": 1,
        "adv_share": 0.2,
        "adv_weight": 1.0,
        "attack_options": {"disable": ["pos"]},
    }
    method, settings, run = defense_from_mapping("smooth", {"copies": 4})
    assert method.parameters(settings, run) == {
        "copies": 4,
        "ratio": 0.3,
        "neighbours": "counter-fitted-glove-50d",
    }


def test_settings_of_another_method_are_refused_before_any_work(
    keywords: Dataset, base_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(ParameterError) as error:
        defend(base_dir, keywords, tmp_path / "out", "smooth", EmbeddingSettings())
    assert error.value.parameter == "settings" and not (tmp_path / "out").exists()


# -- a third party's method -------------------------------------------------------------------------


def test_a_method_installed_through_an_entry_point_is_found_and_makes_a_saved_victim(
    toy_plugin: str, keywords: Dataset, base_dir: Path, tmp_path: Path
) -> None:
    assert toy_plugin in DEFENSES.names() and toy_plugin not in DEFENSES.builtin_names()
    method, settings, run = defense_from_mapping(
        toy_plugin, {"share": 0.5, "epochs": 1}, DefenseRun(progress=False)
    )
    outcome = defend(base_dir, keywords, tmp_path / "toy", method, settings, run)
    assert outcome.method == toy_plugin and outcome.details["trained_on"] == round(
        0.5 * len(keywords.split("train"))
    )
    assert outcome.clean_train_seconds is not None  # the shared step timed the clean reference
    assert load_victim(tmp_path / "toy").predict_proba(["a fine film"]).shape == (1, 2)
    record = defense_of(tmp_path / "toy")
    assert record["method"] == toy_plugin and record["parameters"] == {"share": 0.5}


def test_a_class_that_is_no_defense_method_is_a_one_line_error() -> None:
    with pytest.raises(TextrobustError, match="is not a defense method: subclass"):
        resolve_method(DefenseRun)  # type: ignore[arg-type]


# -- generated flags --------------------------------------------------------------------------------


def _defend_flags() -> dict[str, str]:
    from textrobust.cli import build_parser

    parser = build_parser()
    (subparsers,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    defend_parser = subparsers.choices["defend"]
    return {flag: action.help or "" for action in defend_parser._actions for flag in action.option_strings}


def test_the_flags_of_today_keep_their_names() -> None:
    flags = _defend_flags()
    for flag in ("--recipe", "--clean-epochs", "--adv-share", "--adv-weight", "--label-source", "--steps",
                 "--epsilon", "--step-size", "--copies", "--ratio", "--neighbours", "--epochs",
                 "--batch-size", "--lr", "--seed", "--max-train"):  # fmt: skip
        assert flag in flags, flag
    assert "co-tune" in flags["--adv-share"] and "augment" in flags["--adv-share"]


def test_a_new_settings_field_appears_as_a_defend_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    @dataclasses.dataclass(frozen=True)
    class Wider(SmoothSettings):
        temperature: float = dataclasses.field(default=1.0, metadata={"help": "softmax temperature"})

    monkeypatch.setattr(Smooth, "Settings", Wider)
    flags = _defend_flags()
    assert "--temperature" in flags and flags["--temperature"].startswith("smooth: softmax temperature")


def test_a_plugins_settings_are_flags_and_it_runs_from_the_command_line(
    toy_plugin: str, keywords: Dataset, base_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from textrobust.cli import main

    assert "--share" in _defend_flags()
    data = write_dataset(keywords, tmp_path / "keywords.csv")
    argv = ["defend", "--victim", str(base_dir), "--dataset", str(data), "--method", toy_plugin,
            "--share", "0.25", "--epochs", "1", "--out", str(tmp_path / "toy"), "--no-evaluate",
            "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    assert "toy-retrain: wrote" in capsys.readouterr().err
    assert defense_of(tmp_path / "toy")["parameters"] == {"share": 0.25}
    bad = [*argv[:-4], "--steps", "2", "--out", str(tmp_path / "other"), "--no-evaluate"]
    assert main(bad) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --steps does not apply to --method toy-retrain (its flags: --share)"), err
    assert not (tmp_path / "other").exists()
