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
