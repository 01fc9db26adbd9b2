"""What a word is and which words are too common to count, for the keyword index and the answerer."""

from __future__ import annotations

import re

# A word as a reader sees it: letters and digits, an apostrophe inside kept ("Korea's", "don't").
WORD = re.compile(r"\w+(?:['’]\w+)?", re.UNICODE)
# A word as the keyword index splits text (tantivy's simple tokenizer splits at any character
# that is not a letter or digit): a query is split the same way.
INDEX_WORD = re.compile(r"\w+", re.UNICODE)

# Words too common to carry meaning in a keyword query; BM25 would weigh them low anyway, but
# matching them costs a walk through most of the index.
FUNCTION_WORDS = frozenset(
    "a an and are as at be been but by can could did do does for from had has have how i if in "
    "into is it its of on or s so such than that the their them then there these they this to "
    "was we were what when where which who whom whose why will with would you your".split()
)
# Words that say nothing of what a question is about or a passage holds, for the answerer: the
# function words, more pronouns and adverbs, and the verbs and nouns questions ask with
# ("tell", "name", "according").
STOPWORDS = FUNCTION_WORDS | frozenset(
    """about above after again against all also am any because before being below between both
    doing down during each few further having he her here hers herself him himself his itself
    just me more most my myself no nor not now off once only other our ours out over own same
    she should some theirs themselves those through too under until up very while yours
    yourself yourselves t d ll m re ve y get got gets one ones tell say said according called
    name named""".split()
)


def words(text: str) -> list[str]:
    """The words of `text`, in order (`WORD`)."""
    return WORD.findall(text)
