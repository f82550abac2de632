"""BERT's masking: choose 15% of the tokens (or words), then 80% → [MASK], 10% → a random token, 10% kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

IGNORE_INDEX = -100  # the label of tokens that are not predicted (PyTorch's cross-entropy default)


@dataclass(frozen=True)
class Masker:
    """Masks a batch of token ids, returning (inputs, labels) with labels -100 where nothing is predicted.

    With ``whole_word`` every token of a chosen word is masked together (words chosen with ``probability``),
    so the model cannot fill a piece from its sibling pieces (Cui et al., whole-word masking).
    """

    mask_id: int
    vocab_size: int
    special_ids: Sequence[int]
    probability: float = 0.15
    whole_word: bool = False
    replace_with_mask: float = 0.8  # BERT (Devlin et al. 2019): 80% [MASK], 10% random, 10% unchanged
    replace_with_random: float = 0.1

    def __call__(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        word_starts: torch.Tensor,
        generator: torch.Generator,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        special = torch.zeros_like(input_ids, dtype=torch.bool)
        for token_id in self.special_ids:
            special |= input_ids == token_id
        candidates = attention_mask.bool() & ~special
        draw = torch.rand(input_ids.shape, generator=generator)
        if self.whole_word:
            # Each token takes the draw of the first token of its word: words are chosen whole.
            positions = torch.arange(input_ids.shape[1]).expand_as(input_ids)
            word_start_of = torch.cummax(
                torch.where(word_starts, positions, torch.zeros_like(positions)), dim=1
            )
            draw = torch.gather(draw, 1, word_start_of.values)
        chosen = candidates & (draw < self.probability)
        labels = torch.where(chosen, input_ids, torch.full_like(input_ids, IGNORE_INDEX))
        action = torch.rand(input_ids.shape, generator=generator)
        to_mask = chosen & (action < self.replace_with_mask)
        to_random = chosen & ~to_mask & (action < self.replace_with_mask + self.replace_with_random)
        random_ids = torch.randint(
            self.vocab_size, input_ids.shape, generator=generator, dtype=input_ids.dtype
        )
        inputs = torch.where(to_mask, torch.full_like(input_ids, self.mask_id), input_ids)
        inputs = torch.where(to_random, random_ids, inputs)
        return inputs, labels


def batch_generator(seed: int, index: int) -> torch.Generator:
    """A generator for micro-batch ``index`` of a run seeded ``seed``: masks repeat on resume, in reruns."""
    import numpy as np

    state = int(np.random.SeedSequence([seed, index]).generate_state(1, dtype=np.uint64)[0] >> 1)
    return torch.Generator().manual_seed(state)


__all__ = ["IGNORE_INDEX", "Masker", "batch_generator"]
