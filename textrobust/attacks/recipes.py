"""Attack recipes: each a short declaration of a published attack, its settings and where we deviate.

A recipe is a function of ``RecipeResources`` returning a ``Recipe``: its four parts (candidates,
constraints, search, goal), the candidate generator, search and goal as ``Part``s (a class and the
arguments the paper gives it), so that ``build_attack(recipe, options, resources)`` builds the final
attack in one pass — the options' arguments added, each part constructed once and checked by its own
constructor. Resources (neighbour table, sentence encoder, POS tagger, WordNet, stopwords, masked LM) are
loaded on first use from ``textrobust.resources`` unless given (to share them between attacks or use
other ones).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

from textrobust.attacks.candidates import EmbeddingNeighbours, MaskedLMCandidates, WordNetSynonyms
from textrobust.attacks.constraints import (
    KnownWord,
    MaxWordsChanged,
    NoRepeatModification,
    QueryBudget,
    SamePartOfSpeech,
    SentenceSimilarity,
    StopwordCandidate,
    Stopwords,
    WordEmbeddingCosine,
)
from textrobust.attacks.engine import WordSubstitutionAttack
from textrobust.attacks.goals import UntargetedLabelFlip
from textrobust.attacks.lazy import Lazy
from textrobust.attacks.mlm import MaskedLanguageModel, load_masked_lm
from textrobust.attacks.options import AttackOptions
from textrobust.attacks.policies import TEXTATTACK_SEARCH, TextAttackCandidates, recover_word_case
from textrobust.attacks.search import GreedyByImportance
from textrobust.data.text import WordRule
from textrobust.errors import ParameterError, ResourceMissingError
from textrobust.registry import Registry
from textrobust.resources.wordlist import HUNSPELL

RESOURCE_NAMES = (
    "stopwords", "neighbours", "sentence_encoder", "pos_tagger", "wordnet", "masked_lm", "word_list"
)  # fmt: skip

T = TypeVar("T")


class Part(Generic[T]):
    """A part of an attack not built yet: its class and the arguments its recipe gives it.
    ``build(**more)`` constructs it once, with arguments an option adds (``k``, ``beam_width``…)."""

    def __init__(self, kind: Callable[..., T], *args: Any, **kwargs: Any) -> None:
        self.kind = kind
        self.args = args
        self.kwargs = kwargs

    def accepts(self, name: str) -> bool:
        """Whether the part's constructor takes an argument ``name``."""
        return name in inspect.signature(self.kind).parameters

    def with_arguments(self, **kwargs: Any) -> Part[T]:
        return Part(self.kind, *self.args, **{**self.kwargs, **kwargs})

    def build(self, **kwargs: Any) -> T:
        return self.kind(*self.args, **{**self.kwargs, **kwargs})


@dataclass(frozen=True)
class Recipe:
    """A recipe as published (or as another tool runs it): the four parts of its attack."""

    name: str
    candidates: Part[Any]
    constraints: Sequence[Any]
    search: Part[Any]
    goal: Part[Any]
    notes: str = ""
    word_rule: WordRule = "textrobust"
    profile: str = "paper"
    extra: dict[str, Any] = field(default_factory=dict)


