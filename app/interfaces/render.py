"""HTML for the chat window: answers, sources, the document viewer, the index panel (no gradio).

Every piece of document or user text passes through `escape`, which also neutralises the
characters that Markdown, LaTeX and template engines treat as syntax, so text shows as text.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from app.answering.serialize import CLOSEST, NOT_AN_ANSWER, naming, snippet, squash, where
from app.answering.types import Answer, Citation
from app.watch import WatchStatus
from ingest import IngestReport, shown_name
from store import Hit

# Beyond HTML's own five: Markdown (`*_[]#|~\`), the chatbot's LaTeX (`$`) and gr.HTML's
# template syntax (`${}`, `{{}}`) would otherwise act on document text.
_ENTITIES = {c: f"&#{ord(c)};" for c in "&<>\"'`*_[]#|~\\${}()!:="}
_MARKER = re.compile(r"\[(\d+)\]")


def escape(text: str) -> str:
    """`text` as inert HTML: shown verbatim, never interpreted."""
    return "".join(_ENTITIES.get(c, c) for c in text)


def escape_name(name: str) -> str:
    """A file name as inert HTML, its control and direction characters written as escapes."""
    return escape(shown_name(name))


def open_attrs(source: str, start: int, end: int) -> str:
    """A link target that the page script turns into "open this span in the viewer".

    An href, not data attributes: the chatbot's HTML sanitizer keeps hrefs and drops data-*."""
    target = f"#sb-open:{start}:{end}:{quote(source, safe='')}"
    return f'href="{escape(target)}"'


def copy_button(what: str, label: str) -> str:
    """A button the page script answers by copying the text of the nearest `what` element."""
    return f'<button class="sb-copy sb-copy-{what}" title="{label}">{label}</button>'


def short_answer(cite: Citation) -> str:
    """The words of the quote that answer (the place, the date, the name), white space folded;
    "" when the reader marked none."""
    if cite.answer_start is None or cite.answer_end is None:
        return ""
    return squash(cite.quote[cite.answer_start - cite.start : cite.answer_end - cite.start])


def with_bold(text: str, words: str) -> str:
    """`text` escaped, its first occurrence of `words` in bold."""
    at = text.find(words) if words else -1
    if at < 0:
        return escape(text)
    end = at + len(words)
    return (
        f'{escape(text[:at])}<strong class="sb-short">{escape(text[at:end])}</strong>'
        f"{escape(text[end:])}"
    )


def marked_text(text: str, citations: list[Citation]) -> str:
    """The answer text with each [n] turned into a link that opens citation n, and the words
    that answer in bold in the sentence before it."""
    by_n = {c.n: c for c in citations}
    parts = _MARKER.split(text)
    out = []
    for i, part in enumerate(parts):
        cite = by_n.get(int(part)) if i % 2 else None
        following = by_n.get(int(parts[i + 1])) if i % 2 == 0 and i + 1 < len(parts) else None
        if cite is not None:
            out.append(
                f'<a class="sb-ref" {open_attrs(cite.source, cite.start, cite.end)}>'
                f"&#91;{cite.n}&#93;</a>"
            )
        elif following is not None:
            out.append(with_bold(part, short_answer(following)))
        else:
            out.append(escape(f"[{part}]" if i % 2 else part))
    return "".join(out)


def source_item(
    ref: str,
    hit: Citation | Hit,
    quote: str,
    score: float | None = None,
    bold: str = "",
    code: bool = False,
) -> str:
    """One source in a list: a link that opens it, where it is, the quoted text."""
    label, file = naming(hit.source, hit.title)
    meta = [shown_name(file), where(hit), f"score {score:.2f}" if score is not None else ""]
    shown = " · ".join(escape(m) for m in meta if m)
    copy = copy_button("quote", "Copy quote") if score is not None else ""
    return (
        f'<li class="sb-source"><div class="sb-source-head">'
        f'<a class="sb-open" {open_attrs(hit.source, hit.start, hit.end)}>{ref}{escape_name(label)}</a>'
        f'<span class="sb-meta">{shown}</span>{copy}</div>'
        f'<blockquote class="sb-quote{" sb-code" if code else ""}">{with_bold(quote, bold)}'
        "</blockquote></li>"
    )


def citation_html(cite: Citation) -> str:
    quote = cite.quote if cite.code else squash(cite.quote)
    bold = short_answer(cite)
    return source_item(f"&#91;{cite.n}&#93; ", cite, quote, cite.score, bold, cite.code)


