"""``textrobust attack``: run a recipe against a saved victim, store every result, print the summary."""

from __future__ import annotations

import argparse
import sys

from textrobust.attacks.result import AttackResult
from textrobust.cli.arguments import (
    add_dataset_arguments,
    add_executor_arguments,
    add_option_flags,
    add_progress_argument,
    add_seed_argument,
    add_store_argument,
    add_victim_arguments,
    choices_help,
    dataset_from_args,
    executor_from_args,
    options_from_args,
    output_file,
    victim_from_args,
)
from textrobust.cli.tables import diff_texts, print_pairs


def print_diffs(results: list[tuple[int, AttackResult]], label_names: list[str]) -> None:
    """Before/after of every successful attack, with labels and confidences."""
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)

    def name(label: int) -> str:
        return label_names[label] if 0 <= label < len(label_names) else str(label)

    for index, result in results:
        if result.status != "success" or result.adversarial_text is None:
            continue
        assert result.adversarial_prediction is not None and result.adversarial_proba is not None
        before, after = diff_texts(result.original_text, result.adversarial_text)
        console.print(
            f"[bold]#{index}[/] {name(result.original_prediction)} "
            f"({result.original_proba[result.original_prediction]:.2f}) → "
            f"{name(result.adversarial_prediction)} "
            f"({result.adversarial_proba[result.adversarial_prediction]:.2f}), "
            f"{result.words_changed}/{result.num_words} words, {result.queries} queries"
        )
        console.print("  - ", before, sep="")
        console.print("  + ", after, sep="")


def _note(message: str) -> None:
    print(message, file=sys.stderr)


def attack_command(args: argparse.Namespace) -> int:
    from textrobust.attacks import options
    from textrobust.leaderboard.summary import summarize, summary_rows
    from textrobust.runs.jobs import attack_victim
    from textrobust.store import Store

    try:  # the store is opened (and created) only once every option has been checked
        outcome = attack_victim(
            victim_from_args(args), args.recipe, options=options_from_args(args, options.AttackOptions),
            dataset=dataset_from_args(args), split=args.split, n=args.n, seed=args.seed, mlm=args.mlm,
            store=args.store, batch_examples=args.batch_examples, resume=args.resume,
            progress=not args.no_progress, notify=_note, executor=executor_from_args(args),
        )  # fmt: skip
    except KeyboardInterrupt:
        _note("stopped: every finished example is stored; run the same command with --resume to continue")
        raise
    with Store(args.store) as store:
        run = outcome.run
        results = list(store.iter_results(run.id))
        if args.show_diffs:
            print_diffs(results, list(run.parameters.dataset.label_names))
        p = run.parameters
        print(
            f"run {run.id}: {p.recipe} → {p.victim.type} ({p.victim.path}) "
            f"on {p.dataset.name}/{p.dataset.split}, {p.n} examples, seed {p.seed}"
        )
        print_pairs(summary_rows(summarize(result for _index, result in results)), ("Attack results", ""))
        if args.export:
            count = store.export_jsonl(run.id, args.export)
            _note(f"wrote {count} results to {args.export}")
    _note(f"results are in {args.store} (run {run.id})")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from textrobust.attacks import options
    from textrobust.attacks.recipes import RECIPES
    from textrobust.attacks.textattack_adapter import PREFIX, TEXTATTACK_RECIPES
    from textrobust.runs.executor import DEFAULT_BATCH_EXAMPLES

    attack = subparsers.add_parser(
        "attack",
        help="attack a saved victim with a recipe over a dataset split",
        description="Attack a saved victim with a recipe over a dataset split. Every per-example result is "
        "stored as it finishes; --resume continues a killed run with the same parameters.",
    )
    add_victim_arguments(attack)
    attack.add_argument(
        "--recipe",
        required=True,
        # Built-in names only: listing installed plugins would read every package's metadata at start-up.
        help=choices_help("recipe", [*RECIPES.builtin_names(), "a plugin's"])
        + "; where TextAttack is installed, "
        + choices_help("its own implementations", [PREFIX + name for name in TEXTATTACK_RECIPES]),
    )
    add_dataset_arguments(attack)
    attack.add_argument("--split", default="test", help="dataset split to attack (default: %(default)s)")
    attack.add_argument("--n", type=int, default=None, help="attack the first N examples (default: all)")
    add_seed_argument(attack, "attack seed")
    attack.add_argument(
        "--mlm",
        default=None,
        help="masked LM for MLM recipes: Hugging Face fill-mask model name or local path",
    )
    add_option_flags(attack, options.AttackOptions)  # --budget, --disable, --profile, … from its fields
    add_store_argument(attack)
    attack.add_argument(
        "--export", type=output_file, default=None, help="also write the run's results to a JSONL file"
    )
    attack.add_argument(
        "--resume", action="store_true", help="continue the latest unfinished run with the same parameters"
    )
    add_executor_arguments(attack)
    attack.add_argument(
        "--batch-examples",
        type=int,
        default=DEFAULT_BATCH_EXAMPLES,
        help="examples each worker attacks side by side, pooling their model calls (default: %(default)s; "
        "1: one at a time; the results are the same)",
    )
    attack.add_argument(
        "--show-diffs", action="store_true", help="print before/after of each successful attack"
    )
    add_progress_argument(attack)
    attack.set_defaults(func=attack_command)