class RecipeResources:
    """What recipes draw on, for one language, each loaded once on first use.

    ``given``: any of ``RESOURCE_NAMES``, each a loaded object or a name/path for its loader. ``mlm``:
    the fill-mask model of the MLM recipes (a Hub name, a local folder or a loaded
    ``MaskedLanguageModel``; default: the language's Hub model).
    """

    def __init__(
        self, language: str = "en", mlm: str | MaskedLanguageModel | None = None, **given: Any
    ) -> None:
        unknown = sorted(set(given) - set(RESOURCE_NAMES))
        if unknown:
            raise ParameterError(
                "resources", f"has unknown name(s) {', '.join(unknown)}; known: {', '.join(RESOURCE_NAMES)}"
            )
        self.language = language
        self.given = dict(given)
        self.mlm = mlm
        self._lazy: dict[str, Lazy[Any]] = {}

    def _get(self, key: str, load: Callable[[], Any]) -> Lazy[Any]:
        if key not in self._lazy:
            value = self.given.get(key)
            if value is not None and not isinstance(value, str):
                self._lazy[key] = Lazy(lambda: value, key)
            else:
                self._lazy[key] = Lazy(load, key)
        return self._lazy[key]

    def stopwords(self) -> Lazy[Collection[str]]:
        def load() -> Collection[str]:
            from textrobust.resources.stopwords import stopwords

            return stopwords(self.language)

        return self._get("stopwords", load)

    def neighbours(self) -> Lazy[Any]:
        name = self.given.get("neighbours")

        def load() -> Any:
            if name is None and self.language != "en":
                raise ResourceMissingError(
                    f"no default word-neighbour table for language '{self.language}': give a word-vector "
                    "file for that language (neighbours=PATH in Python or a benchmark config)"
                )
            from textrobust.resources.neighbours import load_neighbour_table

            return load_neighbour_table(name or "counter-fitted-glove-50d")

        return self._get("neighbours", load)

    def sentence_encoder(self) -> Lazy[Any]:
        name = self.given.get("sentence_encoder")

        def load() -> Any:
            from textrobust.resources.sentence_encoder import load_sentence_encoder

            return load_sentence_encoder(name or "use-multilingual")

        return self._get("sentence_encoder", load)

    def pos_tagger(self) -> Lazy[Any]:
        name = self.given.get("pos_tagger")

        def load() -> Any:
            from textrobust.resources.pos import load_pos_tagger

            try:
                return load_pos_tagger(self.language, name)
            except ResourceMissingError as exc:
                raise ResourceMissingError(f"{exc} (or switch POS off: --disable pos)") from None

        return self._get("pos_tagger", load)

    def wordnet(self) -> Lazy[Any]:
        def load() -> Any:
            if self.language == "ar":
                from textrobust.resources.arabic_wordnet import load_arabic_wordnet

                return load_arabic_wordnet()
            if self.language != "en":
                raise ResourceMissingError(
                    f"WordNet synonyms are English and Arabic only; no recipe data for '{self.language}'"
                )
            from textrobust.resources.wordnet import load_wordnet

            return load_wordnet()

        return self._get("wordnet", load)

    def word_list(self, name: str | Path = HUNSPELL) -> Lazy[Any]:
        """The known-word list (loaded once): a loaded ``WordList`` given as the ``word_list`` resource,
        else ``name``: ``"hunspell"`` (the language's hunspell dictionary) or a ``.dic`` or
        one-word-a-line file."""

        def load() -> Any:
            from textrobust.resources.wordlist import load_word_list

            return load_word_list(self.language, name)

        return self._get("word_list", load)

    def masked_lm(self) -> Lazy[MaskedLanguageModel]:
        given = self.given.get("masked_lm") or self.mlm

        def load() -> MaskedLanguageModel:
            return load_masked_lm(given if isinstance(given, str) else None, self.language, device="auto")

        if isinstance(given, MaskedLanguageModel):
            self.given["masked_lm"] = given
        return self._get("masked_lm", load)


# -- the recipes ------------------------------------------------------------------------------


def mlm_synonym(r: RecipeResources) -> Recipe:
    """MLM-synonym: the Arabic synonym attack with a masked LM (Alshahrani et al., 2024), any language.

    Deviations: the paper substitutes one word; we run the full greedy search (as the other
    recipes), so an attack may change several words, each checked by every constraint
    (``max_words=1`` gives the paper's setting). For Arabic, a function word (the stopword list) is
    no substitute (``stopword-candidate``): small Arabic masked LMs propose them in content-word slots.
    """
    # Arabic only (not in the paper): no function word as a substitute (see the docstring).
    arabic = [StopwordCandidate(r.stopwords())] if r.language == "ar" else []
    return Recipe(
        "mlm-synonym",
        # paper: the top-50 fill-mask words
        candidates=Part(MaskedLMCandidates, r.masked_lm(), k=50, method="mask"),
        constraints=[
            NoRepeatModification(),
            Stopwords(r.stopwords()),  # not in the paper: particles and pronouns carry no attack value
            *arabic,
            SamePartOfSpeech(r.pos_tagger()),  # paper: the substitute keeps the word's part of speech
            SentenceSimilarity(
                r.sentence_encoder(), threshold=0.80, window=None
            ),  # paper: cosine ≥ 0.80, whole text
        ],
        # Words ranked by deletion (TextFooler's ranking); candidates from the original sentence,
        # as in the paper's single-substitution setting, so all positions share one MLM batch.
        search=Part(GreedyByImportance, "deletion", candidates_from="original"),
        goal=Part(UntargetedLabelFlip),
        notes="full greedy search instead of the paper's one-word substitution",
    )


