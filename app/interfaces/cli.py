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
from typing import Any

from app.interfaces.arguments import build_parser

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_SKIPPED = 0, 1, 2, 3
log = logging.getLogger("sourcebook")


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
    from app.answering.serialize import located, passages_json
    from app.library import find
    from ingest import shown_name

    hits = find(args.query, k=args.k, sources=args.source, settings=_settings())
    if args.json:
        print(json.dumps(passages_json(hits), indent=2, ensure_ascii=False))
        return EXIT_OK
    if not hits:
        print("no passages match")
    for n, hit in enumerate(hits, start=1):
        print(
            f"[{n}] {located(hit, shown_name)}, score {hit.score:.4f} "
            f"(similarity {hit.similarity:.3f})"
        )
        print("    " + " ".join(hit.text.split())[:300])
    return EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    from app.answering.pipeline import stream_answer
    from app.answering.serialize import answer_json, answer_text
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
        print(json.dumps(answer_json(final), indent=2, ensure_ascii=False))
    else:  # what is not shown yet: the rest of the text, the note, the sources
        print(answer_text(final, name=shown_name)[shown:])
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
    serve(
        host=host,
        port=port,
        settings=settings,
        insecure=args.insecure,
        watch=args.watch,
        ui=not args.no_ui,
    )
    return EXIT_OK


def cmd_watch(args: argparse.Namespace) -> int:
    from app.library import folder_to_ingest
    from app.watch import Applied, Watcher
    from ingest import IngestError, shown_name

    settings = _settings()
    folder = folder_to_ingest(args.path, settings)  # the index's folder; another is refused
    if not folder.is_dir():
        raise IngestError(f"folder {folder} does not exist; pass the folder to watch")
    settings = settings.model_copy(update={"folder": folder})

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
