"""EPUB: the chapters of the spine in reading order, each under its table-of-contents title.

Read with zipfile and lxml rather than EbookLib, which is AGPL-licensed: an EPUB is a zip
holding an OPF package (manifest and spine) and XHTML chapters, and that is all we need of it.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from typing import Any
from urllib.parse import unquote

from ingest.errors import LoadError
from ingest.extracted import Extracted
from ingest.formats.docx import check_inflated_size
from ingest.formats.html import HtmlText, walk

MAX_CHAPTERS = 5000  # a bound on what one hostile file can make the parser do
CHAPTER_TYPES = {"application/xhtml+xml", "text/html"}


def load_epub(data: bytes, stem: str) -> Extracted:
    """The spine's documents in order; each starts a heading, its table-of-contents title."""
    from bs4 import BeautifulSoup

    check_inflated_size(data, "EPUB")
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        opf_path = package_path(book)
        opf = parse_xml(book.read(opf_path))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise LoadError(f"cannot read the EPUB ({type(e).__name__}); it may be damaged") from e
    folder = posixpath.dirname(opf_path)
    manifest = {
        item.get("id"): item
        for item in opf.iterfind(".//{*}manifest/{*}item")
        if item.get("id") and item.get("href")
    }
    spine = [manifest[ref] for ref in spine_ids(opf) if ref in manifest]
    spine = [item for item in spine if item.get("media-type") in CHAPTER_TYPES]
    if len(spine) > MAX_CHAPTERS:
        raise LoadError(f"it has {len(spine)} chapters; the limit is {MAX_CHAPTERS}")
    titles = toc_titles(book, opf, manifest, folder)
    out = HtmlText()
    for n, item in enumerate(spine, start=1):
        path = href_path(folder, item.get("href", ""))
        try:
            soup = BeautifulSoup(book.read(path), "lxml")
        except KeyError:
            continue  # listed in the spine, missing from the zip: the rest is still a book
        out.chapter(titles.get(path) or first_heading(soup) or f"Chapter {n}")
        walk(soup.body or soup, out)
    return out.result(metadata_title(opf))


def parse_xml(data: bytes) -> Any:
    """An XML tree parsed without resolving entities or reaching the network."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        raise ValueError(str(e)) from e


def package_path(book: zipfile.ZipFile) -> str:
    """Where the OPF package document is, as META-INF/container.xml says."""
    container = parse_xml(book.read("META-INF/container.xml"))
    rootfile = container.find(".//{*}rootfile")
    if rootfile is None or not rootfile.get("full-path"):
        raise ValueError("no rootfile in META-INF/container.xml")
    return str(rootfile.get("full-path"))


def spine_ids(opf: Any) -> list[str]:
    return [str(ref.get("idref")) for ref in opf.iterfind(".//{*}spine/{*}itemref")]


def href_path(folder: str, href: str) -> str:
    """The zip member an href (relative to the package, maybe %-escaped, maybe #fragment) names."""
    return posixpath.normpath(posixpath.join(folder, unquote(href.split("#", 1)[0])))


def toc_titles(
    book: zipfile.ZipFile, opf: Any, manifest: dict[str, Any], folder: str
) -> dict[str, str]:
    """Chapter file -> its first title in the table of contents: the EPUB 3 navigation
    document, else the EPUB 2 NCX."""
    nav = next((i for i in manifest.values() if "nav" in (i.get("properties") or "").split()), None)
    spine = opf.find(".//{*}spine")
    ncx = manifest.get(spine.get("toc")) if spine is not None else None
    try:
        if nav is not None:
            return _links(book, href_path(folder, nav.get("href")), ".//{*}nav//{*}a", "href")
        if ncx is not None:
            return _links(book, href_path(folder, ncx.get("href")), ".//{*}navPoint", "src")
    except (KeyError, ValueError):
        pass  # a broken table of contents: chapters are named by their own headings
    return {}


def _links(book: zipfile.ZipFile, path: str, entries: str, attribute: str) -> dict[str, str]:
    """File -> title of the first entry that points into it, from a nav document's links
    (<a href>) or an NCX's navPoints (<navLabel> and <content src>)."""
    base = posixpath.dirname(path)
    titles: dict[str, str] = {}
    for entry in parse_xml(book.read(path)).iterfind(entries):
        label = entry.find("{*}navLabel") if attribute == "src" else entry
        target = entry.find("{*}content") if attribute == "src" else entry
        if label is None or target is None or not target.get(attribute):
            continue
        name = " ".join("".join(label.itertext()).split())
        if name:
            titles.setdefault(href_path(base, target.get(attribute)), name)
    return titles


def first_heading(soup: Any) -> str:
    found = soup.find(["h1", "h2", "h3"]) or soup.find("title")
    return re.sub(r"\s+", " ", found.get_text(" ")).strip() if found else ""


def metadata_title(opf: Any) -> str:
    found = opf.find(".//{*}metadata/{http://purl.org/dc/elements/1.1/}title")
    return " ".join("".join(found.itertext()).split()) if found is not None else ""
