"""The default answerer: the reader (`reader.py`) reads the question with each sentence of the
retrieved passages and says how likely it answers; the answer quotes the sentences that do,
each cited, or refuses. It never writes a word the documents do not hold."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.answering.reader import Reader, Sentence, frame_of
from app.answering.sentences import FENCE, quotable_units
from app.answering.text import NUMBER, specific_terms, words
from app.answering.types import REFUSAL, Citation
from store import Hit, Index

MAX_QUOTES = 3
MAX_QUOTE_CHARS = 600
MAX_CODE_CHARS = 1500


@dataclass(frozen=True)
class Candidate:
    """A quotable unit of a retrieved passage (a sentence, or a code block whole) with the
    reader's score for it."""

    hit: Hit
    start: int  # offsets into the document's text
    end: int
    text: str
    score: float  # P(it answers the question), by the reader
    answer: tuple[int, int] | None = None  # the words that answer, as offsets into the document
    code: bool = False


@dataclass(frozen=True)
class Unit:
    """What can be quoted from a passage: a sentence, or a code block whole."""

    start: int  # offsets into the document's text
    end: int
    text: str
    code: bool


def units_of(hit: Hit) -> list[Unit]:
    """The passage's quotable units, in order, as offsets into the document."""
    out: list[Unit] = []
    for s, e, code in quotable_units(hit.text, hit.start):
        text = hit.text[s - hit.start : e - hit.start]
        if e - s <= (MAX_CODE_CHARS if code else MAX_QUOTE_CHARS) and re.search(r"\w{2}", text):
            out.append(Unit(s, e, text, code))
    return out


def is_heading(text: str, hit: Hit) -> bool:
    """A line that names a page or a section rather than saying something: the title or heading
    itself, or one line in title case without a full stop."""
    line = text.strip().lstrip("#").strip()
    if line in (hit.heading, hit.title) or not line or line.endswith("¶"):
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
    seen: dict[tuple[str, int], tuple[Hit, Unit]] = {}
    for hit in hits:  # every retrieved passage (SOURCEBOOK_TOP_K of them)
        for unit in units_of(hit):
            if unit.code or not is_heading(unit.text, hit):
                seen.setdefault((hit.source, unit.start), (hit, unit))
    items = list(seen.values())
    sentences = [Sentence(frame_of(h.title, h.heading), u.text) for h, u in items]
    out = []
    for (h, u), r in zip(items, reader.read(question, sentences), strict=True):
        answer = r.answer and (u.start + r.answer[0], u.start + r.answer[1])
        out.append(Candidate(h, u.start, u.end, u.text, r.score, answer, u.code))
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
    pool = candidates(question, hits, reader)
    for cand in pool:
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
        if source in sources and (
            cand.hit.row is not None or not any(_adjacent(cand, c) for c in chosen)
        ):
            continue  # a further sentence of the same document only where it goes on from one;
            # a table's rows are records of their own, never a continuation
        chosen.append(cand)
        covered |= held[source]
    chosen = with_code(chosen, pool, bool(HOW_TO.match(question)))
    if len({c.hit.source for c in chosen}) == 1:
        chosen.sort(key=lambda c: c.start)  # one document's sentences read in its order
    return chosen


HOW_TO = re.compile(r"\s*how\s+(to|(do|can|could|should|would|may)\s+(i|you|we|one))\b", re.I)


def with_code(chosen: list[Candidate], pool: list[Candidate], how_to: bool) -> list[Candidate]:
    """The chosen units with the code block each chosen sentence introduces ("... type this into
    the terminal:") and the sentence introducing each chosen code block: how-to answers quote
    both, the sentence first. For a how-to question, a chosen sentence also brings the code block
    right after it, or after the one sentence that introduces it ("You can install packages with
    pip. Name the package:")."""
    out: list[Candidate] = []
    for c in chosen:
        pair = [c]
        if how_to and not c.code:
            pair = [c, *_code_after(c, pool, [*chosen, *out])]
            if len(pair) > 1:
                out += pair
                continue
        for other in pool:
            lead, block = (c, other) if other.code else (other, c)
            if (
                other.code != c.code
                and lead.start < block.start
                and lead.text.rstrip().endswith(":")
                and _adjacent(lead, block)
                and not any(_overlaps(other, d) for d in (*chosen, *out))
            ):
                pair = [lead, block]
                break
        out += pair
    return out


def _code_after(c: Candidate, pool: list[Candidate], taken: list[Candidate]) -> list[Candidate]:
    """The code block right after `c` in its passage, with the one ":"-ending sentence between
    them if there is one; none if anything else comes first."""
    after = sorted(
        (o for o in pool if o.hit.source == c.hit.source and o.start >= c.end),
        key=lambda o: o.start,
    )[:2]
    run = [c, *after]
    for n in range(1, len(run)):
        if not _adjacent(run[n - 1], run[n]) or any(_overlaps(run[n], d) for d in taken):
            return []
        if run[n].code:
            return run[1 : n + 1]
        if not run[n].text.rstrip().endswith(":"):
            return []
    return []


def _adjacent(a: Candidate, b: Candidate) -> bool:
    """Whether two units of one document follow each other, nothing between them but space and
    a code block's fence (within one passage, or across two neighbouring ones)."""
    if a.hit.source != b.hit.source:
        return False
    first, second = sorted((a, b), key=lambda c: c.start)
    for hit in (a.hit, b.hit):  # either passage may hold the gap (passages overlap)
        if hit.start <= first.end <= second.start <= hit.end:
            between = hit.text[first.end - hit.start : second.start - hit.start]
            return not FENCE.sub("", between.strip(" \t") + "\n").strip()
    # One ends its passage and the other starts the next: the chunker cuts passages only at
    # white space, so a few characters between them are white space.
    return first.end == first.hit.end and second.start == second.hit.start <= first.end + 8


def _overlaps(a: Candidate, b: Candidate) -> bool:
    same_text = " ".join(a.text.split()) == " ".join(b.text.split())
    return same_text or (a.hit.source == b.hit.source and a.start < b.end and b.start < a.end)


def compose(chosen: list[Candidate]) -> tuple[str, list[Citation]]:
    """The answer text, each sentence followed by its citation marker."""
    citations = [
        Citation.of(n, c.hit, c.start, c.end, c.score, c.answer, c.code)
        for n, c in enumerate(chosen, 1)
    ]
    parts = []
    for cite, c in zip(citations, chosen, strict=True):
        if c.code:
            parts.append(f"\n{cite.quote}\n[{cite.n}]\n")
            continue
        sentence = re.sub(r"\s+", " ", cite.quote).strip()
        sentence = re.sub(r"^(\d{1,3}|[ivxIVX]{1,4}|[•·\-*o])[.)]?\s+(?=\w)", "", sentence)
        parts.append(f"{sentence} [{cite.n}]")
    return " ".join(parts).replace("\n ", "\n").strip(), citations


def extractive_answer(
    index: Index, question: str, hits: list[Hit], reader: Reader
) -> tuple[str, list[Citation], bool]:
    """(text, citations, answered) for `question` from the retrieved `hits`."""
    chosen = choose(index, question, hits, reader)
    if not chosen:
        return REFUSAL, [], False
    text, citations = compose(chosen)
    return text, citations, True
