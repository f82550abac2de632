"""Examples per second of one attack run under each executor: in-process, 2 local processes, Ray with 1 and
2 workers (a local Ray instance sized to this machine).

Every configuration attacks the same examples through the real path (``attack_victim``, a fresh
store each) and must store the same results; wall time includes starting the workers and loading their
victim and attack (that is what a user waits for), but not starting Ray itself, which is timed apart;
the steady rate (after the first result) is what more examples would run at.
A warm-up run first builds the cached resources (neighbour tables, encoders) so that no configuration
pays for them.

    python benchmarks/executor_scaling.py --victim runs/bench/wordcnn --recipe textfooler --n 48
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def stored_rows(path: Path) -> list[tuple]:
    from textrobust.store import Store

    with Store(path) as store:
        return store.comparable_result_rows()


def store_write_rate(source: Path, copies: int) -> float:
    """Results per second one driver stores, one transaction each as the runner does, into a new store
    (``copies`` results made of the benchmark's real stored results): the ceiling of any executor."""
    from textrobust.store import Store

    with Store(source) as store:
        (run,) = store.runs()
        results = store.results(run.id)
        parameters = run.parameters
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "rate.sqlite") as target:
        copy = target.start_run(parameters)
        start = time.perf_counter()
        for index in range(copies):
            target.add_result(copy.id, index, results[index % len(results)])
        return copies / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--victim", required=True, help="saved victim folder (textrobust train …)")
    parser.add_argument("--recipe", default="textfooler")
    parser.add_argument("--dataset", default="mr")
    parser.add_argument("--n", type=int, default=48, help="test examples attacked by every configuration")
    parser.add_argument("--batch-examples", type=int, default=4, help="examples per shard (and side by side)")
    parser.add_argument("--mlm", default=None, help="fill-mask model, for MLM recipes")
    args = parser.parse_args()

    import ray

    from textrobust.data import load_dataset
    from textrobust.runs.executor import InProcessExecutor, ProcessPoolExecutor
    from textrobust.runs.jobs import attack_victim
    from textrobust.runs.ray_executor import RayExecutor

    dataset = load_dataset(args.dataset)
    folder = Path(tempfile.mkdtemp(prefix="executor-scaling-"))

    def attack(store: Path, executor: Any, n: int) -> tuple[float, float, float]:
        """Wall seconds, seconds to the first result (workers starting, loading victim and attack), and
        examples per second after it (the steady rate)."""
        arrivals: list[float] = []
        start = time.perf_counter()
        attack_victim(
            args.victim, args.recipe, dataset=dataset, n=n, mlm=args.mlm, store=store,
            batch_examples=args.batch_examples, executor=executor, progress=False,
            on_result=lambda _index, _result: arrivals.append(time.perf_counter()),
        )  # fmt: skip
        wall = time.perf_counter() - start
        steady = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else float("nan")
        return wall, arrivals[0] - start, steady

    print(f"load average before: {os.getloadavg()}; {os.cpu_count()} CPUs")
    attack(folder / "warm-up.sqlite", InProcessExecutor(), 2)
    start = time.perf_counter()
    RayExecutor().connect()  # the local instance every Ray configuration below uses
    ray_start = time.perf_counter() - start
    configurations: list[tuple[str, Callable[[], Any]]] = [
        ("in-process", InProcessExecutor),
        ("2 local processes", lambda: ProcessPoolExecutor(2)),
        ("Ray, 1 worker", lambda: RayExecutor(1)),
        ("Ray, 2 workers", lambda: RayExecutor(2)),
    ]
    rows, reference = [], None
    for name, make in configurations:
        store = folder / f"{name.replace(' ', '-').replace(',', '')}.sqlite"
        seconds, first, steady = attack(store, make(), args.n)
        rows.append((name, seconds, first, steady))
        results = stored_rows(store)
        reference = reference if reference is not None else results
        same = "yes" if results == reference else "NO"
        print(f"{name:<20} {seconds:7.1f} s  {args.n / seconds:6.2f} examples/s  same results: {same}")
    ray.shutdown()
    base, base_steady = rows[0][1], rows[0][3]
    what = f"{args.recipe} on {args.victim}, {args.n} {args.dataset} test examples"
    print(f"\n{what}, shards of {args.batch_examples}")
    columns = ["executor", "wall s", "examples / s", "speed-up", "s to first result", "steady examples / s"]
    print("| " + " | ".join([*columns, "steady speed-up"]) + " |")
    print("|---|---|---|---|---|---|---|")
    for name, seconds, first, steady in rows:
        print(
            f"| {name} | {seconds:.1f} | {args.n / seconds:.2f} | {base / seconds:.2f}× | {first:.1f} "
            f"| {steady:.2f} | {steady / base_steady:.2f}× |"
        )
    print(f"\nstarting the local Ray instance: {ray_start:.1f} s (not included)")
    rate = store_write_rate(folder / "in-process.sqlite", 2000)
    print(f"store writes by one driver: {rate:.0f} results/s (2000 results, one transaction each)")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
