"""Shared by the scale benchmarks: real text from Debian's documentation packages, the fixed
queries asked of it, percentiles, and the line naming the CPU the figures came from."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import tempfile
import time
from pathlib import Path

# Debian's documentation packages: ~10,300 HTML files between them (Debian 12).
PACKAGES = [
    "python3.11-doc",
    "postgresql-doc-15",
    "debian-handbook",
    "python-django-doc",
    "python-sqlalchemy-doc",
    "python-pandas-doc",
    "git-doc",
]
DOC_DIRS = [
    Path("/usr/share/doc/python3.11/html"),
    Path("/usr/share/doc/postgresql-doc-15/html"),
    Path("/usr/share/doc/debian-handbook/html"),
    Path("/usr/share/doc/python-django-doc"),
    Path("/usr/share/doc/python-sqlalchemy-doc"),
    Path("/usr/share/doc/python-pandas-doc"),
    Path("/usr/share/doc/git-doc"),
]
QUERIES = [
    "How do I create an index on a table?",
    "What does the with statement do?",
    "How to configure a network interface with a static address",
    "difference between a list and a tuple",
    "How does VACUUM reclaim storage?",
    "What is a generator expression?",
    "How do I install a package with apt?",
    "transaction isolation levels",
    "How to read a file line by line",
    "What is the global interpreter lock?",
    "How do I back up a database with pg_dump?",
    "configure the firewall with iptables",
    "What does the asyncio event loop do?",
    "How to write a regular expression that matches an email address",
    "What is a foreign key constraint?",
    "How to set up a mail server with Postfix",
    "decorators with arguments",
    "How are dictionaries ordered?",
    "What is write-ahead logging?",
    "How do I add a user to a group?",
    "unicode strings and encodings",
    "How do I join two tables?",
    "What is a virtual environment?",
    "How to mount a file system at boot",
    "exceptions and tracebacks",
    "How does the query planner choose a plan?",
    "What is the difference between is and ==?",
    "How to schedule a job with cron",
    "What are window functions?",
    "How to parse command line arguments",
    "How to configure Apache virtual hosts",
    "What is a context manager?",
    "How does replication work?",
    "What does the subprocess module do?",
    "How to sign packages with GnuPG",
    "What is a sequence in SQL?",
    "logging configuration from a file",
    "How to share a printer on the network",
    "What is a JSONB column?",
    "How to measure execution time of small code snippets",
]


def cpu_line() -> str:
    """The CPU's model name, the ISA features that matter here, and the load at this moment
    (the machines are shared: compare figures of one run, not across runs)."""
    model, flags = "unknown CPU", set[str]()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model == "unknown CPU":
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    features = " ".join(
        f"{f}={'yes' if f in flags else 'no'}" for f in ("avx2", "avx512f", "avx512_vnni")
    )
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"CPU: {model}, {os.cpu_count()} cores, {features}; load average {load}"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 50) * 1000:7.1f} ms   p95 {percentile(values, 95) * 1000:7.1f} ms"
    )


def doc_files(packages: int) -> list[Path]:
    """Every HTML file of the first `packages` documentation packages, installed with apt-get
    if missing."""
    names, dirs = PACKAGES[:packages], DOC_DIRS[:packages]
    if not all(d.is_dir() for d in dirs):
        print(f"installing {' '.join(names)} with apt-get ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        apt = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *names]
        subprocess.run(apt, env=env, check=True)
    files = [p for d in dirs for p in sorted(d.rglob("*.htm*")) if p.is_file()]
    print(f"documentation: {len(files)} HTML files in {', '.join(str(d) for d in dirs)}")
    return files


def spread(files: list[Path], n: int) -> list[Path]:
    """`n` files taken evenly across the packages (a fixed choice, the same every run)."""
    rng = random.Random(5)
    return sorted(rng.sample(files, min(n, len(files))))


def extracted_texts(files: list[Path]) -> list[tuple[str, str]]:
    """(source, extracted text) of each file that loads, through the ingest's own loaders;
    kept in the temporary folder between runs (extracting 10,000 pages takes minutes)."""
    from ingest import LoadError, load

    key = hashlib.sha256("\n".join(map(str, files)).encode()).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / "sourcebook-bench" / f"doc-text-{key}.jsonl"
    if cache.exists():
        return [tuple(json.loads(line)) for line in cache.open()]
    started, out = time.monotonic(), []
    for path in files:
        try:
            text = load(path, path.read_bytes()).text
        except LoadError:
            continue
        out.append((path.relative_to("/usr/share/doc").as_posix(), text))
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{os.getpid()}")
    with tmp.open("w") as f:
        f.writelines(json.dumps(item) + "\n" for item in out)
    tmp.replace(cache)
    print(f"  extracted the text of {len(out)} files in {time.monotonic() - started:.0f} s")
    return out


def text_windows(files: list[Path], total: int, size: int = 900) -> list[tuple[str, str]]:
    """`total` (source, text) windows of ~`size` characters cut from the documents' text. When
    the documents hold fewer, further passes cut them again at other offsets (as other
    documents: `source#pass`), so no two windows are the same text and posting lists grow as
    a larger corpus's would."""
    docs = extracted_texts(files)
    out: list[tuple[str, str]] = []
    for rounds in range(1_000):
        shift = (rounds * 397) % size
        for source, text in docs:
            name = source if rounds == 0 else f"{source}#{rounds}"
            for start in range(shift, len(text) - size // 3, size):
                out.append((name, text[start : start + size]))
                if len(out) >= total:
                    return out
    return out
