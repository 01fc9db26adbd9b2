"""The chat window: a Gradio app over the library; the only module that imports gradio."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI, Request
from gradio.components.chatbot import ExampleMessage
from gradio.events import api as gr_api
from starlette.routing import Mount

from app import library, uploads
from app.answering.followup import Turn
from app.answering.pipeline import answer, stream_answer
from app.answering.serialize import answer_json
from app.answering.types import Answer
from app.interfaces import render, viewer
from app.interfaces.errors import user_message
from app.settings import Settings, get_settings
from app.watch import Watcher
from ingest import IngestReport, shown_name

log = logging.getLogger(__name__)

API_NAME = "ask"  # Client(url).predict(question, sources, api_name="/ask")
STATIC = Path(__file__).resolve().parent / "static"
# Gradio's upload cache: every 5 minutes, files uploaded over 10 minutes ago are deleted (an
# upload event deletes its own files as soon as the folder holds them).
UPLOAD_CACHE = (300, 600)
Message = dict[str, str]


def describe(error: Exception) -> str:
    """The line a user sees for an error: theirs explained, ours logged with its traceback."""
    message = user_message(error)
    if message is None:
        log.exception("unexpected error in the chat window")
        message = f"Something went wrong on our side ({type(error).__name__}); it has been logged."
    return message


def to_turns(turns: list[Turn], question: str, final: Answer | None) -> list[Turn]:
    reply = final.text if final is not None else ""
    return [*turns, {"role": "user", "content": question}, {"role": "assistant", "content": reply}]


def make_respond(
    settings: Settings,
) -> Callable[..., Iterator[tuple[list[Message], list[Turn], str]]]:
    def respond(
        question: str, chat: list[Message], turns: list[Turn], sources: list[str] | None
    ) -> Iterator[tuple[list[Message], list[Turn], str]]:
        """Stream one reply into the chat; `turns` is this session's plain-text conversation."""
        chat = [*chat, {"role": "user", "content": render.escape(question)}]
        yield chat, turns, ""
        final: Answer | None = None
        try:
            for final in stream_answer(question, turns, sources=sources or None, settings=settings):
                yield (
                    [*chat, {"role": "assistant", "content": render.answer_html(final)}],
                    turns,
                    "",
                )
        except Exception as e:  # the edge: the window shows a message and keeps running
            yield (
                [*chat, {"role": "assistant", "content": render.error_html(describe(e))}],
                turns,
                "",
            )
            return
        yield (
            [*chat, {"role": "assistant", "content": render.answer_html(final)}] if final else chat,
            to_turns(turns, question, final),
            "",
        )

    return respond


def make_ask(settings: Settings) -> Callable[[str, list[str] | None], dict[str, Any]]:
    def ask(question: str, sources: list[str] | None = None) -> dict[str, Any]:
        """Answer `question` from the documents (optionally only `sources`), with its citations."""
        try:
            return answer_json(answer(question, sources=sources or None, settings=settings))
        except Exception as e:
            # describe() has logged a bug of ours; the user's own mistake needs no traceback.
            raise gr.Error(describe(e), print_exception=False) from e

    return ask


def make_open(settings: Settings) -> Callable[[gr.EventData], str]:
    def open_document(evt: gr.EventData) -> str:
        """Show the clicked source where it came from (its table row, slide or scanned page),
        the quote highlighted (the page script scrolls to it)."""
        data = getattr(evt, "_data", None) or {}
        source = str(data.get("source", ""))
        try:
            start, end = viewer.span_of(data)
            stored = library.document(source, settings)
        except Exception as e:
            return render.error_html(describe(e))
        page = viewer.scanned_page(stored, start)
        image = library.page_image(source, page, settings) if page else None
        return viewer.document_view(stored, source, start, end, image)

    return open_document


def panel(settings: Settings, log_html: str = "") -> tuple[str, Any]:
    """The index panel and the filter's choices, fresh from the index."""
    status, choices = "", []
    try:
        status = render.status_html(library.index_status(settings))
        choices = library.list_sources(settings)
    except Exception as e:  # e.g. nothing ingested yet: say so under the panel
        status += render.error_html(describe(e))
    return status + log_html, gr.update(choices=[(shown_name(s), s) for s in choices])


def run_ingest(
    settings: Settings, paths: list[Path] | None, progress: gr.Progress
) -> tuple[IngestReport | None, str]:
    def step(done: int, total: int, source: str) -> None:
        progress((done, max(total, 1)), desc=f"Ingesting {source}" if source else "Ingesting")

    try:
        return library.ingest(paths, settings=settings, progress=step), ""
    except Exception as e:
        return None, describe(e)


MayWrite = Callable[[str | None], bool]  # may this user (None: nobody logged in) add documents?
LOGIN_TO_WRITE = "Only a logged-in user may add documents or re-ingest: log in at /login."


