# ruff: noqa: E501 - one command line per row reads best
"""Bad input to HTTP victims and ``textrobust serve``: one line on stderr that begins ``error:``, a non-zero
exit, no traceback, and nothing written in the working folder (no store, no request cache)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.reliability.test_cli_errors import assert_one_error_line
from tests.victims.http_endpoints import KEYWORD_MODEL, Reply, endpoint, protocol

pytest.importorskip("httpx", reason="HTTP victims need the 'http' extra")

ATTACK = [
    "attack",
    "--recipe",
    "pwws",
    "--n",
    "2",
    "--store",
    "runs.sqlite",
    "--request-cache",
    "cache.sqlite",
]

# (case id, command line, what the error line must say); "{ok}": a well-behaved endpoint's URL, "{no_info}":
# one that answers predictions but not GET, "{closed}": a port nothing listens on, "{busy}": one in use.
CASES: list[tuple[str, list[str], str]] = [
    ("unreachable endpoint", [*ATTACK, "--victim", "{closed}", "--retries", "0"], "cannot connect"),
    ("unreachable endpoint, evaluate", ["evaluate", "--victim", "{closed}", "--retries", "1", "--request-cache", "cache.sqlite"], "after 2 attempts"),
    ("endpoint without GET info", [*ATTACK, "--victim", "{no_info}", "--retries", "0"], 'GET must answer {"labels"'),
    ("endpoint whose GET names no classes", [*ATTACK, "--victim", "{no_labels}", "--retries", "0"], "GET answered no class names"),
    ("not an endpoint URL", [*ATTACK, "--victim", "http:nowhere"], "is not an endpoint URL"),
    ("URL without a host", [*ATTACK, "--victim", "https:///path"], "is not an endpoint URL"),
    ("--api-key-env naming an unset variable", [*ATTACK, "--victim", "{ok}", "--api-key-env", "TEXTROBUST_TEST_UNSET_KEY"], "TEXTROBUST_TEST_UNSET_KEY, which is not set"),
    ("--concurrency 0", [*ATTACK, "--victim", "{ok}", "--concurrency", "0"], "--concurrency must be ≥ 1, got 0"),
    ("--request-batch 0", [*ATTACK, "--victim", "{ok}", "--request-batch", "0"], "--request-batch must be ≥ 1"),
    ("--timeout 0", [*ATTACK, "--victim", "{ok}", "--timeout", "0"], "--timeout must be ≥"),
    ("--retries -1", [*ATTACK, "--victim", "{ok}", "--retries", "-1"], "--retries must be ≥ 0"),
    ("--max-requests 0", [*ATTACK, "--victim", "{ok}", "--max-requests", "0"], "--max-requests must be ≥ 1"),
    ("--max-tokens 0", [*ATTACK, "--victim", "{ok}", "--max-tokens", "0"], "--max-tokens must be ≥ 1"),
    ("--max-tokens on a generic endpoint", [*ATTACK, "--victim", "{ok}", "--max-tokens", "1000"], "--max-tokens does not apply to a generic endpoint"),
    ("--request-cache is a folder", ["attack", "--recipe", "pwws", "--store", "runs.sqlite", "--victim", "{ok}", "--request-cache", "a-folder"], "is not a file"),
    ("--request-cache is not a database", ["attack", "--recipe", "pwws", "--store", "runs.sqlite", "--victim", "{ok}", "--request-cache", "notes.txt"], "cannot be used"),
    ("wrong label map for an endpoint", [*ATTACK, "--victim", "{ok}", "--label-map", "LABEL_0=neg"], "--label-map names 'LABEL_0'"),
    ("serve --port out of range", ["serve", "--victim", "py:keywords_model.py:make", "--port", "70000"], "--port must be between 0 and 65535"),
    ("serve on a port in use", ["serve", "--victim", "py:keywords_model.py:make", "--port", "{busy}"], "cannot listen on 127.0.0.1"),
    ("serve a missing victim", ["serve", "--victim", "py:keywords_model.py:missing", "--port", "0"], "has no 'missing'"),
]  # fmt: skip


@pytest.fixture(scope="module")
def servers():
    script = protocol()

    def no_info(request, posts):
        return Reply(status=404, payload=b"Not Found") if request.method == "GET" else script(request, posts)

    def no_labels(request, posts):
        return Reply(payload={"classes": 2}) if request.method == "GET" else script(request, posts)

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    with endpoint(script) as ok, endpoint(no_info) as info, endpoint(no_labels) as labels:
        yield {
            "ok": ok.url,
            "no_info": info.url,
            "no_labels": labels.url,
            "closed": f"http://127.0.0.1:{closed_port}/",
            "busy": str(busy.getsockname()[1]),
        }
    busy.close()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "notes.txt").write_text("not a database, a note long enough to be read as one\n" * 20)
    (tmp_path / "keywords_model.py").write_text(KEYWORD_MODEL, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("case", "argv", "message"), CASES, ids=[case for case, _, _ in CASES])
def test_bad_http_input_is_one_error_line_and_writes_nothing(
    case: str,
    argv: list[str],
    message: str,
    servers: dict[str, str],
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(workspace)
    monkeypatch.delenv("TEXTROBUST_TEST_UNSET_KEY", raising=False)
    argv = [arg.format(**servers) for arg in argv]
    assert_one_error_line(case, argv, workspace, capsys, message)
