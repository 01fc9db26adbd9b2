"""Text recognised in page images: Tesseract 5 through tesserocr (the library in-process, one
engine per worker), reading English and Korean with Debian's language data.

Why this engine: bench/ocr.py (README "Formats") compares it with Debian's tesseract driven by
pytesseract and with rapidocr-onnxruntime on rendered English and Korean pages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ingest.errors import LoadError

LANGUAGES = ("eng", "kor")  # the ones installed are used; the first must be
TESSDATA = (  # Debian's tesseract-ocr-* packages, then other common places
    Path("/usr/share/tesseract-ocr/5/tessdata"),
    Path("/usr/share/tesseract-ocr/4.00/tessdata"),
    Path("/usr/share/tessdata"),
    Path("/usr/local/share/tessdata"),
)
MAX_PIXELS = 60_000_000  # an image larger than this is refused before it is decoded
# Tesseract reads best at ~300 dpi, which is ~8.7 million pixels for an A4 page: a larger
# image is shrunk to this before recognition, which costs no accuracy and bounds the time.
OCR_PIXELS = 12_000_000
OCR_DPI = 300
# Tesseract's automatic layout analysis (page segmentation mode 3) finds columns and blocks,
# but on a short passage of Korean it can cut lines into fragments (mean confidence ~75, where
# a good read is ~90): below this confidence the image is read again as one block of text
# (mode 6) and the more confident reading kept.
RETRY_BELOW_CONFIDENCE = 88
AUTO_LAYOUT, ONE_BLOCK = 3, 6
INSTALL = "apt-get install tesseract-ocr-eng tesseract-ocr-kor"

_engine: Any = None


def engine() -> Any:
    """The Tesseract engine of this process, loaded once (~1 s, the language models)."""
    global _engine
    if _engine is None:
        try:
            import tesserocr
        except ImportError as e:
            raise LoadError("OCR needs tesserocr: pip install -e . (it is a dependency)") from e
        folder = next((p for p in TESSDATA if (p / f"{LANGUAGES[0]}.traineddata").exists()), None)
        if folder is None:
            raise LoadError(f"OCR needs Tesseract's language data: {INSTALL}")
        languages = [lang for lang in LANGUAGES if (folder / f"{lang}.traineddata").exists()]
        _engine = tesserocr.PyTessBaseAPI(path=str(folder), lang="+".join(languages))
        # Without it, the Korean model puts a space between most syllables ("한 국 과").
        _engine.SetVariable("preserve_interword_spaces", "1")
    return _engine


def prepare(image: Any) -> Any:
    """`image` as Tesseract reads it best: grey, on white where it was transparent, upright
    (a photo's EXIF orientation applied), at most OCR_PIXELS."""
    from PIL import Image, ImageOps

    width, height = image.size
    if width * height > MAX_PIXELS:
        raise LoadError(f"an image of {width}x{height} pixels is larger than {MAX_PIXELS:,} pixels")
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")
        white = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(white, image)
    image = image.convert("L")
    if width * height > OCR_PIXELS:
        shrink = (OCR_PIXELS / (width * height)) ** 0.5
        image = image.resize((max(1, int(width * shrink)), max(1, int(height * shrink))))
    return image


def recognise(image: Any) -> str:
    """The text Tesseract reads in `image` (a PIL image), lines kept, blocks apart by a blank
    line."""
    api = engine()
    prepared = prepare(image)
    text, confidence = read(api, prepared, AUTO_LAYOUT)
    if confidence < RETRY_BELOW_CONFIDENCE:
        retried, retried_confidence = read(api, prepared, ONE_BLOCK)
        if retried_confidence > confidence:
            text = retried
    return tidy(text)


def read(api: Any, image: Any, mode: int) -> tuple[str, int]:
    """(text, mean word confidence 0-100) of one Tesseract pass in page segmentation `mode`."""
    api.SetPageSegMode(mode)
    api.SetImage(image)
    api.SetSourceResolution(OCR_DPI)
    try:
        return str(api.GetUTF8Text()), int(api.MeanTextConf())
    finally:
        api.Clear()


def tidy(text: str) -> str:
    """Tesseract's output without its form feed, runs of spaces (which preserved interword
    spaces leave where a line is justified) and runs of blank lines."""
    lines = [" ".join(line.split()) for line in text.replace("\x0c", "").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
