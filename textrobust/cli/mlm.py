"""``textrobust mlm``: adapt a masked LM to a corpus, evaluate masked LMs, train a WordPiece tokenizer."""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path
from typing import Any

from textrobust.cli.arguments import add_command_group, add_device_argument, output_dir, output_file
from textrobust.cli.tables import print_table
from textrobust.errors import DataError, require_at_least
from textrobust.lm import MLMError

CORPUS_HELP = (
    "text file(s), one document per line; or .csv/.tsv/.jsonl with --text-column; or mr; or "
    "hf:NAME[:CONFIG]; append @SPLIT to keep one split (mr@train)"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    _parser, commands = add_command_group(
        subparsers, "mlm", help="adapt, evaluate or build masked language models (fill-mask)"
    )
    _register_adapt(commands)
    _register_eval(commands)
    _register_tokenizer(commands)


def _register_adapt(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "adapt",
        help="continued masked-LM pretraining of an encoder on a corpus (or a new model with --from-scratch)",
        description="Continued masked-LM pretraining; writes a Hugging Face fill-mask folder to --out. "
        "Unset options take their defaults, or with --resume the values stored in the checkpoint.",
    )
    # Defaults are None so that --resume can tell given options from stored ones; real defaults: AdaptConfig.
    p.add_argument("--corpus", nargs="+", default=None, metavar="SOURCE", help=CORPUS_HELP)
    p.add_argument(
        "--out", required=True, help="output folder (fill-mask model, checkpoints, held-out texts)"
    )
    p.add_argument(
        "--encoder", default=None, help="Hub name or folder of a BERT-family encoder (default: MiniLM)"
    )
    p.add_argument("--steps", type=int, default=None, help="optimizer steps (default 1000)")
    p.add_argument("--seq-len", type=int, default=None, help="tokens per packed sequence (default 128)")
    p.add_argument(
        "--batch",
        dest="batch_size",
        metavar="B",
        type=int,
        default=None,
        help="sequences per micro-batch (32)",
    )
    p.add_argument("--grad-accum", type=int, default=None, help="micro-batches per optimizer step (1)")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (1e-4)")
    p.add_argument("--warmup", type=int, default=None, help="warm-up steps (default: 6%% of --steps)")
    p.add_argument("--weight-decay", type=float, default=None, help="AdamW weight decay (0.01)")
    p.add_argument(
        "--mask-probability", type=float, default=None, help="share of tokens (or words) masked (0.15)"
    )
    p.add_argument(
        "--whole-word", action="store_true", default=None, help="mask whole words, not single pieces"
    )
    p.add_argument(
        "--holdout", type=float, default=None, help="held-out texts: fraction < 1 or count ≥ 1 (0.05)"
    )
    p.add_argument("--eval-corpus", nargs="+", default=None, metavar="SOURCE", help="explicit held-out texts")
    p.add_argument(
        "--text-column", default=None, help="text column of .csv/.tsv/.jsonl and hf: sources (text)"
    )
    p.add_argument(
        "--from-scratch", action="store_true", default=None, help="train a new model (needs --tokenizer)"
    )
    p.add_argument("--tokenizer", default=None, help="with --from-scratch: folder from `mlm train-tokenizer`")
    p.add_argument(
        "--size",
        choices=("tiny", "mini", "small", "medium", "base"),
        default=None,
        help="with --from-scratch: model size (mini)",
    )
    p.add_argument("--seed", type=int, default=None, help="random seed (0)")
    p.add_argument(
        "--checkpoint-every", type=int, default=None, help="steps between checkpoints (500; 0: none)"
    )
    p.add_argument(
        "--keep-checkpoints", action="store_true", default=None, help="keep checkpoints after the run"
    )
    p.add_argument(
        "--eval-every", type=int, default=None, help="steps between held-out evaluations (0: ends only)"
    )
    p.add_argument("--log-every", type=int, default=None, help="steps between log lines (50)")
    add_device_argument(p, default=None)
    p.add_argument("--save-dtype", choices=("float32", "float16"), default=None, help="weights file dtype")
    p.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its newest checkpoint"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar (log lines only)")
    p.set_defaults(func=_adapt)


def _register_eval(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "eval",
        help="masked-token accuracy (top-1, top-k) and pseudo-perplexity of masked LMs on held-out texts",
    )
    p.add_argument(
        "--mlm", nargs="+", required=True, metavar="MODEL", help="fill-mask model folder(s) or Hub names"
    )
    p.add_argument("--corpus", nargs="+", required=True, metavar="SOURCE", help=CORPUS_HELP)
    p.add_argument("--text-column", default="text")
    p.add_argument(
        "--max-texts", type=int, default=500, help="seeded sample of at most this many texts (500)"
    )
    p.add_argument("--top-k", type=int, default=10, help="k of top-k accuracy (10)")
    p.add_argument("--max-length", type=int, default=128, help="tokens per text (longer texts are cut)")
    p.add_argument("--batch", dest="batch_size", type=int, default=64, help="masked copies per forward pass")
    p.add_argument("--seed", type=int, default=0, help="seed of the text sample and of any new MLM head")
    add_device_argument(p)
    p.add_argument(
        "--json", type=output_file, default=None, metavar="PATH", help="also write the scores as JSON"
    )
    p.set_defaults(func=_eval)


