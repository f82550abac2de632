"""Reduced precision: float32 on the CPU unless asked, and only where predictions stay within tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from tests.stand_ins import tiny_masked_lm
from textrobust.data.text import segment_text
from textrobust.devices import PRECISIONS, autocast_dtype
from textrobust.errors import ParameterError


def test_auto_is_float32_on_the_cpu_and_unknown_precisions_are_user_errors() -> None:
    import torch

    assert PRECISIONS == ("auto", "float32", "bfloat16", "float16")
    assert autocast_dtype(torch.device("cpu"), "auto") is None
    assert autocast_dtype(torch.device("cpu"), "bfloat16") is torch.bfloat16
    with pytest.raises(ParameterError, match="precision"):
        autocast_dtype(torch.device("cpu"), "int4")


def test_a_victim_keeps_reduced_precision_only_within_tolerance(tiny_wordcnn_dir, small_mr) -> None:
    from textrobust.victims import load_victim

    victim = load_victim(tiny_wordcnn_dir)
    texts = list(small_mr.split("test").texts[:64])
    reference = victim.predict_proba(texts)
    assert victim.precision == "float32"
    assert victim.use_precision("auto", texts) == "float32"  # the CPU stays in float32
    assert victim.use_precision("bfloat16", texts, tolerance=1.0) == "bfloat16"
    reduced = victim.predict_proba(texts)
    assert np.abs(reduced - reference).max() > 0  # it really ran in bfloat16
    assert victim.use_precision("bfloat16", texts, tolerance=0.0) == "float32"  # too far: back to float32
    assert np.array_equal(victim.predict_proba(texts), reference)


def test_a_masked_lm_checks_its_proposals_before_reduced_precision() -> None:
    mlm = tiny_masked_lm(["good", "film", "movie", "the", "was", "fine"], seed=3)
    texts = [segment_text("the film was good"), segment_text("good movie")]
    assert mlm.use_precision("auto", texts) == "float32"
    chosen = mlm.use_precision("bfloat16", texts, k=3)
    assert chosen in ("bfloat16", "float32")
    if chosen == "bfloat16":
        masked = [t.replace(0, "[MASK]").text for t in texts]
        reduced = mlm._fill_masks(masked, 3)
        mlm.precision_dtype = None
        assert [{w for w, _ in r} for r in reduced] == [{w for w, _ in r} for r in mlm._fill_masks(masked, 3)]
