"""A masked language model seen as a source of whole-word proposals (any Hugging Face fill-mask model)."""

from __future__ import annotations

import os
import re
import string
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from textrobust.attacks.requests import Call, Steps, at_once
from textrobust.data.arabic import is_arabic_word, is_clitic_only, strip_marks
from textrobust.data.text import SegmentedText, is_word
from textrobust.devices import autocast, autocast_dtype, precision_name
from textrobust.errors import ResourceMissingError, require_at_least

# Hub defaults by language; offline users pass a local folder (``--mlm PATH``).
DEFAULT_MLM = {"en": "bert-base-uncased", "ar": "aubmindlab/bert-base-arabertv02"}


def _is_latin_word(word: str) -> bool:
    return all(char.isascii() or "LATIN" in unicodedata.name(char, "") for char in word)


# Proposals must be written in the language's script: an English masked LM asked about an Arabic
# sentence proposes English pieces ("de", "were"), which are not substitutes for an Arabic word.
SCRIPT_TESTS: dict[str, Callable[[str], bool]] = {"ar": is_arabic_word, "en": _is_latin_word}


def _is_arabic_fragment(word: str) -> bool:
    return is_clitic_only(word) or len(strip_marks(word)) < 2


# Whole proposals that are fragments, not words: bare Arabic proclitics ("ال", "وب") and single letters.
FRAGMENT_TESTS: dict[str, Callable[[str], bool]] = {"ar": _is_arabic_fragment}
# A masked LM knows a language's script when at least this many word tokens (or this share of its
# vocabulary) are written in it; English BERT has about a hundred Arabic tokens, multilingual ones thousands.
MIN_SCRIPT_TOKENS = 1000
MIN_SCRIPT_SHARE = 0.1


@dataclass(frozen=True)
class _Vocabulary:
    """Per token id: can it start a word, can it continue one, and the text it contributes."""

    starts: np.ndarray  # bool (V,): a whole word by itself or the first piece of one
    continues: np.ndarray  # bool (V,): a later piece of a word ("##ing")
    strings: list[str]  # the text a token adds to the word it belongs to


def _vocabulary(tokenizer: Any, size: int, language: str | None = None) -> _Vocabulary:
    """Classify the vocabulary by sub-word convention: WordPiece "##", SentencePiece "▁", byte-level "Ġ".

    With a ``language`` that has a script test, only tokens in that script can start or continue a word.
    """
    in_script = SCRIPT_TESTS.get(language or "")
    tokens = tokenizer.convert_ids_to_tokens(list(range(size)))
    tokens = [token if isinstance(token, str) else "" for token in tokens]
    special = set(getattr(tokenizer, "all_special_ids", []))
    wordpiece = sum(t.startswith("##") for t in tokens)
    sentencepiece = sum(t.startswith("▁") for t in tokens)
    bytelevel = sum(t.startswith("Ġ") for t in tokens)
    starts = np.zeros(size, dtype=bool)
    continues = np.zeros(size, dtype=bool)
    strings = [""] * size
    for i, token in enumerate(tokens):
        if i in special or not token:
            continue
        if wordpiece >= max(sentencepiece, bytelevel):
            if token.startswith("##"):
                piece, is_start = token[2:], False
            else:
                piece, is_start = token, True
        else:
            marker = "▁" if sentencepiece >= bytelevel else "Ġ"
            is_start = token.startswith(marker)
            piece = (
                tokenizer.convert_tokens_to_string([token]).strip() if marker == "Ġ" else token.lstrip("▁")
            )
        if not piece or not is_word(piece) or (in_script is not None and not in_script(piece)):
            continue
        strings[i] = piece
        starts[i] = is_start
        continues[i] = not is_start
    return _Vocabulary(starts, continues, strings)


