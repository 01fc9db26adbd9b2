"""The default answerer: picks the sentences of the retrieved passages that answer the question,
cites each, and refuses when none does. It never writes a word the documents do not hold."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from app.sentences import split_sentences
from app.text import content_terms, has_answer_type, question_type
from store import Hit, Index

MAX_SENTENCES = 3
MAX_QUOTE_CHARS = 600


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, scored against the question."""

    hit: Hit
    start: int  # offsets into the document's text
    end: int
    text: str
    score: float
    dense: float
    coverage: float  # share of the question's term weight found in the sentence
    context_coverage: float  # ... found in the sentence's passage
    typed: bool  # holds an answer of the kind asked for


@dataclass(frozen=True)
class Tuning:
    """Weights of the sentence score and the bar for answering. Set by measurement on the
    development questions (README, "Answer quality"), not per question."""

    dense: float = 1.0
    coverage: float = 0.6
    context: float = 0.4
    answer_bar: float = 0.95
    extra_margin: float = 0.25  # a further sentence must score within this of the best


def term_weights(index: Index, terms: list[str], question: str) -> dict[str, float]:
    """IDF of each question term over the indexed chunks; a term the index never holds gets
    the highest weight, since a question about it cannot be answered from elsewhere."""
    total = max(index.textdb.counts()[1], 1)
    weights = {}
    for term in terms:
        df = index.textdb.term_frequency(term)
        weights[term] = math.log(1 + (total - df + 0.5) / (df + 0.5))
    return weights


def coverage(terms: set[str], weights: dict[str, float]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in terms) / total if total else 0.0


def candidates(index: Index, question: str, hits: list[Hit], tuning: Tuning) -> list[Candidate]:
    """Every sentence of the retrieved passages, best first."""
    q_terms = content_terms(question)
    weights = term_weights(index, q_terms, question)
    kind = question_type(question)
    spans: dict[tuple[str, int], tuple[Hit, int, int]] = {}
    for hit in hits:
        for start, end in split_sentences(hit.text, offset=hit.start):
            if end - start <= MAX_QUOTE_CHARS and re.search(r"\w{2}", hit.text[start - hit.start : end - hit.start]):
                spans.setdefault((hit.source, start), (hit, start, end))
    if not spans:
        return []
    items = list(spans.values())
    texts = [hit.text[s - hit.start : e - hit.start] for hit, s, e in items]
    vectors = index.model.encode([question, *texts])
    dense = vectors[1:] @ vectors[0]
    context_cov = {hit.chunk_id: coverage(set(content_terms(hit.text)), weights) for hit in hits}
    out = []
    for (hit, start, end), text, sim in zip(items, texts, dense, strict=True):
        cov = coverage(set(content_terms(text)), weights)
        ctx = context_cov[hit.chunk_id]
        score = tuning.dense * float(sim) + tuning.coverage * cov + tuning.context * ctx
        typed = has_answer_type(kind, text, question)
        out.append(Candidate(hit, start, end, text, score, float(sim), cov, ctx, typed))
    out.sort(key=lambda c: (-c.score, c.hit.source, c.start))
    return out


def choose(cands: list[Candidate], question: str, tuning: Tuning) -> list[Candidate]:
    """The sentences to answer with, or none when the documents do not answer."""
    typed = [c for c in cands if c.typed]
    if not typed or typed[0].score < tuning.answer_bar:
        return []
    best = typed[0]
    chosen = [best]
    q_terms = set(content_terms(question))
    covered = q_terms & set(content_terms(best.text))
    for cand in typed[1:]:
        if len(chosen) == MAX_SENTENCES or cand.score < best.score - tuning.extra_margin:
            break
        new = (q_terms & set(content_terms(cand.text))) - covered
        if new and not np.isclose(cand.dense, best.dense, atol=1e-6):
            chosen.append(cand)
            covered |= new
    # Read in document order when the sentences come from one document.
    if len({c.hit.source for c in chosen}) == 1:
        chosen.sort(key=lambda c: c.start)
    return chosen
