"""Words of questions and passages: tokens, stopwords and Snowball stems."""

from __future__ import annotations

import re
import threading
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
WH_WORDS = frozenset("what which who whom whose when where why how".split())


# A Snowball stemmer keeps its working state in the object (`stemWord` mutates it), so two
# threads sharing one can get each other's stems: each thread has its own.
_local = threading.local()


def _stemmer() -> snowballstemmer.stemmer:
    if not hasattr(_local, "stemmer"):
        _local.stemmer = snowballstemmer.stemmer("english")
    return _local.stemmer


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The English Snowball (Porter2) stem of a word, lowercased."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    return str(_stemmer().stemWord(w)) if w.isalpha() else w


def words(text: str) -> list[str]:
    return WORD.findall(text)


def content_terms(text: str) -> list[str]:
    """Stemmed words that carry meaning, in order, without repeats."""
    out = [stem(w) for w in words(text) if w.lower() not in STOPWORDS]
    return list(dict.fromkeys(t for t in out if t))


NUMBER = re.compile(r"^\d[\d,.]*(?:st|nd|rd|th|s)?$", re.IGNORECASE)


def specific_terms(question: str) -> list[str]:
    """The question's names and numbers: numbers, ordinals and years ("14th", "2015"), and
    capitalised words past the first that are not question or common words ("Tashkent",
    "FIFA"). A document that answers the question must hold them."""
    tokens = words(question)
    out = []
    for i, token in enumerate(tokens):
        lowered = re.sub(r"['’]s$", "", token.lower())
        if NUMBER.match(token) or (
            i > 0
            and token[:1].isupper()
            and len(token) >= 3
            and lowered not in STOPWORDS
            and lowered not in WH_WORDS
        ):
            out.append(lowered)
    return list(dict.fromkeys(out))
