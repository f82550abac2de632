"""Processes: killing the parent of ``--workers 2`` leaves no worker behind, and ``--resume`` then finishes
the run with every example stored exactly once."""

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


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_workers_die_with_their_killed_parent_and_resume_loses_nothing(
    tiny_wordcnn_dir: Path, tmp_path
) -> None:
    store = tmp_path / "runs.sqlite"
    command = [sys.executable, "-m", "textrobust", "attack", "--victim", str(tiny_wordcnn_dir), "--recipe",
               "pwws", "--n", "60", "--workers", "2", "--batch-examples", "2", "--store", str(store),
               "--no-progress"]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    parent = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and stored < 4:  # workers are up and results are coming in
        time.sleep(0.5)
        if store.exists():
            with sqlite3.connect(store) as db:
                try:
                    stored = db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
                except sqlite3.OperationalError:
                    stored = 0
    assert parent.poll() is None and stored >= 4, "the attack ended or never started"
    workers = _children(parent.pid)
    assert workers, "no worker processes found"
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.5)
    assert not [pid for pid in workers if _alive(pid)], "orphaned workers kept running"

    resumed = subprocess.run([*command, "--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    with sqlite3.connect(store) as db:
        indices = [row[0] for row in db.execute("SELECT example_index FROM results")]
        assert sorted(indices) == list(range(60))
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
