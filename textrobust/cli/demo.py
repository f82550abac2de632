"""``textrobust demo``: the demo benchmark (``demo.toml``) on the embedded MR sample, end to end."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from textrobust.cli.arguments import comma_list
from textrobust.errors import TextrobustError


def demo_command(args: argparse.Namespace) -> int:
    from textrobust.cli.benchmark import DEMO_CONFIG, load_config, run_benchmark

    config = load_config(DEMO_CONFIG, args.mlm)
    config.folder = Path(args.out)
    config.seed = args.seed
    if args.victims:
        chosen = comma_list(args.victims)
        unknown = [v for v in chosen if v not in {s["name"] for s in config.victims}]
        if unknown:
            names = ", ".join(s["name"] for s in config.victims)
            raise TextrobustError(f"--victims: '{unknown[0]}' is not a demo victim; choose from {names}")
        config.victims = [s for s in config.victims if s["name"] in chosen]
        config.defenses = [d for d in config.defenses if d["victim"] in chosen]
        if len(config.victims) < 2:
            config.transfer_recipe = None
    if args.recipes:
        config.recipes = comma_list(args.recipes)
        config = load_config_checked(config)
    if args.attack_n is not None:
        if args.attack_n < 0:
            raise TextrobustError(f"--attack-n must be ≥ 0, got {args.attack_n}")
        config.n = config.transfer_n = args.attack_n
    if config.n == 0:  # victims only
        config.recipes, config.transfer_recipe, config.defenses = [], None, []
        config.n = 1
    started = time.perf_counter()
    html = run_benchmark(config, retrain=args.retrain, progress=not args.no_progress)
    print(
        f"\nreport: {html.resolve()}  (open it in a browser; {(time.perf_counter() - started) / 60:.1f} min)"
    )
    return 0


def load_config_checked(config):  # noqa: ANN001, ANN201 - a benchmark Config
    """The overridden recipes checked as the config's own would be."""
    from textrobust.errors import ParameterError
    from textrobust.runs.jobs import check_recipe

    for recipe in config.recipes:
        try:
            check_recipe(recipe, None, {})
        except ParameterError as exc:
            raise TextrobustError(f"--recipes: {exc}") from None
    return config


def register(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="the demo benchmark on the embedded MR sample: victims, attacks, transfer, defense, report",
        description="Train (or reuse) WordCNN, WordLSTM and the MiniLM BERT victim on the embedded MR "
        "sample, attack each with textfooler and mlm-synonym, build the transfer matrix, defend the "
        "WordCNN (embedding-space training), and write the HTML report: the benchmark of demo.toml "
        "(see `textrobust benchmark`).",
    )
    demo.add_argument(
        "--out", default="runs/demo", help="folder of victims, store and report (default: %(default)s)"
    )
    demo.add_argument("--victims", default=None, help="only these demo victims (comma-separated names)")
    demo.add_argument("--recipes", default=None, help="comma-separated recipes instead of the config's")
    demo.add_argument("--attack-n", type=int, default=None, help="test sentences attacked (0: victims only)")
    demo.add_argument("--retrain", action="store_true", help="train again even if saved victims exist")
    demo.add_argument(
        "--mlm", default=None, help="fill-mask model (default: $TEXTROBUST_MLM, bert-base-uncased)"
    )
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--no-progress", action="store_true", help="no progress bars")
    demo.set_defaults(func=demo_command)
