"""The `sourcebook` command's arguments: each subcommand, its options and its help."""

from __future__ import annotations

import argparse
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sourcebook",
        description="Answers from a folder of documents, every claim cited to an exact quote.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "ingest",
        help="bring the index in step with the folder it follows",
        description="An index follows one folder: the first `sourcebook ingest FOLDER` picks it "
        "(without a path: SOURCEBOOK_FOLDER), and later runs without a path ingest that folder. "
        "Another folder is refused unless --rebuild starts the index anew from it.",
    )
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="the folder to index (default: the one the index follows), or files/folders in it",
    )
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="drop the index and build it anew (from the folder given, which it then follows)",
    )
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
        "(/v1/models, /v1/chat/completions); with --no-ui, the OpenAI-compatible API alone. "
        "Beyond loopback it needs SOURCEBOOK_AUTH and/or SOURCEBOOK_API_KEYS (README, 'Who may "
        "come in').",
    )
    p.add_argument("--host", help="address to bind (default 127.0.0.1, SOURCEBOOK_HOST)")
    p.add_argument("--port", type=int, help="port (default 7860, SOURCEBOOK_PORT)")
    p.add_argument("--watch", action="store_true", help="keep the index in step with the folder")
    p.add_argument(
        "--no-ui",
        action="store_true",
        help="serve the OpenAI-compatible API (/v1) alone, without the chat window: for "
        "SOURCEBOOK_API_KEYS without SOURCEBOOK_AUTH, or a headless host",
    )
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
    p.add_argument(
        "path",
        type=Path,
        nargs="?",
        help="the folder (default: the one the index follows; for a new index SOURCEBOOK_FOLDER)",
    )

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
