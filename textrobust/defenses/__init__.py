"""Defenses: what makes a classifier robust, measured under one protocol.

- ``co-tune`` (``cotune``): online adversarial training, examples regenerated against the current model;
- ``augment``: the training split attacked once against the undefended victim, the successes added;
- ``embedding``: FreeLB/PGD-style perturbations of the input embeddings;
- ``smooth``: a randomized-substitution ensemble (``textrobust.victims.smoothed.SmoothedVictim``).

``defend`` makes a defended victim from a saved one; ``evaluate`` judges it against its base on the same
examples and records the defense in the store. The trained methods are Trainer hooks, not new loops.
"""

# The names the CLI lists; the modules that implement them load torch, this package does not.
METHODS = ("co-tune", "augment", "embedding", "smooth")
LABEL_SOURCES = ("gold", "predicted")
DEFAULT_EVAL_RECIPES = ("textfooler", "pwws", "mlm-synonym")
