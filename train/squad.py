"""SQuAD as the reader trains on it: questions with their paragraph's sentences, the articles held
out for the open-book simulation, and the (question, sentence) pairs with their negatives."""

from __future__ import annotations

import gzip
import json
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.answering.sentences import split_sentences
from app.answering.text import content_terms

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SQUAD1 = DATA / "squad1" / "train.jsonl.gz"
SQUAD2_TRAIN = DATA / "squad2" / "train.jsonl"
SQUAD2_VALIDATION = DATA / "squad2" / "validation.jsonl"
HELD_OUT_ARTICLES = 24  # SQuAD 1.1 articles kept out of training, for the simulation


@dataclass(frozen=True)
class Question:
    qid: str
    title: str
    context: str
    question: str
    answers: tuple[tuple[int, str], ...]  # (start, text) in the paragraph; () unanswerable

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def _open(path: Path) -> Iterator[str]:
    with gzip.open(path, "rt") if path.suffix == ".gz" else path.open() as f:
        yield from f


def read_questions(path: Path) -> list[Question]:
    out = []
    for line in _open(path):
        if line.strip():
            r = json.loads(line)
            answers = tuple((int(a["start"]), str(a["text"])) for a in r["answers"])
            out.append(Question(r["id"], r["title"], r["context"], r["question"], answers))
    return out


def held_out_titles(questions: list[Question], seed: int = 13) -> list[str]:
    """The SQuAD 1.1 articles the simulation reads, never trained on (chosen by seed)."""
    titles = sorted({q.title for q in questions})
    return sorted(random.Random(seed).sample(titles, HELD_OUT_ARTICLES))


def split_squad1(seed: int = 13) -> tuple[list[Question], list[Question]]:
    """SQuAD 1.1 as (training questions, held-out questions)."""
    questions = read_questions(SQUAD1)
    held = set(held_out_titles(questions, seed))
    return [q for q in questions if q.title not in held], [q for q in questions if q.title in held]


@dataclass(frozen=True)
class Paragraph:
    title: str
    text: str
    sentences: tuple[tuple[int, int], ...]

    def sentence(self, i: int) -> str:
        s, e = self.sentences[i]
        return self.text[s:e]


def paragraphs_of(questions: list[Question]) -> dict[str, Paragraph]:
    """Each distinct paragraph (by text) with its sentences, as the app splits them."""
    out: dict[str, Paragraph] = {}
    for q in questions:
        if q.context not in out:
            spans = tuple(split_sentences(q.context))
            out[q.context] = Paragraph(q.title, q.context, spans)
    return out


def gold_sentences(q: Question, p: Paragraph) -> list[int]:
    """Sentences where an answer starts."""
    return sorted({i for i, (s, e) in enumerate(p.sentences) for a, _ in q.answers if s <= a < e})


def free_of_answer(q: Question, text: str) -> bool:
    """Whether `text` holds none of the question's answer texts (a safe negative)."""
    low = text.lower()
    return not any(t.lower() in low for _, t in q.answers)


@dataclass(frozen=True)
class Pair:
    """One training example: the question, the sentence under its title, the label, and where the
    answer lies in the sentence (characters; (-1, -1): none)."""

    question: str
    title: str
    sentence: str
    label: float
    kind: str  # gold | paragraph | article | other-article | adversarial
    span: tuple[int, int] = (-1, -1)


def overlap(question_terms: set[str], text: str) -> int:
    return len(question_terms & set(content_terms(text)))


def hardest(q_terms: set[str], p: Paragraph, allowed: list[int], rng: random.Random) -> int:
    """Of `allowed` sentences, the one sharing most terms with the question (ties at random)."""
    return max(allowed, key=lambda i: (overlap(q_terms, p.sentence(i)), rng.random()))


def pair_of(q: Question, p: Paragraph, i: int, label: float, kind: str) -> Pair:
    span = (-1, -1)
    if label:
        s, e = p.sentences[i]
        for a, t in q.answers:
            if s <= a and a + len(t) <= e:
                span = (a - s, a - s + len(t))
                break
    return Pair(q.question, q.title, p.sentence(i), label, kind, span)


def pairs_for(
    q: Question,
    paragraphs: dict[str, Paragraph],
    near_same: list[str],
    near_other: list[str],
    rng: random.Random,
) -> list[Pair]:
    """The pairs of one question: its gold sentence; another sentence of its paragraph; the
    likeliest-looking sentence of the most similar paragraph of its own article and of another
    article (both free of the answer: how a question meets passages that do not answer it).
    An adversarial (unanswerable) question: its paragraph's likeliest-looking sentence and one
    more."""
    p = paragraphs[q.context]
    terms = set(content_terms(q.question))
    out: list[Pair] = []
    if not q.answerable:
        order = list(range(len(p.sentences)))
        first = hardest(terms, p, order, rng)
        out.append(pair_of(q, p, first, 0.0, "adversarial"))
        rest = [i for i in order if i != first]
        if rest:
            out.append(pair_of(q, p, rng.choice(rest), 0.0, "adversarial"))
        return out
    gold = gold_sentences(q, p)
    if not gold:
        return []
    out.append(pair_of(q, p, gold[0], 1.0, "gold"))
    rest = [i for i in range(len(p.sentences)) if free_of_answer(q, p.sentence(i))]
    if rest:
        out.append(pair_of(q, p, rng.choice(rest), 0.0, "paragraph"))
    for kind, near in (("article", near_same), ("other-article", near_other)):
        for context in near:
            other = paragraphs[context]
            safe = [i for i in range(len(other.sentences)) if free_of_answer(q, other.sentence(i))]
            if safe:
                out.append(pair_of(q, other, hardest(terms, other, safe, rng), 0.0, kind))
                break
    return out


def nearest_paragraphs(
    questions: list[Question],
    paragraphs: dict[str, Paragraph],
    q_vectors: np.ndarray,
    p_vectors: np.ndarray,
    keep: int = 3,
) -> tuple[list[list[str]], list[list[str]]]:
    """For each question, the paragraphs most like it (cosine): other paragraphs of its own
    article, and paragraphs of other articles; `keep` of each, best first."""
    contexts = list(paragraphs)
    titles = np.array([paragraphs[c].title for c in contexts])
    same: list[list[str]] = []
    other: list[list[str]] = []
    for lo in range(0, len(questions), 2048):
        block = questions[lo : lo + 2048]
        sims = q_vectors[lo : lo + 2048] @ p_vectors.T
        order = np.argsort(-sims, axis=1)[:, :200]
        for q, row in zip(block, order, strict=True):
            s: list[str] = []
            o: list[str] = []
            for j in row:
                c = contexts[j]
                if c == q.context:
                    continue
                (s if titles[j] == q.title else o).append(c)
            same.append(s[:keep])
            other.append(o[:keep])
    return same, other


def by_title(questions: list[Question]) -> dict[str, list[Question]]:
    out: dict[str, list[Question]] = defaultdict(list)
    for q in questions:
        out[q.title].append(q)
    return out
