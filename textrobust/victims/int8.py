"""int8 arithmetic for quantized victims: per-row symmetric codes, a linear layer computing in int8, LSTM
weights rounded to int8. Kept apart from ``quantized`` so that the command line imports no torch."""

from __future__ import annotations

from typing import Any

import torch

# The largest magnitude of a symmetric int8 code; -128 is left out so that the range is symmetric.
_INT8_MAX = 127


def int8_codes(values: Any) -> tuple[Any, Any]:
    """``values`` (2-D, float) as int8 codes and one float scale per row: symmetric, round to nearest.
    A row of zeros takes scale 1 (its codes are zeros whatever the scale)."""
    peak = values.abs().amax(dim=1, keepdim=True)
    scale = torch.where(peak > 0, peak / _INT8_MAX, torch.ones_like(peak))
    # |values / scale| <= 127 by construction: no clamp needed.
    return torch.round(values / scale).to(torch.int8), scale


class Int8Linear(torch.nn.Module):
    """A ``torch.nn.Linear`` computing in int8: weights quantized once (one scale per output channel),
    each input row quantized on the fly with its own scale, an int8 x int8 -> int32 product (exact), then
    both scales and the float bias. A row's output depends on that row alone."""

    def __init__(self, linear: Any) -> None:
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        codes, scale = int8_codes(linear.weight.detach().float())
        # Stored (in, out) for torch._int_mm(rows, weight); buffers, not parameters: nothing trains.
        self.register_buffer("weight_codes", codes.t().contiguous())
        self.register_buffer("weight_scale", scale.reshape(-1))
        bias = None if linear.bias is None else linear.bias.detach().float().clone()
        self.register_buffer("bias", bias)

    def forward(self, inputs: Any) -> Any:
        rows = inputs.reshape(-1, self.in_features).float()
        codes, scale = int8_codes(rows)
        out = torch._int_mm(codes, self.weight_codes).float()
        out.mul_(scale).mul_(self.weight_scale)
        if self.bias is not None:
            out.add_(self.bias)
        return out.reshape(*inputs.shape[:-1], self.out_features).to(inputs.dtype)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8"


def quantize_int8(module: Any) -> Any:
    """``module`` with its ``Linear`` layers replaced by ``Int8Linear`` and its ``LSTM`` weights rounded to
    int8, in place (a bare ``Linear`` comes back replaced)."""
    if isinstance(module, torch.nn.Linear):
        return Int8Linear(module)
    if isinstance(module, torch.nn.LSTM):
        _round_lstm_weights(module)
        return module
    for name, child in list(module.named_children()):
        setattr(module, name, quantize_int8(child))
    return module


def _round_lstm_weights(lstm: Any) -> None:
    """An LSTM's weight matrices rounded to int8 codes (one scale per row) and kept as float32: the int8
    weights' precision, float32 arithmetic (no int8 recurrent kernel takes per-row activation scales)."""
    with torch.no_grad():
        for name, parameter in lstm.named_parameters(recurse=False):
            if name.startswith("weight"):
                codes, scale = int8_codes(parameter.detach().float())
                parameter.copy_(codes.float() * scale)
