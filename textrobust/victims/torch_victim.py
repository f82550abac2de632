"""What the torch-based victims share: batched inference, white-box gradients, saving, device placement."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from textrobust.devices import autocast, autocast_dtype, precision_name, select_device
from textrobust.files import atomic_directory
from textrobust.victims.base import validate_texts

# Largest difference of any probability from float32's that reduced precision may cause (else float32).
PRECISION_TOLERANCE = 1e-2


class TorchVictim:
    """A victim whose model is a ``torch.nn.Module`` mapping an encoded batch to logits.

    Subclasses implement ``encode`` (texts → tensors), ``_save_files`` and ``load``.
    """

    victim_type: ClassVar[str]
    # Capabilities (see ``textrobust.victims.resolve``): a torch victim can be trained, its gradients read.
    trainable: ClassVar[bool] = True
    white_box: ClassVar[bool] = True
    wraps_base: ClassVar[bool] = False
    uses_gpu: ClassVar[bool | None] = False  # a GPU worker runs it faster
    architecture: ClassVar[str | None] = None
    # Intra-op threads an attack should give torch on the CPU (None: torch's default, all cores).
    attack_threads: ClassVar[int | None] = None

    def __init__(
        self, module: torch.nn.Module, labels: Sequence[str], *, batch_size: int, device: str
    ) -> None:
        self.labels = list(labels)
        # How the victim was trained (seed, options, settings, data): saved in its config, so a defense
        # can retrain the same model from the same initialisation.
        self.training_info: dict[str, Any] = {}
        self.batch_size = batch_size
        self.device = select_device(device)
        self.module = module.to(self.device)
        self.module.eval()
        self.precision_dtype: Any = None  # autocast dtype of predict_proba (None: float32)

    # -- subclasses -------------------------------------------------------------------------
    def encode(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def _save_files(self, directory: Path) -> None:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        raise NotImplementedError

    def gradient_inputs(
        self, text: str, spans: Sequence[tuple[int, int]]
    ) -> tuple[dict[str, torch.Tensor], list[list[int]]]:
        """One encoded text, and for each character span the indices of the tokens inside it."""
        raise NotImplementedError

    def input_embeddings(self) -> torch.nn.Module:
        raise NotImplementedError

    def logits_from_embeddings(
        self, batch: dict[str, torch.Tensor], embeddings: torch.Tensor
    ) -> torch.Tensor:
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
        with torch.inference_mode(), autocast(self.device, self.precision_dtype):
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                probs = torch.softmax(self.logits([texts[i] for i in idx]).float(), dim=-1)
                out[idx] = probs.cpu().numpy()
        if was_training:
            self.module.train()
        return out

    @property
    def precision(self) -> str:
        return precision_name(self.precision_dtype)

    def use_precision(
        self, precision: str, check_texts: Sequence[str], tolerance: float = PRECISION_TOLERANCE
    ) -> str:
        """Answer queries in ``precision`` (see ``textrobust.devices.PRECISIONS``) when, on ``check_texts``,
        its probabilities stay within ``tolerance`` of float32's with the same predicted labels; otherwise
        stay in float32. Returns the precision in effect."""
        dtype = autocast_dtype(self.device, precision)
        self.precision_dtype = None
        if dtype is None or not check_texts:
            return self.precision
        reference = self.predict_proba(check_texts)
        self.precision_dtype = dtype
        reduced = self.predict_proba(check_texts)
        agree = bool((reduced.argmax(axis=1) == reference.argmax(axis=1)).all())
        if not agree or float(np.abs(reduced - reference).max()) > tolerance:
            self.precision_dtype = None
        return self.precision

    def word_gradient_norms(self, text: str, spans: Sequence[tuple[int, int]], label: int) -> np.ndarray:
        """White-box access (A2T): per character span, the L1 norm of the loss gradient w.r.t. the
        input embeddings of the tokens inside it, summed over those tokens (0 for a span with none)."""
        batch, groups = self.gradient_inputs(text, spans)
        batch = {key: value.to(self.device) for key, value in batch.items()}
        was_training = self.module.training
        self.module.eval()  # dropout off: the gradient of the model that answers queries
        with torch.enable_grad():
            embeddings = self.input_embeddings()(batch["input_ids"]).detach().requires_grad_(True)
            logits = self.logits_from_embeddings(batch, embeddings)
            loss = torch.nn.functional.cross_entropy(
                logits.float(), torch.tensor([label], device=self.device)
            )
            (gradient,) = torch.autograd.grad(loss, embeddings)
        if was_training:
            self.module.train()
        token_norms = gradient[0].abs().sum(dim=-1).cpu().numpy()
        return np.array([float(token_norms[group].sum()) if group else 0.0 for group in groups])

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
