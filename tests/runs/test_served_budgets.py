"""End to end: a victim behind ``textrobust serve``, attacked through its URL with a small ``--max-requests``
stops cleanly (exit 3, one line), and the same command with ``--resume`` and a larger budget finishes the
same run: the server's ``GET /stats`` shows that no prediction request was sent twice, the results equal
an uninterrupted run's, and the run's recorded cost is every request the server answered for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stand_ins import keyword_dataset, write_dataset
from tests.victims.http_endpoints import KEYWORD_MODEL, textrobust_serve
from textrobust.cli import main
from textrobust.store import Store

pytest.importorskip("httpx", reason="HTTP victims need the 'http' extra")
N = "10"


def _rows(store: Path) -> list[tuple[object, ...]]:
    with Store(store) as opened:
        return opened.comparable_result_rows()


@pytest.mark.slow  # a server in a subprocess and four small PWWS attacks (spaCy)
# 4: examples attacked side by side, their texts pooled into shared requests; the resumed run attacks the
# group the stop interrupted whole again, so that its requests are the same ones (answered by the cache).
@pytest.mark.parametrize("batch_examples", ["1", "4"])
def test_a_served_victim_stopped_by_its_budget_resumes_with_nothing_lost_or_repeated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, batch_examples: str
) -> None:
    pytest.importorskip("spacy", reason="PWWS tags parts of speech with spaCy")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keywords_model.py").write_text(KEYWORD_MODEL, encoding="utf-8")
    data = write_dataset(keyword_dataset(), tmp_path / "keywords.csv")
    with textrobust_serve(f"py:{tmp_path / 'keywords_model.py'}:make") as served:

        def attack(store: str, cache: str, *extra: str) -> int:
            argv = ["attack", "--victim", served.url, "--recipe", "pwws", "--dataset", str(data), "--n", N,
                    "--store", store, "--request-cache", cache, "--request-batch", "4",
                    "--batch-examples", batch_examples, "--no-progress", *extra]  # fmt: skip
            return main(argv)

        before = served.stats()["requests"]
        assert attack("whole.sqlite", "whole-cache.sqlite") == 0
        needed = served.stats()["requests"] - before
        assert needed > 6
        capsys.readouterr()

        before = served.stats()["requests"]
        budget = needed // 3
        assert attack("runs.sqlite", "cache.sqlite", "--max-requests", str(budget)) == 3
        err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert len(err) == 1 and err[0].startswith(
            f"stopped: the request budget (--max-requests {budget}) is spent after "
        ), err
        assert served.stats()["requests"] - before == budget
        with Store(tmp_path / "runs.sqlite") as store:
            (stopped,) = store.runs()
            assert stopped.status == "interrupted" and 0 <= store.count_results(stopped.id) < int(N)
            assert stopped.usage is not None and stopped.usage.requests == budget

        assert attack("runs.sqlite", "cache.sqlite", "--max-requests", str(10 * needed), "--resume") == 0
        assert served.stats()["requests"] - before == needed  # no prediction request sent twice
    assert _rows(tmp_path / "runs.sqlite") == _rows(tmp_path / "whole.sqlite")
    with Store(tmp_path / "runs.sqlite") as store, Store(tmp_path / "whole.sqlite") as whole:
        (run,) = store.runs()
        (reference,) = whole.runs()
    assert run.id == stopped.id and run.status == "finished"
    assert run.usage is not None and reference.usage is not None
    assert run.usage.requests == reference.usage.requests == needed
    assert "cost (resumes included): " in capsys.readouterr().out
