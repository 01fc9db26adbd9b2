"""Loaders fuzzed: random bytes and damaged files of every format give a result or a LoadError,
never another exception (which would end an ingest) and never a hang; bombs (zip, XML entities,
pixels, rows) are refused before they cost memory."""

from __future__ import annotations

import functools
import io
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import SUPPORTED, Extracted, LoadError, load
from tests.documents import (
    HTML_PAGE,
    image_bytes,
    make_docx,
    make_epub,
    make_odt,
    make_pdf,
    make_pptx,
    make_xlsx,
    render_text,
)

FUZZ = settings(
    max_examples=120,
    deadline=None,  # timings belong in benchmarks; a hang shows as a test that never ends
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same cases in every run: CI never fails on a new draw
    database=None,  # nothing written into the work tree
)


def load_or_refuse(name: str, data: bytes) -> Extracted | None:
    """The loader's whole contract on hostile bytes: a result, or a LoadError saying why."""
    try:
        return load(Path(name), data)
    except LoadError as e:
        assert str(e), "a refusal says why"
        return None


@functools.cache
def valid() -> dict[str, bytes]:
    """One valid document of each binary-ish format, to damage (not a fixture: hypothesis would
    print its whole value with every failing case)."""
    with tempfile.TemporaryDirectory() as tmp:
        docx_bytes = make_docx(
            Path(tmp) / "v.docx", [("h1", "Water"), ("p", "Rivers.")]
        ).read_bytes()
    scan = render_text(["Rivers feed the Aral Sea."]).resize((400, 60))  # small: OCR is quick
    return {
        ".pdf": make_pdf(["Rivers feed the Aral Sea basin.", "The Rogun dam is on the Vakhsh."]),
        ".docx": docx_bytes,
        ".html": HTML_PAGE.encode(),
        ".xlsx": make_xlsx({"Dams": [["Dam", "River"], ["Rogun", "Vakhsh"]]}),
        ".csv": b"Dam,River\nRogun,Vakhsh\nNurek,Vakhsh\n",
        ".pptx": make_pptx([("Dams", ["Rogun is on the Vakhsh."], "Say it twice.")]),
        ".odt": make_odt([("h1", "Dams"), ("p", "Rogun is on the Vakhsh.")]),
        ".epub": make_epub("Dams", [("Rogun", "Rogun is on the Vakhsh.")]),
        ".png": image_bytes(scan, "PNG"),
        ".jpg": image_bytes(scan, "JPEG"),
        ".tiff": image_bytes(scan, "TIFF"),
    }


# The XML inside each zip-based format that its parser reads first or most.
ZIP_MEMBERS = {
    ".docx": ["word/document.xml", "[Content_Types].xml"],
    ".xlsx": ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml"],
    ".pptx": ["ppt/slides/slide1.xml", "ppt/presentation.xml", "ppt/notesSlides/notesSlide1.xml"],
    ".odt": ["content.xml", "meta.xml"],
    ".epub": ["META-INF/container.xml", "OEBPS/content.opf", "OEBPS/nav.xhtml"],
}


@FUZZ
@given(suffix=st.sampled_from(SUPPORTED), data=st.binary(max_size=4096))
def test_random_bytes_never_crash(suffix: str, data: bytes) -> None:
    load_or_refuse(f"x{suffix}", data)


# A damage: (position as a share of the file, what to do there, bytes to put in).
damage = st.lists(
    st.tuples(
        st.floats(0, 1),
        st.sampled_from(["flip", "cut", "insert", "delete"]),
        st.binary(min_size=1, max_size=64),
    ),
    min_size=1,
    max_size=6,
)


def damaged(data: bytes, changes: list[tuple[float, str, bytes]]) -> bytes:
    out = bytearray(data)
    for share, how, junk in changes:
        at = min(int(share * len(out)), max(len(out) - 1, 0))
        if how == "flip" and out:
            out[at] ^= junk[0] or 0xFF
        elif how == "cut":
            del out[at:]
        elif how == "insert":
            out[at:at] = junk
        else:
            del out[at : at + len(junk)]
    return bytes(out)


DOCUMENTS = [".pdf", ".docx", ".html", ".xlsx", ".csv", ".pptx", ".odt", ".epub"]


