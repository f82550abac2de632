"""Word-level victims (WordCNN, WordLSTM): a vocabulary, an embedding layer and a torch module."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from safetensors.torch import save_file

from textrobust.errors import VictimError
from textrobust.hub import first_line
from textrobust.victims.base import (
    CONFIG_FILE,
    VICTIM_TYPE_KEY,
    WEIGHTS_FILE,
    load_weights,
    require_files,
    saved_config,
    write_config,
)
from textrobust.victims.torch_victim import TorchVictim
from textrobust.victims.vocab import Vocabulary, WordTokenizer, pad_batch

VOCAB_FILE = "vocab.json"


# Vectors trained from the victim's own training texts (``textrobust.resources.trained_vectors``).
TRAINED_VECTORS = "trained"


def embedding_matrix(
    vocab: Vocabulary, dim: int, vectors_source: str | None, seed: int, texts: Sequence[str] = ()
) -> tuple[np.ndarray, int]:
    """An initial embedding matrix: pretrained vectors where known, small random values elsewhere.

    ``vectors_source``: None (random), "glove", a word-vector file, or "trained" (PPMI-SVD vectors
    from ``texts``, tokenized as the vocabulary tokenizes). Returns the matrix and how many
    vocabulary words the vectors covered.
    """
    rng = np.random.default_rng(seed)
    if vectors_source is None or vectors_source == TRAINED_VECTORS:
        matrix = rng.uniform(-0.25, 0.25, size=(len(vocab), dim)).astype(np.float32)  # Kim 2014's U[-a, a]
        matrix[0] = 0.0
    if vectors_source is None:
        return matrix, 0
    if vectors_source == TRAINED_VECTORS:
        from textrobust.resources.trained_vectors import train_ppmi_vectors

        tokens = [vocab.tokenizer.tokenize(text) for text in texts]
        vectors, trained = train_ppmi_vectors(tokens, vocab.words, dim, seed=seed)
        trained[:2] = False  # padding stays zero, the unknown word random
        # Unit rows scaled to the random rows' typical norm, so the two kinds mix in one layer.
        scale = float(np.linalg.norm(matrix[2:], axis=1).mean()) if len(vocab) > 2 else 1.0
        matrix[trained] = vectors[trained] * scale
        return matrix, int(trained.sum())
    from textrobust.resources.vectors import load_word_vectors

    vectors = load_word_vectors(None if vectors_source == "glove" else vectors_source)
    index = vectors.index()
    scale = float(vectors.vectors.std())
    matrix = rng.normal(0.0, scale, size=(len(vocab), vectors.dim)).astype(np.float32)
    matrix[0] = 0.0
    found = 0
    for i, word in enumerate(vocab.words[2:], start=2):
        row = index.get(word)
        if row is not None:
            matrix[i] = vectors.vectors[row]
            found += 1
    return matrix, found


class WordVictim(TorchVictim):
    """Shared machinery of the word-level victims; subclasses name their module class and options."""

    architecture = "word"
    victim_type: ClassVar[str]
    min_length: ClassVar[int] = 1
    # A word victim's forward pass is too small to split across cores; measured on 2 cores, one thread
    # halves attack time (extra threads spin against the sentence encoder and tagger between calls).
    attack_threads: ClassVar[int | None] = 1

    def __init__(
        self,
        vocab: Vocabulary,
        labels: Sequence[str],
        *,
        language: str = "en",
        embedding_dim: int = 50,
        max_length: int = 128,
        batch_size: int = 64,
        device: str = "auto",
        options: dict[str, Any] | None = None,
        embeddings: np.ndarray | None = None,
    ) -> None:
        self.vocab = vocab
        self.language = language
        self.embedding_dim = embedding_dim if embeddings is None else int(embeddings.shape[1])
        self.max_length = max_length
        self.options = dict(options or {})
        module = self.build_module(len(vocab), self.embedding_dim, len(labels), **self.options)
        if embeddings is not None:
            with torch.no_grad():
                module.embedding.weight.copy_(torch.from_numpy(embeddings))
        super().__init__(module, labels, batch_size=batch_size, device=device)

    @classmethod
    def build_module(
        cls, vocab_size: int, embedding_dim: int, num_labels: int, **options: Any
    ) -> torch.nn.Module:
        raise NotImplementedError

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Words each text makes (before truncation to ``max_length``)."""
        return [len(self.vocab.encode(text)) for text in texts]

    def encode(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        encoded = [self.vocab.encode(text)[: self.max_length] for text in texts]
        # A text shorter than min_length counts as padded to min_length (the widest CNN filter must fit).
        lengths = [max(len(ids), self.min_length) for ids in encoded]
        ids = pad_batch(encoded, self.min_length, self.max_length)
        return {
            "input_ids": torch.tensor(ids, dtype=torch.long),
            "lengths": torch.tensor(lengths, dtype=torch.long),
        }

    def gradient_inputs(
        self, text: str, spans: Sequence[tuple[int, int]]
    ) -> tuple[dict[str, torch.Tensor], list[list[int]]]:
        # The text is tokenized piece by piece (gaps and spans), so each token belongs to one piece.
        ids: list[int] = []
        groups: list[list[int]] = []
        position = 0
        for start, end in spans:
            ids.extend(self.vocab.encode(text[position:start]))
            span_ids = self.vocab.encode(text[start:end])
            groups.append([i for i in range(len(ids), len(ids) + len(span_ids)) if i < self.max_length])
            ids.extend(span_ids)
            position = max(position, end)
        ids.extend(self.vocab.encode(text[position:]))
        ids = ids[: self.max_length] or [1]
        length = max(len(ids), self.min_length)
        padded = pad_batch([ids], self.min_length, self.max_length)
        batch = {"input_ids": torch.tensor(padded, dtype=torch.long), "lengths": torch.tensor([length])}
        return batch, groups

    def input_embeddings(self) -> torch.nn.Module:
        return self.module.embedding

    def logits_from_embeddings(
        self, batch: dict[str, torch.Tensor], embeddings: torch.Tensor
    ) -> torch.Tensor:
        return self.module(input_ids=batch["input_ids"], lengths=batch["lengths"], inputs_embeds=embeddings)

    def config(self) -> dict[str, Any]:
        return {
            VICTIM_TYPE_KEY: self.victim_type,
            "labels": self.labels,
            "language": self.language,
            "tokenizer": self.vocab.tokenizer.to_config(),
            "embedding_dim": self.embedding_dim,
            "max_length": self.max_length,
            "vocab_size": len(self.vocab),
            "options": self.options,
            "training": self.training_info,
        }

    def _save_files(self, directory: Path) -> None:
        write_config(directory, self.config())
        self.vocab.save(directory / VOCAB_FILE)
        state = {key: value.detach().cpu().contiguous() for key, value in self.module.state_dict().items()}
        save_file(state, str(directory / WEIGHTS_FILE))

    @classmethod
    def load(
        cls, directory: str | Path, device: str = "auto", config: Mapping[str, Any] | None = None
    ) -> WordVictim:
        directory = Path(directory)
        config = saved_config(directory, cls.victim_type, config)
        require_files(directory, [CONFIG_FILE, VOCAB_FILE, WEIGHTS_FILE])
        vocab = Vocabulary.load(directory / VOCAB_FILE, WordTokenizer.from_config(config.get("tokenizer")))
        try:
            victim = cls(
                vocab,
                config["labels"],
                language=config.get("language", "en"),
                embedding_dim=int(config["embedding_dim"]),
                max_length=int(config["max_length"]),
                device=device,
                options=config.get("options", {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise VictimError(f"{directory / CONFIG_FILE} is corrupt: {exc}") from None
        state = load_weights(directory)
        try:
            victim.module.load_state_dict(state)
        except RuntimeError as exc:
            raise VictimError(
                f"{directory / WEIGHTS_FILE} does not match {CONFIG_FILE}: {first_line(exc, 300)}"
            ) from None
        victim.module.to(victim.device)
        victim.training_info = dict(config.get("training") or {})
        return victim

    @classmethod
    def from_dataset(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        language: str = "en",
        vectors: str | None = "glove",
        embedding_dim: int = 50,
        min_count: int = 1,
        max_vocab: int | None = 50_000,
        seed: int = 0,
        device: str = "auto",
        tokenizer: WordTokenizer | None = None,
        **options: Any,
    ) -> WordVictim:
        """A new, untrained victim with a vocabulary from ``texts`` and (optionally) pretrained embeddings.

        ``tokenizer``: default ``WordTokenizer.for_language(language)`` (Arabic: normalised spellings,
        proclitics split off).
        """
        tokenizer = tokenizer or WordTokenizer.for_language(language)
        vocab = Vocabulary.build(texts, min_count=min_count, max_size=max_vocab, tokenizer=tokenizer)
        matrix, _found = embedding_matrix(vocab, embedding_dim, vectors, seed, texts)
        return cls(vocab, labels, language=language, device=device, options=options, embeddings=matrix)
