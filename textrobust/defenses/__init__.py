"""Defenses: what makes a classifier robust, measured under one protocol.

Methods are classes registered by name (``registry.DEFENSES``; third parties through the
``textrobust.defenses`` entry-point group, see ``method``):

- ``co-tune`` (``CoTune``): online adversarial training, examples regenerated against the current model;
- ``augment`` (``Augment``): the training split attacked once against the undefended victim, the successes
  added;
- ``embedding`` (``EmbeddingTraining``): FreeLB/PGD-style perturbations of the input embeddings;
- ``smooth`` (``Smooth``): a randomized-substitution ensemble (``textrobust.victims.smoothed``).

``defend`` makes a defended victim from a saved one; ``evaluate`` judges it against its base on the same
examples and records the defense in the store. The trained methods are Trainer hooks, not new loops.
Nothing here loads torch: the command line imports this package to build its flags.
"""

DEFAULT_EVAL_RECIPES = ("textfooler", "pwws", "mlm-synonym")
