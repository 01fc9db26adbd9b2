"""Several servers over one index: throughput and latency of `sourcebook serve` with one server,
then two, over the same PostgreSQL and Chroma server (all on this machine, loopback), the CPU
each tier spends per request, what N machines would carry and where the bottleneck moves; and
how long a chunk written by one server takes to be searchable by keyword on another.

    .venv/bin/python bench/replicas.py --small   # CI-sized: 4 users x 3 questions
    .venv/bin/python bench/replicas.py           # 8 users x 10 questions, 20 lag samples

Real parts: Debian's PostgreSQL (started here in a temporary folder, as the postgres user when
run as root), `chroma run`, and `sourcebook serve` processes with homes of their own. On one
2-core machine the second server shares the CPU with the first, so two servers cannot beat one
here; the per-request CPU of each tier (read from /proc) says what separate machines would do.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.helpers import (  # noqa: E402
    CORPUS,
    SOURCEBOOK,
    Postgres,
    free_port,
    new_database,
    quiet_env,
    start_chroma,
    wait_listening,
)

QUESTIONS = [
    "Which prime minister visited Tajikistan and Kyrgyzstan?",
    "When were diplomatic relations between Korea and Central Asia established?",
    "When did the first Korea-Central Asia high-level officials meeting take place?",
    "In which city did the 14th Central Asia-ROK Cooperation Forum take place?",
    "On what date did the 14th forum take place?",
    "What did the participants agree about working-level group meetings?",
    "Which agencies sent experts on standardization and water resources?",
    "Who won the 2014 Nobel Prize in Literature?",
]
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (those gone count nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def children(pid: int) -> list[int]:
    """`pid` and its direct children (PostgreSQL's backends are the postmaster's)."""
    found = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


@contextmanager
def serve(env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [SOURCEBOOK, "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )
        try:
            wait_listening(f"http://127.0.0.1:{port}/v1/models", proc, seconds=300)
            yield f"http://127.0.0.1:{port}", proc.pid
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def ask(url: str, question: str) -> float:
    import httpx

    body = {"model": "sourcebook", "messages": [{"role": "user", "content": question}]}
    started = time.perf_counter()
    r = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=300)
    r.raise_for_status()
    return time.perf_counter() - started


def load(urls: list[str], users: int, per_user: int) -> tuple[list[float], float, int]:
    """`users` threads, user n on server n mod len(urls), each asking `per_user` questions in
    turn: (latencies, wall seconds, errors)."""
    latencies: list[float] = []
    errors = [0]

    def user(n: int) -> None:
        for i in range(per_user):
            try:
                latencies.append(ask(urls[n % len(urls)], QUESTIONS[(n + i) % len(QUESTIONS)]))
            except Exception:
                errors[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - started, errors[0]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def round_of(
    name: str, urls: list[str], tiers: dict[str, Callable[[], list[int]]], users: int, per_user: int
) -> dict[str, float]:
    for url in urls:  # warm: each server has answered each question once
        for q in QUESTIONS:
            ask(url, q)
    pids = {tier: found() for tier, found in tiers.items()}  # backends opened while warming
    before = {tier: cpu_seconds(pids[tier]) for tier in tiers}
    latencies, wall, errors = load(urls, users, per_user)
    n = len(latencies)
    spent = {tier: (cpu_seconds(pids[tier]) - before[tier]) / max(n, 1) for tier in tiers}
    print(
        f"  {name}: {n} answers, {errors} errors, {n / wall:.2f} answers/s, "
        f"p50 {statistics.median(latencies):.2f} s, p95 {pct(latencies, 95):.2f} s, "
        f"max {max(latencies):.2f} s"
    )
    print(
        "    CPU seconds per answer: "
        + ", ".join(f"{tier} {seconds * 1000:.0f} ms" for tier, seconds in spent.items())
    )
    return {"throughput": n / wall, **spent}


def estimate(spent: dict[str, float], cores: int) -> None:
    """What N app machines of `cores` cores would carry, with one PostgreSQL and one Chroma
    machine of the same size, from the CPU each tier spends per answer."""
    app = spent["servers"]
    capacity = {tier: cores / max(spent[tier], 1e-6) for tier in ("postgres", "chroma")}
    print(
        f"\n== N machines of {cores} cores each, one answer costing {app * 1000:.0f} ms of app "
        f"CPU (encoder, reader, HTTP), {spent['postgres'] * 1000:.1f} ms of PostgreSQL, "
        f"{spent['chroma'] * 1000:.1f} ms of Chroma"
    )
    per_machine = cores / app
    limit_tier = min(capacity, key=lambda t: capacity[t])
    for n in (1, 2, 4, 8, 16, 32, 64):
        carried = min(n * per_machine, *capacity.values())
        bound = (
            "app servers (the encoder and reader)"
            if n * per_machine <= capacity[limit_tier]
            else limit_tier
        )
        print(f"  {n:3d} app machines: ~{carried:6.1f} answers/s, bound by {bound}")
    print(
        f"  the bottleneck moves to {limit_tier} past ~{capacity[limit_tier] / per_machine:.0f} "
        f"app machines ({capacity[limit_tier]:.0f} answers/s); PostgreSQL alone would carry "
        f"{capacity['postgres']:.0f}/s, Chroma {capacity['chroma']:.0f}/s"
    )


def searchable_lag(settings_of: Callable[[str], Any], folder: Path, samples: int) -> None:
    """From the end of an ingest by one home to the new chunk's first keyword hit on another
    home's index (its follower polls the shared log)."""
    from app.library import get_index, ingest

    writer, reader = settings_of("writer"), settings_of("reader")
    index = get_index(reader)
    lags = []
    for i in range(samples):
        word = f"zyzzogeton{i}x"
        (folder / f"lag-{i}.md").write_text(f"# Lag {i}\n\nThe {word} hums at noon.\n")
        ingest(settings=writer)
        done = time.perf_counter()
        while not index.keyword_search(word, 1):
            time.sleep(0.005)
        lags.append(time.perf_counter() - done)
    print(
        f"\n== a new chunk, written through one home, searchable by keyword from another: "
        f"p50 {statistics.median(lags) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms over "
        f"{samples} ingests (the follower looks every 0.5 s; dense search and the chunk table "
        "see it at commit)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="CI-sized run")
    parser.add_argument("--users", type=int, help="concurrent users (default 8; --small 4)")
    parser.add_argument("--per-user", type=int, help="questions each (default 10; --small 3)")
    args = parser.parse_args()
    users = args.users or (4 if args.small else 8)
    per_user = args.per_user or (3 if args.small else 10)
    os.environ.update(quiet_env())

    from app.library import forget_open_indexes, ingest
    from app.settings import Settings
    from store.machine import describe

    print(f"CPU: {describe()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="sb-replicas-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        postgres = Postgres().start()
        stack.callback(postgres.remove)
        chroma_port = free_port()
        chroma = start_chroma(work / "chroma", chroma_port)
        stack.callback(chroma.terminate)
        database, chroma_url = new_database(postgres.url), f"http://127.0.0.1:{chroma_port}"
        folder = work / "docs"
        shutil.copytree(CORPUS, folder)

        def settings_of(home: str) -> Settings:
            return Settings(
                home=work / home, folder=folder, database_url=database, chroma_url=chroma_url
            )

        def env(home: str) -> dict[str, str]:
            return quiet_env(
                SOURCEBOOK_HOME=str(work / home),
                SOURCEBOOK_FOLDER=str(folder),
                SOURCEBOOK_DATABASE_URL=database,
                SOURCEBOOK_CHROMA_URL=chroma_url,
            )

        ingest(settings=settings_of("writer"))
        pg_pid = int((postgres.folder / "data" / "postmaster.pid").read_text().split()[0])
        print(f"\n== {users} users x {per_user} questions through /v1, bundled corpus")
        a, a_pid = stack.enter_context(serve(env("a"), work / "a.log"))
        tiers = {
            "servers": lambda: [a_pid],
            "postgres": lambda: children(pg_pid),
            "chroma": lambda: [chroma.pid],
        }
        one = round_of("one server ", [a], tiers, users, per_user)
        b, b_pid = stack.enter_context(serve(env("b"), work / "b.log"))
        tiers["servers"] = lambda: [a_pid, b_pid]
        two = round_of("two servers", [a, b], tiers, users, per_user)
        print(
            f"  two servers on these {os.cpu_count()} cores: {two['throughput'] / one['throughput']:.2f}x "
            "the throughput of one (they share the cores)"
        )
        estimate(two, os.cpu_count() or 2)
        searchable_lag(settings_of, folder, 5 if args.small else 20)
        forget_open_indexes()


if __name__ == "__main__":
    main()
