"""A quantized variant of a saved victim.

- ``int8``: its linear layers compute with int8 weights (one scale per output channel) and int8
  activations (one scale per row, that is per token, computed on the fly) in an int8 x int8 -> int32
  matrix product; its LSTMs' weights are rounded to int8 (one scale per row) and compute in float32.
- ``int4`` and ``int2``: its linear layers' weights rounded to 4 or 2 bits (torchao's weight-only
  quantization, one scale per group of 32 input weights of each output channel; activations stay float32).
  torchao keeps each low-bit value in an int8 on CPU and computes in float32, so these variants measure
  what the lost precision does to accuracy and robustness, not a speed or memory gain.

Every scale depends on one row of one text only, so a text's probabilities do not depend on the other
texts of its batch or on their padding: an attack finds the same adversarial examples whatever its batch
sizes, and an example found in a batch is adversarial on its own. (PyTorch's dynamic quantization, used
before, takes one activation scale per call: in a batch of MR sentences a quantized MiniLM's
probabilities moved by up to 0.46 and 2 % of its predictions flipped when the same text came alone.)

Convolutions and embeddings stay in float32 (and LSTMs too at int4/int2: torchao quantizes linear layers
only); the share of the model's parameters that was quantized is recorded with the evaluation.

Nothing is stored but a config.json naming the base victim (path and digest of its files), the precision
and the quantization scheme: quantization is a deterministic function of the float weights, so the
variant is rebuilt from its base on load, with identical probabilities. Quantized modules have no
gradients: the variant is a black-box victim (gradient-ranked recipes such as A2T attack its float base
instead).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from textrobust.errors import ParameterError, ResourceMissingError, VictimError
from textrobust.hub import first_line
from textrobust.victims.base import (
    VICTIM_TYPE_KEY,
    save_wrapper_config,
    saved_config,
)
from textrobust.victims.resolve import load_base, load_victim, resolve_victim

# int8 by our own per-row kernels (torch._int_mm); int4 and int2 by torchao (weight-only).
QUANTIZED_PRECISIONS = ("int8", "int4", "int2")
_LOW_BITS = {"int4": 4, "int2": 2}
# What each precision means, recorded in a variant's config: a variant made by another scheme would be
# rebuilt with other probabilities than it recorded, so it is refused. Variants saved before schemes were
# recorded took PyTorch's dynamic quantization at int8 and today's torchao config at int4/int2.
QUANTIZATION_SCHEMES = {
    "int8": "int8 weights per output channel, int8 activations per row; LSTM weights int8 per row",
    "int4": "torchao int4 weight-only, groups of 32",
    "int2": "torchao int2 weight-only, groups of 32",
}
_UNRECORDED_SCHEMES = {
    "int8": "PyTorch dynamic quantization",
    **{precision: QUANTIZATION_SCHEMES[precision] for precision in _LOW_BITS},
}
# Weights per scale at int4/int2. Group-wise scales are what keep low-bit weights usable (Q-BERT, Shen et
# al. 2020, settled on 128 groups per weight matrix); 32 weights per group is torchao's default for its
# low-bit weight configs, a finer split than Q-BERT's. A layer whose input width is not a multiple of 32
# takes one scale per output channel.
LOW_BIT_GROUP_SIZE = 32
TORCHAO_INSTALL_HINT = 'int4 and int2 victims need torchao: pip install "textrobust[lowbit]"'


def check_precision(precision: str) -> None:
    """A precision ``quantize`` offers, before any model is loaded; for int4/int2, torchao installed."""
    if precision not in QUANTIZED_PRECISIONS:
        raise ParameterError(
            "precision", f"must be one of {', '.join(QUANTIZED_PRECISIONS)}, got '{precision}'"
        )
    if precision in _LOW_BITS:
        import importlib.util

        if importlib.util.find_spec("torchao") is None:
            raise ResourceMissingError(TORCHAO_INSTALL_HINT)


def quantize_module(module: Any, precision: str) -> Any:
    """``module`` quantized to ``precision`` in place (CPU): int8 replaces its ``Linear`` layers by
    ``Int8Linear`` and rounds its ``LSTM`` weights to int8; int4/int2 use torchao's weight-only
    quantization of its ``Linear`` layers."""
    check_precision(precision)
    if precision in _LOW_BITS:
        return _quantize_low_bit(module, _LOW_BITS[precision])
    from textrobust.victims.int8 import quantize_int8

    return quantize_int8(module)


def _quantize_low_bit(module: Any, bits: int) -> Any:
    import torch

    from textrobust.hub import quiet_torchao

    with quiet_torchao(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from torchao.quantization import IntxWeightOnlyConfig, quantize_
            from torchao.quantization.granularity import PerAxis, PerGroup
        except ImportError as exc:
            raise ResourceMissingError(f"{TORCHAO_INSTALL_HINT} ({first_line(exc)})") from None

        weight_dtype = getattr(torch, f"int{bits}")

        def grouped(layer: Any, name: str) -> bool:
            return isinstance(layer, torch.nn.Linear) and layer.in_features % LOW_BIT_GROUP_SIZE == 0

        def per_channel(layer: Any, name: str) -> bool:
            return isinstance(layer, torch.nn.Linear) and layer.in_features % LOW_BIT_GROUP_SIZE != 0

        with torch.no_grad():
            config = IntxWeightOnlyConfig(weight_dtype=weight_dtype, granularity=PerGroup(LOW_BIT_GROUP_SIZE))
            quantize_(module, config, filter_fn=grouped)
            quantize_(module, IntxWeightOnlyConfig(weight_dtype=weight_dtype, granularity=PerAxis(0)),
                      filter_fn=per_channel)  # fmt: skip
    return module


def quantized_share(module: Any, precision: str) -> float:
    """Share of a float module's parameters that ``precision`` quantizes: the weights of its linear layers
    (and of its LSTMs at int8); biases, embeddings, convolutions and norms stay float32."""
    import torch

    kinds: tuple[type, ...] = (torch.nn.Linear,)
    if precision not in _LOW_BITS:
        kinds += (torch.nn.LSTM,)
    quantized = sum(
        parameter.numel()
        for layer in module.modules()
        if isinstance(layer, kinds)
        for name, parameter in layer.named_parameters(recurse=False)
        if name.startswith("weight")
    )
    total = sum(parameter.numel() for parameter in module.parameters())
    return quantized / total if total else 0.0


def check_quantizable(base: Any, directory: str | Path) -> None:
    """A torch victim (word or transformer); not a wrapper, not a variant already quantized."""
    kind = getattr(base, "victim_type", type(base).__name__)
    if kind == QuantizedVictim.victim_type:
        raise VictimError(f"{directory} is already quantized")
    if not hasattr(base, "module") or not hasattr(base, "to"):
        raise VictimError(
            f"{directory} is a '{kind}' victim with no torch module of its own; quantize its base"
        )


class QuantizedVictim:
    """A saved torch victim with low-precision weights; ``predict_proba`` is the base's door, quantized."""

    victim_type = "quantized"
    trainable = False  # retrain its base instead
    white_box = False
    wraps_base = True
    uses_gpu = False  # the quantized kernels are CPU kernels

    def __init__(
        self,
        base: Any,
        base_directory: str | Path,
        *,
        precision: str = "int8",
        evaluation: dict[str, Any] | None = None,
    ) -> None:
        if not hasattr(base, "module"):
            raise VictimError(f"a {type(base).__name__} has no torch module to quantize")
        self.base = base.to("cpu")  # the quantized kernels are CPU kernels
        merge_adapters = getattr(base, "merge_adapters", None)
        if callable(merge_adapters):  # LoRA: the merged weights are the ones quantized
            merge_adapters()
        self.quantized_share = quantized_share(self.base.module, precision)
        quantize_module(self.base.module, precision)  # in place: the victim's own model objects change
        self.base_directory = Path(base_directory).resolve()
        self.precision = precision
        self.labels = list(base.labels)
        self.language = getattr(base, "language", "en")
        # Accuracy of the float base and of this variant, and how often they agree (``quantize`` fills it).
        self.evaluation = dict(evaluation or {})

    @classmethod
    def of(cls, base_directory: str | Path, precision: str = "int8") -> QuantizedVictim:
        """The quantized variant of the victim saved in ``base_directory``."""
        base = load_victim(base_directory)
        check_quantizable(base, base_directory)
        return cls(base, base_directory, precision=precision)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.base.predict_proba(texts)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_proba(texts).argmax(axis=1)

    def config(self) -> dict[str, Any]:
        return {
            VICTIM_TYPE_KEY: self.victim_type,
            "labels": self.labels,
            "language": self.language,
            "precision": self.precision,
            "scheme": QUANTIZATION_SCHEMES[self.precision],
            "base_type": getattr(self.base, "victim_type", ""),
            "evaluation": self.evaluation,
        }

    def save(self, directory: str | Path) -> None:
        """One config.json: the base (see ``base_reference``), the precision and the evaluation."""
        save_wrapper_config(directory, self.config(), self.base_directory, self.base)

    @classmethod
    def load(
        cls, directory: str | Path, device: str = "auto", config: Mapping[str, Any] | None = None
    ) -> QuantizedVictim:
        directory = Path(directory)
        config = saved_config(directory, cls.victim_type, config)
        base, base_directory = load_base(directory, config, "quantized")
        precision = str(config.get("precision", "int8"))
        if precision not in QUANTIZED_PRECISIONS:
            raise VictimError(
                f"{directory}/config.json names precision '{precision}'; "
                f"this version knows {', '.join(QUANTIZED_PRECISIONS)}"
            )
        scheme = config.get("scheme", _UNRECORDED_SCHEMES[precision])
        if scheme != QUANTIZATION_SCHEMES[precision]:
            raise VictimError(
                f"{directory} was quantized by another scheme ({scheme}) than this version's "
                f"{precision} ({QUANTIZATION_SCHEMES[precision]}); run textrobust quantize on its base again"
            )
        return cls(
            base,
            base_directory,
            precision=precision,
            evaluation=config.get("evaluation"),
        )


