"""Attack recipes: each a short declaration of a published attack, its settings and where we deviate.

``build_attack("textfooler")`` gives a ready ``WordSubstitutionAttack``. Resources (neighbour
table, sentence encoder, POS tagger, WordNet, stopwords, masked LM) are loaded on first use from
``textrobust.resources`` unless passed in (to share them between attacks or use other ones).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from textrobust.attacks.candidates import EmbeddingNeighbours, MaskedLMCandidates, WordNetSynonyms
from textrobust.attacks.constraints import (
    CONSTRAINT_NAMES,
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
from textrobust.attacks.search import ORDERS, GreedyByImportance
from textrobust.errors import ParameterError, ResourceMissingError, TextrobustError, require_at_least
from textrobust.resources.wordlist import HUNSPELL

RESOURCE_NAMES = ("stopwords", "neighbours", "sentence_encoder", "pos_tagger", "wordnet", "masked_lm")


class RecipeResources:
    """What recipes draw on, each loaded once on first use (or given by the caller)."""

    def __init__(
        self, language: str, given: dict[str, Any], mlm: str | MaskedLanguageModel | None = None
    ) -> None:
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

    def word_list(self, given: str | Path | Any = HUNSPELL) -> Lazy[Any]:
        """The known-word list (loaded once): ``"hunspell"`` (the language's hunspell dictionary), a
        ``.dic`` or one-word-a-line file, or a loaded ``WordList``."""

        def load() -> Any:
            if not isinstance(given, str | Path):
                return given
            from textrobust.resources.wordlist import load_word_list

            return load_word_list(self.language, given)

        return self._get("word_list", load)

    def masked_lm(self) -> Lazy[MaskedLanguageModel]:
        given = self.given.get("masked_lm") or self.mlm

        def load() -> MaskedLanguageModel:
            return load_masked_lm(given if isinstance(given, str) else None, self.language, device="auto")

        if isinstance(given, MaskedLanguageModel):
            self.given["masked_lm"] = given
        return self._get("masked_lm", load)


# -- the recipes ------------------------------------------------------------------------------


def mlm_synonym(r: RecipeResources) -> WordSubstitutionAttack:
    """MLM-synonym: the Arabic synonym attack with a masked LM (Alshahrani et al., 2024), any language.

    Deviations: the paper substitutes one word; we run the full greedy search (as the other
    recipes), so an attack may change several words, each checked by every constraint
    (``max_words=1`` gives the paper's setting). For Arabic, a function word (the stopword list) is
    no substitute (``stopword-candidate``): small Arabic masked LMs propose them in content-word slots.
    """
    # Arabic only (not in the paper): no function word as a substitute (see the docstring).
    arabic = [StopwordCandidate(r.stopwords())] if r.language == "ar" else []
    return WordSubstitutionAttack(
        "mlm-synonym",
        candidates=MaskedLMCandidates(r.masked_lm(), k=50, method="mask"),  # paper: top-50 fill-mask words
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
        search=GreedyByImportance("deletion", candidates_from="original"),
        goal=UntargetedLabelFlip(),
        notes="full greedy search instead of the paper's one-word substitution",
    )


def textfooler(r: RecipeResources) -> WordSubstitutionAttack:
    """TextFooler (Jin et al., 2020). Deviation: counter-fitted GloVe built locally stands in for
    counter-fitted Paragram, and USE-multilingual for USE-large."""
    return WordSubstitutionAttack(
        "textfooler",
        candidates=EmbeddingNeighbours(r.neighbours(), k=50),  # K = 50 neighbours
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
        search=GreedyByImportance("deletion"),  # importance = drop of p(true label) when the word is deleted
        goal=UntargetedLabelFlip(),
    )


def bert_attack(r: RecipeResources) -> WordSubstitutionAttack:
    """BERT-Attack (Li et al., 2020). Deviation: the sentence-similarity filter is applied during the
    search with TextAttack's fixed 0.2 (the authors filtered final texts with a per-dataset threshold)."""
    return WordSubstitutionAttack(
        "bert-attack",
        # K = 48 (authors); one unmasked pass, multi-piece words built from the top pieces by perplexity.
        candidates=MaskedLMCandidates(r.masked_lm(), k=48, method="in-context"),
        constraints=[
            NoRepeatModification(),
            Stopwords(r.stopwords()),
            MaxWordsChanged(fraction=0.4),  # ε = 0.4 of the words (authors)
            SentenceSimilarity(r.sentence_encoder(), threshold=0.2, window=None),  # cosine, whole text
        ],
        # Paper: I = o_y(S) − o_y(S with the word replaced by [MASK]); TextAttack uses [UNK].
        search=GreedyByImportance("mask", candidates_from="original"),
        goal=UntargetedLabelFlip(),
    )


def bae(r: RecipeResources) -> WordSubstitutionAttack:
    """BAE-R (Garg & Ramakrishnan, 2020): replace a masked word by the MLM's proposals."""
    return WordSubstitutionAttack(
        "bae",
        candidates=MaskedLMCandidates(r.masked_lm(), k=50, method="mask"),  # top K = 50, whole words only
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
        search=GreedyByImportance("deletion", candidates_from="current"),  # MLM re-run on the current text
        goal=UntargetedLabelFlip(),
    )


def pwws(r: RecipeResources) -> WordSubstitutionAttack:
    """PWWS (Ren et al., 2019): WordNet synonyms, probability-weighted word saliency.

    Deviations: no named-entity swaps (they need the whole dataset's labels); synonyms are taken
    from the word's part of speech as in the authors' code (TextAttack takes all synsets).
    Arabic (``language="ar"``): synonyms from the Arabic WordNet (OMW), from all the word's synsets
    unless a ``pos_tagger`` is passed (qalsadi's tags are lexical and have no adjectives).
    """
    # Arabic: qalsadi tags adjectives as nouns, which would drop their adjective synsets; all are used.
    no_tagger = r.language == "ar" and r.given.get("pos_tagger") is None
    return WordSubstitutionAttack(
        "pwws",
        candidates=WordNetSynonyms(r.wordnet(), pos_tagger=None if no_tagger else r.pos_tagger()),
        constraints=[NoRepeatModification(), Stopwords(r.stopwords())],
        search=GreedyByImportance("pwws"),  # softmax([UNK] saliency) × best synonym's drop of p(y)
        goal=UntargetedLabelFlip(),
    )


def a2t(r: RecipeResources) -> WordSubstitutionAttack:
    """A2T (Yoo & Qi, 2021): the cheap attack for adversarial training; needs a white-box victim.

    Deviation: USE-multilingual on the whole text stands in for SBERT (stsb-distilbert);
    MaxWordsChanged rounds 10 % down where TextAttack rounds up (the minimum of 4 dominates below 30 words).
    """
    return WordSubstitutionAttack(
        "a2t",
        candidates=EmbeddingNeighbours(r.neighbours(), k=20),  # 20 counter-fitted neighbours
        constraints=[
            NoRepeatModification(),
            Stopwords(r.stopwords()),
            MaxWordsChanged(fraction=0.1, min_words=4),  # at most 10 % of the words, at least 4
            WordEmbeddingCosine(r.neighbours(), min_cos=0.8),
            SamePartOfSpeech(r.pos_tagger(), allow_noun_verb_swap=False),
            SentenceSimilarity(r.sentence_encoder(), threshold=0.9, window=None),  # cosine ≥ 0.9
        ],
        search=GreedyByImportance("gradient"),  # gradient norm of the loss w.r.t. each word's embedding
        goal=UntargetedLabelFlip(),
    )


# -- TextAttack 0.3.11's settings (``--profile textattack``) -----------------------------------
# The same four parts, with TextAttack's values and rules; each line says what differs from the paper
# recipe above. Common to all: TextAttack's word splitting (``words_from_text``: "that’s" is two words,
# "movie--dumb" one), its tie-breaking (``ordering="textattack"`` in the search), and our stopword list,
# sentence encoder, POS tagger, neighbour table and WordNet (TextAttack's own are not offline here;
# benchmarks/peer_textattack gives TextAttack the same ones).


def textfooler_textattack(r: RecipeResources) -> WordSubstitutionAttack:
    """TextFooler as TextAttack's ``TextFoolerJin2019``."""
    return WordSubstitutionAttack(
        "textfooler",
        # K = 50 as the paper; TextAttack's case rule (recover_word_case) and no cosine floor here
        candidates=EmbeddingNeighbours(r.neighbours(), k=50, textattack=True),
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
        search=GreedyByImportance("deletion", ordering="textattack"),
        goal=UntargetedLabelFlip(),
        word_rule="textattack",
        profile="textattack",
    )


def pwws_textattack(r: RecipeResources) -> WordSubstitutionAttack:
    """PWWS as TextAttack's ``PWWSRen2019``."""
    return WordSubstitutionAttack(
        "pwws",
        # synonyms from every synset of the word, all parts of speech (paper recipe: the word's POS only)
        candidates=WordNetSynonyms(r.wordnet(), pos_tagger=None, textattack=True),
        constraints=[NoRepeatModification(), Stopwords(r.stopwords(), case_sensitive=True)],  # "The" is none
        # softmax([UNK] saliency) × the best swap's score 1 − p(y) (paper recipe: × its drop of p(y))
        search=GreedyByImportance("pwws", ordering="textattack"),
        goal=UntargetedLabelFlip(),
        word_rule="textattack",
        profile="textattack",
    )


def bae_textattack(r: RecipeResources) -> WordSubstitutionAttack:
    """BAE-R as TextAttack's ``BAEGarg2019``."""
    return WordSubstitutionAttack(
        "bae",
        # top 50 tokens, word pieces accepted without their "##" (paper recipe: whole words only)
        candidates=MaskedLMCandidates(r.masked_lm(), k=50, method="mask", textattack=True),
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
        search=GreedyByImportance("deletion", candidates_from="current", ordering="textattack"),
        goal=UntargetedLabelFlip(),
        word_rule="textattack",
        profile="textattack",
    )


# The recipes whose candidates come from a masked LM (the only ones a fill-mask model changes).
MASKED_LM_RECIPES = frozenset({"mlm-synonym", "bert-attack", "bae"})

RECIPES: dict[str, Callable[[RecipeResources], WordSubstitutionAttack]] = {
    "mlm-synonym": mlm_synonym,
    "textfooler": textfooler,
    "bert-attack": bert_attack,
    "bae": bae,
    "pwws": pwws,
    "a2t": a2t,
}


# Settings profiles: ``paper`` (the recipes above, the authors' settings) or ``textattack``
# (TextAttack 0.3.11's, so results compare with numbers from that tool).
PROFILES = ("paper", "textattack")
TEXTATTACK_PROFILE: dict[str, Callable[[RecipeResources], WordSubstitutionAttack]] = {
    "textfooler": textfooler_textattack,
    "pwws": pwws_textattack,
    "bae": bae_textattack,
}

# One budget for every recipe, so results compare across recipes and with published defenses.
BUDGET_PROTOCOLS = ("textdefender",)


def apply_budget_protocol(attack: WordSubstitutionAttack, protocol: str, r: RecipeResources) -> None:
    """TextDefender's budget (Li et al. 2021, "Searching for an Effective Defender"): at most 30 % of the
    words changed, K = 50 candidates per word, USE similarity ≥ 0.840845 (TextAttack's form: angular, on
    a 15-word window against the text before the swap, not checked for texts shorter than the window).
    It replaces the recipe's own word cap, candidate count and sentence-similarity check."""
    if protocol != "textdefender":
        raise ParameterError("budget_protocol", f"'{protocol}' is unknown; choose one of {BUDGET_PROTOCOLS}")
    if hasattr(attack.candidates, "k"):
        attack.candidates.k = 50  # type: ignore[attr-defined] # K = 50
    kept = [c for c in attack.constraints if not isinstance(c, MaxWordsChanged | SentenceSimilarity)]
    attack.constraints = [
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
    ]
    attack.notes = "; ".join(filter(None, [attack.notes, "budget protocol: textdefender"]))


def check_attack_options(
    recipe: str,
    *,
    budget: int | None = None,
    disable: Collection[str] = (),
    beam_width: int | None = None,
    budget_protocol: str | None = None,
    max_words: int | None = None,
    word_list: str | Path | Any | None = None,
    profile: str = "paper",
    order: str = "constraints-first",
    language: str = "en",
) -> None:
    """The checks of ``build_attack``'s options, cheap enough to run before anything is loaded."""
    if recipe not in RECIPES:
        raise ParameterError("recipe", f"'{recipe}' is unknown; choose one of {', '.join(RECIPES)}")
    if profile not in PROFILES:
        raise ParameterError("profile", f"'{profile}' is unknown; choose one of {', '.join(PROFILES)}")
    if order not in ORDERS:
        raise ParameterError("order", f"'{order}' is unknown; choose one of {', '.join(ORDERS)}")
    if order == "victim-first" and budget is not None:
        raise ParameterError(
            "order",
            "'victim-first' spends queries on candidates the constraints would reject, so a query budget "
            "would end attacks early; use it without a budget",
        )
    if profile == "textattack" and language != "en":
        raise ParameterError(
            "profile", "'textattack' reproduces TextAttack's English recipes; it is English only"
        )
    if profile == "textattack" and recipe not in TEXTATTACK_PROFILE:
        raise ParameterError(
            "profile",
            f"'textattack' exists for {', '.join(TEXTATTACK_PROFILE)}; recipe '{recipe}' has only 'paper'",
        )
    bad = sorted(set(disable) - set(CONSTRAINT_NAMES))
    if bad:
        raise ParameterError(
            "disable",
            f"names unknown constraint(s) {', '.join(bad)}; choose from {', '.join(CONSTRAINT_NAMES)}",
        )
    require_at_least("budget", budget, 1)
    require_at_least("beam_width", beam_width, 1)
    require_at_least("max_words", max_words, 1)
    if budget_protocol is not None and budget_protocol not in BUDGET_PROTOCOLS:
        raise ParameterError(
            "budget_protocol", f"'{budget_protocol}' is unknown; choose one of {', '.join(BUDGET_PROTOCOLS)}"
        )
    if isinstance(word_list, str | Path) and str(word_list) != HUNSPELL and not Path(word_list).is_file():
        raise ParameterError("word_list", f"'{word_list}' is neither 'hunspell' nor a word-list file")


def build_attack(
    recipe: str,
    *,
    language: str = "en",
    mlm: str | MaskedLanguageModel | None = None,
    budget: int | None = None,
    seed: int = 0,
    disable: Collection[str] = (),
    hard_label: bool = False,
    beam_width: int | None = None,
    budget_protocol: str | None = None,
    max_words: int | None = None,
    report_similarity: bool = True,
    prepare: bool = True,
    word_list: str | Path | Any | None = None,
    profile: str = "paper",
    order: str = "constraints-first",
    **resources: Any,
) -> WordSubstitutionAttack:
    """A ready attack for a recipe name.

    ``mlm``: fill-mask model (Hub name, local folder, or a loaded ``MaskedLanguageModel``) for the
    MLM recipes; default: the language's Hub model. ``budget``: max victim queries per example.
    ``disable``: constraint names to switch off (see ``CONSTRAINT_NAMES``). ``hard_label``: the
    attacker sees only the predicted class. ``beam_width``: keep that many texts in the search.
    ``budget_protocol``: "textdefender" puts the recipe under TextDefender's budget (one for all).
    ``max_words``: change at most that many words (1: the seed paper's one-word attack).
    ``report_similarity``: fill ``AttackResult.similarity`` with the sentence encoder even when
    the recipe has no similarity constraint. ``resources``: any of ``RESOURCE_NAMES``, each an
    object or a name/path for its loader. ``prepare``: load everything now (fail early).
    ``word_list``: add the ``known-word`` constraint (candidates must be known words): "hunspell"
    for the language's hunspell dictionary, a ``.dic`` / one-word-a-line file, or a loaded ``WordList``.
    ``profile``: ``paper`` (the authors' settings) or ``textattack`` (TextAttack 0.3.11's settings for
    textfooler, pwws and bae; see ``TEXTATTACK_PROFILE``). ``order``: ``constraints-first`` or
    ``victim-first`` (the victim scores every candidate, the constraints are checked from the best one
    down: the same texts with fewer encoder and tagger calls and more queries; no ``budget`` with it).
    """
    check_attack_options(
        recipe,
        budget=budget,
        disable=disable,
        beam_width=beam_width,
        budget_protocol=budget_protocol,
        max_words=max_words,
        word_list=word_list,
        profile=profile,
        order=order,
        language=language,
    )
    unknown = sorted(set(resources) - set(RESOURCE_NAMES))
    if unknown:
        raise TextrobustError(f"unknown resource(s) {', '.join(unknown)}; known: {', '.join(RESOURCE_NAMES)}")
    r = RecipeResources(language, resources, mlm)
    attack = (TEXTATTACK_PROFILE if profile == "textattack" else RECIPES)[recipe](r)
    attack.language = language
    attack.seed = seed
    if budget_protocol is not None:
        apply_budget_protocol(attack, budget_protocol, r)
    attack.constraints = [c for c in attack.constraints if c.name not in disable and c.name != "budget"]
    if word_list is not None and KnownWord.name not in disable:
        # First of the candidate checks: a set look-up is cheaper than the tagger and the encoder.
        first = next(
            (i for i, c in enumerate(attack.constraints) if hasattr(c, "check_candidates")),
            len(attack.constraints),
        )
        attack.constraints.insert(first, KnownWord(r.word_list(word_list)))
    if budget is not None and "budget" not in disable:
        attack.constraints.append(QueryBudget(budget))
    if max_words is not None:
        attack.constraints.append(MaxWordsChanged(fraction=1.0, min_words=0, cap=max_words))
        attack.notes = "; ".join(filter(None, [attack.notes, f"at most {max_words} word(s) changed"]))
    if disable:
        attack.notes = "; ".join(filter(None, [attack.notes, f"disabled: {', '.join(sorted(disable))}"]))
    attack.similarity = next((c for c in attack.constraints if isinstance(c, SentenceSimilarity)), None)
    if attack.similarity is None and report_similarity:
        attack.similarity = SentenceSimilarity(r.sentence_encoder(), threshold=-1.0)
    if hard_label:
        attack.goal = UntargetedLabelFlip(hard_label=True)
    if order != "constraints-first":
        if not hasattr(attack.search, "order"):
            raise TextrobustError(f"the search of recipe '{recipe}' has no order to change")
        attack.search.order = order  # type: ignore[attr-defined]
    if beam_width is not None:
        if not hasattr(attack.search, "beam_width"):
            raise TextrobustError(f"the search of recipe '{recipe}' has no beam")
        attack.search.beam_width = beam_width  # type: ignore[attr-defined]
    if prepare:
        attack.prepare()
    return attack