class MaskedLanguageModel:
    """A fill-mask model and its tokenizer; proposes whole words for a word position.

    ``at_mask``: the word is replaced by one mask token and the model's top whole-word tokens
    are proposed (BAE, MLM-synonym). ``in_context``: the text is left unmasked and the word's
    sub-word pieces are predicted in place, multi-piece words by combining the top pieces
    (BERT-Attack). Results are cached by input text.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        name: str = "",
        batch_size: int = 32,
        max_length: int = 256,
        context_words: int = 128,
        cache_size: int = 20_000,
        language: str | None = None,
    ) -> None:
        import torch

        for parameter, value in (
            ("batch_size", batch_size),
            ("max_length", max_length),
            ("context_words", context_words),
            ("cache_size", cache_size),
        ):
            require_at_least(parameter, value, 1)
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = name
        self.batch_size = batch_size
        self.max_length = min(
            max_length, int(getattr(tokenizer, "model_max_length", max_length) or max_length)
        )
        self.context_words = context_words  # the text around the word given to the model (long inputs)
        self.cache_size = cache_size
        self.device = next(model.parameters()).device
        init_kwargs = getattr(tokenizer, "init_kwargs", None) or {}
        self.uncased = bool(
            getattr(tokenizer, "do_lower_case", False) or init_kwargs.get("do_lower_case", False)
        )
        if tokenizer.mask_token is None:
            raise ResourceMissingError(
                f"{name or 'the model'} has no mask token: pass a fill-mask (masked LM) model"
            )
        size = int(model.get_output_embeddings().weight.shape[0])
        self._ta_tokens: tuple[np.ndarray, list[str]] | None = None
        # On CUDA the model runs in reduced precision where its proposals stay those of float32
        # (``use_precision``); on the CPU in float32.
        self.precision_dtype: Any = None
        self.language = language
        self._is_fragment = FRAGMENT_TESTS.get(language or "", lambda word: False)
        self._vocab = _vocabulary(tokenizer, size, language)
        if language in SCRIPT_TESTS:
            known = int(self._vocab.starts.sum())
            if known < min(MIN_SCRIPT_TOKENS, MIN_SCRIPT_SHARE * size):
                raise ResourceMissingError(
                    f"masked LM '{name or 'given'}' does not know language '{language}': only {known} of its "
                    f"{size} tokens are words in that script; give a masked LM for '{language}' (--mlm)"
                )
        self._start_bias = torch.full((size,), float("-inf"))
        self._start_bias[torch.from_numpy(self._vocab.starts)] = 0.0
        self._continue_bias = torch.full((size,), float("-inf"))
        self._continue_bias[torch.from_numpy(self._vocab.continues)] = 0.0
        self._cache: dict[tuple[Any, ...], list[Any]] = {}  # scored words, or TextAttack's words
        base = getattr(model, "base_model", None)
        heads = [child for _, child in model.named_children() if child is not base]
        self._head = heads[0] if base is not None and base is not model and len(heads) == 1 else None

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | Path, *, device: str = "auto", **options: Any
    ) -> MaskedLanguageModel:
        """Load any fill-mask model by Hub name or local folder (through the one loader, ``lm.model``)."""
        from textrobust.devices import select_device
        from textrobust.lm.model import load_mlm

        loaded = load_mlm(name_or_path)
        name = loaded.source
        if loaded.head_added:
            raise ResourceMissingError(
                f"'{name}' has no masked-LM head, so its proposals would be noise; give a fill-mask model "
                "or make one with: textrobust mlm adapt --encoder " + name
            )
        if not getattr(loaded.tokenizer, "is_fast", False):
            raise ResourceMissingError(
                f"masked LM '{name}' has no fast tokenizer (tokenizer.json); re-save it with one"
            )
        return cls(loaded.model.to(select_device(device)), loaded.tokenizer, name=name, **options)

    # -- proposals -----------------------------------------------------------------------------
    def at_mask_steps(
        self, text: SegmentedText, indices: Sequence[int], k: int
    ) -> Steps[list[list[tuple[str, float]]]]:
        """Top-``k`` whole words (with log-probabilities) for each word position, the word masked out."""
        keys = []
        for index in indices:
            start, end = text.window_bounds(index, self.context_words)
            masked = text.replace(index, self.tokenizer.mask_token)
            keys.append(("mask", masked.span_text(start, end), k))
        missing = list(dict.fromkeys(key for key in keys if key not in self._cache))
        if missing:
            found = yield Call(
                ("mlm", id(self), k), partial(self._fill_masks, k=k), [key[1] for key in missing]
            )
            for key, proposals in zip(missing, found, strict=True):
                self._remember(key, proposals)
        return [self._cache[key] for key in keys]

    at_mask = at_once(at_mask_steps)

    def at_mask_textattack_steps(
        self, text: SegmentedText, indices: Sequence[int], k: int
    ) -> Steps[list[list[str]]]:
        """TextAttack's BAE proposals (``WordSwapMaskedLM(method="bae")``): the whole text with the word
        masked, tokens by probability, word pieces stripped of their marker counting as words; the first
        ``k`` tokens that are one word and not punctuation, of which those with a Latin letter are kept."""
        keys = [("mask-textattack", text.replace(i, self.tokenizer.mask_token).text, k) for i in indices]
        missing = list(dict.fromkeys(key for key in keys if key not in self._cache))
        if missing:
            function = partial(self._fill_masks_textattack, k=k)
            found = yield Call(("mlm-textattack", id(self), k), function, [key[1] for key in missing])
            for key, proposals in zip(missing, found, strict=True):
                self._remember(key, proposals)
        return [self._cache[key] for key in keys]

    at_mask_textattack = at_once(at_mask_textattack_steps)

    def _fill_masks_textattack(self, texts: list[str], k: int) -> list[list[str]]:
        import torch

        counts, kept = self._textattack_tokens()
        results: list[list[str]] = []
        for logits in self._mask_logits(texts):
            if logits is None:  # the mask was truncated away
                results.append([])
                continue
            ranked = torch.argsort(torch.softmax(logits, dim=0), descending=True).numpy()
            results.append([kept[i] for i in ranked[counts[ranked]][:k] if kept[i]])
        return results

    def _textattack_tokens(self) -> tuple[np.ndarray, list[str]]:
        """Per token id: does TextAttack count it as a word proposal, and the word it adds (empty: dropped
        after counting, i.e. no Latin letter, or a special token)."""
        if self._ta_tokens is None:
            size = len(self._vocab.strings)
            tokens = self.tokenizer.convert_ids_to_tokens(list(range(size)))
            special = set(getattr(self.tokenizer, "all_special_ids", []))
            counts = np.zeros(size, dtype=bool)
            kept = [""] * size
            for i, token in enumerate(tokens):
                if not isinstance(token, str) or not token:
                    continue
                word = token.replace("##", "").replace("Ġ", "")  # strip_BPE_artifacts (WordPiece, BPE)
                if not is_word(word, "textattack") or all(c in string.punctuation for c in word):
                    continue
                counts[i] = True
                if i not in special and re.search("[a-zA-Z]", word):
                    kept[i] = word
            self._ta_tokens = (counts, kept)
        return self._ta_tokens

    def in_context(
        self, text: SegmentedText, indices: Sequence[int], k: int, max_pieces: int = 3, piece_k: int = 24
    ) -> list[list[tuple[str, float]]]:
        """Top-``k`` whole words per position, predicted on the unmasked text (BERT-Attack)."""
        keys = [("context", text.text, index, k, max_pieces, piece_k) for index in indices]
        if any(key not in self._cache for key in keys):
            proposals = self._predict_in_context(text, indices, k, max_pieces, piece_k)
            for key, found in zip(keys, proposals, strict=True):
                self._remember(key, found)
        return [self._cache[key] for key in keys]

    def use_precision(self, precision: str, check_texts: Sequence[SegmentedText], k: int = 50) -> str:
        """Run in ``precision`` when the top-``k`` proposals for the first word of each check text are the
        same as in float32 (the same set; the order may differ); else stay in float32."""
        dtype = autocast_dtype(self.device, precision)
        self.precision_dtype = None
        texts = [t for t in check_texts if len(t)]
        if dtype is not None and texts:
            masked = [t.replace(0, self.tokenizer.mask_token).text for t in texts]
            reference = self._fill_masks(masked, k)
            self.precision_dtype = dtype
            reduced = self._fill_masks(masked, k)
            if any({w for w, _ in a} != {w for w, _ in b} for a, b in zip(reference, reduced, strict=True)):
                self.precision_dtype = None
        return precision_name(self.precision_dtype)

    # -- internals -----------------------------------------------------------------------------
    def _remember(self, key: tuple[Any, ...], value: list[Any]) -> None:
        if len(self._cache) >= self.cache_size:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = value

    def _encode(self, texts: list[str], offsets: bool = False) -> tuple[dict[str, Any], Any]:
        encoded = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
            return_offsets_mapping=offsets,
        )
        mapping = encoded.pop("offset_mapping", None)
        return dict(encoded), mapping

    def _logits_at(self, encoded: dict[str, Any], rows: Sequence[int], columns: Sequence[int]) -> Any:
        """Vocabulary logits at the given (row, token position) pairs only, shape (len(rows), V).

        The prediction head (a 30k-word projection per token) costs as much as the encoder on short
        texts, so it is applied to the needed positions only when the model's head is one module.
        """
        import torch

        inputs = {key: value.to(self.device) for key, value in encoded.items()}
        rows_t = torch.as_tensor(list(rows), dtype=torch.long, device=self.device)
        columns_t = torch.as_tensor(list(columns), dtype=torch.long, device=self.device)
        with torch.inference_mode(), autocast(self.device, self.precision_dtype):
            if self._head is not None:
                hidden = self.model.base_model(**inputs)[0]
                logits = self._head(hidden[rows_t, columns_t])
            else:
                logits = self.model(**inputs).logits[rows_t, columns_t]
        return logits.float().cpu()

    def _mask_logits(self, texts: list[str]) -> Iterator[Any]:
        """Per text, the vocabulary logits at its first mask token (None where truncation cut the mask)."""
        for start in range(0, len(texts), self.batch_size):
            chunk = texts[start : start + self.batch_size]
            encoded, _ = self._encode(chunk)
            first_mask: dict[int, int] = {}
            for row, column in (encoded["input_ids"] == self.tokenizer.mask_token_id).nonzero().tolist():
                first_mask.setdefault(row, column)
            rows = sorted(first_mask)
            logits = self._logits_at(encoded, rows, [first_mask[r] for r in rows]) if rows else None
            for row in range(len(chunk)):
                yield logits[rows.index(row)] if row in first_mask else None

    def _fill_masks(self, texts: list[str], k: int) -> list[list[tuple[str, float]]]:
        import torch

        results: list[list[tuple[str, float]]] = []
        for logits in self._mask_logits(texts):
            if logits is None:  # the mask was truncated away
                results.append([])
                continue
            scores = torch.log_softmax(logits, dim=-1) + self._start_bias
            results.append(self._top_words(scores, k))
        return results

    def _top_words(self, scores: Any, k: int) -> list[tuple[str, float]]:
        import torch

        top = torch.topk(scores, min(k * 2 + 8, scores.shape[0]))
        words: dict[str, float] = {}
        for value, token_id in zip(top.values.tolist(), top.indices.tolist(), strict=True):
            if value == float("-inf"):
                break
            word = self._vocab.strings[token_id]
            if word and word not in words and not self._is_fragment(word):
                words[word] = value
        return list(words.items())[: k + 1]  # one spare: the original word is dropped later

    def _predict_in_context(
        self, text: SegmentedText, indices: Sequence[int], k: int, max_pieces: int, piece_k: int
    ) -> list[list[tuple[str, float]]]:
        import torch

        encoded, mapping = self._encode([text.text], offsets=True)
        offsets = mapping[0].tolist()
        special = set(getattr(self.tokenizer, "all_special_ids", []))
        ids = encoded["input_ids"][0].tolist()
        spans = text.spans()
        word_pieces: list[list[int]] = []
        for index in indices:
            start, end = spans[index]
            pieces = [
                position
                for position, (s, e) in enumerate(offsets)
                if ids[position] not in special and e > s and s >= start and e <= end
            ]
            word_pieces.append(pieces if 0 < len(pieces) <= max_pieces else [])
        needed = sorted({p for pieces in word_pieces for p in pieces})
        if not needed:
            return [[] for _ in indices]
        rows = {position: row for row, position in enumerate(needed)}
        log_probs = torch.log_softmax(self._logits_at(encoded, [0] * len(needed), needed), dim=-1)
        results: list[list[tuple[str, float]]] = []
        for pieces in word_pieces:
            if not pieces:
                results.append([])
                continue
            # Beam over the pieces: scores add up, so keeping the top k partial words is exact.
            first = log_probs[rows[pieces[0]]] + self._start_bias
            top = torch.topk(first, min(piece_k if len(pieces) > 1 else k * 2 + 8, first.shape[0]))
            beam = [
                (self._vocab.strings[i], v)
                for v, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)
                if v != float("-inf")
            ]
            for position in pieces[1:]:
                scores = log_probs[rows[position]] + self._continue_bias
                top = torch.topk(scores, min(piece_k, scores.shape[0]))
                extended = [
                    (word + self._vocab.strings[i], total + v)
                    for word, total in beam
                    for v, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)
                    if v != float("-inf")
                ]
                extended.sort(key=lambda item: -item[1])
                beam = extended[: max(k * 2, piece_k)]
            words: dict[str, float] = {}
            for word, total in beam:
                if word and is_word(word) and word not in words and not self._is_fragment(word):
                    words[word] = total
            results.append(list(words.items())[: k + 1])
        return results


def load_masked_lm(
    name_or_path: str | Path | None, language: str = "en", **options: Any
) -> MaskedLanguageModel:
    """A fill-mask model by Hub name or path; ``None`` means the language's default Hub model.

    Its proposals are limited to words in ``language``'s script (Arabic, Latin for English), and a
    model whose vocabulary hardly knows that script is refused with a one-line error.
    """
    if name_or_path is None:
        name_or_path = DEFAULT_MLM.get(language, DEFAULT_MLM["en"])
        if os.environ.get("HF_HUB_OFFLINE") == "1" and not Path(name_or_path).exists():
            raise ResourceMissingError(
                f"the default masked LM '{name_or_path}' needs the Hugging Face Hub; give a local fill-mask "
                "model folder instead"
            )
    return MaskedLanguageModel.from_pretrained(name_or_path, language=language, **options)
