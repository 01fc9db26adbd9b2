"""The main text of real pages, by our HTML loader and by trafilatura and readability-lxml: how
much of the main text is kept, how much of the page around it (navigation, sidebars, footers)
comes along, whether every code block is kept whole, and pages per second.

    .venv/bin/python bench/html_text.py [--pages 40]   # needs `pip install -e .[bench]`

Pages: Python's documentation (Debian's python3.11-doc) and PostgreSQL's (postgresql-doc-15;
both installed if missing), and a news page written here. The main part of a page is Sphinx's
`role=main`, PostgreSQL's body without its navigation header and footer, and the news page's
`<article>`. A block (paragraph, list item, cell, heading) counts as kept when its text, white
space aside, is in the output; a code block when each of its lines is, in order.
"""

from __future__ import annotations

import argparse
import copy
import random
import re
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from store.machine import describe  # noqa: E402

SITES = {
    "python": (Path("/usr/share/doc/python3.11/html"), "python3.11-doc"),
    "postgresql": (Path("/usr/share/doc/postgresql-doc-15/html"), "postgresql-doc-15"),
}
BLOCKS = ["p", "li", "dt", "dd", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption"]
NEWS = """<!doctype html><html><head><title>Forum ends with a water pact | The Steppe Herald</title>
</head><body><header><a href="/">The Steppe Herald</a><nav><ul><li><a href="/world">World news
</a></li><li><a href="/business">Business and markets</a></li><li><a href="/sport">Sport results
</a></li></ul></nav></header><div class="cookie">We use cookies to improve your experience on our
site. <button>Accept all cookies</button></div><main><article><h1>Forum ends with a water pact
</h1><p class="byline">By Aigerim Sultanova, Dushanbe correspondent</p><p>The 14th Central
Asia-Korea Cooperation Forum closed on Tuesday with an agreement on shared water data.</p><p>
Delegations from five countries signed the text, which sets up a common gauge network along the
Amu Darya.</p><figure><img src="dam.jpg"><figcaption>The Nurek dam, upstream of the new gauges.
</figcaption></figure><h2>What the pact says</h2><ul><li>Gauges report river levels every hour.
</li><li>Data is shared in an open format within a day.</li></ul><p>Engineers published the
schema the gauges use:</p><pre>{"station": "Nurek-3",
  "level_m": 12.4,
  "at": "2026-11-30T10:00Z"}</pre><blockquote>"Water is the region's first question," the
minister said.</blockquote><p>The next forum meets in Seoul in 2027.</p></article><aside><h2>
Related stories</h2><ul><li><a href="/a">Cotton exports reach a ten-year high</a></li><li><a
href="/b">A new rail link to the Caspian opens</a></li></ul></aside><section class="comments">
<h2>Comments (2)</h2><p>Great news for farmers downstream, finally!</p></section></main><footer>
<p>Copyright 2026 The Steppe Herald. All rights reserved.</p><form><input name="email">
<button>Subscribe to our newsletter</button></form></footer></body></html>"""

Extractor = Callable[[bytes], str]


def ours(data: bytes) -> str:
    from ingest.formats.html import load_html

    return load_html(data, "page").text


def trafilatura_as(output_format: str) -> Extractor:
    def extract(data: bytes) -> str:
        import trafilatura

        text = trafilatura.extract(data, output_format=output_format, include_comments=False,
                                   include_tables=True)  # fmt: skip
        return text or ""

    return extract


def readability_then_ours(data: bytes) -> str:
    """readability-lxml picks the main part; our loader writes its text (fences and all)."""
    from readability import Document

    summary = Document(data.decode("utf-8", "replace")).summary(html_partial=True)
    return ours(summary.encode())


def fold(text: str) -> str:
    """Text without white space (where a converter puts spaces and breaks between inline and
    block parts differs) or marks that are not text (¶, Markdown's `*_)."""
    return "".join(re.sub(r"[¶`*_]", "", text).split())


def main_part(soup: Any, site: str) -> Any:
    if site == "python":
        return soup.select_one("[role=main]")
    if site == "postgresql":
        body = copy.copy(soup.body)
        for nav in body.select(".navheader, .navfooter"):
            nav.decompose()
        return body
    return soup.find("article")


def texts(nodes: list[Any]) -> list[str]:
    out = [fold(n.get_text(" ")) for n in nodes if not n.find_parent("pre")]
    return [t for t in out if len(t) >= 10]


def truth(data: bytes, site: str) -> tuple[list[str], list[str], list[list[str]]]:
    """(main blocks, blocks of the page around it, the lines of each code block in the main)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "lxml")
    main = main_part(soup, site)
    inside = texts(main.find_all(BLOCKS))
    main_text = fold(main.get_text(" "))
    around = [t for t in texts(soup.find_all(BLOCKS)) if t not in main_text]
    code = [[re.sub(r"[`¶]", "", line).strip() for line in pre.get_text().splitlines()
             if line.strip()] for pre in main.find_all("pre")]  # fmt: skip
    return inside, around, [lines for lines in code if lines]


def code_kept(lines: list[str], output: str) -> bool:
    at = 0
    for line in lines:
        at = output.find(line, at)
        if at < 0:
            return False
        at += len(line)
    return True


def pages(site: str, n: int) -> list[Path]:
    folder, package = SITES[site]
    if not folder.is_dir():
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True)
    files = sorted(p for p in folder.rglob("*.html") if p.stat().st_size > 4000)
    if site == "python":
        files = [p for p in files if p.parent.name in ("library", "tutorial", "howto", "reference")]
    return sorted(random.Random(7).sample(files, min(n, len(files))))


def measure(extract: Extractor, corpus: list[tuple[str, bytes]]) -> dict[str, float]:
    kept = main = near = around = blocks = whole = 0
    seconds = 0.0
    for site, data in corpus:
        inside, outside, code = truth(data, site)
        started = time.perf_counter()
        output = extract(data)
        seconds += time.perf_counter() - started
        folded = fold(output)
        kept += sum(t in folded for t in inside)
        main += len(inside)
        near += sum(t in folded for t in outside)
        around += len(outside)
        lines_out = re.sub(r"[`¶]", "", output)
        whole += sum(code_kept(lines, lines_out) for lines in code)
        blocks += len(code)
    return {"main": kept / max(main, 1), "around": near / max(around, 1),
            "code": whole / max(blocks, 1), "blocks": blocks, "rate": len(corpus) / seconds}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=40, help="pages of each documentation set")
    args = parser.parse_args()
    print(f"CPU: {describe()}")
    warnings.filterwarnings("ignore")  # bs4: PostgreSQL's pages are XHTML, parsed as HTML
    candidates: dict[str, Extractor] = {
        "ours (ingest/formats/html.py)": ours,
        "trafilatura 2.3.1, text": trafilatura_as("txt"),
        "trafilatura 2.3.1, markdown": trafilatura_as("markdown"),
        "readability-lxml 0.9 + ours": readability_then_ours,
    }
    sets = {site: [(site, p.read_bytes()) for p in pages(site, args.pages)] for site in SITES}
    sets["news page"] = [("news", NEWS.encode())]
    for name, corpus in sets.items():
        print(f"\n{name}: {len(corpus)} page(s)")
        print(f"{'':32}{'main kept':>10}{'around kept':>12}{'code whole':>16}{'pages/s':>9}")
        for label, extract in candidates.items():
            m = measure(extract, corpus)
            code = f"{m['code'] * m['blocks']:.0f} of {m['blocks']:.0f}"
            print(f"{label:32}{m['main']:>10.1%}{m['around']:>12.1%}{code:>16}{m['rate']:>9.1f}")


if __name__ == "__main__":
    main()
