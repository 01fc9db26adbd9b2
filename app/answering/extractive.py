"""The default answerer: the reader (`reader.py`) reads the question with each sentence of the
retrieved passages and says how likely it answers; the answer quotes the sentences that do,
each cited, or refuses. It never writes a word the documents do not hold."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.answering.reader import Reader, framed
from app.answering.sentences import merge_short_runs, split_sentences
from app.answering.text import NUMBER, specific_terms, words
from app.answering.types import REFUSAL, Citation
from store import Hit, Index

MAX_PASSAGES = 5  # the reader reads the sentences of the best retrieved passages, no more
MAX_QUOTES = 3
MAX_QUOTE_CHARS = 600


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage with the reader's score for it."""

    hit: Hit
    start: int  # offsets into the document's text
    end: int
    text: str
    score: float  # P(it answers the question), by the reader


def sentences_of(hit: Hit) -> list[tuple[int, int]]:
    """The passage's sentences worth quoting, as offsets into the document."""
    spans = merge_short_runs(hit.text, split_sentences(hit.text, hit.start), hit.start)
    return [
        (s, e)
        for s, e in spans
        if e - s <= MAX_QUOTE_CHARS and re.search(r"\w{2}", hit.text[s - hit.start : e - hit.start])
    ]


def is_heading(text: str, hit: Hit) -> bool:
    """A line that names a page or a section rather than saying something: the title or heading
    itself, or one line in title case without a full stop."""
    line = text.strip().lstrip("#").strip()
    if line in (hit.heading, hit.title) or not line:
        return True
    if "\n" in line or line.endswith((".", "!", "?", ":", ";", "”", '"')):
        return False
    tokens = [w for w in line.split() if w[:1].isalpha()]
    capitalised = sum(w[:1].isupper() for w in tokens)
    return len(tokens) <= 20 and capitalised >= 0.7 * max(len(tokens), 1)


def unknown_terms(index: Index, question: str) -> list[str]:
    """The question's names and numbers that no indexed passage holds: a question about
    something the documents never mention cannot be answered from them."""
    terms = specific_terms(question)
    if not terms:
        return []
    _, frequencies = index.term_statistics(terms)
    return [t for t in terms if frequencies.get(t, 0) == 0]


def terms_of_document(index: Index, hit: Hit) -> set[str]:
    """The words of the hit's whole document and title, lowercased as specific_terms has them."""
    stored = index.document(hit.source)
    text = f"{hit.title} {stored.text if stored else hit.text}"
    return {re.sub(r"['’]s$", "", w.lower()) for w in words(text)}


def candidates(question: str, hits: list[Hit], reader: Reader) -> list[Candidate]:
    """Every quotable sentence of the best passages with the reader's score, best first;
    headings left out (they never stand in for an answer)."""
    seen: dict[tuple[str, int], tuple[Hit, int, int, str]] = {}
    for hit in hits[:MAX_PASSAGES]:
        for s, e in sentences_of(hit):
            text = hit.text[s - hit.start : e - hit.start]
            if not is_heading(text, hit):
                seen.setdefault((hit.source, s), (hit, s, e, text))
    items = list(seen.values())
    scores = reader.score(question, [framed(h.title, h.heading, t) for h, _, _, t in items])
    out = [Candidate(h, s, e, t, float(p)) for (h, s, e, t), p in zip(items, scores, strict=True)]
    out.sort(key=lambda c: (-c.score, c.hit.source, c.start))
    return out


BOTH = re.compile(r"\b((?:the\s+)?)(\w+)\s+and\s+(?:the\s+)?(\w+)\b", re.IGNORECASE)


def parts_of(question: str) -> list[str]:
    """A question about two numbered things ("the 12th and the 14th forums") as one question
    about each; any other question as itself."""
    for m in BOTH.finditer(question):
        first, second = m.group(2), m.group(3)
        if NUMBER.match(first) and NUMBER.match(second):
            head, tail = question[: m.start()], question[m.end() :]
            return [f"{head}{m.group(1)}{x}{tail}" for x in (first, second)]
    return [question]


def choose(index: Index, question: str, hits: list[Hit], reader: Reader) -> list[Candidate]:
    """The sentences to answer with, or none when the documents do not answer. A question about
    two numbered things is answered part by part, from the same passages."""
    parts = parts_of(question)
    if len(parts) == 1:
        return choose_one(index, question, hits, reader)
    chosen: list[Candidate] = []
    for part in parts:
        found = choose_one(index, part, hits, reader)
        if not found:
            return []  # half an answer to a question about two things is not an answer
        chosen += [c for c in found if not any(_overlaps(c, d) for d in chosen)]
    return chosen


def choose_one(index: Index, question: str, hits: list[Hit], reader: Reader) -> list[Candidate]:
    """The sentences to answer one question with, or none when the documents do not answer.

    The reader's best sentence leads, if it clears the answer bar. Another sentence that clears
    it joins from the same document where it goes on from a chosen one, or from another document when that
    document names something of the question the chosen ones do not (a question about two
    documents: "the 12th and the 14th forums"). A document holding none of the question's
    numbers never answers it ("the 15th forum" is not answered from a page about the 14th)."""
    if not hits or unknown_terms(index, question):
        return []
    wanted = set(specific_terms(question))
    numbers = {t for t in wanted if NUMBER.match(t)}
    held: dict[str, set[str]] = {}
    chosen: list[Candidate] = []
    covered: set[str] = set()
    for cand in candidates(question, hits, reader):
        if cand.score < reader.bar or len(chosen) == MAX_QUOTES:
            break
        source = cand.hit.source
        if source not in held:
            held[source] = wanted & terms_of_document(index, cand.hit)
        if numbers and not numbers & held[source]:
            continue
        sources = [c.hit.source for c in chosen]
        if chosen and source not in sources and not held[source] - covered:
            continue
        if any(_overlaps(cand, c) for c in chosen):
            continue
        if source in sources and not any(_adjacent(cand, c) for c in chosen):
            continue  # a further sentence of the same document only where it goes on from one
        chosen.append(cand)
        covered |= held[source]
    if len({c.hit.source for c in chosen}) == 1:
        chosen.sort(key=lambda c: c.start)  # one document's sentences read in its order
    return chosen


def _adjacent(a: Candidate, b: Candidate) -> bool:
    """Whether two sentences of one passage follow each other, nothing between them."""
    if a.hit.chunk_id != b.hit.chunk_id:
        return False
    first, second = sorted((a, b), key=lambda c: c.start)
    return not a.hit.text[first.end - a.hit.start : second.start - a.hit.start].strip()


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
    index: Index, question: str, hits: list[Hit], reader: Reader
) -> tuple[str, list[Citation], bool]:
    """(text, citations, answered) for `question` from the retrieved `hits`."""
    chosen = choose(index, question, hits, reader)
    if not chosen:
        return REFUSAL, [], False
    text, citations = compose(chosen)
    return text, citations, True
