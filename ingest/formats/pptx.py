"""PowerPoint (.pptx): each slide's title, text and tables in reading order, then its speaker
notes; slide numbers kept like a PDF's pages."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from ingest.errors import LoadError
from ingest.extracted import Extracted, TextBuilder
from ingest.formats.docx import check_inflated_size

MAX_SLIDES = 5000
MAX_SHAPE_DEPTH = 20  # groups inside groups: a hostile file can nest them without end


def load_pptx(data: bytes, stem: str) -> Extracted:
    """Slide by slide: {"start", "slide", "heading": title} where its text begins, and a
    section with "notes": True where its speaker notes begin."""
    import pptx
    from pptx.exc import PackageNotFoundError

    check_inflated_size(data, "PPTX")
    try:
        deck = pptx.Presentation(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise LoadError(f"cannot read the PPTX ({type(e).__name__}); it may be damaged") from e
    if len(deck.slides) > MAX_SLIDES:
        raise LoadError(f"it has {len(deck.slides)} slides; the limit is {MAX_SLIDES}")
    builder = TextBuilder()
    first_title = ""
    for number, slide in enumerate(deck.slides, start=1):
        title_shape = slide.shapes.title
        title = clean(title_shape.text_frame.text) if title_shape is not None else ""
        first_title = first_title or title
        place: dict[str, Any] = {"slide": number, "heading": title or f"Slide {number}"}
        body = [title] if title else []
        body += shape_texts(slide.shapes, skip=title_shape)
        builder.add("\n".join(t for t in body if t), **place)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = clean(slide.notes_slide.notes_text_frame.text)
            builder.add(notes, **place, notes=True)
    title = (deck.core_properties.title or "").strip()
    return builder.build(title or first_title)


def clean(text: str) -> str:
    """Text frames mark a line break inside a paragraph with a vertical tab."""
    lines = text.replace("\v", "\n").split("\n")
    return "\n".join(line.strip() for line in lines if line.strip())


def shape_texts(shapes: Any, skip: Any = None, depth: int = 0) -> list[str]:
    """The text of each shape, top to bottom and left to right; groups read inside out."""
    from pptx.shapes.group import GroupShape

    if depth > MAX_SHAPE_DEPTH:
        raise LoadError(f"its shapes are grouped more than {MAX_SHAPE_DEPTH} deep")
    texts: list[str] = []
    for shape in sorted(shapes, key=lambda s: (s.top or 0, s.left or 0)):
        if skip is not None and shape.shape_id == skip.shape_id:
            continue
        if isinstance(shape, GroupShape):
            texts += shape_texts(shape.shapes, depth=depth + 1)
        elif shape.has_text_frame:
            texts.append(clean(shape.text_frame.text))
        elif getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                cells = [clean(c.text).replace("\n", " ") for c in row.cells]
                texts.append(" | ".join(c for c in cells if c))
    return texts
