"""textrobust: adversarial-robustness benchmark suite for text classifiers.

Importing the package loads nothing heavy: models, vectors and corpora are loaded on first use.
"""

from textrobust.errors import TextrobustError

__version__ = "0.1.0"
__all__ = ["TextrobustError", "__version__"]
