"""The open-book simulation: Sourcebook ingests held-out SQuAD articles (never trained on) with
its own ingest and answers through the real `answer()`, as a user meets it:

- questions whose article is in the folder (should be answered, quoting the answer);
- questions of articles left out of the folder (should be refused);
- SQuAD 2.0's unanswerable questions about articles in the folder (should be refused).

Each is asked once with the answer bar at 0, which records the score of the sentence that would
lead the answer; the answer at any bar follows from it (the answerer's other refusals do not
depend on the bar). The bar is chosen on one half of the articles (`choose`) and reported on the
other (`report`), in two forms of the folder: one file per paragraph, and one long document per
article.

    .venv/bin/python -m train.simulate                       # figures of the shipped reader
    .venv/bin/python -m train.simulate --store-bar           # ... and store the chosen bar
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from train.squad import SQUAD2_VALIDATION, Question, by_title, read_questions, split_squad1

log = logging.getLogger("train.simulate")
FORMS = ("paragraphs", "articles")


@dataclass(frozen=True)
class Asked:
    """One question asked at bar 0: what it should get and what it got."""

    form: str
    half: str  # choose | report
    kind: str  # in-folder | left-out | adversarial
    question: str
    answered: bool  # by the answerer's rules other than the bar
    score: float  # of the sentence leading the answer (0 when not answered)
    right: bool  # an answer text is in a quote of its own article
    hit_rank: int  # rank of the first retrieved passage holding an answer text (0: none)
    seconds: float
    features: tuple[float, ...] = ()  # what a decision model could use besides the score


def file_name(title: str, paragraph: int | None = None) -> str:
    stem = title.replace("/", "_")
    return f"{stem}.txt" if paragraph is None else f"{stem}-p{paragraph:02d}.txt"


def write_folder(folder: Path, form: str, articles: dict[str, list[Question]]) -> None:
    """The in-folder articles as files: one per paragraph, or one per article."""
    folder.mkdir(parents=True)
    for title, questions in articles.items():
        paragraphs = list(dict.fromkeys(q.context for q in questions))
        if form == "articles":
            (folder / file_name(title)).write_text("\n\n".join(paragraphs) + "\n")
        else:
            for i, p in enumerate(paragraphs):
                (folder / file_name(title, i)).write_text(p + "\n")


@dataclass(frozen=True)
class Plan:
    """Which articles sit in the folder, which are left out, and each article's half."""

    in_folder: dict[str, list[Question]]
    left_out: dict[str, list[Question]]
    half: dict[str, str]


def make_plan(seed: int) -> Plan:
    _, held = split_squad1(seed)
    questions = held + read_questions(SQUAD2_VALIDATION)
    articles = by_title(questions)
    titles = sorted(articles)
    rng = random.Random(seed)
    rng.shuffle(titles)
    half = {t: ("choose", "report")[i % 2] for i, t in enumerate(titles)}
    out = set(titles[::3])  # a third of the articles are not in the folder
    return Plan(
        {t: articles[t] for t in titles if t not in out},
        {t: articles[t] for t in titles if t in out},
        half,
    )


def sample_questions(plan: Plan, per_half: int, seed: int) -> list[tuple[str, str, Question]]:
    """(half, kind, question): per half, `per_half` in-folder questions and half as many of
    each refusal kind."""
    rng = random.Random(seed)
    out = []
    for half in ("choose", "report"):
        pools = {
            "in-folder": [
                q
                for t, qs in plan.in_folder.items()
                if plan.half[t] == half
                for q in qs
                if q.answerable
            ],
            "left-out": [
                q
                for t, qs in plan.left_out.items()
                if plan.half[t] == half
                for q in qs
                if q.answerable
            ],
            "adversarial": [
                q
                for t, qs in plan.in_folder.items()
                if plan.half[t] == half
                for q in qs
                if not q.answerable
            ],
        }
        for kind, pool in pools.items():
            n = per_half if kind == "in-folder" else per_half // 2
            out += [(half, kind, q) for q in rng.sample(pool, min(n, len(pool)))]
    return out


def holds_answer(q: Question, text: str) -> bool:
    low = " ".join(text.split()).lower()
    return any(" ".join(t.split()).lower() in low for _, t in q.answers)


FEATURES = ("best", "second", "above 0.5", "top similarity", "question terms in the lead")


