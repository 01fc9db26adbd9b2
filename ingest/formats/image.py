"""Images (.png, .jpg, .tiff): the text in them recognised by OCR, each frame of a TIFF a page."""

from __future__ import annotations

import io
from typing import Any

from ingest.beat import alive
from ingest.errors import LoadError
from ingest.extracted import Extracted, TextBuilder
from ingest.formats.ocr import MAX_PIXELS, recognise

MAX_FRAMES = 1000  # pages of a multi-page TIFF


def open_image(data: bytes) -> Any:
    """The image in `data`, its header read (pixels are decoded only when used)."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        raise LoadError(f"it has more pixels than the limit of {MAX_PIXELS:,} ({e})") from e
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise LoadError(f"not an image that can be read ({type(e).__name__})") from e
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise LoadError(f"it is {width}x{height} pixels; the limit is {MAX_PIXELS:,} pixels")
    frames = int(getattr(image, "n_frames", 1))
    if frames > MAX_FRAMES:
        raise LoadError(f"it has {frames} pages; the limit is {MAX_FRAMES}")
    return image


def frame(image: Any, page: int) -> Any:
    """Page `page` (from 1) of `image`, decoded."""
    image.seek(page - 1)
    image.load()
    return image


def load_image(data: bytes, stem: str) -> Extracted:
    """Each frame's recognised text: {"start", "page", "ocr": True} where it begins."""
    image = open_image(data)
    builder = TextBuilder()
    try:
        for page in range(1, int(getattr(image, "n_frames", 1)) + 1):
            builder.add(recognise(frame(image, page)), page=page, ocr=True)
            alive()
    except (OSError, ValueError, SyntaxError, EOFError) as e:
        raise LoadError(f"cannot decode the image ({type(e).__name__}); it may be damaged") from e
    if not builder.text.strip():
        raise LoadError("no text was recognised in the image")
    return builder.build("", fallback=False)  # titled by its file name