def textfooler(r: RecipeResources) -> Recipe:
    """TextFooler (Jin et al., 2020). Deviation: counter-fitted GloVe built locally stands in for
    counter-fitted Paragram, and USE-multilingual for USE-large."""
    return Recipe(
        "textfooler",
        candidates=Part(EmbeddingNeighbours, r.neighbours(), k=50),  # K = 50 neighbours
        constraints=[
            NoRepeatModification(),
            Stopwords(r.stopwords()),  # the NLTK-based list of the released code
            WordEmbeddingCosine(
                r.neighbours(), min_cos=0.5
            ),  # paper says δ = 0.7; the released code uses 0.5
            SamePartOfSpeech(r.pos_tagger(), allow_noun_verb_swap=True),
            # Released code: 1 − angle ≥ 0.7 on a 15-word window against the text before the swap,
            # i.e. angle ≤ 0.3 rad (it forgets the /π); texts shorter than the window get 0.1 (angle ≤ 0.9).
            SentenceSimilarity(
                r.sentence_encoder(),
                threshold=1 - 0.3 / math.pi,
                metric="angular",
                window=15,
                compare_to="current",
                short_text_threshold=1 - 0.9 / math.pi,
            ),
        ],
        # importance = the drop of p(true label) when the word is deleted
        search=Part(GreedyByImportance, "deletion"),
        goal=Part(UntargetedLabelFlip),
    )


def bert_attack(r: RecipeResources) -> Recipe:
    """BERT-Attack (Li et al., 2020). Deviation: the sentence-similarity filter is applied during the
    search with TextAttack's fixed 0.2 (the authors filtered final texts with a per-dataset threshold)."""
    return Recipe(
        "bert-attack",
        # K = 48 (authors); one unmasked pass, multi-piece words built from the top pieces by perplexity.
        candidates=Part(MaskedLMCandidates, r.masked_lm(), k=48, method="in-context"),
        constraints=[
            NoRepeatModification(),
            Stopwords(r.stopwords()),
            MaxWordsChanged(fraction=0.4),  # ε = 0.4 of the words (authors)
            SentenceSimilarity(r.sentence_encoder(), threshold=0.2, window=None),  # cosine, whole text
        ],
        # Paper: I = o_y(S) − o_y(S with the word replaced by [MASK]); TextAttack uses [UNK].
        search=Part(GreedyByImportance, "mask", candidates_from="original"),
        goal=Part(UntargetedLabelFlip),
    )


def bae(r: RecipeResources) -> Recipe:
    """BAE-R (Garg & Ramakrishnan, 2020): replace a masked word by the MLM's proposals."""
    return Recipe(
        "bae",
        # top K = 50, whole words only
        candidates=Part(MaskedLMCandidates, r.masked_lm(), k=50, method="mask"),
        constraints=[
            NoRepeatModification(),
            Stopwords(r.stopwords()),
            SamePartOfSpeech(r.pos_tagger(), allow_noun_verb_swap=True),
            # Paper: USE similarity 0.8 on a 15-word window, against the original (authors' email);
            # their TextFooler-based code reads 0.8 as 1 − angle, i.e. angular ≥ 1 − 0.2/π, and
            # uses 0.1 for texts shorter than the window. TextAttack applies 0.936 to the plain cosine.
            SentenceSimilarity(
                r.sentence_encoder(),
                threshold=1 - 0.2 / math.pi,
                metric="angular",
                window=15,
                compare_to="original",
                short_text_threshold=1 - 0.9 / math.pi,
            ),
        ],
        # the MLM is run again on the current text
        search=Part(GreedyByImportance, "deletion", candidates_from="current"),
        goal=Part(UntargetedLabelFlip),
    )


