"""``textrobust demo``: the demo benchmark (``demo.toml``) on the embedded MR sample, end to end."""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from textrobust.cli.arguments import comma_list
from textrobust.errors import TextrobustError


def demo_command(args: argparse.Namespace) -> int:
    from textrobust.attacks.options import AttackOptions
    from textrobust.benchmark import AttackSpec, read_benchmark
    from textrobust.cli.benchmark import DEMO_CONFIG, environment_mlm, run_and_print
    from textrobust.errors import ParameterError
    from textrobust.runs.specs import check_attack

    spec = read_benchmark(DEMO_CONFIG, mlm=args.mlm, folder=args.out, default_mlm=environment_mlm())
    spec = replace(spec, seed=args.seed)
    if args.victims:
        chosen = comma_list(args.victims)
        names = [v.name for v in spec.victims]
        unknown = [v for v in chosen if v not in names]
        if unknown:
            raise TextrobustError(
                f"--victims: '{unknown[0]}' is not a demo victim; choose from {', '.join(names)}"
            )
        spec = replace(
            spec,
            victims=tuple(v for v in spec.victims if v.name in chosen),
            defenses=tuple(d for d in spec.defenses if d.victim in chosen),
            transfer_recipe=spec.transfer_recipe if len(chosen) >= 2 else None,
        )
    if args.recipes:
        for recipe in comma_list(args.recipes):
            try:
                check_attack(recipe, AttackOptions())
            except ParameterError as exc:
                raise TextrobustError(f"--recipes: {exc}") from None
        spec = replace(
            spec, attacks=tuple(AttackSpec(r, spec.shared_options) for r in comma_list(args.recipes))
        )
    if args.attack_n is not None:
        if args.attack_n < 0:
            raise TextrobustError(f"--attack-n must be ≥ 0, got {args.attack_n}")
        spec = replace(spec, n=args.attack_n, transfer_n=args.attack_n)
    if spec.n == 0:  # victims only
        spec = replace(spec, attacks=(), transfer_recipe=None, defenses=(), n=1)
    started = time.perf_counter()
    html = run_and_print(spec, retrain=args.retrain, progress=not args.no_progress)
    print(
        f"\nreport: {html.resolve()}  (open it in a browser; {(time.perf_counter() - started) / 60:.1f} min)"
    )
    return 0


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
