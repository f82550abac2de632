"""``textrobust leaderboard`` and ``runs``: every format from the CLI, and the HTML report in a real browser
(Debian's headless Chromium, driven by Selenium): no console errors, the tables and plots in the DOM."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from textrobust.cli import main
from textrobust.store import Store


def test_terminal_report_answers_the_three_questions(report_store: dict, capsys) -> None:
    assert main(["leaderboard", "--store", str(report_store["store"])]) == 0
    out = capsys.readouterr().out
    for expected in ("most susceptible", "transfer most", "defense regain", "Robustness ranking", "cnn-a"):
        assert expected in out


def test_markdown_is_written_with_its_plots_beside_it(report_store: dict, tmp_path: Path, capsys) -> None:
    out = tmp_path / "board.md"
    assert (
        main(["leaderboard", "--store", str(report_store["store"]), "--format", "md", "--out", str(out)]) == 0
    )
    text = out.read_text(encoding="utf-8")
    assert "## Victim × recipe" in text and "## Transfer matrix: textfooler" in text
    pngs = sorted(p.name for p in tmp_path.glob("board-*.png"))
    assert len(pngs) >= 3 and all(f"]({name})" in text for name in pngs)
    assert (out.stat().st_mode & 0o044) == 0o044  # readable by others, like any report


def test_json_goes_to_stdout_and_bad_options_are_one_line_errors(
    report_store: dict, tmp_path, capsys
) -> None:
    assert main(["leaderboard", "--store", str(report_store["store"]), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["format"] == "textrobust-leaderboard"
    for argv, message in (
        (["--format", "terminal", "--out", str(tmp_path / "x")], "--out needs a file format"),
        (["--format", "html", "--out", str(tmp_path)], "--out: "),
    ):
        assert main(["leaderboard", "--store", str(report_store["store"]), *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert main(["leaderboard", "--store", str(tmp_path / "none.sqlite")]) == 2
    assert "no store at" in capsys.readouterr().err


def test_runs_list_show_export_and_delete(report_store: dict, tmp_path: Path, capsys) -> None:
    store_copy = tmp_path / "copy.sqlite"
    shutil.copy(report_store["store"], store_copy)
    assert main(["runs", "list", "--store", str(store_copy)]) == 0
    listing = capsys.readouterr().out
    assert "textfooler" in listing and "cnn-a" in listing
    run = report_store["run"]
    assert main(["runs", "show", str(run), "--store", str(store_copy)]) == 0
    assert "settings hash" in capsys.readouterr().out
    assert (
        main(["runs", "export", str(run), "--out", str(tmp_path / "r.csv"), "--store", str(store_copy)]) == 0
    )
    rows = (tmp_path / "r.csv").read_text(encoding="utf-8").splitlines()
    with Store(store_copy) as store:
        assert len(rows) == 1 + store.count_results(run)
    assert (
        main(["runs", "export", str(run), "--out", str(tmp_path / "r.jsonl"), "--store", str(store_copy)])
        == 0
    )
    assert json.loads((tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()[0])["run_id"] == run
    assert main(["runs", "delete", str(run), "--store", str(store_copy)]) == 2
    assert "--yes" in capsys.readouterr().err
    assert main(["runs", "delete", str(run), "--yes", "--store", str(store_copy)]) == 0
    with Store(store_copy) as store:
        assert run not in {r.id for r in store.runs()} and store.count_results(run) == 0
        assert all(t.source_run_id != run for t in store.transfers())
        assert all(run not in {r for r, _role in d.runs} for d in store.defenses())
    assert main(["runs", "show", str(run), "--store", str(store_copy)]) == 2


def test_the_html_report_renders_in_chromium_with_its_tables_and_plots(
    report_store: dict, tmp_path: Path, browser
) -> None:
    page = tmp_path / "report.html"
    assert (
        main(["leaderboard", "--store", str(report_store["store"]), "--format", "html", "--out", str(page)])
        == 0
    )
    browser.get(page.resolve().as_uri())
    from selenium.webdriver.common.by import By

    entries = browser.find_elements(By.CSS_SELECTOR, "table#entries tbody tr")
    with Store(report_store["store"]) as store:
        finished = [r for r in store.runs() if r.status == "finished"]
    assert len(entries) == len(finished)
    matrices = browser.find_elements(By.CSS_SELECTOR, "table[id^='matrix-textfooler'] tbody tr")
    assert len(matrices) == 2  # cnn-a and cnn-b as sources
    plots = browser.find_elements(By.CSS_SELECTOR, "section#plots figure img")
    assert len(plots) >= 2
    assert all(browser.execute_script("return arguments[0].naturalWidth", img) > 100 for img in plots)
    header = browser.find_element(By.CSS_SELECTOR, "table#entries thead th")
    header.click()  # the sorting script runs
    assert header.get_attribute("aria-sort") == "ascending"
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    shot = tmp_path / "report.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000
