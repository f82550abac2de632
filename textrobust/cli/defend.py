"""``textrobust defend``: make a defended victim from a saved one, then judge both on the same examples."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from textrobust.cli.arguments import (
    SAVED_VICTIM_HELP,
    add_dataset_arguments,
    add_device_argument,
    add_executor_arguments,
    add_progress_argument,
    add_store_argument,
    add_victim_arguments,
    choices_help,
    comma_list,
    dataset_from_args,
    executor_from_args,
    output_dir,
    victim_from_args,
)
from textrobust.cli.tables import print_table
from textrobust.errors import ParameterError, TextrobustError

DEFAULT_METHOD = "co-tune"
METHOD_FLAGS_KEY = "_method_flags"  # the settings fields that got a flag (argument dests)


def _note(message: str) -> None:
    print(message, file=sys.stderr)


def defend_command(args: argparse.Namespace) -> int:
    from textrobust.defenses.defend import defend, defense_of
    from textrobust.defenses.evaluate import check_evaluation, evaluate_defense
    from textrobust.defenses.registry import resolve_method
    from textrobust.defenses.settings import DefenseRun
    from textrobust.defenses.spec import settings_from_mapping
    from textrobust.fields import setting_fields
    from textrobust.victims.folders import check_output_apart

    out = Path(args.out)
    recipes = comma_list(args.eval_recipes)
    try:
        check_evaluation(recipes, args.n, args.budget_protocol)
    except ParameterError as exc:
        if exc.parameter not in ("recipe", "recipes"):
            raise
        raise TextrobustError(f"--eval-recipes: {exc}") from None
    executor = executor_from_args(args)  # attacks for training examples and for the evaluation
    base = victim_from_args(args)  # a checkpoint's --label-map applies to training and evaluation alike
    method = resolve_method(args.method)
    # Only the method flags given on the command line: the others keep the method's own defaults.
    given = {name: getattr(args, name) for name in getattr(args, METHOD_FLAGS_KEY) if hasattr(args, name)}
    own = {spec.name for spec in setting_fields(method.Settings)}
    foreign = [name for name in given if name not in own]
    if foreign:
        flags = ", ".join(_flag(name) for name in own) or "none"
        raise TextrobustError(
            f"{_flag(foreign[0])} does not apply to --method {method.name} (its flags: {flags})"
        )
    run = DefenseRun(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        max_train_examples=args.max_train_examples,
        mlm=args.mlm,
        device=args.device,
        progress=not args.no_progress,
        executor=executor,
    )
    if args.evaluate_only:
        if not (out / "config.json").exists():
            raise TextrobustError(f"--evaluate-only needs a defended victim in --out; {out} holds none")
        record = defense_of(out)
    else:
        settings = settings_from_mapping(method, given)
        method.check(settings, run)
        check_output_apart(out, base.path)  # even with --overwrite: never the base's folder, nor around it
        if out.exists() and any(out.iterdir()) and not args.overwrite:
            raise TextrobustError(
                f"output directory {out} is not empty; choose another --out or pass --overwrite"
            )
        dataset = dataset_from_args(args)
        outcome = defend(base, dataset, out, method, settings, run, notify=_note)
        record = outcome.record()
        cost = f"{outcome.train_seconds:.1f} s"
        if outcome.clean_train_seconds:
            cost += f" ({outcome.train_seconds / outcome.clean_train_seconds:.2f}× clean training)"
        _note(f"{outcome.method}: wrote {out} in {cost}; {outcome.adversarial_examples} adversarial examples")
    if args.no_evaluate:
        return 0
    dataset = dataset_from_args(args)
    evaluation = evaluate_defense(
        out,
        base,
        dataset,
        recipes=recipes,
        n=args.n,
        seed=args.seed or 0,
        store=args.store,
        mlm=args.mlm,
        budget_protocol=args.budget_protocol,
        executor=executor,
        progress=not args.no_progress,
        defense=record,
    )
    print_table(
        evaluation.rows(),
        title=f"{record['method']}: {args.victim} → {out}, first {evaluation.n} test examples "
        f"(defense {evaluation.defense_id} in {args.store})",
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from textrobust.attacks.options import BUDGET_PROTOCOLS
    from textrobust.defenses import DEFAULT_EVAL_RECIPES
    from textrobust.defenses.registry import DEFENSES

    methods = DEFENSES.names()  # built-in and installed ones (reading entry points costs: once)
    p = subparsers.add_parser(
        "defend",
        help="make a defended victim from a saved one and compare both under attack",
        description="Make a defended copy of a saved victim (--method), then attack it and its base on the "
        "same first --n test examples with each of --eval-recipes; the defense and every run land in "
        "the store. Unset training options (epochs, batch size, learning rate, seed, training examples) "
        "are the base victim's own; a method's options keep its defaults.",
    )
    add_victim_arguments(p, help=f"the victim to defend (its base): {SAVED_VICTIM_HELP}", remote=False)
    add_dataset_arguments(p)
    p.add_argument(
        "--method",
        choices=methods,
        default=DEFAULT_METHOD,
        help=choices_help(f"defense (default {DEFAULT_METHOD})", methods),
    )
    p.add_argument(
        "--out", type=output_dir, required=True, help="folder for the defended victim (written atomically)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: the base's)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", dest="learning_rate", type=float, default=None, help="learning rate (the base's)")
    p.add_argument("--seed", type=int, default=None, help="training and attack seed (default: the base's)")
    p.add_argument(
        "--max-train", dest="max_train_examples", type=int, default=None, help="first N training examples"
    )
    p.add_argument(
        "--eval-recipes",
        default=",".join(DEFAULT_EVAL_RECIPES),
        help="comma-separated recipes of the evaluation (default: %(default)s)",
    )
    p.add_argument(
        "--n", type=int, default=200, help="first N test examples evaluated (default: %(default)s)"
    )
    p.add_argument(
        "--budget-protocol", choices=BUDGET_PROTOCOLS, default=None, help="one budget for every eval recipe"
    )
    p.add_argument("--mlm", default=None, help="fill-mask model for MLM recipes (name or folder)")
    add_executor_arguments(p)
    p.add_argument("--evaluate-only", action="store_true", help="judge the defended victim already in --out")
    p.add_argument("--no-evaluate", action="store_true", help="only make the defended victim")
    add_store_argument(p)
    add_device_argument(p)
    add_progress_argument(p)
    group = p.add_argument_group("method options", "each applies to the methods it names")
    p.set_defaults(func=defend_command, **{METHOD_FLAGS_KEY: _add_method_flags(p, group, methods)})


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _add_method_flags(
    parser: argparse.ArgumentParser, group: argparse._ArgumentGroup, methods: list[str]
) -> tuple[str, ...]:
    """A flag per field of every method's settings (one for a field several methods share), generated
    from the dataclasses; returns the fields that got one. A flag left out is absent from the parsed
    arguments, so the method's own default holds."""
    from textrobust.defenses.registry import resolve_method
    from textrobust.fields import SettingField, setting_fields

    fields: dict[str, list[tuple[str, SettingField]]] = {}
    for name in methods:
        try:
            method = resolve_method(name)
        except TextrobustError:
            continue  # a plugin that cannot be imported: `--method NAME` reports it on one line
        for spec in setting_fields(method.Settings):
            fields.setdefault(spec.name, []).append((method.name, spec))
    taken = {action.dest for action in parser._actions}
    added = []
    for field_name, specs in fields.items():
        first = specs[0][1]
        flag = _flag(field_name)
        # Fields a flag cannot hold (tables, lists) are set from Python or a benchmark file; a field that
        # shares a name with a flag of the command stays off the command line rather than change that flag.
        if not first.scalar or field_name in taken or flag in parser._option_string_actions:
            continue
        options: dict[str, Any] = {"dest": field_name, "default": argparse.SUPPRESS, "help": _help(specs)}
        if first.type is bool:
            options["action"] = argparse.BooleanOptionalAction
        else:
            options["type"] = first.type
            if first.choices is not None:
                options["choices"] = first.choices
        group.add_argument(flag, **options)
        added.append(field_name)
    return tuple(added)


def _help(specs: list[tuple[str, Any]]) -> str:
    """``co-tune/augment: the help (default X)``; methods whose help or default differ each say theirs."""
    parts: dict[tuple[str, str], list[str]] = {}
    for method, spec in specs:
        parts.setdefault((spec.help, str(spec.default)), []).append(method)
    text = "; ".join(
        f"{'/'.join(methods)}: {line or 'see the method'} (default {default})"
        for (line, default), methods in parts.items()
    )
    return text.replace("%", "%%")  # argparse formats help with %
