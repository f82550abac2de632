# ruff: noqa: E501 - one command line per row reads best
"""Bad input to ``openai:`` victims, from the command line: one line on stderr that begins ``error:``, a
non-zero exit, no traceback, and nothing written in the working folder (as ``test_cli_errors`` checks every
command). A case that needs a server that answers uses a stand-in endpoint (``tests.llama_server``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.llama_server import ChatStandIn, free_port
from tests.reliability.test_cli_errors import assert_one_error_line
from textrobust.cli import main

VERBALIZER = 'negative="negative",positive="positive"'
UNSET = "TEXTROBUST_TEST_UNSET_KEY"

# (case id, arguments after "attack --recipe pwws --n 2 --store runs.sqlite"; "{url}" is a stand-in
# endpoint's base URL (it gives log-probabilities), "{nowhere}" a base URL nothing listens at)
CASES: list[tuple[str, list[str]]] = [
    ("unreachable server", ["--victim", "openai:m@{nowhere}", "--verbalizer", VERBALIZER, "--retries", "1"]),
    ("key variable unset", ["--victim", "openai:m@{url}", "--verbalizer", VERBALIZER, "--api-key-env", UNSET]),
    ("OpenAI's API without a key", ["--victim", "openai:gpt-4o-mini", "--verbalizer", VERBALIZER]),
    ("no verbalizer", ["--victim", "openai:m@{url}"]),
    ("verbalizer naming an unknown class", ["--victim", "openai:m@{url}", "--verbalizer", 'neg="negative",positive="positive"']),
    ("verbalizer of one class", ["--victim", "openai:m@{url}", "--verbalizer", 'positive="positive"']),
    ("verbalizers beginning alike", ["--victim", "openai:m@{url}", "--verbalizer", 'negative="very bad",positive="very good"']),
    ("base URL not http", ["--victim", "openai:m@ftp://127.0.0.1/v1", "--verbalizer", VERBALIZER]),
    ("no model", ["--victim", "openai:", "--verbalizer", VERBALIZER]),
    ("label map", ["--victim", "openai:m@{url}", "--verbalizer", VERBALIZER, "--label-map", "a=negative"]),
]  # fmt: skip


@pytest.fixture(scope="module")
def stand_in() -> ChatStandIn:
    server = ChatStandIn(logprobs=True)
    yield server
    server.close()


@pytest.mark.parametrize(("case", "arguments"), CASES, ids=[case for case, _ in CASES])
def test_bad_openai_victims_are_one_error_line_and_write_nothing(
    case: str,
    arguments: list[str],
    stand_in: ChatStandIn,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workspace = tmp_path / "work"
    workspace.mkdir()
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("TEXTROBUST_CACHE", str(tmp_path / "cache"))  # the request cache is not an output
    monkeypatch.delenv(UNSET, raising=False)
    nowhere = f"http://127.0.0.1:{free_port()}/v1"
    filled = [a.replace("{url}", stand_in.base_url).replace("{nowhere}", nowhere) for a in arguments]
    argv = ["attack", "--recipe", "pwws", "--n", "2", "--store", "runs.sqlite", "--no-progress", *filled]
    assert_one_error_line(case, argv, workspace, capsys)


def test_an_unreachable_server_is_named_with_the_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("TEXTROBUST_CACHE", str(tmp_path / "cache"))
    nowhere = f"http://127.0.0.1:{free_port()}/v1"
    code = main(["evaluate", "--victim", f"openai:m@{nowhere}", "--verbalizer", VERBALIZER, "--retries", "0"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and f"{nowhere}/chat/completions" in err and "cannot connect" in err, err