def _register_tokenizer(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "train-tokenizer", help="train a WordPiece vocabulary on a corpus (for --from-scratch)"
    )
    p.add_argument("--corpus", nargs="+", required=True, metavar="SOURCE", help=CORPUS_HELP)
    p.add_argument("--out", type=output_dir, required=True, help="tokenizer folder to write")
    p.add_argument("--vocab-size", type=int, default=30_000)
    p.add_argument("--min-frequency", type=int, default=2, help="minimum count of a merged piece")
    p.add_argument(
        "--normalization",
        choices=("uncased", "cased", "arabic"),
        default="uncased",
        help="uncased: lower-case, strip accents (BERT); cased: keep both; arabic: drop vowel marks only",
    )
    p.add_argument("--text-column", default="text")
    p.set_defaults(func=_train_tokenizer)


def _adapt(args: argparse.Namespace) -> int:
    from rich.console import Console

    from textrobust.lm.adapt import AdaptConfig, adapt, config_from_options, stored_options

    names = set(AdaptConfig.__dataclass_fields__)
    given = {k: v for k, v in vars(args).items() if k in names and v is not None}
    if args.resume:
        options = {**stored_options(args.out), **given}
    else:
        if not args.corpus:
            raise DataError("--corpus is required (a text file, .csv/.tsv/.jsonl, mr or hf:NAME)")
        options = given
    options["out"] = args.out
    config = config_from_options(options)
    console = Console(stderr=True)
    result = adapt(config, resume=args.resume, console=console, show_progress=not args.no_progress)
    before = "-" if result.heldout_loss_before is None else f"{result.heldout_loss_before:.4f}"
    after = "-" if result.heldout_loss_after is None else f"{result.heldout_loss_after:.4f}"
    print(
        f"wrote {result.out}: {result.steps} steps in {result.seconds / 60:.1f} min on {result.device}; "
        f"held-out masked-LM loss {before} -> {after}"
    )
    if result.n_heldout_texts and not config.eval_corpus:
        print(f"evaluate: textrobust mlm eval --mlm {result.out} --corpus {result.out / 'heldout.txt'}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    import torch
    from rich.console import Console

    from textrobust.devices import select_device
    from textrobust.lm.corpus import read_corpus
    from textrobust.lm.evaluate import evaluate_mlm, sample_texts
    from textrobust.lm.model import load_mlm
    from textrobust.progress import progress_bar

    for name in ("max_texts", "top_k", "batch_size"):
        require_at_least(name, getattr(args, name), 1)
    texts = sample_texts(read_corpus(args.corpus, text_column=args.text_column), args.max_texts, args.seed)
    device = select_device(args.device)
    console = Console(stderr=True)
    rows: list[dict[str, Any]] = []
    for name in args.mlm:
        torch.manual_seed(args.seed)
        loaded = load_mlm(name)
        if loaded.head_added:
            console.print(f"note: {name} has no masked-LM head; a random one was added (chance-level scores)")
        loaded.model.to(device)
        with progress_bar(transient=True, console=console) as progress:
            task = progress.add_task(Path(name).name or name, total=None)
            scores = evaluate_mlm(
                loaded.model,
                loaded.tokenizer,
                texts,
                k=args.top_k,
                max_length=args.max_length,
                batch_size=args.batch_size,
                device=device,
                progress=functools.partial(_update, progress, task),
            )
        rows.append({"mlm": name, "head_added": loaded.head_added, **scores.as_dict()})
    print_table(
        [
            {
                "model": row["mlm"],
                "top-1": f"{row['top1']:.3f}",
                f"top-{args.top_k}": f"{row['topk']:.3f}",
                "pseudo-ppl": f"{row['pseudo_perplexity']:.1f}",
                "words": row["n_words"],
                "tokens": row["n_tokens"],
                "seconds": f"{row['seconds']:.0f}",
            }
            for row in rows
        ],
        title=f"masked LM on {len(texts)} texts ({', '.join(args.corpus)})",
    )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


def _update(progress: Any, task: Any, done: int, total: int) -> None:
    progress.update(task, completed=done, total=total)


def _train_tokenizer(args: argparse.Namespace) -> int:
    from textrobust.lm.corpus import read_corpus
    from textrobust.lm.tokenizer import save_wordpiece, train_wordpiece, unknown_rate

    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise MLMError(f"{out} is not empty; choose a new --out")
    texts = read_corpus(args.corpus, text_column=args.text_column)
    tokenizer = train_wordpiece(
        texts,
        vocab_size=args.vocab_size,
        min_frequency=args.min_frequency,
        normalization=args.normalization,
    )
    save_wordpiece(tokenizer, out)
    sample = texts[:2000]
    print(
        f"wrote {out}: WordPiece vocabulary of {len(tokenizer)} tokens from {len(texts)} texts; "
        f"unknown words {unknown_rate(tokenizer, sample):.2%} (first {len(sample)} texts)"
    )
    print(
        f"next: textrobust mlm adapt --from-scratch --tokenizer {out} "
        f"--corpus {' '.join(args.corpus)} --out DIR"
    )
    return 0
