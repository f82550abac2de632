"""HTTP victims against real servers on 127.0.0.1 (no mock of the client): ``textrobust serve`` attacked
through its URL gives the results of attacking the victim itself and, run again, sends nothing; scripted
servers that answer 429, 500, slowly, malformed JSON or the wrong classes are retried or give one line."""

from __future__ import annotations

import email.utils
import pickle
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest

from tests.stand_ins import keyword_dataset, write_dataset
from tests.victims.http_endpoints import (
    KEYWORD_MODEL,
    Reply,
    endpoint,
    keyword_model,
    protocol,
    textrobust_serve,
)
from textrobust.cli import main
from textrobust.errors import BudgetExhausted, EndpointError, VictimError
from textrobust.store import Store
from textrobust.victims import resolve_victim
from textrobust.victims.remote.cache import RequestCache
from textrobust.victims.remote.options import RemoteOptions
from textrobust.victims.remote.transport import HttpTransport, retry_after
from textrobust.victims.resolve import SourceOptions

pytest.importorskip("httpx", reason="HTTP victims need the 'http' extra")

TEXTS = ["the film was very good and fine", "a dull plot", "the cast was poor", "a lovely ending"]


def options(cache: Path | None = None, **remote: object) -> SourceOptions:
    """Source options of a test: small retries, and the request cache in the test's folder (or off)."""
    settings = {"retries": 1, "request_cache": str(cache) if cache else "off", **remote}
    return SourceOptions(remote=RemoteOptions.from_mapping(settings))