def pwws(r: RecipeResources) -> Recipe:
    """PWWS (Ren et al., 2019): WordNet synonyms, probability-weighted word saliency.

    Deviations: no named-entity swaps (they need the whole dataset's labels); synonyms are taken
    from the word's part of speech as in the authors' code (TextAttack takes all synsets).
    Arabic (``language="ar"``): synonyms from the Arabic WordNet (OMW), from all the word's synsets
    unless a ``pos_tagger`` is passed (qalsadi's tags are lexical and have no adjectives).
    """
    # Arabic: qalsadi tags adjectives as nouns, which would drop their adjective synsets; all are used.
    no_tagger = r.language == "ar" and r.given.get("pos_tagger") is None
    return Recipe(
        "pwws",
        candidates=Part(WordNetSynonyms, r.wordnet(), pos_tagger=None if no_tagger else r.pos_tagger()),
        constraints=[NoRepeatModification(), Stopwords(r.stopwords())],
        search=Part(GreedyByImportance, "pwws"),  # softmax([UNK] saliency) × best synonym's drop of p(y)
        goal=Part(UntargetedLabelFlip),
    )


def a2t(r: RecipeResources) -> Recipe:
    """A2T (Yoo & Qi, 2021): the cheap attack for adversarial training; needs a white-box victim.

    Deviation: USE-multilingual on the whole text stands in for SBERT (stsb-distilbert);
    MaxWordsChanged rounds 10 % down where TextAttack rounds up (the minimum of 4 dominates below 30 words).
    """
    return Recipe(
        "a2t",
        candidates=Part(EmbeddingNeighbours, r.neighbours(), k=20),  # 20 counter-fitted neighbours
        constraints=[
            NoRepeatModification(),
            Stopwords(r.stopwords()),
            MaxWordsChanged(fraction=0.1, min_words=4),  # at most 10 % of the words, at least 4
            WordEmbeddingCosine(r.neighbours(), min_cos=0.8),
            SamePartOfSpeech(r.pos_tagger(), allow_noun_verb_swap=False),
            SentenceSimilarity(r.sentence_encoder(), threshold=0.9, window=None),  # cosine ≥ 0.9
        ],
        search=Part(GreedyByImportance, "gradient"),  # gradient norm of the loss w.r.t. each word's embedding
        goal=Part(UntargetedLabelFlip),
    )


# -- TextAttack 0.3.11's settings (``--profile textattack``) -----------------------------------
# The same four parts, with TextAttack's values and rules; each line says what differs from the paper
# recipe above. Common to all: TextAttack's word splitting (``words_from_text``: "that’s" is two words,
# "movie--dumb" one), its search's policies (``TEXTATTACK_SEARCH``), and our stopword list,
# sentence encoder, POS tagger, neighbour table and WordNet (TextAttack's own are not offline here;
# benchmarks/peer_textattack gives TextAttack the same ones).


def textfooler_textattack(r: RecipeResources) -> Recipe:
    """TextFooler as TextAttack's ``TextFoolerJin2019``."""
    return Recipe(
        "textfooler",
        # K = 50 as the paper; TextAttack's case rule (recover_word_case) and no cosine floor here
        candidates=Part(
            EmbeddingNeighbours, r.neighbours(), k=50, rule=TextAttackCandidates(case=recover_word_case)
        ),
        constraints=[
            NoRepeatModification(),
            # TextAttack has its own TextFooler list (ours here, see above), compared case-sensitively
            Stopwords(r.stopwords(), case_sensitive=True),
            WordEmbeddingCosine(r.neighbours(), min_cos=0.5),  # as the released code
            # POS of the candidate in the *original* text, 4 words before and 3 after (paper recipe:
            # the current text, ±4 words)
            SamePartOfSpeech(r.pos_tagger(), allow_noun_verb_swap=True, window_after=3, context="original"),
            # angular ≥ 0.840845057 = 1 − 0.5/π on 15 words (paper recipe: 1 − 0.3/π), texts shorter than
            # the window not checked (paper recipe: 1 − 0.9/π there)
            SentenceSimilarity(
                r.sentence_encoder(),
                threshold=0.840845057,
                metric="angular",
                window=15,
                compare_to="current",
                skip_short_texts=True,
            ),
        ],
        search=Part(GreedyByImportance, "deletion", **TEXTATTACK_SEARCH),
        goal=Part(UntargetedLabelFlip),
        word_rule="textattack",
        profile="textattack",
    )


