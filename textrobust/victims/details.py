"""What a saved victim is, read from its files without loading a model: family, parameters, trainable
parameters (all of them for a full fine-tune; the adapters and head for LoRA) and precision. The store keeps
these with the victim, so the leaderboard can put robustness beside size, precision and fine-tuning method.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from textrobust.errors import TextrobustError
from textrobust.victims.base import CONFIG_FILE, VICTIM_TYPE_KEY, WEIGHTS_FILE, find_base, read_config

_DTYPE_NAMES = {"F32": "float32", "F16": "float16", "BF16": "bfloat16", "F64": "float64", "I8": "int8"}


def safetensors_parameters(path: str | Path) -> tuple[int, str | None]:
    """Number of values stored in a safetensors file and their (most common) floating-point type, from its
    header alone."""
    with open(path, "rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(length))
    counts: dict[str, int] = {}
    for name, tensor in header.items():
        if name == "__metadata__":
            continue
        size = math.prod(tensor["shape"])
        counts[tensor["dtype"]] = counts.get(tensor["dtype"], 0) + size
    floats = {k: v for k, v in counts.items() if k.startswith(("F", "BF"))}
    dtype = max(floats, key=floats.__getitem__) if floats else None
    return sum(counts.values()), _DTYPE_NAMES.get(dtype or "", dtype)


def describe_saved_victim(directory: str | Path, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``family``, ``parameters``, ``trainable_parameters``, ``precision``, ``fine_tuning`` and
    ``tokens_per_text`` (mean over the test split of the data it was trained on) of a saved victim
    (``None`` where the files do not tell, e.g. a LoRA victim's base that is not on this machine).
    ``config``: the victim's config.json when the caller has read it."""
    directory = Path(directory)
    config = dict(config) if config is not None else read_config(directory)
    kind = str(config.get(VICTIM_TYPE_KEY))
    if kind in ("quantized", "smoothed"):  # a variant or wrapper: its base's facts, with its own changes
        try:
            details = describe_saved_victim(find_base(directory, config, kind, check=False))
        except TextrobustError:
            details = {"family": None, "parameters": None, "trainable_parameters": None, "fine_tuning": None,
                       "tokens_per_text": None}  # fmt: skip
        if kind == "quantized":
            details["precision"] = str(config.get("precision", "int8"))
        return details
    if kind == "checkpoint":  # trained elsewhere: how (which parameters trained, on what) is not known
        return _checkpoint_details(directory, config)
    tokens = (config.get("training") or {}).get("tokens_per_text")
    common = {"tokens_per_text": tokens.get("mean") if isinstance(tokens, dict) else None}
    family = str(config.get("family") or config.get("model_type") or kind)
    peft = config.get("peft") if isinstance(config.get("peft"), dict) else None
    if peft:
        adapter, precision = safetensors_parameters(directory / "adapter_model.safetensors")
        base = _base_parameters(str(peft.get("base") or ""))
        return {
            "family": family,
            "parameters": None if base is None else base + adapter,
            "trainable_parameters": adapter,
            "precision": precision,
            "fine_tuning": f"lora r={peft.get('lora_rank')}",
            **common,
        }
    parameters, precision = safetensors_parameters(directory / WEIGHTS_FILE)
    return {
        "family": family,
        "parameters": parameters,
        "trainable_parameters": parameters,
        "precision": precision,
        "fine_tuning": "full",
        **common,
    }


# Entries of a victim's config that say how it runs, not what it is (budgets, batch sizes, caches).
_OPERATIONAL_KEYS = frozenset(
    {VICTIM_TYPE_KEY, "remote", "batch_size", "prefix_cache", "training", "evaluation", "max_length"}
)


def victim_identity(location: str, digest: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """What identifies a victim from elsewhere exactly, as the store keeps it and reports show it: where it
    is (a folder, a Hub name, an endpoint), the digest of its files or settings, and what its config
    records of it (Hub commit, label map, endpoint URL and model, prompt and verbalizers) — never how it is
    run (budgets, concurrency, the API key variable)."""
    kept = {
        key: value
        for key, value in config.items()
        if key not in _OPERATIONAL_KEYS and _plain(value) and value not in (None, "", [], {})
    }
    return {"location": location, "digest": digest, **kept}


def _plain(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _base_parameters(base: str) -> int | None:
    """Parameters of a LoRA victim's base encoder when its weights are on this machine (a folder, or the
    offline default); a Hub name is not looked up."""
    if not base:
        from textrobust.resources.encoders import default_encoder

        try:
            base = default_encoder()
        except TextrobustError:
            return None
    weights = Path(base) / "model.safetensors"
    if not weights.exists() or not (Path(base) / CONFIG_FILE).exists():
        return None
    return safetensors_parameters(weights)[0]


def _checkpoint_details(directory: Path, config: Mapping[str, Any]) -> dict[str, Any]:
    """A Hugging Face checkpoint's family and, from a single safetensors file, its parameters and precision
    (``None`` for shards, torch's format or a Hub model, whose files are not read here)."""
    weights = directory / WEIGHTS_FILE
    parameters, precision = safetensors_parameters(weights) if weights.is_file() else (None, None)
    return {
        "family": str(config.get("model_type") or config.get("family") or "unknown"),
        "parameters": parameters,
        "trainable_parameters": None,
        "precision": precision,
        "fine_tuning": None,
        "tokens_per_text": None,
    }
