"""Held-out quality of a masked LM: masked-token accuracy on whole words, pseudo-perplexity, MLM loss."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from textrobust.lm import MLMError
from textrobust.lm.corpus import PackedCorpus
from textrobust.lm.masking import IGNORE_INDEX, Masker, batch_generator
from textrobust.lm.model import masked_logits


@dataclass(frozen=True)
class MLMScores:
    """Masked-token accuracy and pseudo-perplexity of one model on one set of texts.

    ``top1`` / ``topk``: share of whole words (a word that is one token of letters, masked alone) whose
    token is the model's first / among its ``k`` first predictions. ``pseudo_perplexity``: exp of the mean
    negative log-likelihood of every token masked in turn (Salazar et al. 2020), over all non-special tokens.
    """

    top1: float
    topk: float
    k: int
    pseudo_perplexity: float
    n_words: int
    n_tokens: int
    n_texts: int
    seconds: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _word_positions(
    tokenizer: Any, texts: Sequence[str], max_length: int
) -> list[tuple[list[int], list[int], list[bool]]]:
    """For each text: its ids with special tokens, the positions to mask, and whether each is a whole word."""
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length, verbose=False)
    special_ids = set(tokenizer.all_special_ids)
    out = []
    for i, ids in enumerate(encoded["input_ids"]):
        pieces = tokenizer.convert_ids_to_tokens(ids)
        if getattr(tokenizer, "is_fast", False):
            word_ids = encoded.word_ids(i)
        else:  # WordPiece convention: "##" continues the previous word
            word_ids, current = [], -1
            for piece, token in zip(pieces, ids, strict=True):
                if token in special_ids:
                    word_ids.append(None)
                    continue
                current += 0 if piece.startswith("##") and current >= 0 else 1
                word_ids.append(current)
        counts: dict[int, int] = {}
        for w in word_ids:
            if w is not None:
                counts[w] = counts.get(w, 0) + 1
        positions, whole = [], []
        for p, (token, w) in enumerate(zip(ids, word_ids, strict=True)):
            if token in special_ids or w is None:
                continue
            positions.append(p)
            text = pieces[p].lstrip("Ġ▁")  # byte-level BPE / SentencePiece word markers
            whole.append(counts[w] == 1 and text.isalpha())
        out.append((list(ids), positions, whole))
    return out


@torch.no_grad()
def evaluate_mlm(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    k: int = 10,
    max_length: int = 128,
    batch_size: int = 64,
    device: str | torch.device = "cpu",
    progress: Callable[[int, int], None] | None = None,
) -> MLMScores:
    """Mask every token of every text in turn (one per copy) and score the model's predictions.

    ``progress(done, total)`` is called after each batch of masked copies.
    """
    start = time.perf_counter()
    model.eval()
    max_length = min(max_length, int(getattr(model.config, "max_position_embeddings", max_length)))
    mask_id, pad_id = tokenizer.mask_token_id, tokenizer.pad_token_id or 0
    items: list[tuple[list[int], int, bool]] = []
    for ids, positions, whole in _word_positions(tokenizer, texts, max_length):
        items.extend((ids, p, w) for p, w in zip(positions, whole, strict=True))
    if not any(whole for _ids, _p, whole in items):
        raise MLMError(
            f"the {len(texts)} evaluation text(s) hold no word to mask (only punctuation, symbols or "
            "nothing); "
            "give a corpus of real text"
        )
    items.sort(key=lambda item: len(item[0]))  # similar lengths together: less padding
    total_nll = 0.0
    hits1 = hitsk = n_words = 0
    for begin in range(0, len(items), batch_size):
        batch = items[begin : begin + batch_size]
        width = max(len(ids) for ids, _p, _w in batch)
        input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        where = torch.zeros((len(batch), width), dtype=torch.bool)
        targets = torch.empty(len(batch), dtype=torch.long)
        for row, (ids, position, _whole) in enumerate(batch):
            input_ids[row, : len(ids)] = torch.tensor(ids)
            attention[row, : len(ids)] = 1
            targets[row] = ids[position]
            input_ids[row, position] = mask_id
            where[row, position] = True
        logits = (
            masked_logits(model, input_ids.to(device), attention.to(device), where.to(device)).float().cpu()
        )
        log_probs = torch.log_softmax(logits, dim=-1)
        target_log_probs = log_probs.gather(1, targets[:, None])[:, 0]
        total_nll -= float(target_log_probs.sum())
        ranks = (log_probs > target_log_probs[:, None]).sum(dim=1)
        for row, (_ids, _position, whole) in enumerate(batch):
            if whole:
                n_words += 1
                hits1 += int(ranks[row] == 0)
                hitsk += int(ranks[row] < k)
        if progress is not None:
            progress(min(begin + batch_size, len(items)), len(items))
    n_tokens = len(items)
    return MLMScores(
        top1=hits1 / n_words if n_words else float("nan"),
        topk=hitsk / n_words if n_words else float("nan"),
        k=k,
        pseudo_perplexity=math.exp(total_nll / n_tokens) if n_tokens else float("nan"),
        n_words=n_words,
        n_tokens=n_tokens,
        n_texts=len(texts),
        seconds=time.perf_counter() - start,
    )


@torch.no_grad()
def heldout_loss(
    model: Any,
    packed: PackedCorpus,
    masker: Masker,
    *,
    seed: int = 0,
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    autocast: Callable[[], Any] | None = None,
) -> float:
    """Mean masked-LM cross-entropy on packed held-out sequences, masks fixed by ``seed`` (comparable)."""
    model.eval()
    total, count = 0.0, 0
    for index, begin in enumerate(range(0, len(packed), batch_size)):
        ids = torch.from_numpy(packed.input_ids[begin : begin + batch_size])
        attention = torch.from_numpy(packed.attention_mask[begin : begin + batch_size])
        starts = torch.from_numpy(packed.word_starts[begin : begin + batch_size])
        inputs, labels = masker(ids, attention, starts, batch_generator(seed, index))
        where = labels != IGNORE_INDEX
        if not bool(where.any()):
            continue
        with autocast() if autocast is not None else contextlib.nullcontext():
            logits = masked_logits(model, inputs.to(device), attention.to(device), where.to(device))
        loss = torch.nn.functional.cross_entropy(logits.float(), labels[where].to(device), reduction="sum")
        total += float(loss)
        count += int(where.sum())
    return total / count if count else float("nan")


def sample_texts(texts: Sequence[str], n: int | None, seed: int) -> list[str]:
    """At most ``n`` texts, a seeded random sample kept in corpus order (all of them when ``n`` is None)."""
    if n is None or n >= len(texts):
        return list(texts)
    keep = np.sort(np.random.default_rng(seed).choice(len(texts), size=n, replace=False))
    return [texts[i] for i in keep]


__all__ = ["MLMScores", "evaluate_mlm", "heldout_loss", "sample_texts"]
