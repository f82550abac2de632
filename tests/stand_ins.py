"""Small, real stand-ins the attack tests share: a keyword victim, a linear white-box victim, tiny resources
implementing the resources protocols, and a tiny random BERT masked LM built in code."""

from __future__ import annotations

import hashlib
import math
import random
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from textrobust.attacks.result import AttackResult, WordChange
from textrobust.data import Dataset, build_dataset
from textrobust.data.text import segment_text

SHARED = Path(__file__).resolve().parents[2] / "shared"


class KeywordModel:
    """A two-class bag-of-words logistic scorer: logit = bias + Σ word weights (+ bigram weights)."""

    labels = ["negative", "positive"]

    def __init__(
        self,
        weights: dict[str, float],
        bias: float = 0.0,
        bigrams: dict[tuple[str, str], float] | None = None,
    ):
        self.weights = weights
        self.bias = bias
        self.bigrams = bigrams or {}
        self.calls: list[int] = []  # batch sizes, one entry per predict_proba call

    def logit(self, text: str) -> float:
        words = [w.lower() for w in segment_text(text).words]
        value = self.bias + sum(self.weights.get(w, 0.0) for w in words)
        value += sum(self.bigrams.get(pair, 0.0) for pair in zip(words, words[1:], strict=False))
        return value

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        self.calls.append(len(texts))
        positive = np.array([1.0 / (1.0 + math.exp(-self.logit(t))) for t in texts])
        return np.stack([1.0 - positive, positive], axis=1).astype(np.float32)


class LinearGradientModel(KeywordModel):
    """A white-box keyword model: the gradient of the loss w.r.t. a word is its weight's magnitude."""

    def word_gradient_norms(self, text: str, spans: Sequence[tuple[int, int]], label: int) -> np.ndarray:
        return np.array([abs(self.weights.get(text[s:e].lower(), 0.0)) for s, e in spans])


class TinyNeighbourTable:
    """The NeighbourTable protocol over a hand-written neighbour list (symmetric cosines)."""

    def __init__(self, neighbours: dict[str, list[tuple[str, float]]]):
        self._neighbours = {w: sorted(n, key=lambda item: -item[1]) for w, n in neighbours.items()}
        self._cos: dict[tuple[str, str], float] = {}
        for word, items in neighbours.items():
            for other, cos in items:
                self._cos[(word, other)] = self._cos[(other, word)] = cos
        self.words = sorted({w for w in neighbours} | {o for n in neighbours.values() for o, _ in n})

    def neighbours(self, word: str, k: int = 50, min_cos: float = 0.0) -> list[tuple[str, float]]:
        return [(w, c) for w, c in self._neighbours.get(word, []) if c >= min_cos][:k]

    def cosine(self, a: str, b: str) -> float | None:
        if a not in self or b not in self:
            return None
        return 1.0 if a == b else self._cos.get((a, b), 0.0)

    def __contains__(self, word: object) -> bool:
        return word in self.words