def closest_html(hits: list[Hit]) -> str:
    items = []
    for hit in hits:
        items.append(source_item("", hit, snippet(hit.text, 280)))
    return (
        f'<div class="sb-sources sb-not-answer"><div class="sb-label">{NOT_AN_ANSWER}</div>'
        f"<ul>{''.join(items)}</ul></div>"
    )


def answer_html(answer: Answer, closest: int = CLOSEST) -> str:
    """One chat reply: the text with [n] links, then its sources (or, for a refusal, what was
    closest, marked as not an answer). Sources appear once the answer is complete."""
    css = "sb-answer" if answer.answered or not answer.done else "sb-answer sb-refusal"
    body = f'<div class="{css}">{marked_text(answer.text, answer.citations)}</div>'
    if not answer.done:
        return body
    if answer.note:
        body += f'<div class="sb-note">{escape(answer.note)}</div>'
    if answer.citations:
        items = "".join(citation_html(c) for c in answer.citations)
        body += (
            f'<div class="sb-sources"><div class="sb-label">Sources '
            f"{copy_button('answer', 'Copy answer')}</div><ul>{items}</ul></div>"
        )
    elif not answer.answered and answer.retrieved:
        body += closest_html(answer.retrieved[:closest])
    return body


def error_html(message: str) -> str:
    return f'<div class="sb-error" role="alert">⚠ {escape(message)}</div>'


def document_html(title: str, source: str, text: str, start: int, end: int) -> str:
    """The whole document, the span [start:end] highlighted in a <mark>."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    return (
        f'<div class="sb-doc-head"><strong>{escape_name(title or source)}</strong>'
        f'<span class="sb-meta">{escape_name(source)} · characters {start}–{end}</span>'
        f"{copy_button('mark', 'Copy quote')}</div>"
        f'<div class="sb-doc">{escape(text[:start])}<mark id="sb-quote">'
        f"{escape(text[start:end])}</mark>{escape(text[end:])}</div>"
    )


def viewer_placeholder(
    message: str = "Click a source or an [n] marker to open the document "
    "here, with the quote highlighted.",
) -> str:
    return f'<div class="sb-empty">{escape(message)}</div>'


STATUS_ROWS = [
    ("Folder", "folder"),
    ("Documents", "documents"),
    ("Chunks", "chunks"),
    ("Embedding model", "embedding_model"),
    ("Answerer", "answerer"),
    ("Store", "store"),
    ("Last ingest", "last_ingest"),
]


def status_html(status: dict[str, object]) -> str:
    """The index panel: what is indexed, how, and when."""
    rows = []
    for label, key in STATUS_ROWS:
        value = status.get(key)
        shown = "never" if value in (None, "") and key == "last_ingest" else str(value)
        rows.append(f"<tr><th>{label}</th><td>{escape_name(shown)}</td></tr>")
    return f'<table class="sb-status">{"".join(rows)}</table>'


def watch_html(status: WatchStatus) -> str:
    """The panel's watch line: watching (and what it is doing), then the last change applied."""
    css = "sb-watch-off" if status.state in ("folder missing", "stopped") else "sb-watch-on"
    doing = "" if status.idle else status.state
    if status.pending and not status.idle:
        doing += f" ({status.pending} changed path{'s' if status.pending != 1 else ''})"
    html = (
        f'<div class="sb-watch-state {css}"><span class="sb-watch-dot"></span>Watching the folder'
        + (f' <span class="sb-watch-now">· {escape(doing)}</span>' if doing else "")
        + "</div>"
    )
    last = status.last
    if last is None:
        html += f'<div class="sb-watch-last">No change since {status.since:%H:%M:%S}</div>'
    else:
        html += (
            f'<div class="sb-watch-last">Last change {last.at:%H:%M:%S}: '
            f"{escape_name(last.summary)}</div>"
        )
    return html + (error_html(status.problem) if status.problem else "")


def ingest_html(
    report: IngestReport | None, problems: list[str], notes: list[str] | None = None
) -> str:
    """What an ingest did, then each note (an upload stored under another name) and each
    problem (skipped file, bad upload) as its own message."""
    skipped = report.skipped if report else []
    lines = problems + [f"{shown_name(s.source)}: {s.reason}" for s in skipped]
    summary = ""
    if report is not None:
        summary = (
            f"Ingested: {report.added} added, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.removed} removed."
        )
    told = "".join(f'<div class="sb-note">{escape(note)}</div>' for note in notes or [])
    errors = "".join(error_html(line) for line in lines)
    return f'<div class="sb-log">{escape(summary)}</div>{told}{errors}'
