"""Run a TextAttack recipe through textrobust's runner (``--recipe textattack:textfooler``).

TextAttack (0.3.x) is an optional peer, not a dependency: it pins ``transformers<5``, so it lives in its own
environment (see ``benchmarks/peer_textattack``). Where it is importable, :class:`TextAttackRecipe` builds a
TextAttack recipe against our victim and answers the runner's ``Attack`` protocol, so its results land in
the leaderboard store like any other run.

The adapter feeds TextAttack textrobust's resources, so that the two tools do the same work:

- the counter-fitted neighbour table, written in TextAttack's ``paragramcf`` layout (:func:`write_paragramcf`)
  under ``$TA_CACHE_DIR/word_embeddings/paragramcf``;
- the sentence encoder (TextAttack's USE ``encode`` is replaced by ours; no TensorFlow needed);
- the POS tagger (TextAttack's ``PartOfSpeech`` compares our tagger's universal tags, as textrobust does);
- the stopword list and, for MLM recipes, the masked LM given by ``mlm``;
- WordNet from textrobust's offline copy, and nltk's stopword corpus written from our list when nltk has none.

Nothing is imported from TextAttack until an attack is built.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import time
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from textrobust.attacks.goals import UntargetedLabelFlip
from textrobust.attacks.oracle import QueryOracle
from textrobust.attacks.result import AttackResult, WordChange
from textrobust.data.text import segment_text
from textrobust.errors import ParameterError, ResourceMissingError, TextrobustError
from textrobust.paths import cache_dir
from textrobust.victims.protocols import Classifier

PREFIX = "textattack:"
# textrobust name → TextAttack recipe class (textattack.attack_recipes)
TEXTATTACK_RECIPES: dict[str, str] = {
    "textfooler": "TextFoolerJin2019",
    "pwws": "PWWSRen2019",
    "bae": "BAEGarg2019",
    "bert-attack": "BERTAttackLi2020",
}
MLM_RECIPES = frozenset({"bae", "bert-attack"})
INSTALL_HINT = (
    "install TextAttack in its own environment: pip install textattack==0.3.11 'transformers>=4.46,<5' "
    "(see benchmarks/peer_textattack/README.md)"
)


def is_textattack_recipe(name: str) -> bool:
    """Whether a recipe name asks for TextAttack's implementation (``textattack:NAME``)."""
    return name.startswith(PREFIX)


def parse_recipe(name: str) -> str:
    """The TextAttack recipe key in ``textattack:NAME``; raises a ``TextrobustError`` for unknown names."""
    if not is_textattack_recipe(name):
        raise TextrobustError(f"'{name}' is not a TextAttack recipe; write textattack:NAME")
    key = name[len(PREFIX) :]
    if key not in TEXTATTACK_RECIPES:
        choices = ", ".join(PREFIX + k for k in TEXTATTACK_RECIPES)
        raise TextrobustError(f"unknown TextAttack recipe '{name}'; choose one of {choices}")
    return key


def textattack_available() -> bool:
    """Whether TextAttack can be imported in this environment (without importing it)."""
    return importlib.util.find_spec("textattack") is not None


