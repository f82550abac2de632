"""The ``textrobust attack`` command: run a recipe against a saved victim, store results, print a summary."""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

from textrobust.attacks.result import AttackResult
from textrobust.attacks.runner import DEFAULT_STORE
from textrobust.errors import TextrobustError

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]+")


def diff_texts(original: str, adversarial: str) -> tuple[object, object]:
    """The two texts as rich ``Text``: what was replaced in red, what replaced it in green."""
    from rich.text import Text

    a, b = _TOKEN.findall(original), _TOKEN.findall(adversarial)
    before, after = Text(), Text()
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            before.append("".join(a[i1:i2]))
            after.append("".join(b[j1:j2]))
        else:
            before.append("".join(a[i1:i2]), style="bold red")
            after.append("".join(b[j1:j2]), style="bold green")
    return before, after


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
    from textrobust.attacks.constraints import CONSTRAINT_NAMES

    options: dict[str, object] = {}
    if args.disable:
        disable = sorted({name.strip() for name in args.disable.split(",") if name.strip()})
        unknown = [name for name in disable if name not in CONSTRAINT_NAMES]
        if unknown:
            raise TextrobustError(
                f"unknown constraint '{unknown[0]}' in --disable; choose from {', '.join(CONSTRAINT_NAMES)}"
            )
        options["disable"] = disable
    if args.hard_label:
        options["hard_label"] = True
    if args.beam_width is not None:
        if args.beam_width < 1:
            raise TextrobustError(f"--beam-width must be ≥ 1, got {args.beam_width}")
        options["beam_width"] = args.beam_width
    return options


def attack_command(args: argparse.Namespace) -> int:
    from textrobust.attacks.recipes import RECIPES
    from textrobust.attacks.runner import attack_saved_victim
    from textrobust.commands import dataset_from_args
    from textrobust.leaderboard.store import Store
    from textrobust.leaderboard.summary import format_summary, summarize
    from textrobust.victims.base import read_config

    # Cheap checks first, so a typo costs no model loading.
    if args.recipe.startswith("textattack:"):
        from textrobust.attacks.textattack_adapter import parse_recipe

        parse_recipe(args.recipe)  # raises for an unknown TextAttack recipe
    elif args.recipe not in RECIPES:
        raise TextrobustError(f"unknown recipe '{args.recipe}'; choose one of {', '.join(RECIPES)}")
    if args.n is not None and args.n < 1:
        raise TextrobustError(f"--n must be ≥ 1, got {args.n}")
    if args.budget is not None and args.budget < 1:
        raise TextrobustError(f"--budget must be ≥ 1 query, got {args.budget}")
    if args.workers < 1:
        raise TextrobustError(f"--workers must be ≥ 1, got {args.workers}")
    attack_options = _attack_options(args)
    read_config(args.victim)
    dataset = dataset_from_args(args)
    dataset.split(args.split)

    with Store(args.store) as store:
        try:
            outcome = attack_saved_victim(
                args.victim, args.recipe, dataset=dataset, split=args.split, n=args.n, seed=args.seed,
                budget=args.budget, mlm=args.mlm, attack_options=attack_options, store=store,
                workers=args.workers, resume=args.resume, progress=not args.no_progress, notify=_note,
            )  # fmt: skip
        except KeyboardInterrupt:
            _note("stopped: every finished example is stored; run the same command with --resume to continue")
            raise
        run = outcome.run
        results = list(store.iter_results(run.id))
        if args.show_diffs:
            print_diffs(results, list(run.parameters.dataset.label_names))
        p = run.parameters
        print(
            f"run {run.id}: {p.recipe} → {p.victim.type} ({p.victim.path}) "
            f"on {p.dataset.name}/{p.dataset.split}, {p.n} examples, seed {p.seed}"
        )
        print(format_summary(summarize(result for _index, result in results)))
        if args.export:
            count = store.export_jsonl(run.id, args.export)
            _note(f"wrote {count} results to {args.export}")
    _note(f"results are in {args.store} (run {run.id})")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from textrobust.commands import add_dataset_arguments

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
        help="textfooler, mlm-synonym, bert-attack, bae, pwws or a2t; textattack:NAME runs TextAttack's "
        "recipe (textfooler, pwws, bae, bert-attack) where TextAttack is installed",
    )
    add_dataset_arguments(attack)
    attack.add_argument("--split", default="test", help="dataset split to attack (default: %(default)s)")
    attack.add_argument("--n", type=int, default=None, help="attack the first N examples (default: all)")
    attack.add_argument("--seed", type=int, default=0, help="attack seed (default: %(default)s)")
    attack.add_argument(
        "--mlm",
        default=None,
        help="masked LM for MLM recipes: Hugging Face fill-mask model name or local path",
    )
    attack.add_argument("--budget", type=int, default=None, help="maximum victim queries per example")
    attack.add_argument(
        "--disable",
        default=None,
        help="comma-separated constraints to switch off (e.g. pos,sentence-similarity)",
    )
    attack.add_argument(
        "--hard-label", action="store_true", help="the attacker sees only the predicted class"
    )
    attack.add_argument("--beam-width", type=int, default=None, help="keep this many texts in the search")
    attack.add_argument(
        "--store",
        type=Path,
        default=DEFAULT_STORE,
        help="SQLite store of runs and results (default: %(default)s)",
    )
    attack.add_argument(
        "--export", type=Path, default=None, help="also write the run's results to a JSONL file"
    )
    attack.add_argument(
        "--resume", action="store_true", help="continue the latest unfinished run with the same parameters"
    )
    attack.add_argument(
        "--workers", type=int, default=1, help="local worker processes (default: %(default)s, in-process)"
    )
    attack.add_argument(
        "--show-diffs", action="store_true", help="print before/after of each successful attack"
    )
    attack.add_argument("--no-progress", action="store_true", help="no progress bar")
    attack.set_defaults(func=attack_command)
