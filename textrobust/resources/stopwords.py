"""Stopword lists for English and Arabic, written in the project (no download).

Attacks leave stopwords alone: swapping function words rarely fools a model without breaking grammar.
The English list covers the function words of the usual NLTK / TextFooler lists, negations included
(swapping "not" changes the meaning, so it must never be a substitution target). The Arabic list covers
pronouns, demonstratives, relatives, prepositions, conjunctions and particles in Modern Standard Arabic,
their common spellings without hamza or with ى/ي confusion, and frequent Levantine function words (the
AJGT tweets are Jordanian).
"""

from __future__ import annotations

from textrobust.errors import TextrobustError

_ENGLISH = """
a about above across after afterwards again against ain all almost alone along already also although
always am among amongst an and another any anyhow anyone anything anyway anywhere are aren aren't
around as at be became because become becomes becoming been before beforehand behind being below
beside besides between beyond both but by can cannot could couldn couldn't d did didn didn't do does
doesn doesn't doing don don't done down due during each either else elsewhere enough even ever every
everyone everything everywhere except few for former formerly from further had hadn hadn't has hasn
hasn't have haven haven't having he hence her here hereafter hereby herein hereupon hers herself him
himself his how however i if in indeed into is isn isn't it it's its itself just latter
latterly least ll m ma me meanwhile might mightn mightn't mine more moreover most mostly much must
mustn mustn't my myself namely needn needn't neither never nevertheless next no nobody none noone nor
not nothing now nowhere o of off on once one only onto or other others otherwise our ours ourselves out
over own per quite rather re s same shan shan't she she's should should've shouldn shouldn't so
some somehow someone something sometime sometimes somewhere still such t than that that'll the their
theirs them themselves then thence there thereafter thereby therefore therein thereupon these they
this those though through throughout thru thus to together too toward towards under unless until up
upon us ve very via was wasn wasn't we were weren weren't what whatever when whence whenever
where whereafter whereas whereby wherein whereupon wherever whether which while whither who whoever
whom whose why will with within without won won't would wouldn wouldn't y yet you you'd you'll
you're you've your yours yourself yourselves
"""

_ARABIC = """
أنا انا أنت انت أنتِ أنتما انتما أنتم انتم أنتن انتن هو هي هما هم هن نحن إياه اياه إياها اياها إياهم
اياهم إياي اياي إياك اياك
هذا هذه هذان هاتان هؤلاء هذي ذلك ذاك تلك أولئك اولئك هنا هناك هنالك ههنا
الذي التي اللذان اللتان الذين اللواتي اللاتي اللائي اللي إللي ما ماذا من مَن
في فى من إلى الى إلي الي على علي عن مع حتى منذ مذ لدى لدي لدى عند بين خلال حول دون ضد نحو فوق تحت
أمام امام وراء خلف بعد قبل عبر لأن لان لأجل لاجل ضمن مثل
و أو او ثم أم ام لكن لكنّ بل ف إما اما
لا لم لن ليس ليست ليسوا لست ما إن ان أن إنّ أنّ كأن كان كانت كانوا يكون تكون يكن أكون صار أصبح اصبح
ظل لعل ليت قد لقد سوف هل أ يا أي اي أيها ايها إذا اذا إذ اذ لو لولا كي لكي حيث كما كذلك عندما بينما
كل كلا بعض غير سوى أيضا ايضا أيضاً ايضاً فقط جدا جداً إلا الا إنه انه إنها انها أنه أنها له لها لهم
لنا لك لي به بها بهم بنا بك بي منه منها منهم منا منك مني عنه عنها عنهم فيه فيها فيهم عليه عليها
عليهم إليه اليه إليها اليها هو هي
وفي وفى ومن وعلى وعن ومع وإلى والى وهو وهي وهذا وهذه ولا ولم ولن وما وكان وقد وأن وان وإن فإن فان فلا
فما فقد
مش مو ما بس شو ليش عشان علشان هيك هاد هاذا هاي هاذي هدول هيو هيه كمان يعني اشي إشي شي حدا بدي
بدك
"""

_LISTS = {
    "en": frozenset(_ENGLISH.split()),
    "ar": frozenset(_ARABIC.split()),
}
_ALIASES = {"english": "en", "eng": "en", "arabic": "ar", "ara": "ar", "arb": "ar"}


def stopwords(language: str) -> frozenset[str]:
    """The stopword set of ``language`` ("en" or "ar"; English entries are lower-case)."""
    code = _ALIASES.get(language.lower(), language.lower())
    try:
        return _LISTS[code]
    except KeyError:
        raise TextrobustError(
            f"no stopword list for language {language!r}: use 'en' or 'ar', or pass your own word set"
        ) from None


def languages() -> tuple[str, ...]:
    """Language codes with a built-in list."""
    return tuple(_LISTS)