def features(a: Any, reader: Any) -> tuple[float, ...]:
    """The reader's best and second scores, how many sentences clear 0.5, the best passage's
    cosine to the question, and the share of the question's terms its lead sentence holds."""
    from app.answering.extractive import candidates
    from app.answering.text import content_terms

    found = candidates(a.standalone_question, a.retrieved, reader)
    scores = [c.score for c in found] + [0.0, 0.0]
    terms = set(content_terms(a.standalone_question))
    lead = set(content_terms(found[0].text)) if found else set()
    similarity = max((h.similarity for h in a.retrieved), default=0.0)
    covered = len(terms & lead) / max(len(terms), 1)
    return (scores[0], scores[1], float(sum(x >= 0.5 for x in scores)), similarity, covered)


def ask_all(
    form: str,
    plan: Plan,
    questions: list[tuple[str, str, Question]],
    home: Path,
    top_k: int,
    with_features: bool = False,
) -> list[Asked]:
    from app import answer, ingest
    from app.answering.reader import shipped
    from app.settings import Settings

    folder = home / form
    if not folder.exists():
        write_folder(folder, form, plan.in_folder)
    settings = Settings(home=home / f"{form}-index", folder=folder, top_k=top_k)
    started = time.time()
    ingest(settings=settings)
    log.info(
        "%s: ingested %d files in %.0f s", form, len(list(folder.iterdir())), time.time() - started
    )
    reader = shipped(settings.cache_dir.expanduser())
    bar, reader.bar = reader.bar, 0.0  # every answer the other rules allow, with its score
    out = []
    try:
        for n, (half, kind, q) in enumerate(questions, 1):
            if n % 200 == 0:
                log.info("%s: %d of %d asked", form, n, len(questions))
            t = time.perf_counter()
            a = answer(q.question, settings=settings)
            seconds = time.perf_counter() - t
            own = file_name(q.title).removesuffix(".txt")
            # The lead is the sentence the answer stands on: the best scored (a one-document
            # answer lists its sentences in the document's order, so it need not be the first).
            lead = max(a.citations, key=lambda c: c.score) if a.citations else None
            right = bool(
                q.answerable
                and lead
                and lead.source.startswith(own)
                and holds_answer(q, lead.quote)
            )
            ranks = [
                i
                for i, h in enumerate(a.retrieved, 1)
                if h.source.startswith(own) and q.answerable and holds_answer(q, h.text)
            ]
            score = lead.score if a.answered and lead else 0.0
            found = features(a, reader) if with_features else ()
            first = (ranks or [0])[0]
            out.append(
                Asked(form, half, kind, q.question, a.answered, score, right, first, seconds, found)
            )
    finally:
        reader.bar = bar
    return out


def rates(rows: list[Asked], bar: float) -> dict[str, float]:
    """At `bar`: answered right, refused right and answered wrong, as shares of all questions
    (they sum to 1 with "refused an answerable question"), and accuracy."""
    answered = np.array([r.answered and r.score >= bar for r in rows])
    answerable = np.array([r.kind == "in-folder" for r in rows])
    right = np.array([r.right for r in rows])
    return {
        "answered right": float(np.mean(answered & right)),
        "refused right": float(np.mean(~answered & ~answerable)),
        "answered wrong": float(np.mean(answered & ~right)),
        "refused answerable": float(np.mean(~answered & answerable)),
        "accuracy": float(np.mean(np.where(answerable, answered & right, ~answered))),
        "users' accuracy": users_accuracy(rows, answered),
        "answerable answered right": float(np.mean((answered & right)[answerable])),
        "left-out refused": float(np.mean(~answered[[r.kind == "left-out" for r in rows]])),
        "adversarial refused": float(np.mean(~answered[[r.kind == "adversarial" for r in rows]])),
    }


# A user's unanswerable question is usually about something the folder does not cover
# (../shared/data/squad1/README.md); SQuAD 2.0's, written to look answerable about a paragraph
# that is there, are the rarer kind. Among unanswerable questions, users' accuracy counts them
# half as much as left-out ones (2 : 1), where plain accuracy counts them alike (1 : 1).
ADVERSARIAL_WEIGHT = 0.5


def users_accuracy(rows: list[Asked], answered: np.ndarray) -> float:
    kind = np.array([r.kind for r in rows])
    right = np.array([r.right for r in rows])
    ok = np.where(kind == "in-folder", answered & right, ~answered).astype(float)
    weight = np.where(kind == "adversarial", ADVERSARIAL_WEIGHT, 1.0)
    return float((ok * weight).sum() / weight.sum())


