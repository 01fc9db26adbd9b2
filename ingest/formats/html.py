"""HTML to main text: navigation, scripts and styles dropped; headings give heading paths; a
`<pre>` block becomes a fenced code block (the answerer quotes it whole)."""

from __future__ import annotations

import re
from typing import Any

from ingest.errors import LoadError
from ingest.extracted import Extracted, TextBuilder, first_line

DROP = {
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed",
    "nav", "header", "footer", "form", "button", "select", "input", "textarea", "head",
}  # fmt: skip
BLOCK = {
    "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "table", "tr",
    "pre", "blockquote", "figure", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "br", "hr",
    "td", "th", "caption", "address", "details", "summary",
}  # fmt: skip
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
ROLE_DROP = {"navigation", "banner", "contentinfo", "search", "complementary"}


class HtmlText(TextBuilder):
    """The text of HTML as it is walked: white space collapsed, block breaks, and the heading
    path in force at each heading."""

    def __init__(self) -> None:
        super().__init__()
        self.pending_break = ""
        self.path: list[tuple[int, str]] = []
        self.chapter_name: str | None = None  # a chapter whose first text is still to come

    def _flush_break(self) -> None:
        if self.pending_break and self.length:
            if self.parts[-1].endswith(" "):  # no trailing space before a line break
                self.parts[-1] = self.parts[-1][:-1]
                self.length -= 1
            self.append(self.pending_break)
        self.pending_break = ""
        if self.chapter_name is not None:  # a chapter starts where its first text does
            self.mark(heading=self.chapter_name)
            self.chapter_name = None

    def write(self, s: str, pre: bool = False) -> None:
        if not pre:
            s = re.sub(r"\s+", " ", s)
            at_line_start = (
                not self.length or self.pending_break or self.parts[-1].endswith((" ", "\n"))
            )
            if at_line_start:
                s = s.lstrip()
        if s:
            self._flush_break()
            self.append(s)

    def block_break(self, strong: bool = True) -> None:
        if self.length:
            self.pending_break = "\n\n" if strong or self.pending_break == "\n\n" else "\n"

    def heading(self, level: int, name: str) -> None:
        if self.path == [(0, name)]:
            return  # a chapter's own first heading repeats its name
        self._flush_break()
        self.path = [p for p in self.path if p[0] < level] + [(level, name)]
        self.mark(heading=" > ".join(n for _, n in self.path))

    def chapter(self, name: str) -> None:
        """A new chapter (of an e-book) begins: headings inside it go under `name`."""
        self.block_break()
        self.path = [(0, name)]
        self.chapter_name = name

    def result(self, title: str) -> Extracted:
        """The text so far, trailing white space dropped, with the headings that start in it."""
        text = self.text.rstrip()
        sections = [s for s in self.sections if s["start"] < len(text)]
        return Extracted(text, title or first_line(text), sections)


def dropped(tag: Any, name: str) -> bool:
    """Not text of the page: navigation, scripts, forms, hidden parts; and an <aside>, unless it
    lies in an article or the page's main part, where it holds the text's footnotes and side
    notes (Sphinx writes both as <aside>, a code example among them)."""
    if name in DROP or str(tag.get("role", "")).lower() in ROLE_DROP:
        return True
    if tag.get("hidden") is not None or tag.get("aria-hidden") == "true":
        return True
    return name == "aside" and not (tag.find_parent("article") or tag.find_parent(role="main"))


def walk(node: Any, out: HtmlText, pre: bool = False) -> None:
    """Write the readable text under `node` into `out`."""
    from bs4.element import Comment, NavigableString, Tag

    for child in node.children:
        if isinstance(child, Comment):
            continue
        if isinstance(child, NavigableString):
            out.write(str(child), pre)
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name.lower()
        if dropped(child, name):
            continue
        if name == "a" and "headerlink" in (child.get("class") or []):
            continue  # a heading's permalink mark (¶), not text
        if name == "pre" and not pre:
            code = child.get_text().strip("\n")
            if code.strip():  # a code block, fenced as Markdown writes one: quoted whole
                out.block_break()
                out.write(f"```\n{code}\n```", pre=True)
                out.block_break()
            continue
        if name in BLOCK:
            out.block_break(strong=name not in ("br", "li", "tr", "td", "th", "dt", "dd"))
        if name in HEADINGS:
            label = re.sub(r"\s+", " ", child.get_text(" ")).strip()
            if label:
                out.heading(HEADINGS[name], label)
        walk(child, out, pre or name == "pre")
        if name in BLOCK:
            out.block_break(strong=name not in ("br", "li", "td", "th", "dt", "dd"))


def load_html(data: bytes, stem: str) -> Extracted:
    from bs4 import BeautifulSoup

    if b"\0" in data[:8192]:
        raise LoadError("binary content, not HTML")
    try:
        soup = BeautifulSoup(data, "lxml")
    except (ValueError, TypeError) as e:
        raise LoadError(f"cannot parse the HTML ({e})") from e
    root = soup.find("main") or soup.select_one("[role=main]") or soup.find("article")
    root = root or soup.body or soup
    out = HtmlText()
    walk(root, out)
    title_tag = soup.find("title")
    title = re.sub(r"\s+", " ", title_tag.get_text()).strip() if title_tag else ""
    if not title:
        h1 = soup.find("h1")
        title = re.sub(r"\s+", " ", h1.get_text(" ")).strip() if h1 else ""
    return out.result(title)
