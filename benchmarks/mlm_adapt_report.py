"""Masked-token accuracy of an encoder before and after ``textrobust mlm adapt`` (issue 6's closing numbers).

Starts from the MiniLM encoder (no MLM head: a new head is added, tied to the embeddings), adapts it on the
MR training sentences and scores masked-token top-1 / top-k accuracy and pseudo-perplexity on held-out MR
test sentences before and after, plus any reference fill-mask models given with ``--reference``.

    python benchmarks/mlm_adapt_report.py --out /tmp/mlm-mr --steps 180
    python benchmarks/mlm_adapt_report.py --out /tmp/mlm-mr --steps 180 --resume   # after an interruption

Writes ``report.json`` and ``report.md`` into ``--out`` and prints the markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import torch

from textrobust.lm.adapt import AdaptConfig, adapt
from textrobust.lm.corpus import read_corpus
from textrobust.lm.evaluate import evaluate_mlm, sample_texts
from textrobust.lm.model import load_mlm
from textrobust.victims.bert import default_encoder

SHARED_MLM = Path(__file__).resolve().parents[2] / "shared" / "models" / "minilm-mlm-en"


def score(name: str, texts: list[str], seed: int, k: int) -> dict[str, Any]:
    torch.manual_seed(seed)  # the same new head as the one adaptation starts from
    loaded = load_mlm(name)
    scores = evaluate_mlm(loaded.model, loaded.tokenizer, texts, k=k)
    print(f"{name}: top-1 {scores.top1:.3f}  top-{k} {scores.topk:.3f}  pppl {scores.pseudo_perplexity:.1f}")
    return {"model": name, "head_added": loaded.head_added, **scores.as_dict()}


def _short(name: str) -> str:
    path = Path(name)
    return f"{path.parent.name}/{path.name}" if path.name == "model" else path.name or name


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    threads = torch.get_num_threads()
    return f"{platform.system()}, {os.cpu_count()} CPU cores ({cpu}), torch threads {threads}, {device}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder of the adapted model and the report")
    parser.add_argument("--encoder", default=None, help="start encoder (default: the offline MiniLM)")
    parser.add_argument("--corpus", nargs="+", default=["mr@train"])
    parser.add_argument("--heldout", nargs="+", default=["mr@test"])
    parser.add_argument("--steps", type=int, default=180)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seq-len", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--eval-texts", type=int, default=150, help="held-out texts scored (seeded sample)")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reference", nargs="*", default=[str(SHARED_MLM)] if SHARED_MLM.exists() else [])
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()

    out = Path(args.out)
    encoder = args.encoder or default_encoder()
    texts = sample_texts(read_corpus(args.heldout), args.eval_texts, args.seed)
    started = time.perf_counter()
    cached = out.with_name(f"{out.name}.before.json")  # the start's scores, reused by --resume
    if args.resume and cached.exists():
        before = json.loads(cached.read_text(encoding="utf-8"))
    else:
        before = score(encoder, texts, args.seed, args.top_k)
    config = AdaptConfig(
        corpus=tuple(args.corpus),
        eval_corpus=tuple(args.heldout),
        out=str(out),
        encoder=encoder,
        steps=args.steps,
        batch_size=args.batch,
        seq_len=args.seq_len,
        lr=args.lr,
        warmup=args.warmup,
        seed=args.seed,
        checkpoint_every=50,
        log_every=25,
    )
    if not args.resume:
        out.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(before) + "\n", encoding="utf-8")
    result = adapt(config, resume=args.resume, show_progress=False)
    after = score(str(out), texts, args.seed, args.top_k)
    references = [score(name, texts, args.seed, args.top_k) for name in args.reference]
    report = {
        "machine": machine(),
        "encoder": encoder,
        "corpus": args.corpus,
        "heldout": args.heldout,
        "eval_texts": len(texts),
        "steps": result.steps,
        "batch": args.batch,
        "seq_len": args.seq_len,
        "lr": args.lr,
        "train_seconds": result.seconds,
        "seconds_per_step": result.seconds / max(1, result.steps),
        "total_seconds": time.perf_counter() - started,
        "tokens_seen": result.tokens_seen,
        "heldout_loss_before": result.heldout_loss_before,
        "heldout_loss_after": result.heldout_loss_after,
        "scores": [dict(before, label="before"), dict(after, label="after")]
        + [dict(r, label="reference") for r in references],
    }
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    k = args.top_k
    lines = [
        f"| model | steps | top-1 | top-{k} | pseudo-perplexity | whole words scored |",
        "|---|---|---|---|---|---|",
    ]
    for row in report["scores"]:
        steps = {"before": "0", "after": str(result.steps)}.get(row["label"], "see its README")
        lines.append(
            f"| {row['label']}: {_short(row['model'])} | {steps} | {row['top1']:.3f} | {row['topk']:.3f} "
            f"| {row['pseudo_perplexity']:.1f} | {row['n_words']} |"
        )
    lines += [
        "",
        f"Held-out masked-LM loss {result.heldout_loss_before:.3f} → {result.heldout_loss_after:.3f}; "
        f"{result.steps} steps of {args.batch}×{args.seq_len} tokens in {result.seconds / 60:.1f} min "
        f"({report['seconds_per_step']:.2f} s/step) on {report['machine']}.",
    ]
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
