"""``textrobust defend``: make a defended victim from a saved one, then judge both on the same examples."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from textrobust.cli.arguments import (
    add_dataset_arguments,
    add_device_argument,
    add_executor_arguments,
    add_progress_argument,
    add_store_argument,
    choices_help,
    comma_list,
    dataset_from_args,
    executor_from_args,
    output_dir,
)
from textrobust.cli.tables import print_table
from textrobust.errors import ParameterError, TextrobustError


def _note(message: str) -> None:
    print(message, file=sys.stderr)


def defend_command(args: argparse.Namespace) -> int:
    from textrobust.defenses.defend import DefenseSettings, defend, defense_of
    from textrobust.defenses.evaluate import check_evaluation, evaluate_defense

    out = Path(args.out)
    recipes = comma_list(args.eval_recipes)
    try:
        check_evaluation(recipes, args.n, args.budget_protocol)
    except ParameterError as exc:
        if exc.parameter not in ("recipe", "recipes"):
            raise
        raise TextrobustError(f"--eval-recipes: {exc}") from None
    executor = executor_from_args(args)  # attacks for training examples and for the evaluation
    settings = DefenseSettings(
        method=args.method or "co-tune",
        recipe=args.recipe,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        max_train_examples=args.max_train_examples,
        clean_epochs=args.clean_epochs,
        adv_share=args.adv_share,
        adv_weight=args.adv_weight,
        label_source=args.label_source,
        steps=args.steps,
        epsilon=args.epsilon,
        step_size=args.step_size,
        copies=args.copies,
        ratio=args.ratio,
        neighbours=args.neighbours,
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
        settings.check()
        if out.exists() and any(out.iterdir()) and not args.overwrite:
            raise TextrobustError(
                f"output directory {out} is not empty; choose another --out or pass --overwrite"
            )
        dataset = dataset_from_args(args)
        outcome = defend(args.victim, dataset, out, settings, notify=_note)
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
        args.victim,
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
    from textrobust.attacks.recipes import BUDGET_PROTOCOLS
    from textrobust.defenses import DEFAULT_EVAL_RECIPES, LABEL_SOURCES, METHODS

    p = subparsers.add_parser(
        "defend",
        help="make a defended victim from a saved one and compare both under attack",
        description="Make a defended copy of a saved victim (--method), then attack it and its base on the "
        "same first --n test examples with each of --eval-recipes; the defense and every run land in "
        "the store. Unset training options (epochs, batch size, learning rate, seed, training examples) "
        "are the base victim's own.",
    )
    p.add_argument("--victim", required=True, help="the saved victim to defend (its base)")
    add_dataset_arguments(p)
    p.add_argument(
        "--method", choices=METHODS, default=None, help=choices_help("defense (default co-tune)", METHODS)
    )
    p.add_argument(
        "--out", type=output_dir, required=True, help="folder for the defended victim (written atomically)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    p.add_argument("--recipe", default="a2t", help="co-tune/augment: the attack that makes training examples")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: the base's)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", dest="learning_rate", type=float, default=None, help="learning rate (the base's)")
    p.add_argument("--seed", type=int, default=None, help="training and attack seed (default: the base's)")
    p.add_argument(
        "--max-train", dest="max_train_examples", type=int, default=None, help="first N training examples"
    )
    p.add_argument("--clean-epochs", type=int, default=1, help="co-tune: clean epochs first (default 1)")
    p.add_argument(
        "--adv-share",
        type=float,
        default=None,
        help="share of the training split attacked (co-tune 0.2, augment 1)",
    )
    p.add_argument(
        "--adv-weight", type=float, default=1.0, help="co-tune: loss weight of adversarial examples"
    )
    p.add_argument(
        "--label-source",
        choices=LABEL_SOURCES,
        default="gold",
        help="augment: gold labels, or the base's predictions",
    )
    p.add_argument("--steps", type=int, default=3, help="embedding: ascent steps per batch")
    p.add_argument("--epsilon", type=float, default=1.0, help="embedding: L2 bound of the perturbation")
    p.add_argument("--step-size", type=float, default=0.5, help="embedding: L2 length of an ascent step")
    p.add_argument("--copies", type=int, default=8, help="smooth: perturbed copies per prediction (M)")
    p.add_argument("--ratio", type=float, default=0.3, help="smooth: share of words replaced in a copy")
    p.add_argument("--neighbours", default="counter-fitted-glove-50d", help="smooth: substitution table")
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
    p.set_defaults(func=defend_command)
