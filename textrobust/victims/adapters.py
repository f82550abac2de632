"""Parameter-efficient fine-tuning settings of transformer victims (light: the CLI reads them at start-up)."""

from __future__ import annotations

from textrobust.errors import ParameterError, require_at_least

PEFT_METHODS = ("lora",)
# LoRA's defaults: rank 8 as in Hu et al. (2021)'s GLUE runs on RoBERTa; alpha 16 and dropout 0.1 as in
# peft's examples for sequence classification. The target modules are peft's defaults for each family.
LORA_DEFAULTS = {"lora_rank": 8, "lora_alpha": 16, "lora_dropout": 0.1}


def check_peft_options(peft: str | None, lora_rank: int, lora_alpha: float, lora_dropout: float) -> None:
    """Parameter-efficient fine-tuning settings, checked before any model is loaded."""
    if peft is not None and peft not in PEFT_METHODS:
        raise ParameterError("peft", f"must be one of {', '.join(PEFT_METHODS)}, got '{peft}'")
    require_at_least("lora_rank", lora_rank, 1)
    if not lora_alpha > 0:
        raise ParameterError("lora_alpha", f"must be > 0, got {lora_alpha}")
    if not 0 <= lora_dropout < 1:
        raise ParameterError("lora_dropout", f"must be in [0, 1), got {lora_dropout}")
