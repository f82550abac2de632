"""``benchmark --config`` with victims of every origin in one file: a wordcnn it trains, a checkpoint folder
saved with plain transformers, a model behind ``textrobust serve`` (attacked through its URL) and a local
causal LM as a zero-shot ``llm:`` victim. One report names each victim's kind, and the requests and
tokens the endpoint's and the LLM's attacks cost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.stand_ins import keyword_dataset, write_dataset
from tests.victims.http_endpoints import KEYWORD_MODEL, textrobust_serve
from tests.victims.test_checkpoints import fine_tune_with_plain_transformers
from tests.victims.tiny_llm import tiny_causal_lm
from textrobust.cli import main
from textrobust.store import Store

CONFIG = """
[benchmark]
name = "mixed"
dataset = "{data}"
folder = "{folder}"

[attacks]
recipes = ["pwws"]
n = 4

[[victims]]
name = "cnn"
type = "wordcnn"
epochs = 3
learning_rate = 0.003
vectors = "none"

[[victims]]
name = "checkpoint"
victim = "{checkpoint}"

[[victims]]
name = "endpoint"
victim = "{url}"
request_cache = "{cache}"
concurrency = 2

[[victims]]
name = "llm"
victim = "llm:{llm}"
verbalizer = 'negative="very negative",positive="positive"'
prompt = "Is it negative or positive? {{text}}"
"""


def test_one_benchmark_file_mixes_trained_checkpoint_endpoint_and_llm_victims(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("spacy", reason="PWWS tags parts of speech with spaCy")
    pytest.importorskip("uvicorn", reason="textrobust serve needs the http extra")
    dataset = keyword_dataset(400)
    data = write_dataset(dataset, tmp_path / "keywords.csv")
    checkpoint = tmp_path / "checkpoint"
    assert fine_tune_with_plain_transformers(checkpoint, dict(enumerate(dataset.label_names))) > 0.9
    llm = tiny_causal_lm(tmp_path / "tiny-llm")
    (tmp_path / "team_model.py").write_text(KEYWORD_MODEL, encoding="utf-8")
    with textrobust_serve(f"py:{tmp_path / 'team_model.py'}:make") as served:
        config = tmp_path / "mixed.toml"
        config.write_text(
            CONFIG.format(
                data=data,
                folder=tmp_path / "out",
                checkpoint=checkpoint,
                url=served.url,
                cache=tmp_path / "requests.sqlite",
                llm=llm,
            ),  # fmt: skip
            encoding="utf-8",
        )
        assert main(["benchmark", "--config", str(config), "--no-progress"]) == 0, capsys.readouterr().err
        served_requests = served.stats()["requests"]
    markdown = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    for kind in ("wordcnn", "checkpoint", "http", "llm"):
        assert f"({kind})" in markdown, markdown  # the report's tables name every victim's kind
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    kinds = {e["victim"]["type"]: e for e in report["entries"]}
    assert set(kinds) == {"wordcnn", "checkpoint", "http", "llm"}
    assert kinds["wordcnn"]["usage"] is None and kinds["checkpoint"]["usage"] is None
    endpoint, llm_entry = kinds["http"]["usage"], kinds["llm"]["usage"]
    assert 0 < endpoint["requests"] <= served_requests  # what the attack sent (evaluation sent the rest)
    assert llm_entry["requests"] > 0 and llm_entry["tokens_in"] > 0
    identity = kinds["llm"]["victim"]["details"]["identity"]  # what was attacked, exactly
    assert identity["answers"] == ["very negative", "positive"] and identity["prompt"].startswith("Is it")
    assert identity["location"] == f"llm:{llm.resolve()}" and identity["digest"]
    assert kinds["http"]["victim"]["details"]["identity"]["url"].rstrip("/") == served.url.rstrip("/")
    assert "Victims from elsewhere" in markdown and "requests" in markdown and "tokens in/out" in markdown
    with Store(tmp_path / "out" / "textrobust.sqlite") as store:
        assert {run.parameters.victim.type for run in store.runs()} == {
            "wordcnn",
            "checkpoint",
            "http",
            "llm",
        }
