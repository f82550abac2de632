"""``textrobust attack``: run a recipe against a saved victim, store every result, print the summary."""

from __future__ import annotations

import argparse
import sys

from textrobust.attacks.result import AttackResult
from textrobust.cli.arguments import (
    add_dataset_arguments,
    add_executor_arguments,
    add_progress_argument,
    add_seed_argument,
    add_store_argument,
    choices_help,
    comma_list,
    dataset_from_args,
    executor_from_args,
    output_file,
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


def _attack_options(args: argparse.Namespace) -> dict[str, object]:
    """Recipe options beyond the defaults (only those set, so default runs share one key)."""
    options: dict[str, object] = {}
    if args.disable:
        options["disable"] = sorted(set(comma_list(args.disable)))
    if args.hard_label:
        options["hard_label"] = True
    if args.beam_width is not None:
        options["beam_width"] = args.beam_width
    if args.max_words is not None:
        options["max_words"] = args.max_words
    if args.word_list is not None:
        options["word_list"] = args.word_list
    if args.profile != "paper":
        options["profile"] = args.profile
    if args.order != "constraints-first":
        options["order"] = args.order
    return options


def attack_command(args: argparse.Namespace) -> int:
    from textrobust.leaderboard.summary import summarize, summary_rows
    from textrobust.runs.jobs import attack_saved_victim
    from textrobust.store import Store

    try:  # the store is opened (and created) only once every option has been checked
        outcome = attack_saved_victim(
            args.victim, args.recipe, dataset=dataset_from_args(args), split=args.split, n=args.n,
            seed=args.seed, budget=args.budget, mlm=args.mlm, attack_options=_attack_options(args),
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
    from textrobust.attacks.constraints import CONSTRAINT_NAMES
    from textrobust.attacks.recipes import PROFILES, RECIPES, TEXTATTACK_PROFILE
    from textrobust.attacks.search import ORDERS
    from textrobust.attacks.textattack_adapter import PREFIX, TEXTATTACK_RECIPES
    from textrobust.runs.executor import DEFAULT_BATCH_EXAMPLES

    attack = subparsers.add_parser(
        "attack",
        help="attack a saved victim with a recipe over a dataset split",
        description="Attack a saved victim with a recipe over a dataset split. Every per-example result is "
        "stored as it finishes; --resume continues a killed run with the same parameters.",
    )
    attack.add_argument("--victim", required=True, help="saved victim directory (from `textrobust train`)")
    attack.add_argument(
        "--recipe",
        required=True,
        help=choices_help("recipe", RECIPES)
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
    attack.add_argument("--budget", type=int, default=None, help="maximum victim queries per example")
    attack.add_argument(
        "--disable",
        default=None,
        help=choices_help("comma-separated constraints to switch off", CONSTRAINT_NAMES),
    )
    attack.add_argument(
        "--hard-label", action="store_true", help="the attacker sees only the predicted class"
    )
    attack.add_argument("--beam-width", type=int, default=None, help="keep this many texts in the search")
    attack.add_argument(
        "--max-words",
        type=int,
        default=None,
        help="change at most N words (1: the Arabic synonym paper's one-word attack)",
    )
    attack.add_argument(
        "--word-list",
        default=None,
        help="candidates must be known words: 'hunspell' (the language's hunspell dictionary) or a "
        "word-list file",
    )
    attack.add_argument(
        "--profile",
        choices=PROFILES,
        default="paper",
        help="recipe settings: the paper's (default) or TextAttack 0.3.11's, for "
        + ", ".join(TEXTATTACK_PROFILE),
    )
    attack.add_argument(
        "--order",
        choices=ORDERS,
        default="constraints-first",
        help="victim-first: score every candidate, check constraints from the best down (the same texts, "
        "fewer encoder/tagger calls, more queries; no --budget)",
    )
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
