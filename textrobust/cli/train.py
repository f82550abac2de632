"""``textrobust train``: train a victim on a dataset and save it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textrobust.cli.arguments import (
    add_dataset_arguments,
    add_device_argument,
    add_seed_argument,
    dataset_from_args,
    output_dir,
)
from textrobust.cli.tables import print_table
from textrobust.errors import TextrobustError
from textrobust.fitting import CHECKPOINTS_DIR, checkpoints


def print_notes(notes: Sequence[str]) -> None:
    """What reading the data decided that the user should hear of, one ``note:`` line each on stderr."""
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def add_overlap_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-overlap",
        action="store_true",
        help="go on although the evaluated split shares texts with the train split (the count is printed)",
    )


def _check_kind(kind: str) -> bool:
    """A victim kind ``train`` makes (built-in or a plugin's); whether it is a transformer encoder (its
    model and LoRA flags apply)."""
    from textrobust.victims.kinds import TRAINABLE_TYPES, VICTIM_KINDS, capability

    if kind not in VICTIM_KINDS or not capability(kind, "trainable"):
        raise TextrobustError(
            f"--victim: '{kind}' is not a victim kind that is trained; choose {', '.join(TRAINABLE_TYPES)} "
            "or a trainable kind a plugin registers"
        )
    return capability(kind, "architecture") == "transformer"


def _victim_options(args: argparse.Namespace, encoder: bool) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if encoder:
        options["model"] = args.model
        if args.peft is not None:  # only what is set, so a full fine-tune's options stay as they were
            options["peft"] = args.peft
            for name in ("lora_rank", "lora_alpha", "lora_dropout"):
                options[name] = getattr(args, name)
    elif args.peft is not None:
        raise TextrobustError("--peft applies to transformer victims (--victim bert) only")
    elif args.vectors is not None:  # unset: GloVe for English, vectors trained here for other languages
        options["vectors"] = None if args.vectors in ("none", "") else args.vectors
    if args.max_length is not None:
        options["max_length"] = args.max_length
    return options


def train_command(args: argparse.Namespace) -> int:
    from textrobust.data.overlap import check_overlap
    from textrobust.victims.evaluation import evaluate_victim
    from textrobust.victims.training import TrainConfig, train_victim

    encoder = _check_kind(args.victim)
    out = Path(args.out)
    if args.resume and args.overwrite:
        raise TextrobustError("--resume continues the run in --out and --overwrite starts it again; give one")
    if out.exists() and any(out.iterdir()) and not (args.overwrite or args.resume):
        if (out / CHECKPOINTS_DIR).is_dir():
            raise TextrobustError(
                f"{out} holds the checkpoints of an unfinished run: pass --resume to continue it "
                "(with the same options) or --overwrite to start again"
            )
        raise TextrobustError(
            f"output directory {out} is not empty; choose another --out or pass --overwrite"
        )
    if encoder:
        from textrobust.victims.adapters import check_peft_options
        from textrobust.victims.bert import import_peft

        check_peft_options(args.peft, args.lora_rank, args.lora_alpha, args.lora_dropout)
        if args.peft:
            import_peft()
    dataset = dataset_from_args(args)
    overlap = (
        check_overlap(dataset, "test", allow=args.allow_overlap, option="--allow-overlap")
        if "test" in dataset.splits
        else None
    )
    if args.resume and not checkpoints(out / CHECKPOINTS_DIR) and out.is_dir():
        print(f"no checkpoint in {out} yet: training from the beginning", file=sys.stderr)
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        patience=args.patience,
        seed=args.seed,
        device=args.device,
        max_train_examples=args.max_train_examples,
        allow_missing_classes=args.allow_missing_classes,
        grad_accumulation=args.grad_accumulation,
        max_grad_norm=args.max_grad_norm,
        warmup_steps=args.warmup_steps,
        warmup_ratio=args.warmup_ratio,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
    )
    victim, report = train_victim(args.victim, dataset, out, config, **_victim_options(args, encoder))
    print_notes([*dataset.notes, *([overlap] if overlap else [])])  # with the result: an error is one line
    row: dict[str, Any] = {
        "victim": args.victim,
        "dataset": dataset.name,
        "train": report.train_examples,
        "epochs": report.epochs_run,
        "best epoch": report.best_epoch,
        "val acc": "no validation split"
        if report.best_validation_accuracy is None
        else report.best_validation_accuracy,
    }
    if len(dataset.splits.get("test", ())):
        row["test acc"] = evaluate_victim(victim, dataset, "test").accuracy
    row["seconds"] = f"{report.seconds:.1f}"
    if report.resumed_from_step is not None:
        row["resumed at step"] = report.resumed_from_step
    print_table([row], title=f"trained {args.victim} → {out}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from textrobust.cli.arguments import choices_help
    from textrobust.victims import TRAINABLE_TYPES

    train = subparsers.add_parser("train", help="train a victim on a dataset and save it")
    train.add_argument(
        "--victim",
        required=True,
        help=choices_help("victim kind", TRAINABLE_TYPES) + ", or a trainable kind a plugin registers",
    )
    add_dataset_arguments(train)
    add_overlap_argument(train)
    train.add_argument(
        "--out", type=output_dir, required=True, help="directory to save the trained victim to"
    )
    train.add_argument("--overwrite", action="store_true", help="replace an existing --out directory")
    train.add_argument(
        "--allow-missing-classes",
        action="store_true",
        help="train although a class of the dataset has no training example (it is then never learned)",
    )
    train.add_argument("--epochs", type=int, default=None, help="maximum epochs (default per victim type)")
    train.add_argument("--batch-size", type=int, default=None)
    train.add_argument(
        "--lr", dest="learning_rate", type=float, default=None, help="learning rate (default per victim type)"
    )
    train.add_argument("--patience", type=int, default=2, help="epochs without improvement before stopping")
    train.add_argument(
        "--grad-accumulation",
        type=int,
        default=1,
        metavar="N",
        help="batches per optimizer step (an effective batch of N × --batch-size; default 1)",
    )
    train.add_argument(
        "--max-grad-norm",
        type=float,
        default=None,
        help="clip the gradient norm to this before each optimizer step (default: no clipping)",
    )
    train.add_argument(
        "--warmup-steps",
        type=int,
        default=0,
        help="linear learning-rate warm-up over this many optimizer steps, then constant (default 0)",
    )
    train.add_argument(
        "--warmup-ratio",
        type=float,
        default=0.0,
        help="the warm-up as a share of all optimizer steps (instead of --warmup-steps)",
    )
    add_seed_argument(train)
    add_device_argument(train)
    train.add_argument(
        "--checkpoint-every",
        type=int,
        default=500,
        metavar="N",
        help="a resumable checkpoint in --out/checkpoints every N optimizer steps and at each epoch's end "
        "(500; 0: none); removed when training finishes",
    )
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue the run killed in --out from its newest checkpoint (give the same options again)",
    )
    train.add_argument(
        "--max-train",
        dest="max_train_examples",
        type=int,
        default=None,
        help="use only the first N training examples",
    )
    train.add_argument("--max-length", type=int, default=None, help="maximum tokens per text")
    train.add_argument(
        "--vectors",
        default=None,
        help="word victims: glove (GloVe 6B 50d), a GloVe/word2vec text file, trained (PPMI-SVD vectors "
        "from the training split), or none (default: glove for English, trained for other languages)",
    )
    train.add_argument(
        "--model", default=None, help="bert: Hugging Face encoder name or path (default: offline MiniLM)"
    )
    from textrobust.victims.adapters import LORA_DEFAULTS, PEFT_METHODS

    train.add_argument(
        "--peft",
        choices=PEFT_METHODS,
        default=None,
        help="bert: parameter-efficient fine-tuning (lora: adapters and the head train, the encoder stays; "
        "saved as base name + adapter; needs the 'peft' extra)",
    )
    train.add_argument("--lora-rank", type=int, default=LORA_DEFAULTS["lora_rank"], help="LoRA rank r")
    train.add_argument("--lora-alpha", type=float, default=LORA_DEFAULTS["lora_alpha"], help="LoRA alpha")
    train.add_argument(
        "--lora-dropout", type=float, default=LORA_DEFAULTS["lora_dropout"], help="LoRA dropout"
    )
    train.set_defaults(func=train_command)