class HashingEncoder:
    """The SentenceEncoder protocol: bag of hashed words, L2-normalised (similar texts → high cosine)."""

    def __init__(self, dim: int = 256):
        self.dim = dim
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in segment_text(text).words:
                digest = hashlib.md5(word.lower().encode("utf-8")).digest()
                out[row, int.from_bytes(digest[:4], "little") % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


class DictTagger:
    """The POSTagger protocol from a word → tag dict (NOUN for unknown words)."""

    def __init__(self, tags: dict[str, str]):
        self.tags = tags
        self.calls = 0

    def tag(self, words: Sequence[str]) -> list[str]:
        return [self.tags.get(w.lower(), "NOUN") for w in words]

    def tag_batch(self, batch: Sequence[Sequence[str]]) -> list[list[str]]:
        self.calls += 1
        return [self.tag(words) for words in batch]


class DictWordNet:
    """The WordNet protocol from a (word, pos) → synonyms dict."""

    def __init__(self, synonyms: dict[tuple[str, str | None], list[str]]):
        self._synonyms = synonyms

    def synonyms(self, word: str, pos: str | None = None, keep_word: bool = False) -> list[str]:
        word = word.lower()
        if pos is None:
            found = [s for (w, _p), syns in self._synonyms.items() if w == word for s in syns]
        else:
            found = list(self._synonyms.get((word, pos), []))
        return found if keep_word else [s for s in found if s.lower() != word]

    def antonyms(self, word: str, pos: str | None = None) -> list[str]:
        return []


def tiny_masked_lm(
    words: Iterable[str], *, seed: int = 0, lowercase: bool = True, extra_pieces: Sequence[str] = ()
):
    """A random 1-layer BERT masked LM over a small WordPiece vocabulary (exercises every code path)."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertForMaskedLM, PreTrainedTokenizerFast

    from textrobust.attacks.mlm import MaskedLanguageModel

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    pieces = ["##s", "##ed", "##ing", "##ly", "##er", *extra_pieces]
    vocab_words = list(dict.fromkeys([*specials, *sorted(set(words)), *pieces, ",", ".", "!", "?"]))
    vocab = {token: i for i, token in enumerate(vocab_words)}
    backend = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        do_lower_case=lowercase,
        model_max_length=128,
    )
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    model = BertForMaskedLM(config).eval()
    return MaskedLanguageModel(model, tokenizer, name=f"tiny-bert-{seed}")


def make_result(
    status: str,
    num_words: int,
    changes: int = 0,
    queries: int = 0,
    similarity: float | None = None,
    seconds: float = 0.0,
) -> AttackResult:
    """A result with the given outcome over ``num_words`` dummy words (the first ``changes`` replaced)."""
    words = [f"w{i}" for i in range(num_words)]
    return AttackResult(
        original_text=" ".join(words),
        label=1,
        original_prediction=1 if status != "skipped" else 0,
        original_proba=[0.2, 0.8] if status != "skipped" else [0.7, 0.3],
        status=status,  # type: ignore[arg-type]
        adversarial_text=" ".join(["x"] * changes + words[changes:]) if status == "success" else None,
        adversarial_prediction=0 if status == "success" else None,
        adversarial_proba=[0.6, 0.4] if status == "success" else None,
        queries=queries,
        num_words=num_words,
        changes=[WordChange(i, words[i], "x") for i in range(changes)],
        similarity=similarity,
        seconds=seconds,
        failure_reason="budget exhausted" if status == "failed" else None,
    )


# -- deterministic stand-ins (CRC32 hashes and seeded vectors: the same on every CPU) -------------------


def _hash(*parts: str) -> int:
    return zlib.crc32("\x1f".join(parts).encode("utf-8"))


def naive_bayes_weights(texts: Sequence[str], labels: Sequence[int], min_count: int = 3) -> dict[str, float]:
    """Log-odds of each word (add-one smoothing) among positive vs negative training sentences."""
    counts = [Counter(), Counter()]
    for text, label in zip(texts, labels, strict=True):
        counts[label].update(w.lower() for w in segment_text(text).words)
    totals = [sum(c.values()) for c in counts]
    vocabulary = sorted(
        w for w in set(counts[0]) | set(counts[1]) if counts[0][w] + counts[1][w] >= min_count
    )
    size = len(vocabulary)
    return {
        w: math.log((counts[1][w] + 1) / (totals[1] + size))
        - math.log((counts[0][w] + 1) / (totals[0] + size))
        for w in vocabulary
    }


class HashedNeighbourTable:
    """Symmetric pseudo-cosines in [0.3, 1) from a hash of the word pair; neighbours ranked by them."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words = sorted(set(words))
        self._known = set(self.words)

    def cosine(self, a: str, b: str) -> float | None:
        if a not in self._known or b not in self._known:
            return None
        if a == b:
            return 1.0
        low, high = sorted((a, b))
        return 0.3 + 0.7 * (_hash(low, high) % 100_000) / 100_000

    def neighbours(self, word: str, k: int = 50, min_cos: float = 0.0) -> list[tuple[str, float]]:
        if word not in self._known:
            return []
        scored = [(other, self.cosine(word, other)) for other in self.words if other != word]
        scored = [(w, c) for w, c in scored if c is not None and c >= min_cos]
        scored.sort(key=lambda item: (-item[1], item[0]))
        return scored[:k]

    def __contains__(self, word: object) -> bool:
        return word in self._known


class RandomVectorEncoder:
    """A text is the sum of seeded random word vectors (64-d, float64)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 64))
        for row, text in enumerate(texts):
            for word in segment_text(text).words:
                out[row] += np.random.default_rng(_hash(word.lower())).standard_normal(64)
        return out


class HashTagger:
    """One of four universal tags per word, from a hash (context-free)."""

    TAGS = ("NOUN", "VERB", "ADJ", "ADV")

    def tag(self, words: Sequence[str]) -> list[str]:
        return [self.TAGS[_hash(w.lower()) % 4] for w in words]

    def tag_batch(self, batch: Sequence[Sequence[str]]) -> list[list[str]]:
        return [self.tag(words) for words in batch]


class HashMaskedLM:
    """Proposes vocabulary words for a masked position, ranked by a hash of the masked context."""

    name = "hash-mlm"

    def __init__(self, words: Sequence[str]) -> None:
        self.words = sorted(set(words))

    def at_mask(self, text, indices: Sequence[int], k: int) -> list[list[tuple[str, float]]]:
        out = []
        for index in indices:
            context = " ".join(w.lower() for i, w in enumerate(text.words) if i != index)
            ranked = sorted(self.words, key=lambda w: (_hash(context, str(index), w), w))
            out.append([(w, -float(rank)) for rank, w in enumerate(ranked[: k + 1])])
        return out


# -- a keyword dataset a WordCNN learns in seconds, and textfooler's resources for it -----------------

POSITIVE = ["good", "great", "superb", "lovely", "fine"]
NEGATIVE = ["bad", "awful", "dull", "poor", "weak"]
NOUNS = ["film", "plot", "cast", "story", "script", "ending"]
FILLERS = ["really", "quite", "very", "rather", "truly", "so"]


def write_dataset(dataset: Dataset, path: Path, *, with_split: bool = True) -> Path:
    """``dataset`` as a CSV or TSV file (by ``path``'s suffix): text, label name and (``with_split``) split
    columns, the splits in order; for loading it back the way a user would."""
    separator = "\t" if path.suffix == ".tsv" else ","
    header = ["text", "label", *(["split"] if with_split else [])]
    lines = [separator.join(header)]
    for name, split in dataset.splits.items():
        for text, label in zip(split.texts, split.labels, strict=True):
            row = [text, dataset.label_names[label], *([name] if with_split else [])]
            lines.append(separator.join(row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def keyword_dataset(n: int = 600, seed: int = 0) -> Dataset:
    """Sentences whose label is the sentiment word in them (a pattern a WordCNN learns in a few epochs)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = i % 2
        word = rng.choice(POSITIVE if label else NEGATIVE)
        text = f"the {rng.choice(NOUNS)} was {rng.choice(FILLERS)} {word} and {rng.choice(NOUNS)}"
        split = "train" if i < 0.7 * n else "validation" if i < 0.85 * n else "test"
        rows.append((text, ["negative", "positive"][label], split))
    return build_dataset("keywords", rows, labels=["negative", "positive"], language="en")


VOCABULARY = tuple(sorted({"the", "was", "and", *POSITIVE, *NEGATIVE, *NOUNS, *FILLERS}))


def stand_in_resources() -> dict[str, object]:
    """textfooler's resources as small deterministic stand-ins (passed as objects, in this process)."""
    return {
        "neighbours": HashedNeighbourTable(VOCABULARY),
        "sentence_encoder": RandomVectorEncoder(),
        "pos_tagger": HashTagger(),
    }


def install_plugin(
    folder: Path,
    monkeypatch: Any,
    module: str,
    source: str,
    entry_points: dict[str, dict[str, str]],
) -> None:
    """A third-party package as pip would leave it: ``module.py`` and a ``*.dist-info`` folder whose
    ``entry_points.txt`` registers names in textrobust's groups, found on ``sys.path`` (for this test)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(source, encoding="utf-8")
    info = folder / f"{module}-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n", encoding="utf-8")
    lines = []
    for group, names in entry_points.items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {target}" for name, target in names.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))


def training_settings(**overrides: Any) -> Any:
    """Small, quiet, seeded training settings for tests (two epochs of batches of 16)."""
    from textrobust.victims.training import TrainingSettings

    values = {"epochs": 2, "batch_size": 16, "learning_rate": 1e-3, "progress": False, "seed": 0}
    return TrainingSettings(**{**values, **overrides})
