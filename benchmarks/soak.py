"""Soak test (not part of CI): SIGKILL at random moments, then resume; concurrent writers on one store.

    python benchmarks/soak.py --victim runs/bench/wordcnn --n-kills 20
    python benchmarks/soak.py --victim runs/bench/wordcnn --n-kills 20 --mlm ../shared/models/minilm-mlm-en

Faults, each repeated ``--n-kills`` times with a random delay: ``attack`` in process, ``attack --workers 2``,
``defend`` (embedding method) and ``mlm adapt`` (when ``--mlm`` is given), each killed with SIGKILL (the
whole process group for the workers) and then run again with ``--resume`` (``defend``: run again; its
output is written atomically); ``ray`` (not by default): ``attack --executor ray --workers 2`` killed the
same way (Ray's agents take a minute or two to notice that their local instance is gone, so its orphan
count waits 180 s). Then 2 and 4 ``attack`` processes started at the same instant on a fresh
store. Printed: per fault, finished results lost, duplicated, runs left unrecorded or unfinished, orphan
processes, failed resumes — all should be zero.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    frontier.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _results(store: Path) -> list[tuple[int, int, str | None]]:
    if not store.exists():
        return []
    with sqlite3.connect(store) as db:
        try:
            return list(db.execute("SELECT run_id, example_index, adversarial_text FROM results"))
        except sqlite3.OperationalError:
            return []


def _runs(store: Path) -> list[tuple[int, str]]:
    if not store.exists():
        return []
    with sqlite3.connect(store) as db:
        try:
            return list(db.execute("SELECT id, status FROM runs"))
        except sqlite3.OperationalError:
            return []


def _textrobust(*args: str) -> list[str]:
    return [sys.executable, "-m", "textrobust", *args]


def kill_and_resume(
    command: list[str], resume: list[str], delay: float, store: Path | None, grace: float = 15
) -> dict[str, int]:
    """Run ``command``, SIGKILL it after ``delay`` s, count the processes it started that are still alive
    ``grace`` s later (orphans), run ``resume``; check the store."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    family = _descendants(process.pid)
    before = set(_results(store)) if store else set()
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in family):
        time.sleep(0.5)
    orphans = [p for p in family if _alive(p)]
    for pid in orphans:  # clean up so the next trial starts clean
        os.kill(pid, signal.SIGKILL)
    done = subprocess.run(resume, env=env, capture_output=True, text=True, timeout=1800)
    outcome = {"orphans": len(orphans), "failed resumes": int(done.returncode != 0)}
    if store is not None:
        after = _results(store)
        keys = [(run, index) for run, index, _ in after]
        outcome["lost"] = len({(r, i) for r, i, _ in before} - set(keys))
        outcome["changed"] = len(before - set(after))
        outcome["duplicated"] = len(keys) - len(set(keys))
        outcome["unfinished runs"] = sum(status != "finished" for _, status in _runs(store))
    return outcome


