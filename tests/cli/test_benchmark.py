"""``textrobust benchmark --config``: a whole benchmark from one file on tiny data — victims, attacks, the
transfer matrix, a defense, the report (opened in headless Chromium) — reused on a second call, and every
mistake in the file reported before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stand_ins import keyword_dataset, write_dataset
from textrobust.cli import main
from textrobust.store import Store

CONFIG = """
[benchmark]
name = "tiny"
dataset = "{data}"
folder = "{folder}"
seed = 0

[attacks]
recipes = ["pwws"]
n = 12

[[attacks.variants]]
recipe = "pwws"
max_words = 1

[humaneval]
victim = "cnn"
n = 4
raters = 2

[transfer]
recipe = "pwws"

[[victims]]
name = "cnn"
type = "wordcnn"
epochs = 3
learning_rate = 0.003
vectors = "none"

[[victims]]
name = "lstm"
type = "wordlstm"
epochs = 2
learning_rate = 0.003
vectors = "none"

[[defenses]]
victim = "cnn"
method = "embedding"
epochs = 1
steps = 2
"""


@pytest.fixture(scope="module")
def tiny_benchmark(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    pytest.importorskip("spacy", reason="PWWS tags parts of speech with spaCy")
    folder = tmp_path_factory.mktemp("benchmark")
    data = write_dataset(keyword_dataset(400), folder / "keywords.csv")
    config = folder / "tiny.toml"
    config.write_text(CONFIG.format(data=data, folder=folder / "out"), encoding="utf-8")
    assert main(["benchmark", "--config", str(config), "--no-progress"]) == 0
    return config, folder / "out"


def test_the_benchmark_stores_every_part_and_writes_the_report(tiny_benchmark, capsys) -> None:
    _config, out = tiny_benchmark
    with Store(out / "textrobust.sqlite") as store:
        runs = store.runs()
        assert {r.parameters.recipe for r in runs} == {"pwws"}
        assert {Path(r.parameters.victim.path).name for r in runs} == {"cnn", "lstm", "cnn-embedding"}
        # the one-word variant is a run of its own on each victim
        assert sorted(r.parameters.options.get("max_words") or 0 for r in runs if "embedding" not in
                      r.parameters.victim.path) == [0, 0, 1, 1]  # fmt: skip
        assert len(store.transfers()) == 2 and len(store.defenses()) == 1
    for name in ("report.html", "report.md", "report.json"):
        assert (out / name).exists()
    # the rating sheets of the cnn's successes, written once
    assert {p.name for p in (out / "humaneval").iterdir()} >= {"key.json", "rater-1.csv", "rater-2.html"}


def test_a_second_call_reuses_every_finished_part(tiny_benchmark, capsys) -> None:
    config, out = tiny_benchmark
    with Store(out / "textrobust.sqlite") as store:
        before = (len(store.runs()), len(store.transfers()), len(store.defenses()))
    assert main(["benchmark", "--config", str(config), "--no-progress"]) == 0
    assert "reused" in capsys.readouterr().out
    with Store(out / "textrobust.sqlite") as store:
        # the runs and transfers are reused; the defense is judged again (a new row, the same runs)
        assert (len(store.runs()), len(store.transfers())) == before[:2]


def test_the_benchmark_report_renders_in_chromium(tiny_benchmark, browser) -> None:
    from selenium.webdriver.common.by import By

    _config, out = tiny_benchmark
    browser.get((out / "report.html").resolve().as_uri())
    rows = browser.find_elements(By.CSS_SELECTOR, "table#entries tbody tr")
    assert len(rows) == 5 and sum("pwws (max 1 word)" in row.text for row in rows) == 2
    assert len(browser.find_elements(By.CSS_SELECTOR, "table[id^='matrix-pwws'] tbody tr")) == 2
    assert len(browser.find_elements(By.CSS_SELECTOR, "section#plots figure img")) >= 2
    assert browser.find_elements(By.CSS_SELECTOR, "section#answers li")
    assert [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")] == []
    assert browser.get_screenshot_as_png()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[benchmark]\nspeed = 2\n[[victims]]\ntype = 'wordcnn'\n", "[benchmark]: unknown key 'speed'"),
        ("[[victims]]\ntype = 'svm'\n", "victim 'svm': type must be one of"),
        ("[[victims]]\ntype = 'wordcnn'\n[attacks]\nrecipes = ['nope']\n", "attacks.recipes"),
        ("[[victims]]\ntype = 'wordcnn'\n[transfer]\nrecipe = 'pwws'\n", "needs at least two victims"),
        (
            "[[victims]]\ntype = 'wordcnn'\n[[defenses]]\nvictim = 'bert'\nmethod = 'smooth'\n",
            "not one of",
        ),
        ("[[victims]\n", "is not valid TOML"),
        (
            "[[victims]]\ntype = 'wordcnn'\n[[attacks.variants]]\nrecipe = 'pwws'\nspeed = 1\n",
            "[[attacks.variants]] #1: unknown key 'speed'",
        ),
        (
            "[[victims]]\ntype = 'wordcnn'\n[[attacks.variants]]\nrecipe = 'pwws'\nmax_words = 0\n",
            "max_words",
        ),
        ("[[victims]]\ntype = 'wordcnn'\n[humaneval]\nvictim = 'bert'\n", "humaneval.victim"),
        ("[[victims]]\ntype = 'bert'\nmodel = '@mlm'\n", "needs a masked LM"),
        ("[attacks]\nn = 3\n", "list at least one [[victims]]"),
        # victims that exist already (`victim = NAME`): their keys, and their names resolved before any work
        ("[[victims]]\nname = 'x'\nvictim = 'py:nowhere.py:make'\n", "py:nowhere.py: file not found"),
        ("[[victims]]\nvictim = 'py:nowhere.py:make'\n", "needs a name"),
        ("[[victims]]\nname = 'x'\nvictim = 'http://127.0.0.1:9/'\nepochs = 2\n", "applies to a trained"),
        ("[[victims]]\ntype = 'wordcnn'\nverbalizer = 'a=b'\n", "applies to a victim given by"),
        ("[[victims]]\nname = 'x'\nvictim = 'llm:m'\nprompt = 'no text'\n", "must contain {text}"),
        ("[[victims]]\nname = 'x'\nvictim = 'http://h/'\nconcurrency = 0\n", "concurrency must be ≥ 1"),
        ("[[victims]]\nname = 'x'\nvictim = 'http://h/'\nlabel_map = 'a'\n", "label_map must be a table"),
        ("[[victims]]\nname = 'x'\ntype = 'wordcnn'\nvictim = 'http://h/'\n", "not both"),
    ],
)
def test_a_mistake_in_the_file_is_one_error_before_any_work(
    text: str, message: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.delenv("TEXTROBUST_MLM", raising=False)
    config = tmp_path / "bad.toml"
    config.write_text(text.replace("[benchmark]", "[benchmark]\nfolder = '" + str(tmp_path / "out") + "'"))
    assert main(["benchmark", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