def _saved_base(base: str | Path | Any) -> tuple[Any, Path]:
    """The loaded base and its folder: a variant names its base by folder, so a victim from elsewhere than
    a folder (a ``py:`` factory, an endpoint) cannot have one."""
    ref = resolve_victim(base)
    if not ref.path.is_dir():
        raise VictimError(
            f"{ref.location}: only a victim saved in a folder (a textrobust victim or a Hugging Face "
            "checkpoint folder) can be quantized; save a Hub model with save_pretrained first"
        )
    return ref.load(), ref.path


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Share of texts on which two probability tables predict the same class."""
    return (
        float((np.asarray(a).argmax(axis=1) == np.asarray(b).argmax(axis=1)).mean())
        if len(a)
        else float("nan")
    )


def quantize_saved_victim(
    base_directory: str | Path | Any,
    out: str | Path,
    dataset: Any,
    *,
    precision: str = "int8",
    split: str = "test",
    n: int | None = None,
) -> QuantizedVictim:
    """Save the ``precision`` variant of a saved victim in ``out``, with its accuracy, its float base's
    accuracy, their prediction agreement and seconds per prediction on ``dataset``'s ``split`` (first
    ``n``) recorded in its config. ``base_directory``: the base's folder (a textrobust victim or a Hugging
    Face checkpoint), or its resolved ``VictimRef`` (a checkpoint's ``--label-map`` is kept)."""
    import time

    from textrobust.errors import require_at_least
    from textrobust.victims.base import check_victim_language, victim_label_ids

    require_at_least("n", n, 1)
    check_precision(precision)
    base, base_directory = _saved_base(base_directory)
    check_quantizable(base, base_directory)
    examples = dataset.split(split).head(n)
    check_victim_language(getattr(base, "language", None), dataset.name, dataset.language)
    gold = np.asarray(victim_label_ids(base.labels, dataset.label_names, examples.labels))
    timed: dict[str, tuple[np.ndarray, float]] = {}
    start = time.perf_counter()
    timed["float32"] = (base.to("cpu").predict_proba(examples.texts), time.perf_counter() - start)
    victim = QuantizedVictim(base, base_directory, precision=precision)  # quantizes the loaded base
    start = time.perf_counter()
    timed[precision] = (victim.predict_proba(examples.texts), time.perf_counter() - start)
    count = max(1, len(examples))
    victim.evaluation = {
        "dataset": dataset.name,
        "split": split,
        "n": len(examples),
        "accuracy": float((timed[precision][0].argmax(axis=1) == gold).mean()),
        "float_accuracy": float((timed["float32"][0].argmax(axis=1) == gold).mean()),
        "agreement": agreement(timed[precision][0], timed["float32"][0]),
        "seconds_per_prediction": timed[precision][1] / count,
        "float_seconds_per_prediction": timed["float32"][1] / count,
        "quantized_share": victim.quantized_share,
    }
    victim.save(out)
    return victim
