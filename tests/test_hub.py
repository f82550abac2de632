"""Other libraries, kept in line: one-line messages from their exceptions, and their notices kept quiet."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from textrobust.hub import first_line, quiet_loggers


def test_a_header_that_announces_details_keeps_the_first_detail_and_counts_the_rest() -> None:
    error = RuntimeError(
        "Error(s) in loading state_dict for WordCNNModule:\n"
        "\tsize mismatch for convs.0.weight: copying a param with shape [7, 50, 3] from checkpoint.\n"
        "\tsize mismatch for convs.1.weight: copying a param with shape [7, 50, 4] from checkpoint."
    )
    assert first_line(error) == (
        "Error(s) in loading state_dict for WordCNNModule: size mismatch for convs.0.weight: copying a "
        "param with shape [7, 50, 3] from checkpoint. (and 1 more)"
    )


def test_a_plain_message_is_its_first_line_and_a_long_one_is_marked_where_cut() -> None:
    assert first_line(ValueError("bad value\nsecond line")) == "bad value"
    assert first_line(ValueError("")) == "ValueError"
    cut = first_line(ValueError("x" * 500), limit=50)
    assert len(cut) == 50 and cut.endswith("…")


def test_quiet_loggers_hide_notices_inside_the_block_and_restore_the_levels(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("a_library.notices")
    logger.setLevel(logging.INFO)
    with caplog.at_level(logging.INFO, logger="a_library"):
        with quiet_loggers("a_library.notices"):
            logger.warning("a notice for the library's authors")
            logger.error("a real error")
        logger.info("after the block")
    assert [r.getMessage() for r in caplog.records] == ["a real error", "after the block"]
    assert logger.level == logging.INFO


def test_a_transformer_victim_loads_and_quantizes_to_int4_with_nothing_on_stderr(tmp_path: Path) -> None:
    """torchao (installed with the lowbit extra) is imported by transformers on the first model, and by
    ``quantize --precision int4``; its import notices (CUDA kernels it cannot load) must not reach a user."""
    from tests.victims.test_quantized import _tiny_bert_dir

    victim = _tiny_bert_dir(tmp_path)
    command = [sys.executable, "-m", "textrobust", "quantize", "--victim", str(victim), "--out",
               str(tmp_path / "int4"), "--precision", "int4", "--n", "5"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and "int4 variant" in done.stdout
