"""int8 arithmetic: a linear layer whose rows are quantized one by one."""

from __future__ import annotations

import torch

from textrobust.victims.int8 import Int8Linear


def test_an_int8_linear_layer_quantizes_each_row_on_its_own() -> None:
    torch.manual_seed(0)
    linear = torch.nn.Linear(48, 20)
    layer = Int8Linear(linear)
    codes = layer.weight_codes  # stored (in, out): one column per output channel
    assert codes.dtype == torch.int8 and codes.shape == (48, 20)
    assert (codes.abs().amax(dim=0) == 127).all()  # each channel's largest weight takes the largest code
    inputs = torch.randn(5, 7, 48)
    with torch.no_grad():
        out, exact = layer(inputs), linear(inputs)
    assert out.shape == exact.shape == (5, 7, 20)
    assert torch.nn.functional.cosine_similarity(out.flatten(), exact.flatten(), dim=0) > 0.999
    assert not torch.equal(out, exact)
    # A row's output is bit-identical alone, beside rows a thousand times larger, or among zeros.
    loud = inputs.clone()
    loud[1:] *= 1000
    quiet = torch.zeros_like(inputs)
    quiet[0] = inputs[0]
    with torch.no_grad():
        for batch in (inputs[:1], loud, quiet):
            assert torch.equal(layer(batch)[0], out[0])
        assert torch.equal(layer(torch.zeros(3, 48)), linear.bias.expand(3, 20))
