"""The default answerer: picks the sentences of the retrieved passages that answer the question,
cites each, and refuses when none does. It never writes a word the documents do not hold."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import numpy as np

from app.answering.sentences import merge_short_runs, split_sentences
from app.answering.text import content_terms
from app.answering.types import REFUSAL, Citation
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
    context_coverage: float  # ... found in the sentence's passage (without its title)
    plain_dense: float = 0.0  # similarity without the title frame (set on the best only)


@dataclass(frozen=True)
class Tuning:
    """How sentences are ranked and when the best one is good enough to answer with.

    These weights were fitted on the development questions of ../shared/eval by a script since
    removed: that set is for checking only, so the fit overstates them (see the reader issue)."""

    # Ranking a sentence: similarity to the question, share of the question's (IDF-weighted)
    # terms in the sentence and in its passage, and a prior for full sentences over headings.
    dense: float = 1.0
    coverage: float = 0.3
    context: float = 0.6
    length: float = 0.3
    # Answering at all: a logistic model over the best sentence's similarity to the question,
    # its passage's share of the question's terms, and its length in words (up to 40).
    w_dense: float = 6.106
    w_context: float = 2.603
    w_words: float = 0.05
    bias: float = -5.715
    answer_bar: float = 0.6  # probability that the documents answer, below which we refuse
    extra_margin: float = 0.15  # a further sentence must score within this of the best


def term_weights(index: Index, terms: list[str]) -> dict[str, float]:
    """IDF of each question term over the indexed chunks; a term the index never holds gets
    the highest weight, since a question about it cannot be answered from elsewhere."""
    total, frequencies = index.term_statistics(terms)
    total = max(total, 1)
    return {term: math.log(1 + (total - df + 0.5) / (df + 0.5)) for term, df in frequencies.items()}


def encode(index: Index, texts: list[str]) -> np.ndarray:
    """Unit vectors of `texts` from the index's embedding model."""
    return np.asarray(index.embeddings.embed_documents(texts), dtype=np.float32)


def coverage(terms: set[str], weights: dict[str, float]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in terms) / total if total else 0.0


def frame_of(hit: Hit) -> str:
    """The title (and heading) a passage sits under, in words."""
    title = re.sub(r"[-_]+", " ", hit.title).strip()
    return f"{title} > {hit.heading}" if hit.heading and hit.heading != hit.title else title


def candidates(index: Index, question: str, hits: list[Hit], tuning: Tuning) -> list[Candidate]:
    """Every sentence of the retrieved passages, best first."""
    q_terms = content_terms(question)
    weights = term_weights(index, q_terms)
    spans: dict[tuple[str, int], tuple[Hit, int, int]] = {}
    for hit in hits:
        sentences = merge_short_runs(hit.text, split_sentences(hit.text, hit.start), hit.start)
        for start, end in sentences:
            if end - start <= MAX_QUOTE_CHARS and re.search(
                r"\w{2}", hit.text[start - hit.start : end - hit.start]
            ):
                spans.setdefault((hit.source, start), (hit, start, end))
    if not spans:
        return []
    items = list(spans.values())
    texts = [hit.text[s - hit.start : e - hit.start] for hit, s, e in items]
    # A sentence is read with its document's title (and heading) before it: "It was held in
    # Dushanbe" says where *the 14th forum* was only next to that title.
    framed = [f"{frame_of(hit)}: {text}" for (hit, _, _), text in zip(items, texts, strict=True)]
    vectors = encode(index, [question, *framed])
    dense = vectors[1:] @ vectors[0]
    framed_cov = {
        hit.chunk_id: coverage(set(content_terms(f"{frame_of(hit)} {hit.text}")), weights)
        for hit in hits
    }
    plain_cov = {hit.chunk_id: coverage(set(content_terms(hit.text)), weights) for hit in hits}
    out = []
    for (hit, start, end), text, sim in zip(items, texts, dense, strict=True):
        cov = coverage(set(content_terms(text)), weights)
        length = min(len(text.split()), 30) / 30
        score = (
            tuning.dense * float(sim)
            + tuning.coverage * cov
            + tuning.context * framed_cov[hit.chunk_id]
            + tuning.length * length
        )
        out.append(
            Candidate(hit, start, end, text, score, float(sim), cov, plain_cov[hit.chunk_id])
        )
    out.sort(key=lambda c: (-c.score, c.hit.source, c.start))
    # Whether to answer is judged without the title: every sentence of an on-topic document
    # looks relevant next to its title, answer or not.
    plain = encode(index, [question, out[0].text])
    out[0] = replace(out[0], plain_dense=float(plain[1] @ plain[0]))
    return out


def answer_probability(best: Candidate, tuning: Tuning) -> float:
    """How likely the documents answer the question, judged from its best sentence."""
    z = (
        tuning.w_dense * best.plain_dense
        + tuning.w_context * best.context_coverage
        + tuning.w_words * min(len(best.text.split()), 40)
        + tuning.bias
    )
    return 1.0 / (1.0 + math.exp(-z))


def choose(cands: list[Candidate], tuning: Tuning) -> list[Candidate]:
    """The sentences to answer with (the best, and up to two close runners-up that say more),
    or none when the documents do not answer."""
    if not cands or answer_probability(cands[0], tuning) < tuning.answer_bar:
        return []
    best = cands[0]
    chosen = [best]
    for cand in cands[1:]:
        if len(chosen) == MAX_SENTENCES or cand.score < best.score - tuning.extra_margin:
            break
        if not any(_overlaps(cand, c) for c in chosen):
            chosen.append(cand)
    # Read in document order when the sentences come from one document.
    if len({c.hit.source for c in chosen}) == 1:
        chosen.sort(key=lambda c: c.start)
    return chosen


def _overlaps(a: Candidate, b: Candidate) -> bool:
    same_text = " ".join(a.text.split()) == " ".join(b.text.split())
    return same_text or (a.hit.source == b.hit.source and a.start < b.end and b.start < a.end)


def compose(chosen: list[Candidate]) -> tuple[str, list[Citation]]:
    """The answer text, each sentence followed by its citation marker."""
    citations = [Citation.of(n, c.hit, c.start, c.end, c.score) for n, c in enumerate(chosen, 1)]
    parts = []
    for cite in citations:
        sentence = re.sub(r"\s+", " ", cite.quote).strip()
        sentence = re.sub(r"^(\d{1,3}|[ivxIVX]{1,4}|[•·\-*o])[.)]?\s+(?=\w)", "", sentence)
        parts.append(f"{sentence} [{cite.n}]")
    return " ".join(parts), citations


def extractive_answer(
    index: Index, question: str, hits: list[Hit], tuning: Tuning | None = None
) -> tuple[str, list[Citation], bool]:
    """(text, citations, answered) for `question` from the retrieved `hits`."""
    tuning = tuning or Tuning()
    chosen = choose(candidates(index, question, hits, tuning), tuning)
    if not chosen:
        return REFUSAL, [], False
    text, citations = compose(chosen)
    return text, citations, True
