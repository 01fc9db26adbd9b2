"""The `sourcebook` command: maps arguments to the library and its errors to exit codes."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_SKIPPED = 0, 1, 2, 3
log = logging.getLogger("sourcebook")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sourcebook",
        description="Answers from a folder of documents, every claim cited to an exact quote.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="bring the index in step with the documents folder")
    p.add_argument(
        "paths", nargs="*", type=Path, help="a folder to index, or files/folders inside it"
    )
    p.add_argument("--rebuild", action="store_true", help="drop the index and build it anew")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = sub.add_parser("search", help="show the passages that best match a query")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
    p.add_argument("--source", action="append", help="only this document (repeatable)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("ask", help="answer a question with cited quotes")
    p.add_argument("question")
    p.add_argument("--source", action="append", help="only this document (repeatable)")
    p.add_argument("--json", action="store_true", help="print the whole Answer as JSON")

    p = sub.add_parser(
        "eval",
        help="grade answers on a question file (format: README, 'Answer quality')",
        description="Ask every question of a JSON-lines question file and grade the answers. "
        "Without FILE: the sample questions about the bundled corpus.",
    )
    p.add_argument("file", type=Path, nargs="?", help="a question file (default: the sample)")
    p.add_argument(
        "--gold-dir",
        type=Path,
        help="folder of the files that gold_sources name (default: corpus/ beside FILE, "
        "else the documents folder)",
    )
    p.add_argument("--details", action="store_true", help="one line per question")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "serve",
        help="serve the chat window and the OpenAI-compatible API (/v1) on one port",
        description="Serve the chat window, Gradio's /ask API and an OpenAI-compatible API "
        "(/v1/models, /v1/chat/completions). Beyond loopback it needs SOURCEBOOK_AUTH and/or "
        "SOURCEBOOK_API_KEYS (README, 'Who may come in').",
    )
    p.add_argument("--host", help="address to bind (default 127.0.0.1, SOURCEBOOK_HOST)")
    p.add_argument("--port", type=int, help="port (default 7860, SOURCEBOOK_PORT)")
    p.add_argument("--watch", action="store_true", help="keep the index in step with the folder")
    p.add_argument(
        "--insecure",
        action="store_true",
        help="serve beyond loopback without credentials: anyone who can reach it gets in",
    )

    sub.add_parser(
        "mcp",
        help="run a Model Context Protocol server over stdio (tools: search, ask, open_source)",
    )

    p = sub.add_parser(
        "watch",
        help="keep the index in step with the folder as files change (Ctrl-C stops)",
        description="Reconcile the folder once, then ingest each change as it settles; one line "
        "per change applied. SOURCEBOOK_WATCH_SETTLE_SECONDS sets how long a change must settle.",
    )
    p.add_argument("path", type=Path, nargs="?", help="the folder (default: SOURCEBOOK_FOLDER)")

    p = sub.add_parser(
        "prepare", help="make the encoder and the reader ready on this machine (setup runs it once)"
    )
    p.add_argument("--remeasure", action="store_true", help="measure the backends again")

    sub.add_parser("status", help="show what the index holds")

    p = sub.add_parser(
        "migrate",
        help="copy an index from SQLite into PostgreSQL and a Chroma server (several servers)",
        description="Copy the SQLite index of a home (documents, chunks, records, vectors) into "
        "SOURCEBOOK_DATABASE_URL and the Chroma server SOURCEBOOK_CHROMA_URL (README, 'Running "
        "several servers'). Safe to run again after an interruption.",
    )
    p.add_argument("--from", dest="from_home", type=Path, help="the home (default SOURCEBOOK_HOME)")
    p.add_argument(
        "--from-chroma-url", help="the Chroma server that home used (default: its Chroma on disk)"
    )
    return parser


def quiet_libraries(verbose: bool) -> None:
    """What this process shows: our own warnings (a backend falling back, ...), and libraries'
    chatter (load reports, progress bars meant for model developers) only with -v. The weights
    are local: no library may reach for the hub."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s" if verbose else "sourcebook: %(message)s",
    )
    if not verbose:
        for ours in ("app", "ingest", "store"):
            logging.getLogger(ours).setLevel(logging.WARNING)
        # Its reconnection attempts: the one line the error gives says it better.
        logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not verbose:  # read by transformers if it is ever imported (the torch backend): no import
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet_libraries(args.verbose)
    from app.interfaces.errors import user_message

    try:
        return int(COMMANDS[args.command](args))
    except KeyboardInterrupt:
        print("sourcebook: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # the edge: every error becomes one line
        message = user_message(e)
        if message is None:
            log.exception("unexpected error")
            message = f"unexpected {type(e).__name__}: {e} (run with -v for details)"
        print(f"sourcebook: error: {message}", file=sys.stderr)
        return EXIT_ERROR


def _settings() -> Any:
    from app.settings import get_settings

    return get_settings()


def cmd_ingest(args: argparse.Namespace) -> int:
    from app.interfaces.progress import make_progress
    from app.library import ingest
    from ingest import shown_name

    progress, finish = make_progress("ingest")
    try:
        report = ingest(
            args.paths or None, rebuild=args.rebuild, settings=_settings(), progress=progress
        )
    finally:
        finish()
    if args.json:
        print(json.dumps(asdict(report), indent=2))
    else:
        renamed = f", {report.renamed} renamed" if report.renamed else ""
        print(
            f"{shown_name(report.folder)}: {report.added} added, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.removed} removed{renamed}; "
            f"chunks: {report.chunks_added} added, {report.chunks_deleted} deleted, "
            f"{report.chunks_unchanged} unchanged; {report.texts_embedded} embedded "
            f"in {report.seconds:g} s"
        )
    for skipped in report.skipped:
        source = shown_name(skipped.source)
        print(f"sourcebook: warning: skipped {source}: {skipped.reason}", file=sys.stderr)
    if report.skipped:
        print(f"sourcebook: {len(report.skipped)} file(s) skipped", file=sys.stderr)
    return EXIT_SKIPPED if report.skipped else EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    from app.interfaces.render import where
    from app.library import find
    from ingest import shown_name

    hits = find(args.query, k=args.k, sources=args.source, settings=_settings())
    if args.json:
        print(json.dumps([asdict(h) for h in hits], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not hits:
        print("no passages match")
    for n, hit in enumerate(hits, start=1):
        place = f" {where(hit)}" if where(hit) else ""
        print(
            f"[{n}] {shown_name(hit.source)}{place} [{hit.start}:{hit.end}] score {hit.score:.4f} "
            f"(similarity {hit.similarity:.3f})"
        )
        print("    " + " ".join(hit.text.split())[:300])
    return EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    from app.answering.pipeline import stream_answer
    from app.interfaces.render import where
    from ingest import shown_name

    final = None
    shown = 0
    live = not args.json and sys.stdout.isatty()
    for final in stream_answer(args.question, sources=args.source, settings=_settings()):
        if live and final.text[shown:]:
            print(final.text[shown:], end="", flush=True)
            shown = len(final.text)
    assert final is not None
    if args.json:
        print(json.dumps(asdict(final), indent=2, ensure_ascii=False))
        return EXIT_OK
    print(final.text[shown:] if live else final.text)
    if final.note:
        print(f"({final.note})")
    if final.citations:
        print("\nSources:")
    for c in final.citations:
        place = f", {where(c)}" if where(c) else ""
        quote = " ".join(c.quote.split())
        print(f'[{c.n}] {shown_name(c.source)}{place} [{c.start}:{c.end}]: "{quote}"')
    if not final.answered and final.retrieved:
        print("\nClosest passages (not an answer):")
        for hit in final.retrieved[:3]:
            snippet = " ".join(hit.text.split())[:160]
            print(f"  {shown_name(hit.source)} [{hit.start}:{hit.end}]: {snippet}…")
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from app.evaluation import SAMPLE_QUESTIONS, as_dict, evaluate

    def show(g: Any) -> None:
        if args.details and not args.json:
            mark = "ok  " if g.correct else "MISS"
            print(
                f"{mark} {g.id} answered={g.answered} gold_citations={g.gold_citations}/"
                f"{g.citations} hit@5={g.retrieval_hit} | {' '.join(g.text.split())[:120]}"
            )

    started = time.monotonic()
    file = args.file or SAMPLE_QUESTIONS
    report = evaluate(file, settings=_settings(), gold_dir=args.gold_dir, on_graded=show)
    if args.json:
        print(json.dumps(as_dict(report, args.details), indent=2, ensure_ascii=False))
        return EXIT_OK
    print(f"{file}: {report.questions} questions in {time.monotonic() - started:.1f} s")
    for name, value in as_dict(report, False).items():
        if name != "questions":
            print(f"  {name:20} {'n/a' if value is None else value}")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from app.interfaces.server import serve

    settings = _settings()
    host, port = args.host or settings.host, args.port or settings.port
    serve(host=host, port=port, settings=settings, insecure=args.insecure, watch=args.watch)
    return EXIT_OK


def cmd_watch(args: argparse.Namespace) -> int:
    from app.watch import Applied, Watcher
    from ingest import IngestError, shown_name

    settings = _settings()
    if args.path is not None:
        settings = settings.model_copy(update={"folder": args.path})
    if not settings.folder.is_dir():
        raise IngestError(f"folder {settings.folder} does not exist; pass a folder to watch")

    def show(change: Applied) -> None:
        report = change.report
        print(
            f"{change.at:%H:%M:%S} {shown_name(change.summary)}; chunks: {report.chunks_added} added, "
            f"{report.chunks_deleted} deleted ({report.seconds:g} s)",
            flush=True,
        )
        for skipped in report.skipped if not change.whole_folder else []:
            source = shown_name(skipped.source)
            print(f"sourcebook: warning: skipped {source}: {skipped.reason}", file=sys.stderr)

    def problem(message: str) -> None:
        print(f"sourcebook: warning: {message}", file=sys.stderr, flush=True)

    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    with Watcher(settings, on_change=show, on_problem=problem) as watcher:
        print(f"sourcebook: watching {watcher.folder} (Ctrl-C stops)", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    print(f"sourcebook: stopped watching {watcher.folder}", file=sys.stderr)
    return EXIT_OK


def cmd_prepare(args: argparse.Namespace) -> int:
    from app.library import prepare

    choice = prepare(_settings(), remeasure=args.remeasure)
    torch = next((m.per_second for m in choice.measured if m.backend == "torch"), 0.0)
    rows = [
        f"{m.backend} {m.per_second:.0f}/s"
        + (f" ({m.per_second / torch:.1f}x)" if torch else "")
        + ("" if m.agrees else f" [disagrees: cosine {m.mean_cosine:.3f}]")
        for m in choice.measured
    ]
    print(f"encoder for {choice.cpu}: {choice.backend} (measured: {', '.join(rows)})")
    from app.answering.reader import prepare as prepare_reader

    print(f"reader: {prepare_reader(_settings().cache_dir.expanduser())}")
    return EXIT_OK


def cmd_mcp(args: argparse.Namespace) -> int:
    from app.interfaces.mcp_server import run

    run(_settings())
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from app.library import index_status

    print(json.dumps(index_status(_settings()), indent=2))
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace) -> int:
    from app.library import migrate, shown_database

    settings = _settings()
    done = migrate(args.from_home, args.from_chroma_url, settings=settings)
    print(
        f"migrated into {shown_database(settings.database_url)}: {done.documents} documents, "
        f"{done.chunks} chunks, {done.texts} texts, {done.recorded} records; {done.vectors} "
        f"vectors copied to {settings.chroma_url}"
    )
    return EXIT_OK


COMMANDS = {
    "ingest": cmd_ingest,
    "search": cmd_search,
    "ask": cmd_ask,
    "eval": cmd_eval,
    "serve": cmd_serve,
    "prepare": cmd_prepare,
    "mcp": cmd_mcp,
    "status": cmd_status,
    "watch": cmd_watch,
    "migrate": cmd_migrate,
}

if __name__ == "__main__":
    sys.exit(main())
