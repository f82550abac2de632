"""``textrobust benchmark --config FILE.toml``: one command from victims to the report.

It trains (or reuses) the listed victims, attacks each with every listed recipe, builds the transfer matrix,
makes and judges the listed defenses, and writes the report (HTML with plots, markdown, JSON) from the
store. A second call reuses every victim, run, transfer and defense that is already finished, so an
interrupted benchmark continues where it stopped. The whole config is checked before any work starts.
``textrobust demo`` is this command on ``demo.toml`` (beside this module). The pipeline itself is the
library's (``textrobust.benchmark``); this module reads flags and prints.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from textrobust.cli.arguments import add_executor_arguments
from textrobust.cli.tables import print_table

DEMO_CONFIG = Path(__file__).with_name("demo.toml")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def environment_mlm() -> str | None:
    """``$TEXTROBUST_MLM``: the fill-mask model of the MLM recipes when neither ``--mlm`` nor the config
    names one."""
    return os.environ.get("TEXTROBUST_MLM") or None


def run_and_print(spec: Any, *, retrain: bool, progress: bool) -> Path:
    """Run a benchmark spec; print the victims' table when they are ready, the leaderboard at the end."""
    from textrobust.benchmark import run_benchmark
    from textrobust.cli.leaderboard import print_report

    def show_victims(rows: list[dict[str, Any]]) -> None:
        print_table(rows, title=f"{spec.name}: victims on {spec.dataset}/{spec.split}")

    outcome = run_benchmark(spec, retrain=retrain, progress=progress, say=say, on_victims=show_victims)
    print_report(outcome.report)
    return outcome.html


def benchmark_command(args: argparse.Namespace) -> int:
    from textrobust.benchmark import read_benchmark
    from textrobust.cli.arguments import executor_options

    spec = read_benchmark(
        args.config,
        mlm=args.mlm,
        default_mlm=environment_mlm(),
        dataset=args.dataset,
        folder=args.folder,
        executor=executor_options(args),
    )
    started = time.perf_counter()
    html = run_and_print(spec, retrain=args.retrain, progress=not args.no_progress)
    print(f"\nreport: {html.resolve()}  ({(time.perf_counter() - started) / 60:.1f} min)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "benchmark",
        help="victims, attacks, transfer matrix, defenses and the report, from one TOML file",
        description=__doc__.split("\n\n")[1].replace("\n", " ") if __doc__ else None,
    )
    p.add_argument("--config", required=True, help=f"the benchmark's TOML file (example: {DEMO_CONFIG.name})")
    p.add_argument("--mlm", default=None, help="fill-mask model for MLM recipes (overrides the config)")
    p.add_argument("--dataset", default=None, help="run the config on another dataset (overrides the config)")
    p.add_argument("--folder", default=None, help="where to write (overrides the config's folder)")
    p.add_argument("--retrain", action="store_true", help="train victims and defenses again")
    add_executor_arguments(p, config_key=True)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=benchmark_command)
