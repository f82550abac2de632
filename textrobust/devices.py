"""The one device choice: ``auto`` is CUDA when present, else the CPU; a device that is not there is an
error before any work starts."""

from __future__ import annotations

from typing import Any

from textrobust.errors import ParameterError


def select_device(name: str = "auto") -> Any:
    """A ``torch.device`` for ``auto``, ``cpu``, ``cuda`` or ``cuda:N``."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ParameterError("device", f"'{name}' is not a device; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ParameterError("device", f"{name}: CUDA is not available here; use cpu or auto")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ParameterError("device", f"{name}: only {torch.cuda.device_count()} CUDA device(s) here")
    elif device.type != "cpu":
        raise ParameterError("device", f"'{name}' is not supported; use auto, cpu, cuda or cuda:N")
    return device


# Reduced precision a model may run in; "auto" is bfloat16 (float16 where bfloat16 is missing) on CUDA and
# float32 on the CPU, where reduced precision is slower or unsupported for most operations.
PRECISIONS = ("auto", "float32", "bfloat16", "float16")


def autocast_dtype(device: Any, precision: str = "auto") -> Any:
    """The ``torch.dtype`` to autocast to on ``device`` for ``precision`` (None: plain float32)."""
    import torch

    if precision not in PRECISIONS:
        raise ParameterError("precision", f"'{precision}' is unknown; choose one of {', '.join(PRECISIONS)}")
    if precision == "float32":
        return None
    if precision == "auto":
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"bfloat16": torch.bfloat16, "float16": torch.float16}[precision]


def autocast(device: Any, dtype: Any) -> Any:
    """A context in which ``device``'s operations run in ``dtype`` where torch allows (nothing for None)."""
    import contextlib

    import torch

    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def precision_name(dtype: Any) -> str:
    """The name of an autocast dtype as ``PRECISIONS`` spells it (None: float32)."""
    return "float32" if dtype is None else str(dtype).removeprefix("torch.")