def cached_answers(path: Path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT COUNT(*) FROM answers").fetchone()[0]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The keyword model's file and the keyword data as a CSV file."""
    root = tmp_path_factory.mktemp("http-victims")
    (root / "keywords_model.py").write_text(KEYWORD_MODEL, encoding="utf-8")
    write_dataset(keyword_dataset(), root / "keywords.csv")
    return root


# -- textrobust serve ---------------------------------------------------------------------------------


def _attack(victim: str, data: Path, store: Path, *extra: str) -> list[tuple[str, str | None, int]]:
    argv = ["attack", "--victim", victim, "--recipe", "pwws", "--dataset", str(data), "--n", "6"]
    assert main([*argv, "--no-progress", "--store", str(store), *extra]) == 0
    with Store(store) as opened:
        (run,) = opened.runs()
        return [(r.status, r.adversarial_text, r.queries) for r in opened.results(run.id)]


@pytest.mark.slow  # three small PWWS attacks (spaCy) and a server in a subprocess
def test_serve_answers_the_protocol_and_an_attack_through_its_url_equals_the_direct_one(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("spacy", reason="PWWS tags parts of speech with spaCy")
    import httpx

    factory = f"py:{workspace / 'keywords_model.py'}:make"
    data = workspace / "keywords.csv"
    direct = _attack(factory, data, tmp_path / "direct.sqlite")
    assert any(status == "success" for status, _text, _queries in direct), direct
    with textrobust_serve(factory) as served:
        info = httpx.get(served.url, timeout=10).json()
        assert info["labels"] == ["negative", "positive"] and info["output"] == "probabilities"
        assert info["digest"] == resolve_victim(factory).digest and info["language"] == "en"
        answer = httpx.post(served.url, json={"texts": TEXTS}, timeout=10).json()
        assert np.allclose(answer["probabilities"], keyword_model().predict_proba(TEXTS), atol=0, rtol=0)
        assert httpx.post(served.url, content=b"{not json", timeout=10).status_code == 400
        assert httpx.post(served.url, json={"texts": ["ok", 3]}, timeout=10).status_code == 400
        assert served.stats() == {"requests": 1, "texts": len(TEXTS), "errors": 2}

        cache = tmp_path / "cache.sqlite"
        remote = _attack(served.url, data, tmp_path / "remote.sqlite", "--request-cache", str(cache))
        assert remote == direct  # statuses, adversarial texts and query counts
        sent = served.stats()["requests"]
        assert sent > 1 and cached_answers(cache) == sent - 1  # every answer the attack asked for
        with Store(tmp_path / "remote.sqlite") as opened:
            (run,) = opened.runs()
            assert run.parameters.victim.type == "http" and run.parameters.victim.path == served.url

        again = _attack(served.url, data, tmp_path / "again.sqlite", "--request-cache", str(cache))
        assert again == direct
        assert served.stats()["requests"] == sent  # a repeated run into a new store: 0 new requests
    capsys.readouterr()


@pytest.mark.slow  # three small PWWS attacks (spaCy) and a server in a subprocess
def test_a_run_stopped_by_max_requests_resumes_with_nothing_lost_or_repeated(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("spacy", reason="PWWS tags parts of speech with spaCy")
    data = workspace / "keywords.csv"
    with textrobust_serve(f"py:{workspace / 'keywords_model.py'}:make") as served:
        whole = _attack(served.url, data, tmp_path / "whole.db", "--request-cache", str(tmp_path / "a.db"))
        needed = served.stats()["requests"]
        assert needed > 4
        store, cache = tmp_path / "parts.sqlite", ["--request-cache", str(tmp_path / "b.db")]
        argv = ["attack", "--victim", served.url, "--recipe", "pwws", "--dataset", str(data), "--n", "6"]
        assert main([*argv, "--store", str(store), *cache, "--max-requests", "3", "--no-progress"]) == 3
        assert served.stats()["requests"] == needed + 3  # stopped cleanly by the budget
        capsys.readouterr()
        assert _attack(served.url, data, store, *cache, "--resume") == whole
        assert served.stats()["requests"] == 2 * needed  # the 3 answered before the stop were not asked again


def test_serve_labels_only_makes_a_hard_label_victim(workspace: Path, tmp_path: Path) -> None:
    factory = f"py:{workspace / 'keywords_model.py'}:make"
    with textrobust_serve(factory, "--labels-only") as served:
        ref = resolve_victim(served.url, options(tmp_path / "cache.sqlite"))
        assert ref.hard_label_only and ref.kind == "http" and ref.labels == ("negative", "positive")
        rows = ref.load().predict_proba(TEXTS)
        expected = np.asarray(keyword_model().predict_proba(TEXTS)).argmax(axis=1)
        assert np.array_equal(rows, np.eye(2)[expected])
        assert served.stats()["requests"] == 1


# -- the generic victim against scripted servers -----------------------------------------------------


def test_an_endpoint_victim_predicts_batches_concurrently_and_counts_its_usage(tmp_path: Path) -> None:
    texts = [f"text number {i} was good" if i % 3 else f"text {i} was dull" for i in range(20)]
    script = protocol()

    def slow(request, posts):  # slow enough that requests overlap
        reply = script(request, posts)
        reply.delay = 0.1 if request.method == "POST" else 0.0
        return reply

    with endpoint(slow) as server:
        cache = tmp_path / "cache.sqlite"
        ref = resolve_victim(server.url, options(cache, request_batch=3, concurrency=3))
        victim = ref.load()
        rows = victim.predict_proba(texts)
        assert np.allclose(rows, keyword_model().predict_proba(texts), atol=0, rtol=0)
        assert sorted(len(r.body["texts"]) for r in server.post_requests) == [2] + [3] * 6
        assert 1 < server.most_at_once <= 3
        usage = victim.usage()
        assert (usage.requests, usage.cache_hits) == (7, 0) and usage.seconds_waiting > 0.2
        assert np.array_equal(victim.predict_proba(texts), rows)  # from the cache
        assert len(server.post_requests) == 7 and victim.usage().cache_hits == 7


def test_the_victim_ref_travels_to_other_processes_and_its_identity_ignores_budgets(tmp_path: Path) -> None:
    with endpoint(protocol()) as server:
        ref = resolve_victim(server.url, options(tmp_path / "c.sqlite"))
        shipped = pickle.loads(pickle.dumps(ref))
        assert shipped.prepared is None
        assert np.array_equal(shipped.load().predict_proba(TEXTS), ref.load().predict_proba(TEXTS))
        larger = resolve_victim(server.url, options(tmp_path / "c.sqlite", max_requests=99, concurrency=1))
        assert larger.digest == ref.digest  # a run resumed with a larger budget: the same victim
        mapped = SourceOptions(
            label_map={"negative": "neg", "positive": "pos"}, remote=options(tmp_path / "c.sqlite").remote
        )
        renamed = resolve_victim(server.url, mapped)
        assert renamed.labels == ("neg", "pos") and renamed.digest != ref.digest
        assert renamed.load().labels == ["neg", "pos"]
        other = resolve_victim(server.url + "v2", options(tmp_path / "c.sqlite"))
        assert other.digest != ref.digest


def test_an_endpoint_that_does_not_say_its_output_is_asked_once(tmp_path: Path) -> None:
    with endpoint(protocol(output="labels", describe_output=False)) as server:
        ref = resolve_victim(server.url, options(tmp_path / "c.sqlite"))
        assert ref.hard_label_only and len(server.post_requests) == 1
    with endpoint(protocol(describe_output=False)) as server:
        assert not resolve_victim(server.url, options(tmp_path / "c.sqlite")).hard_label_only


def test_429_with_retry_after_is_retried_after_the_wait_it_asks(tmp_path: Path) -> None:
    script = protocol()

    def in_seconds() -> str:
        return "1"

    def as_date() -> str:  # 1 to 2 s ahead: HTTP dates have whole seconds
        return email.utils.formatdate(time.time() + 2, usegmt=True)

    for header in (in_seconds, as_date):

        def busy_once(request, posts, header=header):
            if request.method == "POST" and posts == 1:
                return Reply(status=429, payload={"error": "slow down"}, headers={"Retry-After": header()})
            return script(request, posts)

        with endpoint(busy_once) as server:
            victim = resolve_victim(server.url, options()).load()
            started = time.monotonic()
            rows = victim.predict_proba(TEXTS)
            waited = time.monotonic() - started
            assert np.allclose(rows, keyword_model().predict_proba(TEXTS))
            assert waited >= 1.0 and len(server.post_requests) == 2
            usage = victim.usage()
            assert usage.requests == 1 and usage.seconds_waiting >= 1.0


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("7") == 7.0 and retry_after(" 0 ") == 0.0 and retry_after(None) is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert retry_after("soon") is None


def test_500_forever_is_one_line_naming_the_status_and_the_endpoint(tmp_path: Path) -> None:
    script = protocol()

    def broken(request, posts):
        return script(request, posts) if request.method == "GET" else Reply(status=500, payload=b"oops")

    with endpoint(broken) as server:
        cache = tmp_path / "cache.sqlite"
        victim = resolve_victim(server.url, options(cache, retries=2)).load()
        with pytest.raises(EndpointError) as raised:
            victim.predict_proba(TEXTS)
        message = str(raised.value)
        assert "\n" not in message and server.url in message and "HTTP 500" in message
        assert "after 3 attempts" in message and len(server.post_requests) == 3
        assert cached_answers(cache) == 0


def test_500_forever_from_the_command_line_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = protocol()

    def broken(request, posts):
        return script(request, posts) if request.method == "GET" else Reply(status=503, payload={})

    with endpoint(broken) as server:
        argv = ["evaluate", "--victim", server.url, "--n", "2", "--retries", "1"]
        assert main([*argv, "--request-cache", str(tmp_path / "cache.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert server.url in err and "HTTP 503" in err and "after 2 attempts" in err


def test_slow_answers_time_out_and_are_retried(tmp_path: Path) -> None:
    script = protocol()

    def slow_once(request, posts):
        reply = script(request, posts)
        reply.delay = 2.0 if request.method == "POST" and posts == 1 else 0.0
        return reply

    with endpoint(slow_once) as server:
        victim = resolve_victim(server.url, options(timeout=0.5)).load()
        assert np.allclose(victim.predict_proba(TEXTS), keyword_model().predict_proba(TEXTS))
        assert len(server.post_requests) == 2

    def always_slow(request, posts):
        reply = script(request, posts)
        reply.delay = 2.0 if request.method == "POST" else 0.0
        return reply

    with endpoint(always_slow) as server:
        victim = resolve_victim(server.url, options(timeout=0.3, retries=1)).load()
        started = time.monotonic()
        with pytest.raises(EndpointError, match=r"no answer within 0\.3 s after 2 attempts"):
            victim.predict_proba(TEXTS)
        assert time.monotonic() - started < 2.0


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (b"<html>busy</html>", "the answer is not JSON: '<html>busy</html>'"),
        ([[0.5, 0.5]], "the answer is JSON but not an object"),
        ({"probabilities": [[0.2, 0.3, 0.5]] * 4}, "3 probabilities in row 0, expected 2 classes"),
        ({"probabilities": [[0.5, 0.5]] * 3}, "answered 3 rows of probabilities for 4 texts"),
        ({"probabilities": [[0.5, 0.7]] * 4}, "row 0 of its probabilities is not a distribution"),
        ({"probabilities": [["a", "b"]] * 4}, "holds something other than numbers"),
        ({"scores": [1, 2]}, "answered scores, not 'probabilities' or 'labels'"),
        ({"labels": ["negative"] * 4}, "answered class names only, but its description"),
    ],
    ids=[
        "not JSON",
        "not an object",
        "three classes",
        "three rows",
        "not summing to 1",
        "not numbers",
        "unknown keys",
        "labels from a probability endpoint",
    ],  # fmt: skip
)
def test_an_unusable_answer_is_one_line_and_never_cached(answer, message: str, tmp_path: Path) -> None:
    script = protocol()

    def bad(request, posts):
        return script(request, posts) if request.method == "GET" else Reply(payload=answer)

    with endpoint(bad) as server:
        cache = tmp_path / "cache.sqlite"
        victim = resolve_victim(server.url, options(cache)).load()
        with pytest.raises(EndpointError) as raised:
            victim.predict_proba(TEXTS)
        assert message in str(raised.value) and "\n" not in str(raised.value)
        assert str(raised.value).startswith(server.url)
        assert cached_answers(cache) == 0 and len(server.post_requests) == 1  # not retried: it would repeat


def test_a_labels_only_endpoint_answering_an_unknown_class_is_one_line(tmp_path: Path) -> None:
    script = protocol(output="labels")

    def odd(request, posts):
        return script(request, posts) if request.method == "GET" else Reply(payload={"labels": ["meh"] * 4})

    with endpoint(odd) as server:
        victim = resolve_victim(server.url, options()).load()
        with pytest.raises(EndpointError, match="answered the class 'meh', not one of negative, positive"):
            victim.predict_proba(TEXTS)


def test_a_budget_stops_before_sending_and_a_resumed_victim_repeats_nothing(tmp_path: Path) -> None:
    texts = [f"film {i} was good" for i in range(5)]
    with endpoint(protocol()) as server:
        cache = tmp_path / "cache.sqlite"
        victim = resolve_victim(server.url, options(cache, request_batch=1, max_requests=2)).load()
        with pytest.raises(BudgetExhausted, match="budget of 2 requests"):
            victim.predict_proba(texts)
        assert len(server.post_requests) == 2 and victim.usage().requests == 2
        assert cached_answers(cache) == 2  # what was answered before the budget ran out is kept
        resumed = resolve_victim(server.url, options(cache, request_batch=1, max_requests=3)).load()
        rows = resumed.predict_proba(texts)
        assert np.allclose(rows, keyword_model().predict_proba(texts))
        assert len(server.post_requests) == 5  # the two answered before were not asked again
        assert (resumed.usage().requests, resumed.usage().cache_hits) == (3, 2)


@pytest.mark.slow  # a small PWWS attack (spaCy)
def test_an_api_key_is_sent_but_never_stored_printed_or_cached(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("spacy", reason="PWWS tags parts of speech with spaCy")
    secret = "sk-test-1f2e3d4c5b6a7988"
    monkeypatch.setenv("TEAM_API_KEY", secret)
    script = protocol()

    def guarded(request, posts):
        if request.headers.get("Authorization") != f"Bearer {secret}":
            return Reply(status=401, payload={"error": f"bad key {request.headers.get('Authorization')}"})
        return script(request, posts)

    with endpoint(guarded) as server:
        store, cache = tmp_path / "runs.sqlite", tmp_path / "cache.sqlite"
        argv = [
            "attack",
            "--victim",
            server.url,
            "--recipe",
            "pwws",
            "--dataset",
            str(workspace / "keywords.csv"),
        ]
        argv += ["--n", "3", "--api-key-env", "TEAM_API_KEY", "--request-cache", str(cache)]
        assert main([*argv, "--store", str(store), "--no-progress"]) == 0
        out, err = capsys.readouterr()
        assert server.post_requests and cached_answers(cache) > 0
        for where in (out, err, store.read_bytes().decode("latin-1"), cache.read_bytes().decode("latin-1")):
            assert secret not in where
        for extra in tmp_path.glob("*-wal"):
            assert secret not in extra.read_bytes().decode("latin-1")

        monkeypatch.setenv("TEAM_API_KEY", "sk-wrong-key-0123456789")  # the server echoes it in its 401
        with pytest.raises(EndpointError) as raised:
            resolve_victim(server.url, options(api_key_env="TEAM_API_KEY"))
        assert "HTTP 401" in str(raised.value) and "sk-wrong-key-0123456789" not in str(raised.value)


def test_an_unset_key_variable_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEAM_API_KEY_UNSET", raising=False)
    with pytest.raises(VictimError, match="TEAM_API_KEY_UNSET, which is not set"):
        resolve_victim("http://127.0.0.1:9/", options(api_key_env="TEAM_API_KEY_UNSET"))


def test_a_transport_is_picklable_and_reopens_its_loop_and_cache(tmp_path: Path) -> None:
    with endpoint(lambda request, posts: Reply(payload={"echo": request.body})) as server:
        cache = RequestCache(tmp_path / "cache.sqlite")
        transport = HttpTransport(server.url, RemoteOptions(), cache=cache)
        bodies = [{"n": i} for i in range(5)]
        assert transport.post_many(bodies) == [{"echo": body} for body in bodies]
        copy = pickle.loads(pickle.dumps(transport))
        assert copy.post_many([*bodies, {"n": 9}])[-1] == {"echo": {"n": 9}}
        assert (copy.usage().requests, copy.usage().cache_hits) == (1, 5)
        assert len(server.post_requests) == 6 and len(cache) == 6
        transport.close()
        assert transport.post_many([{"n": 10}]) == [{"echo": {"n": 10}}]  # closed: a new loop and client


def _put_answers(path: Path, start: int) -> None:
    cache = RequestCache(path)
    for i in range(start, start + 200):
        cache.put(RequestCache.key("http://x/", {"n": i}), {"n": i})


def test_the_request_cache_takes_writers_in_several_processes_at_once(tmp_path: Path) -> None:
    import multiprocessing

    path = tmp_path / "cache.sqlite"
    context = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    workers = [context.Process(target=_put_answers, args=(path, start)) for start in (0, 100, 300)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    cache = RequestCache(path)
    assert len(cache) == 500  # 0-299 and 300-499, the overlap stored once
    assert cache.get(RequestCache.key("http://x/", {"n": 250})) == {"n": 250}
    assert RequestCache.key("http://x/", {"a": 1, "b": 2}) == RequestCache.key("http://x/", {"b": 2, "a": 1})
    assert RequestCache.key("http://x/", {"n": 1}) != RequestCache.key("http://y/", {"n": 1})
