"""Question terms: stems, and stemming from many threads at once (the server answers on several)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from app.answering.text import content_terms, stem

WORDS = (
    "cooperation forums ministers hosted establishing relations diplomatic agreements "
    "presidential visited sessions plenary carbon neutrality digitalization healthcare "
    "standardization resources meetings officials declared anniversary economies"
).split()


def test_stems_and_content_terms() -> None:
    assert stem("Forums") == "forum" and stem("hosted") == "host"
    assert content_terms("Who hosted the 14th forum?") == ["host", "14th", "forum"]


def test_stemming_from_many_threads_gives_the_stems_of_one() -> None:
    """Regression (issue 9): one Snowball stemmer was shared by every thread, and `stemWord`
    keeps its state in the object, so concurrent questions could get each other's stems."""
    raw = stem.__wrapped__  # past the cache, so that every call really stems
    alone = [raw(w) for w in WORDS]
    with ThreadPoolExecutor(8) as pool:
        runs = list(pool.map(lambda _: [raw(w) for w in WORDS * 20], range(32)))
    assert all(run == alone * 20 for run in runs)


def test_specific_terms_are_the_names_and_numbers_of_a_question() -> None:
    from app.answering.text import specific_terms

    assert specific_terms("Where did the 14th ROK-Central Asia Forum meet in 2021?") == [
        "14th",
        "rok",
        "central",
        "asia",
        "forum",
        "2021",
    ]
    assert specific_terms("What did Korea's minister say in Tashkent?") == ["korea", "tashkent"]
    assert specific_terms("Who founded the secretariat?") == []