@FUZZ
@given(suffix=st.sampled_from(DOCUMENTS), changes=damage)
def test_damaged_documents_never_crash(
    suffix: str, changes: list[tuple[float, str, bytes]]
) -> None:
    load_or_refuse(f"x{suffix}", damaged(valid()[suffix], changes))


@settings(FUZZ, max_examples=40)  # each readable one is OCR'd
@given(suffix=st.sampled_from([".png", ".jpg", ".tiff"]), changes=damage)
def test_damaged_images_never_crash(suffix: str, changes: list[tuple[float, str, bytes]]) -> None:
    load_or_refuse(f"x{suffix}", damaged(valid()[suffix], changes))


def with_member(
    data: bytes,
    member: str,
    body: bytes | None = None,
    changes: list[tuple[float, str, bytes]] | None = None,
) -> bytes:
    """`data`, a zip, with `member` replaced by `body`, or damaged by `changes`."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == member:
                content = body if body is not None else damaged(content, changes or [])
            target.writestr(item.filename, content)
    return out.getvalue()


@FUZZ
@given(
    changes=damage,
    suffix_member=st.sampled_from([(s, m) for s, ms in ZIP_MEMBERS.items() for m in ms]),
)
def test_zip_formats_with_damaged_xml_inside_never_crash(
    changes: list[tuple[float, str, bytes]], suffix_member: tuple[str, str]
) -> None:
    """The zip intact, the XML inside it damaged: the format's XML parser meets it."""
    suffix, member = suffix_member
    load_or_refuse(f"x{suffix}", with_member(valid()[suffix], member, changes=changes))


LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<root>&lol9;</root>"""


@pytest.mark.parametrize(("suffix", "member"), [(s, ms[0]) for s, ms in ZIP_MEMBERS.items()])
def test_xml_entity_bombs_are_refused_or_read_small(suffix: str, member: str) -> None:
    """A billion laughs (3 GB of "lol" from 1 KB of entities) inside each zip format's XML: the
    parsers must not expand it."""
    bomb = LAUGHS.replace(b"<root>", b"<root><p>").replace(b"</root>", b"</p></root>")
    result = load_or_refuse(f"laughs{suffix}", with_member(valid()[suffix], member, bomb))
    assert result is None or "lollollol" not in result.text


def test_pdf_with_a_reference_loop_is_refused_or_read() -> None:
    """A page tree whose node is its own kid would recurse without end in a naive reader."""
    loop = make_pdf(["one"]).replace(b"/Kids [3 0 R]", b"/Kids [2 0 R]")
    load_or_refuse("loop.pdf", loop)


@pytest.mark.parametrize(("suffix", "member"), [(s, ms[0]) for s, ms in ZIP_MEMBERS.items()])
def test_zip_bombs_are_refused_without_inflating_them(suffix: str, member: str) -> None:
    """A file whose XML inflates to gigabytes is refused by its declared size."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open(member, "w", force_zip64=True) as inflating:
            chunk = b" " * (1 << 20)
            for _ in range(600):  # 600 MB of spaces, ~600 KB compressed
                inflating.write(chunk)
    with pytest.raises(LoadError, match="inflates"):
        load(Path(f"bomb{suffix}"), out.getvalue())


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares `width` x `height` pixels and holds almost none of them."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1024))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_image_is_refused_before_decoding() -> None:
    """100,000 x 100,000 pixels (10 GB grey) declared in a few hundred bytes."""
    with pytest.raises(LoadError, match="pixels"):
        load(Path("bomb.png"), png_header(100_000, 100_000))


def test_a_table_past_the_row_limit_is_refused() -> None:
    from ingest.formats.table import MAX_ROWS

    data = b"a,b\n" + b"1,2\n" * (MAX_ROWS + 1)
    with pytest.raises(LoadError, match="rows"):
        load(Path("huge.csv"), data)


def test_a_giant_csv_field_is_refused() -> None:
    with pytest.raises(LoadError, match="CSV"):
        load(Path("field.csv"), b'a,b\n"' + b"x" * 200_000 + b'",2\n')


def test_deeply_nested_html_is_read() -> None:
    """Nesting deeper than Python's recursion limit must not end the ingest."""
    html = "<div>" * 5000 + "Deep text about rivers." + "</div>" * 5000
    result = load_or_refuse("deep.html", f"<html><body>{html}</body></html>".encode())
    assert result is None or "Deep text about rivers." in result.text