def pwws_textattack(r: RecipeResources) -> Recipe:
    """PWWS as TextAttack's ``PWWSRen2019``."""
    return Recipe(
        "pwws",
        # synonyms from every synset of the word, all parts of speech (paper recipe: the word's POS only)
        candidates=Part(WordNetSynonyms, r.wordnet(), pos_tagger=None, rule=TextAttackCandidates()),
        constraints=[NoRepeatModification(), Stopwords(r.stopwords(), case_sensitive=True)],  # "The" is none
        # softmax([UNK] saliency) × the best swap's score 1 − p(y) (paper recipe: × its drop of p(y))
        search=Part(GreedyByImportance, "pwws", **TEXTATTACK_SEARCH),
        goal=Part(UntargetedLabelFlip),
        word_rule="textattack",
        profile="textattack",
    )


def bae_textattack(r: RecipeResources) -> Recipe:
    """BAE-R as TextAttack's ``BAEGarg2019``."""
    return Recipe(
        "bae",
        # top 50 tokens, word pieces accepted without their "##" (paper recipe: whole words only)
        candidates=Part(MaskedLMCandidates, r.masked_lm(), k=50, method="mask", rule=TextAttackCandidates()),
        constraints=[
            NoRepeatModification(),
            Stopwords(r.stopwords(), case_sensitive=True),  # "The" is no stopword in TextAttack
            SamePartOfSpeech(r.pos_tagger(), allow_noun_verb_swap=True, window_after=3, context="original"),
            # plain cosine ≥ 0.936338023 on 15 words against the original (paper recipe: angular ≥
            # 1 − 0.2/π), texts shorter than the window not checked (paper recipe: angular ≥ 1 − 0.9/π)
            SentenceSimilarity(
                r.sentence_encoder(),
                threshold=0.936338023,
                metric="cosine",
                window=15,
                compare_to="original",
                skip_short_texts=True,
            ),
        ],
        search=Part(GreedyByImportance, "deletion", candidates_from="current", **TEXTATTACK_SEARCH),
        goal=Part(UntargetedLabelFlip),
        word_rule="textattack",
        profile="textattack",
    )


# The recipes whose candidates come from a masked LM (the only ones a fill-mask model changes).
MASKED_LM_RECIPES = frozenset({"mlm-synonym", "bert-attack", "bae"})

# Recipe name → the function that declares it; a third party adds one with an entry point in the
# ``textrobust.recipes`` group (a function of ``RecipeResources`` returning a ``Recipe``).
RECIPES: Registry[Callable[[RecipeResources], Recipe]] = Registry(
    "recipe",
    {
        "mlm-synonym": "textrobust.attacks.recipes:mlm_synonym",
        "textfooler": "textrobust.attacks.recipes:textfooler",
        "bert-attack": "textrobust.attacks.recipes:bert_attack",
        "bae": "textrobust.attacks.recipes:bae",
        "pwws": "textrobust.attacks.recipes:pwws",
        "a2t": "textrobust.attacks.recipes:a2t",
    },
    group="textrobust.recipes",
)


# The ``textattack`` profile (``options.PROFILES``): TextAttack 0.3.11's settings of these recipes.
TEXTATTACK_PROFILE: dict[str, Callable[[RecipeResources], Recipe]] = {
    "textfooler": textfooler_textattack,
    "pwws": pwws_textattack,
    "bae": bae_textattack,
}


def textdefender_budget(recipe: Recipe, r: RecipeResources) -> Recipe:
    """TextDefender's budget (Li et al. 2021, "Searching for an Effective Defender"): at most 30 % of the
    words changed, K = 50 candidates per word, USE similarity ≥ 0.840845 (TextAttack's form: angular, on
    a 15-word window against the text before the swap, not checked for texts shorter than the window).
    It replaces the recipe's own word cap, candidate count and sentence-similarity check."""
    kept = [c for c in recipe.constraints if not isinstance(c, MaxWordsChanged | SentenceSimilarity)]
    return replace(
        recipe,
        # K = 50 candidates where the generator has a K
        candidates=recipe.candidates.with_arguments(k=50)
        if recipe.candidates.accepts("k")
        else recipe.candidates,
        constraints=[
            *kept,
            MaxWordsChanged(fraction=0.3),  # ≤ 30 % of the words
            SentenceSimilarity(
                r.sentence_encoder(),
                threshold=0.840845,  # TextDefender / TextAttack's TextFooler threshold
                metric="angular",
                window=15,
                compare_to="current",
                short_text_threshold=0.0,  # TextAttack skips the check for texts shorter than the window
            ),
        ],
        notes=_join(recipe.notes, "budget protocol: textdefender"),
    )


