"""Loaders fuzzed: random bytes and damaged PDFs, DOCX and HTML give a result or a LoadError,
never another exception (which would end an ingest) and never a hang."""

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
from tests.documents import HTML_PAGE, make_docx, make_pdf

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
    return {
        ".pdf": make_pdf(["Rivers feed the Aral Sea basin.", "The Rogun dam is on the Vakhsh."]),
        ".docx": docx_bytes,
        ".html": HTML_PAGE.encode(),
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


@FUZZ
@given(suffix=st.sampled_from([".pdf", ".docx", ".html"]), changes=damage)
def test_damaged_documents_never_crash(
    suffix: str, changes: list[tuple[float, str, bytes]]
) -> None:
    load_or_refuse(f"x{suffix}", damaged(valid()[suffix], changes))


@FUZZ
@given(changes=damage, member=st.sampled_from(["word/document.xml", "[Content_Types].xml"]))
def test_docx_with_damaged_xml_inside_never_crashes(
    changes: list[tuple[float, str, bytes]], member: str
) -> None:
    """The zip intact, the XML inside it damaged: the parser behind python-docx meets it."""
    source = zipfile.ZipFile(io.BytesIO(valid()[".docx"]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            body = source.read(item)
            target.writestr(item, damaged(body, changes) if item.filename == member else body)
    load_or_refuse("x.docx", out.getvalue())


def test_pdf_with_a_reference_loop_is_refused_or_read() -> None:
    """A page tree whose node is its own kid would recurse without end in a naive reader."""
    loop = make_pdf(["one"]).replace(b"/Kids [3 0 R]", b"/Kids [2 0 R]")
    load_or_refuse("loop.pdf", loop)


def test_docx_zip_bomb_is_refused_without_inflating_it() -> None:
    """A DOCX whose XML inflates to gigabytes is refused by its declared size."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b" " * (1 << 20)
            for _ in range(600):  # 600 MB of spaces, ~600 KB compressed
                member.write(chunk)
    with pytest.raises(LoadError, match="inflates"):
        load(Path("bomb.docx"), out.getvalue())


def test_deeply_nested_html_is_read() -> None:
    """Nesting deeper than Python's recursion limit must not end the ingest."""
    html = "<div>" * 5000 + "Deep text about rivers." + "</div>" * 5000
    result = load_or_refuse("deep.html", f"<html><body>{html}</body></html>".encode())
    assert result is None or "Deep text about rivers." in result.text
