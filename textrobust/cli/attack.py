"""``textrobust attack``: run a recipe against a saved victim, store every result, print the summary.

Exit status: 0 when the run finished, 2 on an error, 3 when the victim's budget (``--max-requests``,
``--max-tokens``) stopped the run cleanly (every finished example stored; ``--resume`` continues it).
``--dry-run`` attacks a small sample for real, stores nothing and prints what the whole run would cost.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

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

# A run stopped by a spent budget: not an error (nothing is wrong, nothing is lost), not a finished run.
EXIT_BUDGET_SPENT = 3


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


def _count(value: float) -> str:
    return f"{round(value):,}"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def describe_usage(usage: Any) -> str:
    """``412 requests (30 from the request cache), 51,200 tokens in, 412 out, 95 s waiting``."""
    return (
        f"{_count(usage.requests)} requests ({_count(usage.cache_hits)} answered by the request cache), "
        f"{_count(usage.tokens_in)} tokens in, {_count(usage.tokens_out)} out, "
        f"{_duration(usage.seconds_waiting)} waiting"
    )


def _spent_budget(args: argparse.Namespace, stop: Any) -> str:
    """Which budget stopped the run, as the user set it: ``the request budget (--max-requests 50)``."""
    budgets = {
        "request": ("--max-requests", args.max_requests, stop.spent.requests),
        "token": ("--max-tokens", args.max_tokens, stop.spent.tokens_in + stop.spent.tokens_out),
    }
    given = {name: budget for name, budget in budgets.items() if budget[1] is not None}
    if not given:  # a budget the victim has of its own (a config file's, a plugin's)
        return "the victim's budget"
    # The one spent furthest (with both given, the other may have room left).
    name, (flag, limit, _spent) = max(given.items(), key=lambda item: item[1][2] / item[1][1])
    return f"the {name} budget ({flag} {limit})"


def _check_dry_run(args: argparse.Namespace) -> None:
    """What a dry run cannot do, said before any work (it stores nothing and estimates a whole run)."""
    from textrobust.errors import ParameterError

    if args.dry_run_sample < 1:
        raise ParameterError("dry_run_sample", f"must be ≥ 1, got {args.dry_run_sample}")
    given = {"--resume": args.resume, "--export": args.export, "--show-diffs": args.show_diffs}
    for flag in (flag for flag, value in given.items() if value):
        raise ParameterError("dry_run", f"stores nothing and estimates a whole run; drop {flag}")


def attack_command(args: argparse.Namespace) -> int:
    from textrobust.attacks import options
    from textrobust.leaderboard.summary import summarize, summary_rows
    from textrobust.runs.jobs import attack_victim, estimate_attack_cost
    from textrobust.runs.runner import RunStopped
    from textrobust.store import Store

    if args.dry_run:
        _check_dry_run(args)
        try:
            estimate = estimate_attack_cost(
                victim_from_args(args), args.recipe, sample=args.dry_run_sample,
                options=options_from_args(args, options.AttackOptions), dataset=dataset_from_args(args),
                split=args.split, n=args.n, seed=args.seed, mlm=args.mlm,
                batch_examples=args.batch_examples, notify=_note, executor=executor_from_args(args),
            )  # fmt: skip
        except RunStopped as stop:
            print(
                f"stopped: {_spent_budget(args, stop)} is spent before the first sampled example was "
                "attacked; nothing was stored; give the dry run a larger budget",
                file=sys.stderr,
            )
            return EXIT_BUDGET_SPENT
        print_estimate(estimate)
        return 0
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
    except RunStopped as stop:
        print(
            f"stopped: {_spent_budget(args, stop)} is spent after {stop.stored} of {stop.total} examples; "
            "run the same command with --resume (and a larger budget) to continue",
            file=sys.stderr,
        )
        return EXIT_BUDGET_SPENT
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
        if run.usage is not None:
            resumed = " (resumes included)" if outcome.resumed else ""
            print(f"cost{resumed}: {describe_usage(run.usage)}")
        if args.export:
            count = store.export_jsonl(run.id, args.export)
            _note(f"wrote {count} results to {args.export}")
    _note(f"results are in {args.store} (run {run.id})")
    return 0


def _estimated(estimate: Any, unit: str, *, duration: bool = False) -> str:
    show = _duration if duration else _count
    return f"~{show(estimate.value)} {unit} ({show(estimate.low)}–{show(estimate.high)})".replace("  ", " ")


def print_estimate(estimate: Any) -> None:
    """What ``--dry-run`` measured and what it predicts, a line each (nothing was stored)."""
    sample = f"the first {estimate.sampled} of {estimate.examples} examples"
    measured = f"{_count(estimate.sample_queries)} victim queries"
    if estimate.sample_usage is not None:
        measured += f", {describe_usage(estimate.sample_usage)}"
    print(f"dry run: attacked {sample} for real (nothing stored): {measured}")
    if estimate.survey_usage is not None and estimate.examples > estimate.sampled:
        print(
            f"asking the victim about the other {estimate.examples - estimate.sampled} originals (to know "
            f"which it gets wrong already) took {describe_usage(estimate.survey_usage)}"
        )
    parts = [_estimated(estimate.queries, "queries")]
    if estimate.requests is not None:
        parts.append(_estimated(estimate.requests, "requests"))
    for name, unit in (("tokens_in", "tokens in"), ("tokens_out", "tokens out")):
        value = getattr(estimate, name)
        if value is not None:
            parts.append(_estimated(value, unit))
    if estimate.seconds_waiting is not None:
        parts.append(_estimated(estimate.seconds_waiting, "waiting", duration=True))
    print(f"estimate for {estimate.examples} examples, with a rough 5–95 % interval: {', '.join(parts)}")
    if estimate.requests_to_send is not None and estimate.sample_requests:
        print(
            f"the sample's {_count(estimate.sample_requests)} requests are in the request cache now: the run "
            f"would send about {_count(estimate.requests_to_send)} more"
        )
    if estimate.warning:
        _note(f"note: {estimate.warning}")


def register(subparsers: argparse._SubParsersAction) -> None:
    from textrobust.attacks import options
    from textrobust.attacks.recipes import RECIPES
    from textrobust.attacks.textattack_adapter import PREFIX, TEXTATTACK_RECIPES
    from textrobust.runs.executor import DEFAULT_BATCH_EXAMPLES
    from textrobust.runs.jobs import DEFAULT_DRY_RUN_SAMPLE

    attack = subparsers.add_parser(
        "attack",
        help="attack a saved victim with a recipe over a dataset split",
        description="Attack a saved victim with a recipe over a dataset split. Every per-example result is "
        "stored as it finishes; --resume continues a killed run with the same parameters. Exit status: 0 "
        "finished, 2 error, 3 stopped by the victim's budget (--max-requests, --max-tokens; every finished "
        "example is stored: --resume with a larger budget continues the run).",
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
    attack.add_argument(
        "--dry-run",
        action="store_true",
        help="attack only the first --dry-run-sample examples for real (their answers go to an HTTP "
        "victim's request cache, so the real run reuses them), store nothing, and estimate the queries, "
        "requests, tokens and waiting of the whole run",
    )
    attack.add_argument(
        "--dry-run-sample",
        type=int,
        default=DEFAULT_DRY_RUN_SAMPLE,
        metavar="K",
        help="examples --dry-run attacks (default: %(default)s)",
    )
    add_progress_argument(attack)
    attack.set_defaults(func=attack_command)
