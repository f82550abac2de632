"""Loading, creating and saving masked language models (any ``AutoModelForMaskedLM`` architecture)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from textrobust.errors import ResourceMissingError
from textrobust.hub import first_line, offline_hint, quiet_transformers
from textrobust.lm import MLMError

# Sizes of Google's compact BERTs (Turc et al. 2019, "Well-Read Students Learn Better"), for --from-scratch.
MODEL_SIZES: dict[str, dict[str, int]] = {
    "tiny": {"num_hidden_layers": 2, "hidden_size": 128, "num_attention_heads": 2, "intermediate_size": 512},
    "mini": {"num_hidden_layers": 4, "hidden_size": 256, "num_attention_heads": 4, "intermediate_size": 1024},
    "small": {
        "num_hidden_layers": 4,
        "hidden_size": 512,
        "num_attention_heads": 8,
        "intermediate_size": 2048,
    },
    "medium": {
        "num_hidden_layers": 8,
        "hidden_size": 512,
        "num_attention_heads": 8,
        "intermediate_size": 2048,
    },
    "base": {
        "num_hidden_layers": 12,
        "hidden_size": 768,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
    },
}


@dataclass
class LoadedMLM:
    """A masked LM with its tokenizer; ``head_added`` when the encoder had no MLM head and got a new one."""

    model: Any  # transformers PreTrainedModel with a masked-LM head
    tokenizer: Any  # transformers tokenizer with a mask token
    head_added: bool = False
    source: str = ""


def _load_error(what: str, name: str, exc: Exception) -> ResourceMissingError:
    hint = offline_hint(exc, " (offline: pass a local model folder)")
    return ResourceMissingError(f"cannot load {what} '{name}'{hint}: {first_line(exc)}")


def load_tokenizer(name_or_path: str) -> Any:
    """A tokenizer by Hub name or local folder; it must have a mask token."""
    from transformers import AutoTokenizer

    with quiet_transformers():
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(name_or_path))
        except (OSError, ValueError) as exc:
            raise _load_error("tokenizer", str(name_or_path), exc) from None
    if tokenizer.mask_token_id is None:
        raise MLMError(
            f"the tokenizer of '{name_or_path}' has no mask token; use a BERT-family (masked LM) tokenizer"
        )
    return tokenizer


def tie_head(model: Any) -> None:
    """Tie the MLM decoder to the input embeddings (BERT's weight sharing)."""
    model.config.tie_word_embeddings = True
    model.tie_weights()
    output, embeddings = model.get_output_embeddings(), model.get_input_embeddings()
    if output is not None and output.weight is not embeddings.weight:
        output.weight = embeddings.weight


def is_tied(model: Any) -> bool:
    output = model.get_output_embeddings()
    return output is not None and output.weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()


def load_mlm(name_or_path: str | Path) -> LoadedMLM:
    """The one fill-mask loader: a masked LM by Hub name or folder, with its tokenizer.

    An encoder without an MLM head gets a new head tied to its embeddings (``head_added``); its weights come
    from torch's random generator, so seed it first for a reproducible head.
    """
    from transformers import AutoModelForMaskedLM

    name = str(name_or_path)
    path = Path(name).expanduser()
    if (path.is_absolute() or name.startswith((".", "~"))) and not path.exists():
        raise ResourceMissingError(f"masked LM folder not found: {name}")
    if path.exists():
        name = str(path)
    tokenizer = load_tokenizer(name)
    with quiet_transformers():
        try:
            model, info = AutoModelForMaskedLM.from_pretrained(name, output_loading_info=True)
        except (OSError, ValueError) as exc:
            if isinstance(exc, ValueError) and "Unrecognized configuration class" in str(exc):
                raise MLMError(
                    f"'{name}' is not a masked-LM architecture (BERT, RoBERTa, ELECTRA, …)"
                ) from None
            raise _load_error("masked LM", name, exc) from None
        except Exception as exc:  # e.g. a weights file cut short: safetensors' own error type
            raise MLMError(
                f"cannot read the weights of masked LM '{name}' ({type(exc).__name__}: {exc}); the files may "
                "be damaged: copy or save the model again"
            ) from None
    prefix = f"{model.base_model_prefix}."
    missing = [key for key in info.get("missing_keys", []) if "position_ids" not in key]
    encoder_missing = [key for key in missing if key.startswith(prefix)]
    if encoder_missing and len(encoder_missing) * 2 > len(model.state_dict()):
        raise MLMError(f"'{name}' does not hold {model.config.model_type} encoder weights (most are missing)")
    head_added = any(not key.startswith(prefix) for key in missing)
    if head_added:
        tie_head(model)
    if len(tokenizer) > model.config.vocab_size:
        raise MLMError(
            f"the tokenizer of '{name}' has {len(tokenizer)} tokens, the model only {model.config.vocab_size}"
        )
    return LoadedMLM(model, tokenizer, head_added=head_added, source=name)


def new_mlm(
    tokenizer: Any, *, size: str | None = None, like: str | None = None, max_positions: int = 512
) -> Any:
    """A randomly initialised BERT masked LM for ``tokenizer``'s vocabulary.

    The architecture is that of the encoder ``like`` (its config only, not its weights) or a named ``size``.
    """
    from transformers import AutoConfig, AutoModelForMaskedLM, BertConfig

    if like is not None:
        with quiet_transformers():
            try:
                config = AutoConfig.from_pretrained(str(like))
            except (OSError, ValueError) as exc:
                raise _load_error("encoder config", str(like), exc) from None
    else:
        size = size or "mini"
        if size not in MODEL_SIZES:
            raise MLMError(f"unknown model size '{size}'; choose one of {', '.join(MODEL_SIZES)}")
        config = BertConfig(max_position_embeddings=max_positions, **MODEL_SIZES[size])
    config.vocab_size = len(tokenizer)
    config.pad_token_id = tokenizer.pad_token_id
    config.tie_word_embeddings = True
    with quiet_transformers():
        try:
            model = AutoModelForMaskedLM.from_config(config)
        except ValueError:
            raise MLMError(f"'{like}' is not a masked-LM architecture (BERT, RoBERTa, ELECTRA, …)") from None
    tie_head(model)
    return model


def _fast_head(model: Any) -> Any | None:
    """The module mapping final hidden states to vocabulary logits, when the architecture exposes it."""
    for name in ("cls", "lm_head"):  # BERT-likes: .cls; RoBERTa, XLM-R, CamemBERT, MPNet: .lm_head
        head = getattr(model, name, None)
        if isinstance(head, torch.nn.Module):
            return head
    return None


def masked_logits(
    model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, where: torch.Tensor
) -> torch.Tensor:
    """Vocabulary logits at the positions ``where`` (bool, shaped like ``input_ids``): (n_positions, vocab).

    Applies the MLM head to the selected positions only: with 15% masking this skips most of the costly
    projection onto the vocabulary.
    """
    head = _fast_head(model)
    if head is None:
        return model(input_ids=input_ids, attention_mask=attention_mask).logits[where]
    hidden = model.base_model(input_ids=input_ids, attention_mask=attention_mask)[0]
    return head(hidden[where])


def save_tokenizer(tokenizer: Any, directory: Path) -> None:
    """Save a tokenizer so that transformers 4.x and 5.x both load it."""
    tokenizer.save_pretrained(str(directory))
    path = directory / "tokenizer_config.json"
    if path.exists():
        config = json.loads(path.read_text(encoding="utf-8"))
        # transformers 5 names its generic fast tokenizer "TokenizersBackend", which 4.x does not know.
        if config.get("tokenizer_class") == "TokenizersBackend":
            config["tokenizer_class"] = "PreTrainedTokenizerFast"
            path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def save_mlm(model: Any, tokenizer: Any, directory: Path, *, dtype: str = "float32") -> None:
    """Write a standard fill-mask folder (config.json, model.safetensors, tokenizer) for ``from_pretrained``.

    ``dtype="float16"`` halves the file; the config keeps float32 so a plain load gives float32 weights.
    """
    if dtype not in ("float32", "float16"):
        raise MLMError(f"unknown save dtype '{dtype}'; choose float32 or float16")
    directory.mkdir(parents=True, exist_ok=True)
    with quiet_transformers():
        if dtype == "float16":
            state, seen = {}, set()
            for key, value in model.state_dict().items():
                if value.data_ptr() in seen:  # a tied copy (the decoder): written once, as the embeddings
                    continue
                seen.add(value.data_ptr())
                state[key] = value.detach().to(torch.float16) if value.is_floating_point() else value
            model.save_pretrained(str(directory), state_dict=state, safe_serialization=True)
        else:
            model.save_pretrained(str(directory), safe_serialization=True)
    config_path = directory / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    for key in ("dtype", "torch_dtype"):
        if key in config:
            config[key] = "float32"  # a plain from_pretrained gives float32 weights, whatever the file holds
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    save_tokenizer(tokenizer, directory)


__all__ = [
    "LoadedMLM",
    "MODEL_SIZES",
    "is_tied",
    "load_mlm",
    "load_tokenizer",
    "masked_logits",
    "new_mlm",
    "save_mlm",
    "save_tokenizer",
    "tie_head",
]
