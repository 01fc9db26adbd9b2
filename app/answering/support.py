"""Checking a generated sentence against the passage it cites, and cutting a token stream
into sentences that are complete enough to check."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from langchain_core.embeddings import Embeddings

from app.answering.sentences import split_sentences
from app.answering.text import content_terms
from store import Hit

MARKER = re.compile(r"\s*\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
# "... in 2007. [1] Next" -> "... in 2007 [1]. Next": a marker belongs to the sentence before it.
TRAILING_MARKERS = re.compile(r"([.!?]+)((?:\s*\[\d{1,3}(?:\s*,\s*\d{1,3})*\])+)")
NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class SupportBar:
    """When a passage supports a claim, measured on labelled claim/passage pairs
    (bench/support_check.py): every number of the claim is in the passage, and so is every
    content word but at most `max_missing`; a claim with a word the passage lacks must also
    read at least `similarity` (cosine) like the passage's best sentence. On the 40 pairs of
    bench/support_pairs.jsonl this keeps 19/20 supported claims and passes 0/20 unsupported
    ones; a bar on the share of words found instead (0.8) kept 17/20 and passed 3/20."""

    max_missing: int = 1
    similarity: float = 0.6


@dataclass(frozen=True)
class Support:
    """How well one passage backs one claim, and its sentence that backs it best."""

    hit: Hit
    start: int  # offsets of that sentence in the document's text
    end: int
    quote: str
    recall: float  # share of the claim's content words found in the passage
    missing: tuple[str, ...]  # the claim's content words (stemmed) the passage lacks
    similarity: float  # cosine of the claim to the quoted sentence
    numbers_found: bool  # every number of the claim appears in the passage

    def passes(self, bar: SupportBar) -> bool:
        if not self.numbers_found or len(self.missing) > bar.max_missing:
            return False
        return not self.missing or self.similarity >= bar.similarity


def cited_numbers(sentence: str) -> list[int]:
    """The passage numbers a sentence cites, in order, without repeats."""
    found = [int(n) for m in MARKER.finditer(sentence) for n in m.group(1).split(",")]
    return list(dict.fromkeys(found))


def strip_markers(sentence: str) -> str:
    return re.sub(r"\s+([.!?,;:])", r"\1", MARKER.sub("", sentence)).strip()


def complete_sentences(buffer: str, final: bool = False) -> tuple[list[str], str]:
    """The sentences at the head of `buffer` that can no longer change, and the rest.

    A sentence is complete once the next one has begun with something other than a citation
    marker (which may still belong to it); at the end of the stream (`final`) all are."""
    text = TRAILING_MARKERS.sub(r"\2\1", buffer)
    spans = split_sentences(text)
    if final:
        return [text[s:e] for s, e in spans], ""
    done: list[tuple[int, int]] = []
    for (start, end), (next_start, _) in zip(spans, spans[1:], strict=False):
        if text[next_start] == "[":
            break
        done.append((start, end))
    if not done:
        return [], buffer
    return [text[s:e] for s, e in done], text[done[-1][1] :].lstrip()


class SupportChecker:
    """Measures claims against the retrieved passages; passage sentence vectors are cached."""

    def __init__(self, hits: list[Hit], model: Embeddings) -> None:
        self.hits = hits
        self.model = model
        self._sentences: dict[int, tuple[list[tuple[int, int]], np.ndarray]] = {}

    def _encode(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.model.embed_documents(texts), dtype=np.float32)

    def _passage(self, i: int) -> tuple[list[tuple[int, int]], np.ndarray]:
        if i not in self._sentences:
            hit = self.hits[i]
            spans = [(s, e) for s, e in split_sentences(hit.text, offset=hit.start)]
            texts = [hit.text[s - hit.start : e - hit.start] for s, e in spans]
            self._sentences[i] = (spans, self._encode(texts) if texts else np.zeros((0, 1)))
        return self._sentences[i]

    def support(self, claim: str, n: int) -> Support | None:
        """How passage `n` (1-based, as numbered in the prompt) backs `claim`."""
        if not 1 <= n <= len(self.hits):
            return None
        hit = self.hits[n - 1]
        spans, vectors = self._passage(n - 1)
        terms = content_terms(claim)
        if not spans or not terms:
            return None
        sims = vectors @ self._encode([claim])[0]
        sentence_recall = [
            _recall(terms, hit.text[s - hit.start : e - hit.start]) for s, e in spans
        ]
        best = int(np.argmax(sims + np.asarray(sentence_recall)))
        start, end = spans[best]
        numbers_found = set(NUMBER.findall(claim)) <= set(NUMBER.findall(hit.text))
        return Support(
            hit=hit,
            start=start,
            end=end,
            quote=hit.text[start - hit.start : end - hit.start],
            recall=_recall(terms, hit.text),
            missing=tuple(t for t in terms if t not in set(content_terms(hit.text))),
            similarity=float(sims[best]),
            numbers_found=numbers_found,
        )


def _recall(terms: list[str], text: str) -> float:
    return len(set(terms) & set(content_terms(text))) / len(terms) if terms else 0.0