def make_reingest(settings: Settings, may_write: MayWrite) -> Callable[..., tuple[str, Any]]:
    def reingest(
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - how gradio asks for a progress bar
    ) -> tuple[str, Any]:
        """Bring the index in step with the folder, incrementally."""
        if not may_write(request.username):
            return panel(settings, render.ingest_html(None, [LOGIN_TO_WRITE]))
        report, problem = run_ingest(settings, None, progress)
        return panel(settings, render.ingest_html(report, [problem] if problem else []))

    return reingest


def make_upload(settings: Settings, may_write: MayWrite) -> Callable[..., tuple[str, Any, None]]:
    def upload(
        files: list[dict[str, Any]] | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - how gradio asks for a progress bar
    ) -> tuple[str, Any, None]:
        """Store the uploaded files in the folder, then ingest them; problems name the file. A
        file the ingest refuses is removed again, and Gradio's copies are deleted."""
        if not may_write(request.username):
            status, choices = panel(settings, render.ingest_html(None, [LOGIN_TO_WRITE]))
            return status, choices, None
        saved, notes, problems = store_uploads(files or [], settings)
        report = None
        if saved:
            report, problem = run_ingest(settings, saved, progress)
            problems += [problem] if problem else []
            if report is not None:
                report, dropped = uploads.drop_refused(report, saved)
                problems += dropped
        status, choices = panel(settings, render.ingest_html(report, problems, notes))
        return status, choices, None

    return upload


def store_uploads(
    files: list[dict[str, Any]], settings: Settings
) -> tuple[list[Path], list[str], list[str]]:
    """Each file Gradio cached, stored in the folder under the name it was sent with: (where,
    notes on names, problems). The event skips gr.File's preprocessing, which leaves an empty
    temporary file in the cache for each file (6.31, `File._process_single_file`); Gradio has
    still checked that each path lies in its upload folder."""
    saved, notes, problems = [], [], []
    folder = library.followed_folder(settings)
    for file in files:
        path = Path(str(file["path"]))
        name = str(file.get("orig_name") or path.name)
        try:
            stored = uploads.save_upload(name, path.read_bytes(), settings, folder=folder)
            saved.append(stored)
            note = uploads.upload_note(name, stored)
            notes += [note] if note else []
        except Exception as e:
            message = describe(e)
            shown = shown_name(name)
            problems.append(message if shown in message else f"{shown}: {message}")
        finally:
            forget_cached(path)
    return saved, notes, problems


def forget_cached(path: Path) -> None:
    """Delete Gradio's copy of an upload (the folder holds it now, or it was refused), and its
    folder in the cache (named by the content's hash) once empty."""
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()


def pick_example(evt: gr.SelectData) -> str:
    value = evt.value
    return str(value.get("text", "")) if isinstance(value, dict) else str(value)


def chat_column(settings: Settings) -> dict[str, Any]:
    examples: list[ExampleMessage] = [{"text": q} for q in library.example_questions(settings)]
    chat = gr.Chatbot(
        elem_id="sb-chat",
        height="62vh",
        show_label=False,
        examples=examples or None,
        placeholder=PLACEHOLDER,
        buttons=["copy", "copy_all"],
        feedback_options=None,
    )
    with gr.Row():
        question = gr.Textbox(
            elem_id="sb-question",
            show_label=False,
            scale=5,
            lines=1,
            autofocus=True,
            placeholder="Ask a question about the documents…",
            submit_btn=False,
        )
        send = gr.Button("Ask", variant="primary", elem_id="sb-send", scale=1, min_width=80)
    with gr.Row():
        sources = gr.Dropdown(
            label="Ask only these documents (optional)",
            multiselect=True,
            choices=[],
            elem_id="sb-filter",
            scale=5,
        )
        new_chat = gr.Button("New chat", elem_id="sb-new", scale=1, min_width=80)
    return {
        "chat": chat,
        "question": question,
        "send": send,
        "sources": sources,
        "new_chat": new_chat,
    }


def side_column(watcher: Watcher | None) -> dict[str, Any]:
    viewer = gr.HTML(
        render.viewer_placeholder(),
        elem_id="sb-viewer",
        js_on_load=PAGE_JS,
        label="Document",
        max_height=560,
        container=True,
        padding=True,
    )
    with gr.Accordion("Index", open=True, elem_id="sb-index"):
        watching = gr.HTML(elem_id="sb-watch", visible=watcher is not None)
        status = gr.HTML(elem_id="sb-status")
        reingest = gr.Button("Re-ingest folder", elem_id="sb-reingest", size="sm")
        files = gr.File(
            label="Add documents", file_count="multiple", elem_id="sb-upload", height=110
        )
    return dict(viewer=viewer, watching=watching, status=status, reingest=reingest, files=files)


