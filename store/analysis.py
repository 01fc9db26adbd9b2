"""How the keyword index reads text: its words, stopwords, English stems, and its schema."""

from __future__ import annotations

import re

import tantivy

TOKENIZER = "sourcebook_en"

# Words too common to carry meaning in a keyword query; BM25 would weigh them low anyway,
# but matching them costs a walk through most of the index.
STOPWORDS = frozenset(
    "a an and are as at be been but by can could did do does for from had has have how i if in "
    "into is it its of on or s so such than that the their them then there these they this to "
    "was we were what when where which who whom whose why will with would you your".split()
)
TOKEN = re.compile(r"\w+", re.UNICODE)


def make_analyzer() -> tantivy.TextAnalyzer:
    """Words split on anything not a letter or digit, lowercased, accents folded, and reduced to
    their English Snowball stems: the stems the answerer asks `term_statistics` about."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def make_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("source", tokenizer_name="raw", index_option="basic")
    # Term frequencies without positions: BM25 needs no more, and no query here is a phrase.
    builder.add_text_field("text", tokenizer_name=TOKENIZER, index_option="freq")
    return builder.build()
