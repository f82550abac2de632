"""Masked language models: adapt an encoder to a language or domain, evaluate it, train a vocabulary.

``textrobust mlm adapt`` continues masked-LM pretraining of any BERT-family encoder (adding an MLM head
when it has none) and writes a standard Hugging Face fill-mask folder; ``textrobust mlm eval`` measures
masked-token accuracy and pseudo-perplexity on held-out text; ``textrobust mlm train-tokenizer`` builds a
WordPiece vocabulary for a script the encoder's vocabulary does not cover (then ``adapt --from-scratch``
trains a new model with it).

Submodules import torch and transformers; this package itself imports nothing heavy.
"""

# Defined with every other error in textrobust.errors; the lm modules and the CLI import it from here.
from textrobust.errors import MLMError

__all__ = ["MLMError"]
