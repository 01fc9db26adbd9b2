"""Words of questions and passages: tokens, light stemming, question types."""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

WORD = re.compile(r"[\w]+(?:['’][\w]+)?", re.UNICODE)
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours out
    over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which
    while who whom whose why will with would you your yours yourself yourselves s t d ll m re ve
    y get got gets one ones tell say said according called name named""".split()
)
_STEMMER = snowballstemmer.stemmer("english")
WH_WORDS = frozenset("what which who whom whose when where why how".split())


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The English Snowball (Porter2) stem of a word, lowercased."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    return str(_STEMMER.stemWord(w)) if w.isalpha() else w


def words(text: str) -> list[str]:
    return WORD.findall(text)


def content_terms(text: str) -> list[str]:
    """Stemmed words that carry meaning, in order, without repeats."""
    out = [stem(w) for w in words(text) if w.lower() not in STOPWORDS]
    return list(dict.fromkeys(t for t in out if t))


def question_type(question: str) -> str:
    """What kind of answer the question wants: date, number, person, place or other."""
    q = " " + re.sub(r"\s+", " ", question.lower()) + " "
    if re.search(
        r" (how (many|much|long|old|far|big|large|tall|often)|what (percentage|number|amount)|population) ",
        q,
    ):
        return "number"
    if re.search(
        r" (when|what (year|date|day|month|time|century|decade)|which (year|date|day|month|century)|since when) ",
        q,
    ):
        return "date"
    if re.search(r" (who|whom|whose) ", q):
        return "person"
    if re.search(r" where ", q):
        return "place"
    return "other"


MONTHS = "january february march april may june july august september october november december"
DATE = re.compile(
    r"\b(1\d{3}|20\d{2}|\d{1,2}(st|nd|rd|th) century|(" + MONTHS.replace(" ", "|") + r")|"
    r"(spring|summer|autumn|fall|winter)|\d{1,2}/\d{1,2}/\d{2,4}|(centur(y|ies)|decades?|years? ago))\b",
    re.IGNORECASE,
)
NUMBER = re.compile(
    r"\b(\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundred|thousand|million|billion|dozen|several|percent)\b",
    re.IGNORECASE,
)
CAPITALISED = re.compile(r"\b[A-Z][\w'’-]+")


def has_answer_type(kind: str, sentence: str, question: str) -> bool:
    """Whether `sentence` holds something of the kind the question asks for, beyond what the
    question itself says."""
    if kind == "other":
        return True
    asked = {w.lower() for w in words(question)}
    if kind == "date":
        return any(m.group(0).lower() not in asked for m in DATE.finditer(sentence))
    if kind == "number":
        return any(m.group(0).lower() not in asked for m in NUMBER.finditer(sentence))
    # person or place: a proper name the question does not already give
    names = [m.group(0) for m in CAPITALISED.finditer(sentence)]
    return any(n.lower() not in asked and n.lower() not in STOPWORDS for n in names[1:] or names)