def textattack_cache(cache: Path | None = None) -> Path:
    """TextAttack's cache for the adapter: ``$TA_CACHE_DIR`` or ``<textrobust cache>/textattack``."""
    configured = os.environ.get("TA_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    return (cache or cache_dir()) / "textattack"


def write_paragramcf(table: Any, directory: Path) -> Path:
    """Write a neighbour table in TextAttack's ``paragramcf`` layout and return ``directory``.

    ``table``: a :class:`textrobust.resources.neighbours.NeighbourTable` (words, unit vectors, top-K
    neighbour ids without the word itself). Files: ``paragram.npy`` float32 [N, d], ``wordlist.pickle``
    word → row, ``nn.npy`` int64 [N, K + 1] with column 0 the word itself, and empty ``mse_dist.p`` and
    ``cos_sim.p`` caches (``defaultdict(dict)``) (TextAttack fills them as it goes).
    """
    directory.mkdir(parents=True, exist_ok=True)
    n = len(table.words)
    ids = np.asarray(table.neighbour_ids, dtype=np.int64)
    if ids.shape[0] != n:
        raise ValueError("the neighbour table has a different number of rows than words")
    np.save(directory / "paragram.npy", np.asarray(table.vectors, dtype=np.float32))
    np.save(directory / "nn.npy", np.concatenate([np.arange(n, dtype=np.int64)[:, None], ids], axis=1))
    with open(directory / "wordlist.pickle", "wb") as handle:
        pickle.dump({word: i for i, word in enumerate(table.words)}, handle)
    for name in ("mse_dist.p", "cos_sim.p"):  # TextAttack indexes them as cache[a][b]
        with open(directory / name, "wb") as handle:
            pickle.dump(defaultdict(dict), handle)
    return directory


def paragramcf_ready(directory: Path) -> bool:
    names = ("paragram.npy", "wordlist.pickle", "nn.npy", "mse_dist.p", "cos_sim.p")
    return all((directory / name).is_file() for name in names)


def write_nltk_stopwords(words: Collection[str], nltk_root: Path) -> Path:
    """Write a word list as nltk's ``corpora/stopwords/english`` under ``nltk_root`` (TextAttack reads it
    at import time)."""
    target = nltk_root / "corpora" / "stopwords"
    target.mkdir(parents=True, exist_ok=True)
    (target / "english").write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")
    return target / "english"


def prepare_textattack_offline(
    neighbours: Any | None = None, cache: Path | None = None, language: str = "en"
) -> Path:
    """Make TextAttack importable and its recipes buildable without the internet; returns its cache dir.

    Sets ``TA_CACHE_DIR`` (when unset) before TextAttack is imported, writes the paragramcf files from
    ``neighbours`` (default: textrobust's counter-fitted table), puts WordNet and a stopword corpus on
    ``nltk.data.path`` (after nltk's own directories, so real nltk data wins).
    """
    import nltk

    from textrobust.resources.stopwords import stopwords
    from textrobust.resources.wordnet import open_nltk_wordnet

    ta_cache = textattack_cache(cache)
    os.environ.setdefault("TA_CACHE_DIR", str(ta_cache))
    paragram = ta_cache / "word_embeddings" / "paragramcf"
    if not paragramcf_ready(paragram):
        if neighbours is None:
            from textrobust.resources.neighbours import load_neighbour_table

            neighbours = load_neighbour_table()
        write_paragramcf(neighbours, paragram)
    open_nltk_wordnet(cache)  # copies Debian's WordNet into an nltk layout when nltk has none
    try:
        nltk.data.find("corpora/stopwords/english")
    except LookupError:
        root = ta_cache / "nltk_data"
        write_nltk_stopwords(stopwords(language), root)
        if str(root) not in [str(entry) for entry in nltk.data.path]:
            nltk.data.path.append(str(root))
    return ta_cache


class _VictimWrapper:
    """A TextAttack ``ModelWrapper`` over a textrobust victim (``predict_proba``), swappable."""

    def __init__(self, victim: Classifier | None = None) -> None:
        self.model = victim

    def __call__(self, text_input_list: Sequence[str]) -> np.ndarray:
        if self.model is None:
            raise RuntimeError("no victim attached to the TextAttack wrapper")
        return np.asarray(self.model.predict_proba(list(text_input_list)), dtype=np.float32)

    def get_grad(self, text_input: str) -> Any:
        raise NotImplementedError("the textrobust victim wrapper is black-box")


def make_model_wrapper(victim: Classifier | None = None) -> Any:
    """A ``textattack.models.wrappers.ModelWrapper`` calling ``victim.predict_proba``."""
    from textattack.models.wrappers import ModelWrapper

    wrapper_class = type("TextrobustModelWrapper", (_VictimWrapper, ModelWrapper), {})
    return wrapper_class(victim)


def _encode_with(encoder: Any) -> Any:
    def encode(self: Any, sentences: Sequence[str]) -> np.ndarray:
        return np.asarray(encoder.encode(list(sentences)), dtype=np.float32)

    return encode


def _pos_with(tagger: Any) -> Any:
    def get_pos(self: Any, before_ctx: list[str], word: str, after_ctx: list[str]) -> str:
        words = list(before_ctx) + [word] + list(after_ctx)
        key = " ".join(words)
        tags = self._pos_tag_cache.get(key) if hasattr(self._pos_tag_cache, "get") else None
        if tags is None:  # our tagger's universal tags, compared as textrobust compares them
            tags = list(tagger.tag(words))
            self._pos_tag_cache[key] = tags
        return str(tags[len(before_ctx)])

    return get_pos


def customise_attack(
    attack: Any,
    *,
    sentence_encoder: Any | None = None,
    pos_tagger: Any | None = None,
    stopwords: Collection[str] | None = None,
    budget: int | None = None,
) -> Any:
    """Give a built TextAttack ``Attack`` our sentence encoder, POS tagger and stopwords (in place)."""
    from textattack.constraints.grammaticality import PartOfSpeech
    from textattack.constraints.pre_transformation import StopwordModification
    from textattack.constraints.semantics.sentence_encoders import SentenceEncoder

    constraints = list(attack.pre_transformation_constraints) + list(attack.constraints)
    for constraint in constraints:
        if sentence_encoder is not None and isinstance(constraint, SentenceEncoder):
            constraint.encode = _encode_with(sentence_encoder).__get__(constraint)
            constraint.model = sentence_encoder
        if pos_tagger is not None and isinstance(constraint, PartOfSpeech):
            constraint._get_pos = _pos_with(pos_tagger).__get__(constraint)
        if stopwords is not None and isinstance(constraint, StopwordModification):
            constraint.stopwords = set(stopwords)
    if budget is not None:
        attack.goal_function.query_budget = budget
    return attack


def build_recipe(recipe: str, model_wrapper: Any, mlm: str | None = None) -> Any:
    """Build a TextAttack recipe; with ``mlm`` set, an MLM recipe's ``WordSwapMaskedLM`` gets that model
    instead of its Hub default (the recipe is otherwise unchanged)."""
    import sys

    import textattack.attack_recipes as recipes

    recipe_class = getattr(recipes, TEXTATTACK_RECIPES[recipe])
    module = sys.modules[recipe_class.__module__]
    original = getattr(module, "WordSwapMaskedLM", None)
    if mlm is None or original is None:
        return recipe_class.build(model_wrapper)

    def with_mlm(*args: Any, **kwargs: Any) -> Any:
        kwargs["masked_language_model"] = mlm
        return original(*args, **kwargs)

    module.WordSwapMaskedLM = with_mlm  # type: ignore[attr-defined]
    try:
        return recipe_class.build(model_wrapper)
    finally:
        module.WordSwapMaskedLM = original  # type: ignore[attr-defined]


def convert_result(result: Any, label: int, seconds: float) -> AttackResult:
    """A TextAttack ``AttackResult`` as textrobust's :class:`AttackResult`."""
    from textattack.attack_results import FailedAttackResult, SkippedAttackResult, SuccessfulAttackResult

    original = result.original_result
    perturbed = result.perturbed_result
    original_proba = [float(p) for p in np.asarray(original.raw_output, dtype=np.float64).ravel()]
    base = {
        "original_text": original.attacked_text.text,
        "label": label,
        "original_prediction": int(np.argmax(original_proba)),
        "original_proba": original_proba,
        "num_words": len(original.attacked_text.words),
        "queries": int(perturbed.num_queries),
        "seconds": seconds,
    }
    if isinstance(result, SkippedAttackResult):
        return AttackResult(status="skipped", **base)
    changes = [
        WordChange(i, original.attacked_text.words[i], perturbed.attacked_text.words[i])
        for i in sorted(original.attacked_text.all_words_diff(perturbed.attacked_text))
    ]
    proba = [float(p) for p in np.asarray(perturbed.raw_output, dtype=np.float64).ravel()]
    if isinstance(result, SuccessfulAttackResult):
        return AttackResult(
            status="success",
            adversarial_text=perturbed.attacked_text.text,
            adversarial_prediction=int(np.argmax(proba)),
            adversarial_proba=proba,
            changes=changes,
            **base,
        )
    if not isinstance(result, FailedAttackResult):
        raise TypeError(f"unexpected TextAttack result {type(result).__name__}")
    return AttackResult(status="failed", failure_reason="textattack: no adversarial example", **base)


class TextAttackAttack:
    """A TextAttack recipe behind textrobust's ``Attack`` protocol; built on the first example."""

    def __init__(
        self,
        recipe: str,
        *,
        mlm: str | None = None,
        budget: int | None = None,
        language: str = "en",
        sentence_encoder: Any | None = None,
        pos_tagger: Any | None = None,
        stopwords: Collection[str] | None = None,
    ) -> None:
        self.recipe = recipe
        self.name = PREFIX + recipe
        self.mlm = mlm
        self.budget = budget
        self.language = language
        self.sentence_encoder = sentence_encoder
        self.pos_tagger = pos_tagger
        self.stopwords = stopwords
        self._attack: Any = None
        self._wrapper: Any = None

    def prepare(self) -> None:
        """Import TextAttack and build the recipe now (fail early)."""
        if self._attack is not None:
            return
        if not textattack_available():
            raise ResourceMissingError(f"TextAttack is not installed: {INSTALL_HINT}")
        if self.language != "en":
            raise TextrobustError("TextAttack recipes are English only")
        if self.recipe in MLM_RECIPES and self.mlm is None:
            raise ParameterError(
                "mlm", f"is needed by textattack:{self.recipe}: a fill-mask model name or folder"
            )
        from textrobust.resources.pos import load_pos_tagger
        from textrobust.resources.sentence_encoder import load_sentence_encoder
        from textrobust.resources.stopwords import stopwords

        prepare_textattack_offline(language=self.language)
        self._wrapper = make_model_wrapper()
        built = build_recipe(self.recipe, self._wrapper, self.mlm)
        self._attack = customise_attack(
            built,
            sentence_encoder=self.sentence_encoder or load_sentence_encoder(),
            pos_tagger=self.pos_tagger or load_pos_tagger(self.language),
            stopwords=self.stopwords if self.stopwords is not None else stopwords(self.language),
            budget=self.budget,
        )

    def describe(self) -> dict[str, Any]:
        return {"recipe": self.name, "tool": "textattack", "mlm": self.mlm, "budget": self.budget}

    def attack(self, text: str, label: int, victim: Classifier) -> AttackResult:
        """Skip what the victim already gets wrong (as every textrobust attack does), else run TextAttack:
        its result keeps TextAttack's own query count and word split."""
        start = time.perf_counter()
        oracle = QueryOracle(victim, UntargetedLabelFlip(), int(label))
        original = oracle.original_result(text, len(segment_text(text)))
        if original.status == "skipped":
            original.seconds = time.perf_counter() - start
            return original
        self.prepare()
        self._wrapper.model = victim
        self._attack.clear_cache()  # each example starts cold, as textrobust's do
        result = self._attack.attack(text, int(label))
        return convert_result(result, int(label), time.perf_counter() - start)


@dataclass(frozen=True)
class TextAttackRecipe:
    """Builds a :class:`TextAttackAttack` (picklable, for the runner's workers)."""

    recipe: str  # textrobust key, e.g. "textfooler" (see TEXTATTACK_RECIPES)
    language: str = "en"
    mlm: str | None = None
    budget: int | None = None

    def __call__(self) -> TextAttackAttack:
        attack = TextAttackAttack(self.recipe, mlm=self.mlm, budget=self.budget, language=self.language)
        attack.prepare()
        return attack
