"""One-line messages from other libraries' exceptions."""

from __future__ import annotations

from textrobust.hub import first_line


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