def check_recipe_options(recipe: str, options: AttackOptions, language: str | None = None) -> None:
    """What a recipe makes of the options, checked before anything is loaded (the options check their
    own values when they are made). ``language``: the data's, when known."""
    RECIPES.check(recipe, "recipe")
    if options.profile == "textattack" and language not in (None, "en"):
        raise ParameterError(
            "profile", "'textattack' reproduces TextAttack's English recipes; it is English only"
        )
    if options.profile == "textattack" and recipe not in TEXTATTACK_PROFILE:
        raise ParameterError(
            "profile",
            f"'textattack' exists for {', '.join(TEXTATTACK_PROFILE)}; recipe '{recipe}' has only 'paper'",
        )
    word_list = options.word_list
    if word_list is not None and word_list != HUNSPELL and not Path(word_list).is_file():
        raise ParameterError("word_list", f"'{word_list}' is neither 'hunspell' nor a word-list file")


def _join(*notes: str) -> str:
    return "; ".join(note for note in notes if note)


def build_attack(
    recipe: str,
    options: AttackOptions | None = None,
    resources: RecipeResources | None = None,
    *,
    seed: int = 0,
    report_similarity: bool = True,
    prepare: bool = True,
) -> WordSubstitutionAttack:
    """The attack a recipe declares, under ``options``, built in one pass.

    ``resources`` (default: every resource of English loaded on first use) says the language and holds
    the resources the recipe draws on. ``seed``: the attack's seed. ``report_similarity``: fill
    ``AttackResult.similarity`` with the sentence encoder even when the recipe has no similarity
    constraint. ``prepare``: load everything now (fail early).
    """
    options = options or AttackOptions()
    r = resources or RecipeResources()
    check_recipe_options(recipe, options, r.language)
    declare = TEXTATTACK_PROFILE[recipe] if options.profile == "textattack" else RECIPES.get(recipe)
    declared = declare(r)
    if options.budget_protocol is not None:  # the only protocol: BUDGET_PROTOCOLS
        declared = textdefender_budget(declared, r)
    disabled = set(options.disable)
    constraints = [c for c in declared.constraints if c.name not in disabled]
    if options.word_list is not None and KnownWord.name not in disabled:
        # First of the candidate checks: a set look-up is cheaper than the tagger and the encoder.
        first = next(
            (i for i, c in enumerate(constraints) if hasattr(c, "check_candidates")), len(constraints)
        )
        constraints.insert(first, KnownWord(r.word_list(options.word_list)))
    if options.budget is not None and "budget" not in disabled:
        constraints.append(QueryBudget(options.budget))
    notes = declared.notes
    if options.max_words is not None:
        constraints.append(MaxWordsChanged(fraction=1.0, min_words=0, cap=options.max_words))
        notes = _join(notes, f"at most {options.max_words} word(s) changed")
    if disabled:
        notes = _join(notes, f"disabled: {', '.join(sorted(disabled))}")
    search_arguments: dict[str, Any] = {}
    for name, value, default in (
        ("order", options.order, "constraints-first"),
        ("beam_width", options.beam_width, None),
    ):
        if value != default:
            if not declared.search.accepts(name):
                raise ParameterError(name, f"does not apply to the search of recipe '{recipe}'")
            search_arguments[name] = value
    similarity = next((c for c in constraints if isinstance(c, SentenceSimilarity)), None)
    if similarity is None and report_similarity:
        similarity = SentenceSimilarity(r.sentence_encoder(), threshold=-1.0)
    attack = WordSubstitutionAttack(
        declared.name,
        candidates=declared.candidates.build(),
        constraints=constraints,
        search=declared.search.build(**search_arguments),
        goal=declared.goal.build(**({"hard_label": True} if options.hard_label else {})),
        similarity=similarity,
        language=r.language,
        seed=seed,
        notes=notes,
        word_rule=declared.word_rule,
        profile=declared.profile,
    )
    if prepare:
        attack.prepare()
    return attack
