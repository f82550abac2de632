"""AttackOptions: every attack option in one dataclass, checked once, from which the flags, the config keys,
the store key and the report's label are made."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from textrobust.attacks import options as options_module
from textrobust.attacks.options import AttackOptions
from textrobust.errors import ParameterError


def test_the_defaults_are_the_recipe_as_published_and_store_nothing() -> None:
    options = AttackOptions()
    assert options.to_json() == {} and options.changed() == {}
    assert options.label("textfooler") == "textfooler"


def test_only_changed_options_are_stored_as_plain_data() -> None:
    options = AttackOptions(disable=["pos", "stopwords", "pos"], max_words=1, budget=50)
    assert options.disable == ("pos", "stopwords")  # sorted, once each: equal settings give one key
    assert options.to_json() == {"max_words": 1, "disable": ["pos", "stopwords"]}  # the budget has a column
    assert options.to_json(with_budget=True)["budget"] == 50


@pytest.mark.parametrize(
    ("options", "label"),
    [
        ({"max_words": 1}, "mlm-synonym (max 1 word)"),
        ({"max_words": 3}, "mlm-synonym (max 3 words)"),
        ({"hard_label": True}, "mlm-synonym (hard label)"),
        ({"beam_width": 4}, "mlm-synonym (beam 4)"),
        ({"budget": 100}, "mlm-synonym (≤ 100 queries)"),
        (
            {"profile": "textattack", "order": "victim-first"},
            "mlm-synonym (textattack profile; victim-first)",
        ),
        ({"disable": ["pos", "budget"]}, "mlm-synonym (no budget, pos)"),
        ({"budget_protocol": "textdefender"}, "mlm-synonym (textdefender budget)"),
    ],
)
def test_every_option_that_changes_results_is_in_the_label(options: dict, label: str) -> None:
    assert AttackOptions(**options).label("mlm-synonym") == label


def test_a_hard_label_run_and_a_normal_run_get_different_labels_and_keys() -> None:
    normal, hard = AttackOptions(), AttackOptions(hard_label=True)
    assert normal.label("pwws") != hard.label("pwws")
    assert normal.to_json() != hard.to_json()


@pytest.mark.parametrize(
    ("values", "parameter", "problem"),
    [
        ({"budget": 0}, "budget", "must be ≥ 1, got 0"),
        ({"beam_width": -2}, "beam_width", "must be ≥ 1"),
        ({"max_words": 1.5}, "max_words", "must be a whole number"),
        ({"hard_label": "yes"}, "hard_label", "must be true or false"),
        ({"profile": "openattack"}, "profile", "'openattack' is unknown"),
        ({"order": "random"}, "order", "'random' is unknown"),
        ({"budget_protocol": "mine"}, "budget_protocol", "'mine' is unknown"),
        ({"disable": ["grammar"]}, "disable", "'grammar' is unknown; choose one of repeat"),
        ({"disable": [3]}, "disable", "must be a list of names"),
        ({"order": "victim-first", "budget": 10}, "order", "use it without a budget"),
    ],
)
def test_bad_values_are_refused_when_made_naming_the_option(
    values: dict, parameter: str, problem: str
) -> None:
    with pytest.raises(ParameterError) as bad:
        AttackOptions(**values)
    assert bad.value.parameter == parameter and problem in bad.value.problem
    assert isinstance(bad.value, ValueError)  # one hierarchy: a ParameterError is a ValueError too


def test_from_mapping_reads_plain_data_and_names_an_unknown_key() -> None:
    options = AttackOptions.from_mapping({"disable": ["pos", "stopwords"], "word_list": Path("words.txt")})
    assert options.disable == ("pos", "stopwords") and options.word_list == "words.txt"
    with pytest.raises(ParameterError) as unknown:
        AttackOptions.from_mapping({"max_word": 1})
    assert unknown.value.parameter == "max_word" and "known: profile" in unknown.value.problem
    with pytest.raises(ParameterError, match="disable must be a list"):
        AttackOptions.from_mapping({"disable": "pos"})


def test_a_stored_run_reads_back_with_its_budget_and_without_run_level_entries() -> None:
    stored = {"language": "en", "mlm": "bert-base-uncased", "max_words": 2, "retired_option": 1}
    options = AttackOptions.from_run(stored, budget=30)
    assert options == AttackOptions(max_words=2, budget=30)


def test_without_puts_named_options_back_at_their_defaults() -> None:
    assert AttackOptions(budget=5, hard_label=True).without("budget") == AttackOptions(hard_label=True)


# -- a new option appears everywhere at once --------------------------------------------------------


@pytest.fixture
def toy_options(monkeypatch: pytest.MonkeyPatch) -> type:
    """AttackOptions with one more field, as a developer would add it (only this class changes)."""
    toy = dataclasses.make_dataclass(
        "AttackOptions",
        [
            (
                "toy_level",
                "int | None",
                options_module.option(None, help="a toy option", minimum=1),
            )
        ],
        bases=(AttackOptions,),
        frozen=True,
        namespace={"__module__": options_module.__name__},
    )
    monkeypatch.setattr(options_module, "AttackOptions", toy)
    return toy


def test_a_new_option_field_is_a_flag_of_attack(toy_options: type) -> None:
    from textrobust.cli import build_parser
    from textrobust.cli.arguments import options_from_args

    parser = build_parser()
    args = parser.parse_args(["attack", "--victim", "v", "--recipe", "textfooler", "--toy-level", "3"])
    options = options_from_args(args, toy_options)
    assert options.toy_level == 3
    assert parser.parse_args(["attack", "--victim", "v", "--recipe", "pwws"]).toy_level is None


def test_a_new_option_field_is_a_benchmark_key_and_in_the_run_label(
    toy_options: type, tmp_path: Path
) -> None:
    from textrobust.benchmark import read_benchmark

    config = tmp_path / "bench.toml"
    config.write_text(
        '[attacks]\nrecipes = ["textfooler"]\ntoy_level = 2\n'
        '[[attacks.variants]]\nrecipe = "pwws"\ntoy_level = 5\n'
        '[[victims]]\nname = "cnn"\ntype = "wordcnn"\n',
        encoding="utf-8",
    )
    spec = read_benchmark(config)
    assert [(a.recipe, a.options.toy_level) for a in spec.attacks] == [("textfooler", 2), ("pwws", 5)]
    assert spec.attacks[1].label == "pwws (toy level 5)"
    assert spec.attacks[0].options.to_json() == {"toy_level": 2}  # so it is part of the run's key
    from textrobust.leaderboard.report import recipe_label

    assert recipe_label("pwws", {"language": "en", "toy_level": 5}) == "pwws (toy level 5)"
    with pytest.raises(Exception, match="toy_level must be ≥ 1"):
        config.write_text(
            '[attacks]\ntoy_level = 0\n[[victims]]\nname = "cnn"\ntype = "wordcnn"\n', encoding="utf-8"
        )
        read_benchmark(config)
