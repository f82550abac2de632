"""What the torch-based victims share: batched inference, device choice, the training hooks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from textrobust.victims.base import atomic_directory, validate_texts


def select_device(device: str = "auto") -> torch.device:
    """CUDA when present (for ``auto``), else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class TorchVictim:
    """A victim whose model is a ``torch.nn.Module`` mapping an encoded batch to logits.

    Subclasses implement ``encode`` (texts → tensors), ``_save_files`` and ``load``.
    """

    victim_type: ClassVar[str]

    def __init__(
        self, module: torch.nn.Module, labels: Sequence[str], *, batch_size: int, device: str
    ) -> None:
        self.labels = list(labels)
        self.batch_size = batch_size
        self.device = select_device(device)
        self.module = module.to(self.device)
        self.module.eval()

    # -- subclasses -------------------------------------------------------------------------
    def encode(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def _save_files(self, directory: Path) -> None:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        raise NotImplementedError

    # -- shared -----------------------------------------------------------------------------
    def logits(self, texts: Sequence[str]) -> torch.Tensor:
        """Logits with gradients enabled (training and white-box attacks)."""
        batch = {key: value.to(self.device) for key, value in self.encode(texts).items()}
        return self.module(**batch)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        texts = validate_texts(texts)
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        was_training = self.module.training
        self.module.eval()
        # Length-sorted batches pad less; results are put back in input order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                probs = torch.softmax(self.logits([texts[i] for i in idx]).float(), dim=-1)
                out[idx] = probs.cpu().numpy()
        if was_training:
            self.module.train()
        return out

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_proba(texts).argmax(axis=1)

    def save(self, directory: str | Path) -> None:
        """Write config.json, model.safetensors and the vocabulary/tokenizer, atomically."""
        with atomic_directory(directory) as staging:
            self._save_files(staging)

    def to(self, device: str) -> TorchVictim:
        self.device = select_device(device)
        self.module.to(self.device)
        return self
