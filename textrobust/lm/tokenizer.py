"""WordPiece vocabularies trained on a corpus (for scripts or dialects an encoder's vocabulary misses)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textrobust.errors import ParameterError
from textrobust.lm import MLMError

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
NORMALIZATIONS = {
    "uncased": "lower-case and strip accents, as BERT uncased (for Arabic this also drops hamza: use arabic)",
    "cased": "keep case and accents",
    "arabic": "lower-case Latin letters, drop Arabic short vowels and tatweel, keep hamza forms",
}
ARABIC_MARKS = "[\u064b-\u0652\u0670\u0640]"  # tanwin, short vowels, shadda, sukun, dagger alif; tatweel


def _normalizer(normalization: str) -> Any:
    from tokenizers import Regex, normalizers

    if normalization not in NORMALIZATIONS:
        raise MLMError(f"unknown normalization '{normalization}'; choose one of {', '.join(NORMALIZATIONS)}")
    bert = normalizers.BertNormalizer(
        clean_text=True,
        handle_chinese_chars=True,
        strip_accents=normalization == "uncased",
        lowercase=normalization != "cased",
    )
    if normalization != "arabic":
        return bert
    # BERT's accent stripping decomposes أ إ آ ؤ ئ and drops their hamza; remove only the optional marks.
    return normalizers.Sequence([bert, normalizers.Replace(Regex(ARABIC_MARKS), "")])


def train_wordpiece(
    texts: Sequence[str],
    *,
    vocab_size: int = 30_000,
    min_frequency: int = 2,
    normalization: str = "uncased",
    limit_alphabet: int = 1000,
    model_max_length: int = 512,
) -> Any:
    """A BERT-style WordPiece tokenizer trained on ``texts``, as a transformers fast tokenizer.

    Pre-tokenisation is BERT's (``BertPreTokenizer``); ``normalization`` is one of ``NORMALIZATIONS``.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    if vocab_size < len(SPECIAL_TOKENS) + 10:
        raise ParameterError(
            "vocab_size", f"{vocab_size} is too small; use at least a few thousand for real text"
        )
    if not texts:
        raise MLMError("no texts to train a tokenizer on")
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = _normalizer(normalization)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        limit_alphabet=limit_alphabet,
        continuing_subword_prefix="##",
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer, length=len(texts))
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=model_max_length,
        do_lower_case=normalization
        != "cased",  # saved in tokenizer_config.json: tools that check casing read it there
    )


def unknown_rate(tokenizer: Any, texts: Sequence[str]) -> float:
    """The share of words a tokenizer maps to its unknown token (high: the vocabulary misses the script)."""
    from textrobust.lm.corpus import tokenize_words

    unk = tokenizer.unk_token_id
    words = unknown = 0
    for ids, starts in tokenize_words(tokenizer, texts):
        words += sum(starts)
        unknown += sum(1 for token, start in zip(ids, starts, strict=True) if start and token == unk)
    return unknown / words if words else 0.0


def save_wordpiece(tokenizer: Any, directory: str | Path) -> Path:
    """Save a trained tokenizer as a folder ``AutoTokenizer.from_pretrained`` loads (transformers 4, 5)."""
    from textrobust.lm.model import save_tokenizer

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_tokenizer(tokenizer, directory)
    # vocab.txt too, so that BERT tools that read a plain vocabulary file work with it.
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    (directory / "vocab.txt").write_text("".join(f"{token}\n" for token, _ in vocab), encoding="utf-8")
    return directory


__all__ = ["NORMALIZATIONS", "SPECIAL_TOKENS", "save_wordpiece", "train_wordpiece", "unknown_rate"]
