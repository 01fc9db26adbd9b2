"""The cache of page pictures (the viewer's scanned pages): the hand-written OrderedDict cache
that app/library.py had beside functools.lru_cache and cachetools.LRUCache, on a viewer's way of
opening pages: how many opens a cache of 16 pictures answers, and its cost per open.

    .venv/bin/python bench/lru.py      # needs `pip install -e .[bench]` for cachetools

The trace: 5,000 opens over 6 scanned documents of 40 pages; a reader mostly goes back to a page
seen a little earlier (a citation opened again, two quotes on one page), often to the page next
to the last, now and then anywhere. The same trace (fixed seed) for every cache.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from store.machine import describe  # noqa: E402

KEPT = 16
Key = tuple[str, int]  # (document hash, page)
Cache = Callable[[Key, Callable[[Key], bytes]], bytes]  # get the picture, drawing it if needed


def trace(opens: int = 5000, seed: int = 3) -> list[Key]:
    rng = random.Random(seed)
    seen: list[Key] = [("doc0", 1)]
    for _ in range(opens - 1):
        roll = rng.random()
        if roll < 0.55:  # back to a page seen a little earlier
            key = rng.choice(seen[-24:])
        elif roll < 0.85:  # the page next to the last
            doc, page = seen[-1]
            key = (doc, max(1, min(40, page + rng.choice((-1, 1)))))
        else:  # anywhere
            key = (f"doc{rng.randrange(6)}", rng.randint(1, 40))
        seen.append(key)
    return seen


def ordered_dict() -> Cache:
    """As app/library.py had it: a hit is returned in place, the oldest insertion goes first."""
    kept: OrderedDict[Key, bytes] = OrderedDict()
    lock = threading.Lock()

    def get(key: Key, draw: Callable[[Key], bytes]) -> bytes:
        with lock:
            if key in kept:
                return kept[key]
        image = draw(key)
        with lock:
            kept[key] = image
            while len(kept) > KEPT:
                kept.popitem(last=False)
        return image

    return get


def functools_lru() -> Cache:
    drawer: list[Callable[[Key], bytes]] = []

    @lru_cache(maxsize=KEPT)
    def cached(key: Key) -> bytes:
        return drawer[0](key)

    def get(key: Key, draw: Callable[[Key], bytes]) -> bytes:
        drawer[:] = [draw]
        return cached(key)

    return get


def cachetools_lru() -> Cache:
    from cachetools import LRUCache

    kept: LRUCache[Key, bytes] = LRUCache(maxsize=KEPT)
    lock = threading.Lock()

    def get(key: Key, draw: Callable[[Key], bytes]) -> bytes:
        with lock:
            image: bytes | None = kept.get(key)
        if image is None:
            image = draw(key)
            with lock:
                kept[key] = image
        return image

    return get


def replay(get: Cache, opens: list[Key]) -> int:
    """How many pages the cache had drawn over the trace."""
    drawn: list[Key] = []

    def draw(key: Key) -> bytes:
        drawn.append(key)
        return b"png"

    for key in opens:
        get(key, draw)
    return len(drawn)


def main() -> None:
    import cachetools

    print(f"CPU: {describe()}")
    opens = trace()
    candidates = {
        "OrderedDict, by hand": ordered_dict,
        "functools.lru_cache": functools_lru,
        f"cachetools {cachetools.__version__} LRUCache": cachetools_lru,
    }
    print(f"{len(opens)} opens, {KEPT} pictures kept; a miss draws the page in the parse worker")
    print(f"{'':30}{'opens answered':>16}{'pages drawn':>13}{'µs per hit':>12}")
    for label, make in candidates.items():
        get = make()
        drawn = replay(get, opens)
        hits = len(opens) - drawn
        started = time.perf_counter()
        for _ in range(20):
            for key in opens[-KEPT:]:
                get(key, lambda k: b"png")
        micros = (time.perf_counter() - started) / (20 * KEPT) * 1e6
        print(f"{label:30}{hits / len(opens):>16.1%}{drawn:>13}{micros:>12.2f}")


if __name__ == "__main__":
    main()
