"""A randomized-substitution ensemble (SAFER, Ye et al. 2020): a victim wrapper that predicts the average
of its base victim's probabilities over M copies of the text, each with words randomly replaced by their
neighbours in a word-neighbour table.

Deviations from SAFER: the perturbation set is the neighbour table's top ``k`` with cosine ≥ ``min_cos``
(SAFER builds it from GloVe/counter-fitted neighbours too); each word is replaced with probability
``ratio`` (SAFER replaces every word by a uniform draw from a set that includes the word itself, which
is the same thing with ratio = k / (k + 1)). The copies of a text are drawn from a generator seeded by
the text itself, so predictions are deterministic and do not depend on batching.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from textrobust.data.text import segment_text
from textrobust.errors import ParameterError, VictimError
from textrobust.files import directory_digest
from textrobust.seeding import example_generator
from textrobust.victims.base import (
    CONFIG_FILE,
    VICTIM_TYPE_KEY,
    save_wrapper_config,
    saved_config,
    validate_texts,
)
from textrobust.victims.protocols import Classifier
from textrobust.victims.resolve import load_base

_FIELDS = ("copies", "ratio", "k", "min_cos", "seed")


class SmoothedVictim:
    """``predict_proba`` is the mean of ``base.predict_proba`` over ``copies`` perturbed copies of a text."""

    victim_type = "smoothed"
    trainable = False  # retrain its base instead
    white_box = False
    wraps_base = True
    uses_gpu = None  # as its base

    def __init__(
        self,
        base: Classifier,
        neighbours: Any,
        *,
        base_directory: str | Path | None = None,
        table_name: str = "counter-fitted-glove-50d",
        copies: int = 8,
        ratio: float = 0.3,
        k: int = 20,
        min_cos: float = 0.5,
        seed: int = 0,
        stopwords: Collection[str] = (),
        language: str = "en",
    ) -> None:
        if copies < 1:
            raise ParameterError("copies", f"must be ≥ 1, got {copies}")
        if not 0.0 <= ratio <= 1.0:
            raise ParameterError("ratio", f"must be in [0, 1], got {ratio}")
        if k < 1:
            raise ParameterError("k", f"must be ≥ 1, got {k}")
        self.base = base
        self.neighbours = neighbours
        self.base_directory = None if base_directory is None else Path(base_directory).resolve()
        self.table_name = table_name
        self.labels = list(base.labels)
        self.copies = copies
        self.ratio = ratio
        self.k = k
        self.min_cos = min_cos
        self.seed = seed
        self.stopwords = frozenset(w.lower() for w in stopwords)
        self.language = language
        self._substitutes: dict[str, list[str]] = {}

    @property
    def forward_passes(self) -> int:
        """Base-model forward passes per prediction."""
        return self.copies

    def _candidates(self, word: str) -> list[str]:
        key = word.lower()
        if key not in self._substitutes:
            found = (
                []
                if key in self.stopwords
                else self.neighbours.neighbours(key, k=self.k, min_cos=self.min_cos)
            )
            self._substitutes[key] = [w for w, _cos in found]
        return self._substitutes[key]

    def perturbed_copies(self, text: str) -> list[str]:
        """The ``copies`` texts averaged for ``text`` (the same ones every time)."""
        original = segment_text(text)
        rng = example_generator(self.seed, text)  # its own: no global generator moves
        options = [self._candidates(word) for word in original.words]
        out = []
        for _ in range(self.copies):
            current = original
            draws = rng.random(len(original))
            picks = rng.integers(0, 1 << 30, size=len(original))
            for index, choices in enumerate(options):
                if choices and draws[index] < self.ratio:
                    current = current.replace(index, choices[int(picks[index]) % len(choices)])
            out.append(current.text)
        return out

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        texts = validate_texts(texts)
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        copies = [copy for text in texts for copy in self.perturbed_copies(text)]
        probabilities = np.asarray(self.base.predict_proba(copies), dtype=np.float64)
        averaged = probabilities.reshape(len(texts), self.copies, len(self.labels)).mean(axis=1)
        return averaged.astype(np.float32)

    # -- saving and loading -----------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        if self.base_directory is None:
            raise VictimError("a smoothed victim can only be saved when its base victim is a saved folder")
        return {
            VICTIM_TYPE_KEY: self.victim_type,
            "labels": self.labels,
            "language": self.language,
            "base": str(self.base_directory),
            "base_files": directory_digest(self.base_directory),  # base_relative: added by save
            "neighbours": self.table_name,
            "stopwords": sorted(self.stopwords),
            **{name: getattr(self, name) for name in _FIELDS},
        }

    def save(self, directory: str | Path) -> None:
        """A folder with one config.json naming the base victim (by absolute and relative path) and the
        digest of its files, so a changed base is never mistaken for the one this was built on."""
        assert self.base_directory is not None  # config() checks it
        save_wrapper_config(directory, self.config(), self.base_directory, self.base)

    @classmethod
    def defense_record(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """What a smoothed victim's config says about the defense that made it (``defend --method
        smooth``): method, settings, base and cost, as ``defenses.defend.defense_of`` returns them."""
        return {
            "method": "smooth",
            "parameters": {k: config[k] for k in ("copies", "ratio", "neighbours")},
            "base": config["base"],
            "train_seconds": 0.0,
            "generation_seconds": 0.0,
            "clean_train_seconds": None,
            "forward_passes": int(config["copies"]),
        }

    @classmethod
    def load(
        cls, directory: str | Path, device: str = "auto", config: Mapping[str, Any] | None = None
    ) -> SmoothedVictim:
        from textrobust.resources.neighbours import load_neighbour_table

        directory = Path(directory)
        config = saved_config(directory, cls.victim_type, config)
        base, base_directory = load_base(directory, config, "smoothed")
        try:
            options = {name: config[name] for name in _FIELDS}
            table_name = str(config["neighbours"])
        except (KeyError, TypeError) as exc:
            raise VictimError(f"{directory / CONFIG_FILE} is corrupt: missing {exc}") from None
        return cls(
            base,
            load_neighbour_table(table_name, show_progress=False),
            base_directory=base_directory,
            table_name=table_name,
            stopwords=config.get("stopwords", ()),
            language=config.get("language", "en"),
            **options,
        )
