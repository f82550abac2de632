"""Outputs apart from their inputs, SIGTERM, unreachable Ray clusters (issue 26, items 3 and 4).

- ``quantize`` and ``defend`` (every method: co-tune, augment, embedding, smooth) refuse an ``--out`` that
  is, contains or is inside the folder of the victim they read (or of a victim it wraps), even with
  ``--overwrite``: one error line naming both folders, exit 2, nothing written.
- SIGTERM stops ``attack`` as Ctrl-C does: the run is marked interrupted with every finished example
  stored, one ``stopped: …`` note, exit 143, and ``--resume`` finishes it with every example once.
- ``--ray-address`` where nothing listens is one error line naming the address within seconds, before
  Ray is imported or started (so also where Ray is not installed).
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.reliability.test_cli_errors import assert_one_error_line
from tests.reliability.test_processes import (
    _attack_command,
    _children,
    _finish_and_check,
    _still_alive,
    _wait_for_results,
)
from textrobust.errors import ParameterError
from textrobust.files import check_apart


@pytest.fixture
def victim(tmp_path: Path, tiny_wordcnn_dir: Path) -> Path:
    """A copy of the tiny WordCNN in this test's own folder (the session's one must stay intact)."""
    import shutil

    return Path(shutil.copytree(tiny_wordcnn_dir, tmp_path / "victim"))


def test_check_apart_tells_is_contains_inside_and_apart(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    for out, relation in ((base, "is"), (tmp_path, "contains"), (base / "int8", "is inside")):
        with pytest.raises(ParameterError, match=f" {relation} the base's folder ") as caught:
            check_apart(out, {"the base's folder": base})
        assert caught.value.parameter == "out" and str(base) in str(caught.value)
    check_apart(tmp_path / "base2", {"the base's folder": base})  # a sibling sharing a prefix is apart
    check_apart(tmp_path / "other", {"the base's folder": base})


@pytest.mark.parametrize(
    ("case", "out", "relation"),
    [
        ("is the base", ".", "is"),
        ("inside the base", "int8", "is inside"),
        ("holds the base", "..", "contains"),
    ],
)
def test_quantize_never_writes_over_its_base(
    case: str, out: str, relation: str, victim: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["quantize", "--victim", str(victim), "--out", str(victim / out), "--overwrite",
            "--dataset", "mr", "--n", "10"]  # fmt: skip
    line = assert_one_error_line(case, argv, victim.parent, capsys, says=f" {relation} the victim's folder ")
    assert str(victim) in line and "--out" in line


def test_a_wrapper_of_a_wrapper_never_writes_over_the_base_underneath(
    victim: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Smoothing an int8 variant into its float base's folder (with --overwrite) destroyed the base, and
    with it the variant and the new smoothed victim."""
    from textrobust.cli import main

    variant = tmp_path / "int8"
    argv = ["quantize", "--victim", str(victim), "--out", str(variant), "--dataset", "mr", "--n", "10"]
    assert main(argv) == 0
    capsys.readouterr()
    argv = ["defend", "--victim", str(variant), "--method", "smooth", "--out", str(victim), "--overwrite",
            "--dataset", "mr", "--no-evaluate", "--no-progress"]  # fmt: skip
    line = assert_one_error_line(
        "smooth onto the base", argv, tmp_path, capsys, says="is the victim's base folder"
    )
    assert str(victim) in line


@pytest.mark.parametrize("method", ["smooth", "augment", "co-tune", "embedding"])
def test_defend_never_writes_inside_its_base(
    method: str, victim: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["defend", "--victim", str(victim), "--method", method, "--out", str(victim / "defended"),
            "--overwrite", "--dataset", "mr", "--no-evaluate", "--no-progress"]  # fmt: skip
    assert_one_error_line(method, argv, victim.parent, capsys, says="is inside the victim's folder")


def test_the_defend_library_call_refuses_an_output_around_its_base(victim: Path, tmp_path: Path) -> None:
    from textrobust.data import load_dataset
    from textrobust.defenses.defend import defend

    with pytest.raises(ParameterError, match="contains the victim's folder"):
        defend(victim, load_dataset("mr"), tmp_path, "smooth")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["victim"]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_sigterm_stops_an_attack_like_ctrl_c_and_resume_loses_nothing(
    tiny_wordcnn_dir: Path, tmp_path: Path
) -> None:
    store = tmp_path / "runs.sqlite"
    command = _attack_command(tiny_wordcnn_dir, store)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    parent = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _wait_for_results(parent, store)
    workers = _children(parent.pid)
    parent.send_signal(signal.SIGTERM)  # `kill PID`, a scheduler's time limit: the parent alone
    _out, err = parent.communicate(timeout=60)
    assert parent.returncode == 143, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-2:] == [
        "stopped: every finished example is stored; run the same command with --resume to continue",
        "error: terminated (SIGTERM)",
    ], err
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
    assert not _still_alive(workers), "workers kept running after SIGTERM"
    _finish_and_check(command, env, store)


def _closed_port() -> int:
    """A local port where nothing listens (connections to it are refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_ray_address_is_refused_in_seconds() -> None:
    from textrobust.runs.ray_executor import check_ray_reachable

    address = f"127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    with pytest.raises(ParameterError, match=address) as caught:
        check_ray_reachable(address, timeout=2)
    assert caught.value.parameter == "ray_address"
    assert time.monotonic() - start < 3
    with socket.socket() as listening:  # something answers: the check lets Ray take it from there
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        check_ray_reachable(f"ray://127.0.0.1:{listening.getsockname()[1]}", timeout=2)
    check_ray_reachable(None)
    check_ray_reachable("auto")


def test_attack_with_an_unreachable_ray_address_is_one_line_before_ray_starts(
    victim: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # as where Ray is not installed: the address comes first
    address = f"127.0.0.1:{_closed_port()}"
    store = str(victim.parent / "runs.sqlite")
    argv = ["attack", "--victim", str(victim), "--recipe", "pwws", "--n", "2", "--executor", "ray",
            "--ray-address", address, "--store", store, "--no-progress"]  # fmt: skip
    start = time.monotonic()
    line = assert_one_error_line(
        "unreachable ray", argv, victim.parent, capsys, says=f"--ray-address {address}"
    )
    assert "no Ray cluster answers" in line and time.monotonic() - start < 30
