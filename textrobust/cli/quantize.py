"""``textrobust quantize``: an int8, int4 or int2 variant of a saved victim, judged against its float
base."""

from __future__ import annotations

import argparse

from textrobust.cli.arguments import (
    SAVED_VICTIM_HELP,
    add_dataset_arguments,
    add_victim_arguments,
    dataset_from_args,
    output_dir,
    victim_from_args,
)
from textrobust.cli.tables import print_table
from textrobust.errors import TextrobustError
from textrobust.victims.quantized import QUANTIZED_PRECISIONS, check_precision


def quantize_command(args: argparse.Namespace) -> int:
    from textrobust.victims.folders import check_output_apart
    from textrobust.victims.quantized import quantize_saved_victim

    check_precision(args.precision)  # torchao installed for int4/int2, before the victim loads
    base = victim_from_args(args)
    check_output_apart(args.out, base.path)  # even with --overwrite: never the base's folder, nor around it
    if args.out.exists() and any(args.out.iterdir()) and not args.overwrite:
        raise TextrobustError(
            f"output directory {args.out} is not empty; choose another --out or pass --overwrite"
        )
    victim = quantize_saved_victim(
        base,
        args.out,
        dataset_from_args(args),
        precision=args.precision,
        split=args.split,
        n=args.n,
    )
    e = victim.evaluation
    print_table(
        [
            {
                "victim": str(args.victim),
                "precision": precision,
                "n": e["n"],
                "accuracy": e[key],
                "agreement with float32": 1.0 if precision == "float32" else e["agreement"],
                "ms per prediction": f"{1000 * e[seconds]:.2f}",
            }
            for precision, key, seconds in (
                ("float32", "float_accuracy", "float_seconds_per_prediction"),
                (victim.precision, "accuracy", "seconds_per_prediction"),
            )
        ],
        title=f"{args.out}: {victim.precision} variant, {e['dataset']}/{e['split']}, "
        f"{e['quantized_share']:.0%} of the parameters quantized",
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "quantize",
        help="an int8/int4/int2 variant of a saved victim (a victim folder of its own), judged against it",
        description="Quantize a saved victim and save the variant (a config naming its base): int8 rounds "
        "its linear layers (int8 weights and per-token activations, CPU) and LSTM weights, int4 and int2 "
        'its linear layers\' weights (torchao weight-only, groups of 32; pip install "textrobust[lowbit]"). '
        "Its accuracy, its float base's and their prediction agreement on --split are printed and recorded "
        "in its config.",
    )
    add_victim_arguments(p, help=f"the victim to quantize: {SAVED_VICTIM_HELP}", remote=False)
    p.add_argument("--out", required=True, type=output_dir, help="folder of the quantized variant")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    p.add_argument("--precision", choices=QUANTIZED_PRECISIONS, default="int8", help="(default: %(default)s)")
    add_dataset_arguments(p)
    p.add_argument("--split", default="test", help="split judged on (default: %(default)s)")
    p.add_argument("--n", type=int, default=None, help="only the first N examples (default: all)")
    p.set_defaults(func=quantize_command)
