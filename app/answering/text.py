"""Words of questions and passages: Snowball stems, content terms, names and numbers."""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import snowballstemmer

from store.words import STOPWORDS, words

__all__ = [
    "NUMBER",
    "STOPWORDS",
    "WH_WORDS",
    "content_terms",
    "specific_terms",
    "stem",
    "words",
]

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