def concurrent_writers(victim: str, writers: int, n: int, workdir: Path) -> dict[str, int]:
    # a new file every trial: a deleted store's -wal and -shm files would otherwise meet the next one
    store = Path(tempfile.mkdtemp(dir=workdir)) / f"writers-{writers}.sqlite"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    # different seeds: different runs, all started at once on a fresh store
    processes = [
        subprocess.Popen(
            _textrobust(
                "attack",
                "--victim",
                victim,
                "--recipe",
                "pwws",
                "--n",
                str(n),
                "--seed",
                str(seed),
                "--store",
                str(store),
                "--no-progress",
            ),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for seed in range(writers)
    ]
    failed = 0
    for process in processes:
        _, err = process.communicate(timeout=1800)
        if process.returncode != 0:
            failed += 1
            print(f"writer failed: {(err or '').strip().splitlines()[-1:]}", file=sys.stderr)
    runs = _runs(store)
    results = _results(store)
    return {
        "failed processes": failed,
        "runs unrecorded": writers - len(runs),
        "unfinished runs": sum(status != "finished" for _, status in runs),
        "lost": writers * n - len(results),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--victim", required=True, help="a saved word victim (fast to attack)")
    parser.add_argument("--n-kills", type=int, default=20, help="kills per fault (default 20)")
    parser.add_argument("--n", type=int, default=60, help="examples per attack")
    parser.add_argument("--mlm", default=None, help="fill-mask model folder for the mlm adapt fault")
    parser.add_argument("--faults", nargs="+", default=["attack", "workers", "defend", "mlm", "writers"])
    parser.add_argument(
        "--writer-trials", type=int, default=None, help="concurrent-writer trials (default: --n-kills)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    n = str(args.n)
    victim = str(Path(args.victim).resolve())
    matrix: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)

        def add(fault: str, outcome: dict[str, int]) -> None:
            row = matrix.setdefault(fault, {})
            for key, value in outcome.items():
                row[key] = row.get(key, 0) + value
            row["trials"] = row.get("trials", 0) + 1

        for trial in range(args.n_kills):
            if "attack" in args.faults:
                store = work / f"attack-{trial}.sqlite"
                command = _textrobust("attack", "--victim", victim, "--recipe", "textfooler", "--n", n,
                                      "--store", str(store), "--no-progress")  # fmt: skip
                add(
                    "attack (in process)",
                    kill_and_resume(command, [*command, "--resume"], rng.uniform(4, 12), store),
                )
            if "workers" in args.faults:
                store = work / f"workers-{trial}.sqlite"
                command = _textrobust("attack", "--victim", victim, "--recipe", "textfooler", "--n", n,
                                      "--workers", "2", "--store", str(store), "--no-progress")  # fmt: skip
                add(
                    "attack --workers 2",
                    kill_and_resume(command, [*command, "--resume"], rng.uniform(6, 16), store),
                )
            if "ray" in args.faults:  # a local Ray instance: its own processes wind down after the driver's
                store = work / f"ray-{trial}.sqlite"
                command = _textrobust("attack", "--victim", victim, "--recipe", "textfooler", "--n", n,
                                      "--executor", "ray", "--workers", "2", "--store", str(store),
                                      "--no-progress")  # fmt: skip
                add(
                    "attack --executor ray --workers 2",
                    kill_and_resume(command, [*command, "--resume"], rng.uniform(15, 30), store, grace=180),
                )
            if "defend" in args.faults:
                out = work / f"defended-{trial}"
                command = _textrobust("defend", "--victim", victim, "--method", "embedding", "--epochs", "1",
                                      "--max-train", "2000", "--no-evaluate", "--out", str(out))  # fmt: skip
                # run again: its output is written atomically (--overwrite: the first run may have finished)
                outcome = kill_and_resume(command, [*command, "--overwrite"], rng.uniform(3, 10), None)
                outcome["half-written outputs"] = int(out.exists() and not (out / "config.json").exists())
                add("defend", outcome)
                shutil.rmtree(out, ignore_errors=True)
            if "mlm" in args.faults and args.mlm:
                out = work / f"mlm-{trial}"
                command = _textrobust("mlm", "adapt", "--encoder", args.mlm, "--corpus", "mr", "--steps",
                                      "40", "--batch", "8", "--seq-len", "64", "--checkpoint-every", "10",
                                      "--out", str(out))  # fmt: skip
                outcome = kill_and_resume(command, [*command, "--resume"], rng.uniform(5, 20), None)
                outcome["half-written outputs"] = int(not (out / "config.json").exists())
                add("mlm adapt", outcome)
                shutil.rmtree(out, ignore_errors=True)
            print(f"trial {trial + 1}/{args.n_kills} done", file=sys.stderr)
        if "writers" in args.faults:
            for writers in (2, 4):
                for _ in range(args.writer_trials or args.n_kills):
                    add(f"{writers} writers at once", concurrent_writers(victim, writers, 10, work))
    keys = sorted({key for row in matrix.values() for key in row if key != "trials"})
    print("| fault | trials | " + " | ".join(keys) + " |")
    print("|---|---|" + "---|" * len(keys))
    for fault, row in matrix.items():
        print(f"| {fault} | {row['trials']} | " + " | ".join(str(row.get(k, "")) for k in keys) + " |")
    bad = sum(value for row in matrix.values() for key, value in row.items() if key != "trials")
    print(f"\nload average {os.getloadavg()[0]:.2f}; all zero: {'yes' if bad == 0 else 'NO'}")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
