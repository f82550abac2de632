"""WordCNN (Kim 2014): convolutions of widths 3/4/5 over word embeddings, max-pooled, dropout 0.5."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from textrobust.victims.word_victim import WordVictim


class WordCNNModule(nn.Module):
    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        num_labels: int,
        widths: tuple[int, ...] = (3, 4, 5),  # Kim 2014
        maps: int = 100,  # Kim 2014: 100 feature maps per width
        dropout: float = 0.5,  # Kim 2014
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.convs = nn.ModuleList(nn.Conv1d(embedding_dim, maps, width) for width in widths)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(maps * len(widths), num_labels)

    def forward(
        self, input_ids: torch.Tensor, lengths: torch.Tensor, inputs_embeds: torch.Tensor | None = None
    ) -> torch.Tensor:
        embedded = self.embedding(input_ids) if inputs_embeds is None else inputs_embeds
        embedded = embedded.transpose(1, 2)  # (batch, dim, length)
        pooled = []
        for conv in self.convs:
            feature_maps = torch.relu(conv(embedded))  # (batch, maps, positions)
            # Positions whose window reaches into another text's padding are masked, so a text's
            # prediction never depends on what it was batched with.
            width = conv.kernel_size[0]
            positions = torch.arange(feature_maps.shape[2], device=feature_maps.device)
            valid = positions.unsqueeze(0) < (lengths.to(feature_maps.device) - width + 1).unsqueeze(1)
            pooled.append(feature_maps.masked_fill(~valid.unsqueeze(1), 0.0).amax(dim=2))
        return self.output(self.dropout(torch.cat(pooled, dim=1)))


class WordCNN(WordVictim):
    """Kim (2014) CNN for sentence classification."""

    victim_type = "wordcnn"
    # Kim 2014 trained with batches of 50 (Adadelta); Adam at 1e-3 here.
    training_defaults: ClassVar[dict[str, Any]] = {"epochs": 10, "batch_size": 50, "learning_rate": 1e-3}
    min_length = 5  # the widest filter must fit

    @classmethod
    def build_module(cls, vocab_size: int, embedding_dim: int, num_labels: int, **options: Any) -> nn.Module:
        if "widths" in options:
            options = {**options, "widths": tuple(options["widths"])}
        return WordCNNModule(vocab_size, embedding_dim, num_labels, **options)
