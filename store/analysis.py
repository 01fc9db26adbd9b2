"""How the keyword index reads text: its analyzer (English stems) and its schema. What a word is
and which words are too common to count are store/words.py's."""

from __future__ import annotations

import tantivy

TOKENIZER = "sourcebook_en"


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