def choose_bar(rows: list[Asked]) -> float:
    """The bar with the best users' accuracy on `rows` (the middle of the best plateau)."""
    grid = np.round(np.arange(0.0, 1.0, 0.01), 2)
    acc = np.array([rates(rows, b)["users' accuracy"] for b in grid])
    best = np.flatnonzero(acc >= acc.max() - 1e-9)
    return float(grid[best[len(best) // 2]])


def hit_at(rows: list[Asked], k: int) -> float:
    ok = [0 < r.hit_rank <= k for r in rows if r.kind == "in-folder"]
    return float(np.mean(ok))


def report(rows: list[Asked], bar: float) -> dict[str, object]:
    out: dict[str, object] = {"bar": bar}
    for form in FORMS:
        for half in ("choose", "report"):
            part = [r for r in rows if r.form == form and r.half == half]
            if not part:
                continue
            seconds = sorted(r.seconds for r in part)
            out[f"{form}/{half}"] = {k: round(v, 3) for k, v in rates(part, bar).items()} | {
                "hit@5": round(hit_at(part, 5), 3),
                "hit@6": round(hit_at(part, 6), 3),
                "questions": len(part),
                "p50 ms": round(1000 * seconds[len(seconds) // 2]),
                "p95 ms": round(1000 * seconds[int(0.95 * len(seconds))]),
            }
    return out


def compare_decision_model(rows: list[Asked], bar: float) -> dict[str, float]:
    """A logistic regression over FEATURES (answer when the lead is likelier right than the
    question unanswerable), fitted on the choose half, against the single bar, on the report
    half: accuracy of each."""
    from sklearn.linear_model import LogisticRegression

    choose = [r for r in rows if r.half == "choose" and r.answered and r.features]
    report = [r for r in rows if r.half == "report" and r.features]
    fit = [r for r in choose if r.right or r.kind != "in-folder"]  # wrong either way: left out
    model = LogisticRegression(max_iter=1000).fit(
        np.array([r.features for r in fit]), np.array([r.right for r in fit])
    )

    def accuracy(answer: np.ndarray) -> float:
        answerable = np.array([r.kind == "in-folder" for r in report])
        right = np.array([r.right for r in report])
        return float(np.mean(np.where(answerable, answer & right, ~answer)))

    answered = np.array([r.answered for r in report])
    p = model.predict_proba(np.array([r.features for r in report]))[:, 1]
    return {
        "bar accuracy": accuracy(answered & (np.array([r.score for r in report]) >= bar)),
        "decision model accuracy": accuracy(answered & (p >= 0.5)),
    }


def ask(args: argparse.Namespace) -> list[Asked]:
    from app.settings import Settings

    plan = make_plan(args.seed)
    questions = sample_questions(plan, args.per_half, args.seed)
    log.info(
        "%d articles in the folder, %d left out; %d questions",
        len(plan.in_folder),
        len(plan.left_out),
        len(questions),
    )
    rows: list[Asked] = []
    with tempfile.TemporaryDirectory() as home:
        for form in args.forms.split(","):
            top_k = args.top_k or Settings().top_k
            rows += ask_all(form, plan, questions, Path(home), top_k, args.features)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--per-half", type=int, default=300, help="in-folder questions per half")
    p.add_argument("--forms", default=",".join(FORMS))
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--rows", type=Path, help="keep every asked question here (JSON lines)")
    p.add_argument("--top-k", type=int, default=0, help="passages read (0: the default setting)")
    p.add_argument("--features", action="store_true", help="record a decision model's features")
    p.add_argument("--store-bar", action="store_true", help="store the chosen bar in the weights")
    p.add_argument("--from-rows", type=Path, help="choose and report from rows kept by --rows")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.from_rows:
        lines = args.from_rows.read_text().splitlines()
        rows = [Asked(**json.loads(line)) for line in lines if line.strip()]
    else:
        rows = ask(args)
    if args.rows and not args.from_rows:
        args.rows.write_text("".join(json.dumps(asdict(r)) + "\n" for r in rows))
    bar = choose_bar([r for r in rows if r.half == "choose"])
    out = report(rows, bar)
    if args.features:
        for form in args.forms.split(","):
            part = [r for r in rows if r.form == form]
            out[f"{form}/decision model"] = compare_decision_model(part, bar)
    print(json.dumps(out, indent=1))
    if args.store_bar:
        from safetensors.numpy import load_file, save_file

        from app.answering.reader import WEIGHTS, weights_metadata

        meta = weights_metadata() | {"answer_bar": f"{bar:.2f}"}
        save_file(load_file(str(WEIGHTS)), str(WEIGHTS), metadata=meta)
        log.info("answer bar %.2f stored in %s", bar, WEIGHTS)


if __name__ == "__main__":
    main()
