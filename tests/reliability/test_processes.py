"""Processes: killing the parent of ``--workers 2`` leaves no worker behind, Ctrl-C stops it with one clean
message (no worker's traceback), and ``--resume`` then finishes the run with every example stored once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _children(pid: int) -> set[int]:
    """Every descendant process of ``pid`` (Linux /proc)."""
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    frontier.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _still_alive(pids: set[int], wait: float = 20) -> list[int]:
    """The processes of ``pids`` still running after up to ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.5)
    return [pid for pid in pids if _alive(pid)]


def _wait_for_results(parent: subprocess.Popen, store: Path, at_least: int = 4) -> None:
    """Until the workers are up and results are coming in."""
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and stored < at_least and parent.poll() is None:
        time.sleep(0.5)
        if store.exists():
            with sqlite3.connect(store) as db:
                try:
                    stored = db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
                except sqlite3.OperationalError:
                    stored = 0
    assert parent.poll() is None and stored >= at_least, "the attack ended or never started"


def _attack_command(victim: Path, store: Path) -> list[str]:
    return [sys.executable, "-m", "textrobust", "attack", "--victim", str(victim), "--recipe", "pwws",
            "--n", "60", "--workers", "2", "--batch-examples", "2", "--store", str(store),
            "--no-progress"]  # fmt: skip


def _finish_and_check(command: list[str], env: dict[str, str], store: Path) -> None:
    resumed = subprocess.run([*command, "--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    with sqlite3.connect(store) as db:
        indices = [row[0] for row in db.execute("SELECT example_index FROM results")]
        assert sorted(indices) == list(range(60))
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_ctrl_c_with_workers_is_one_clean_message_and_resume_loses_nothing(
    tiny_wordcnn_dir: Path, tmp_path
) -> None:
    store = tmp_path / "runs.sqlite"
    command = _attack_command(tiny_wordcnn_dir, store)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    # Its own process group, as in a terminal: Ctrl-C sends SIGINT to the parent and every worker at once.
    parent = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    _wait_for_results(parent, store)
    workers = _children(parent.pid)
    os.killpg(parent.pid, signal.SIGINT)
    _out, err = parent.communicate(timeout=60)
    assert parent.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-2:] == [
        "stopped: every finished example is stored; run the same command with --resume to continue",
        "error: interrupted",
    ], err
    assert not _still_alive(workers), "workers kept running after Ctrl-C"
    _finish_and_check(command, env, store)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_workers_die_with_their_killed_parent_and_resume_loses_nothing(
    tiny_wordcnn_dir: Path, tmp_path
) -> None:
    store = tmp_path / "runs.sqlite"
    command = _attack_command(tiny_wordcnn_dir, store)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    parent = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_results(parent, store)
    workers = _children(parent.pid)
    assert workers, "no worker processes found"
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert not _still_alive(workers), "orphaned workers kept running"

    _finish_and_check(command, env, store)