def build(
    settings: Settings | None = None,
    may_write: MayWrite | None = None,
    *,
    logins: bool = False,
    watcher: Watcher | None = None,
) -> gr.Blocks:
    """The app: chat on the left, document viewer and index panel on the right (stacked on a
    phone). `may_write` decides who may upload and re-ingest (default: everyone); with `logins`,
    the header offers to log out; with a watcher, the panel says so and shows the last change
    it applied."""
    settings = settings or get_settings()
    demo = gr.Blocks(title="Sourcebook", delete_cache=UPLOAD_CACHE)
    with demo:
        gr.HTML(HEADER.format(LOG_OUT if logins else ""))
        parts: dict[str, Any] = {"turns": gr.State([])}
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=340):
                parts.update(chat_column(settings))
            with gr.Column(scale=2, min_width=320):
                parts.update(side_column(watcher))
        wire(demo, settings, parts, may_write or (lambda user: True))
        if watcher is not None:
            wire_watch(settings, watcher, parts)
    return demo


def wire(demo: gr.Blocks, settings: Settings, c: dict[str, Any], may_write: MayWrite) -> None:
    """Connect the events; the chat streams, ingests run one at a time."""
    respond = make_respond(settings)
    ask_in = [c["question"], c["chat"], c["turns"], c["sources"]]
    ask_out = [c["chat"], c["turns"], c["question"]]
    quiet: dict[str, Any] = {"api_visibility": "private"}
    for trigger in (c["question"].submit, c["send"].click):
        trigger(respond, ask_in, ask_out, show_progress="minimal", **quiet)
    c["chat"].example_select(pick_example, None, c["question"], **quiet).then(
        respond, ask_in, ask_out, **quiet
    )
    reset = [c["chat"], c["turns"], c["viewer"]]
    c["new_chat"].click(lambda: ([], [], render.viewer_placeholder()), None, reset, **quiet)
    c["viewer"].click(make_open(settings), None, c["viewer"], **quiet)
    panel_out = [c["status"], c["sources"]]
    demo.load(lambda: panel(settings), None, panel_out, **quiet)
    one_at_a_time: dict[str, Any] = {"concurrency_id": "ingest", "concurrency_limit": 1, **quiet}
    c["reingest"].click(make_reingest(settings, may_write), None, panel_out, **one_at_a_time)
    files_out = [*panel_out, c["files"]]
    c["files"].upload(
        make_upload(settings, may_write),
        c["files"],
        files_out,
        preprocess=False,  # store_uploads says why
        **one_at_a_time,
    )
    gr_api(make_ask(settings), api_name=API_NAME)


def wire_watch(settings: Settings, watcher: Watcher, c: dict[str, Any]) -> None:
    """Every two seconds: what the watcher is doing, and the panel once it changed the index."""

    def refresh(seen: int) -> tuple[Any, ...]:
        status = watcher.status()
        if status.ingests == seen:
            return render.watch_html(status), gr.update(), gr.update(), seen
        return render.watch_html(status), *panel(settings), status.ingests

    seen = gr.State(-1)
    outputs = [c["watching"], c["status"], c["sources"], seen]
    quiet: dict[str, Any] = {"show_progress": "hidden", "api_visibility": "private"}
    gr.Timer(2.0).tick(refresh, seen, outputs, **quiet)


def mount(
    app: FastAPI,
    settings: Settings,
    *,
    host: str,
    port: int,
    user_of: Callable[[Request], str | None] | None,
    may_write: MayWrite | None,
    watcher: Watcher | None = None,
) -> Callable[[], None]:
    """Mount the chat window at / of `app` (after its own routes). `user_of` names the user
    behind a request (None: not let in); without it, everyone is. Returns what ends the
    window's open streams (each page holds one), for the server to call when it stops."""
    demo = build(settings, may_write, logins=user_of is not None, watcher=watcher)
    demo.queue(default_concurrency_limit=4)
    gr.mount_gradio_app(
        app,
        demo,
        path="/",
        server_name=host,
        server_port=port,
        auth_dependency=user_of,
        theme=THEME,
        css=(STATIC / "ui.css").read_text(),
        footer_links=["api"],
        # save_upload gives the clear message for files over the limit; this only caps the disk.
        max_file_size=int(settings.max_upload_mb * 2e6),
        show_error=False,
    )
    mounted = app.routes[-1]  # mount_gradio_app adds its app last, at /
    assert isinstance(mounted, Mount) and isinstance(mounted.app, gr.routes.App)
    return mounted.app.stop_event.set


HEADER = (
    '<div id="sb-header"><h1>Sourcebook</h1>'
    "<p>Answers from your documents, every claim cited to an exact quote.</p>{}</div>"
)
LOG_OUT = '<a id="sb-logout" href="/logout">Log out</a>'
PLACEHOLDER = "**Ask about your documents.** Each answer cites the passages it comes from."
# System fonts: the app works offline, so nothing is fetched from a font service.
THEME = gr.themes.Soft(
    primary_hue="indigo",
    neutral_hue="slate",
    font=["Inter", "ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
)
PAGE_JS = (STATIC / "page.js").read_text()
