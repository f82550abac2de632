"""WordLSTM: a bidirectional LSTM over word embeddings, max- or mean-pooled over time."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from textrobust.errors import VictimError
from textrobust.victims.word_victim import WordVictim


class WordLSTMModule(nn.Module):
    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        num_labels: int,
        hidden_size: int = 150,  # TextFooler's WordLSTM uses 150 per direction
        num_layers: int = 1,
        pooling: str = "max",
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        if pooling not in ("max", "mean"):
            raise VictimError(f"WordLSTM pooling must be 'max' or 'mean', got '{pooling}'")
        self.pooling = pooling
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.lstm = nn.LSTM(
            embedding_dim, hidden_size, num_layers=num_layers, batch_first=True, bidirectional=True
        )
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(2 * hidden_size, num_labels)

    def forward(
        self, input_ids: torch.Tensor, lengths: torch.Tensor, inputs_embeds: torch.Tensor | None = None
    ) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        mask = (positions.unsqueeze(0) < lengths.to(input_ids.device).unsqueeze(1)).unsqueeze(-1)
        embedded = self.embedding(input_ids) if inputs_embeds is None else inputs_embeds
        # Packing keeps padding out of both directions, so batching never changes a prediction.
        packed = nn.utils.rnn.pack_padded_sequence(
            self.dropout(embedded), lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        packed_states, _ = self.lstm(packed)
        states, _ = nn.utils.rnn.pad_packed_sequence(
            packed_states, batch_first=True, total_length=input_ids.shape[1]
        )
        if self.pooling == "max":
            pooled = states.masked_fill(~mask, float("-inf")).amax(dim=1)
            pooled = torch.where(torch.isinf(pooled), torch.zeros_like(pooled), pooled)
        else:
            pooled = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
        return self.output(self.dropout(pooled))


class WordLSTM(WordVictim):
    """Bidirectional LSTM classifier."""

    victim_type = "wordlstm"
    training_defaults: ClassVar[dict[str, Any]] = {"epochs": 10, "batch_size": 32, "learning_rate": 1e-3}

    @classmethod
    def build_module(cls, vocab_size: int, embedding_dim: int, num_labels: int, **options: Any) -> nn.Module:
        return WordLSTMModule(vocab_size, embedding_dim, num_labels, **options)
