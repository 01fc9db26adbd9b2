"""OCR engines compared on rendered test pages: character accuracy (English and Korean) and time.

    .venv/bin/python bench/ocr.py            # 4 pages per language, every engine installed
    .venv/bin/python bench/ocr.py --small    # 1 page per language, a CI-sized run

Pages are drawn with Pillow in Debian's fonts (DejaVu, Nanum) at 300 dpi: a clean print and a
"scan" of it (turned by 0.6°, blurred, noised, saved as JPEG). Accuracy is 1 - CER, the edit
distance between recognised and true text over the true text's length, white space folded to
single spaces (a space wrongly put between Hangul syllables counts: it breaks word search).
Engines: Debian's tesseract 5.3 run by pytesseract (a process per page; also with
OMP_THREAD_LIMIT=1, as Debian's build runs OpenMP threads that fight over two busy cores),
tesserocr (its wheel's own libtesseract 5.5, in-process, no OpenMP), and rapidocr-onnxruntime
(PyPI; its wheel ships Chinese/English models only). Tesseract runs as Sourcebook runs it:
eng+kor on every page, preserve_interword_spaces=1 (without it, Tesseract's Korean model puts
a space between most syllables).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont

REPO = Path(__file__).resolve().parent.parent
FONTS = Path("/usr/share/fonts/truetype")
TESSDATA = Path("/usr/share/tesseract-ocr/5/tessdata")
DPI = 300
KOREAN = (
    "한국과 중앙아시아 국가들은 수교 이후 정치, 경제, 사회, 문화 등 다양한 분야에서 상호 신뢰를 "
    "바탕으로 우호적인 관계를 유지해 왔다. 한·중앙아시아 협력 포럼은 2007년 11월부터 매년 개최되고 "
    "있으며, 에너지와 자원, 교통과 물류, 보건과 교육 분야의 협력 사업을 논의한다. 제12차 포럼은 "
    "카자흐스탄의 수도에서 열렸고, 참가국 대표들은 물 관리와 기후 변화에 대응하는 공동 사업을 "
    "제안하였다. 우즈베키스탄과 한국은 섬유 산업과 의료 서비스 분야에서 투자를 확대하기로 "
    "합의하였다. 투르크메니스탄의 천연가스 개발 사업에는 한국 기업들이 참여하고 있으며, "
    "키르기스스탄과 타지키스탄에서는 수력 발전과 농업 기술 협력이 진행되고 있다. 양측은 청년 "
    "교류와 한국어 교육을 늘리고, 디지털 정부와 전자 무역 분야의 경험을 나누기로 하였다."
)


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(next(FONTS.rglob(name))), size)


def wrap(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Lines of `text` no wider than `width` pixels, broken at spaces."""
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and face.getlength(trial) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line] if line else lines


def render_page(text: str, font_name: str, points: float = 11) -> tuple[Image.Image, str]:
    """An A4 page at 300 dpi holding as much of `text` as fits; the page and the text on it."""
    width, height, margin = int(8.27 * DPI), int(11.69 * DPI), DPI
    face = font(font_name, round(points * DPI / 72))
    step = round(face.size * 1.5)
    lines = wrap(text, face, width - 2 * margin)[: (height - 2 * margin) // step]
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(lines):
        draw.text((margin, margin + i * step), line, font=face, fill=0)
    return page, " ".join(lines)


def scanned(page: Image.Image, seed: int) -> Image.Image:
    """`page` as a flatbed scanner might return it: slightly turned, soft, noisy, JPEG."""
    rng = random.Random(seed)
    turned = page.rotate(0.6, resample=Image.Resampling.BICUBIC, fillcolor=255)
    soft = turned.filter(ImageFilter.GaussianBlur(0.8))
    noisy = Image.blend(soft, Image.effect_noise(soft.size, 40), 0.15)  # grey, grainy paper
    buffer = io.BytesIO()
    noisy.save(buffer, "JPEG", quality=rng.choice([70, 80]))
    return Image.open(io.BytesIO(buffer.getvalue())).convert("L")


def english_text() -> str:
    corpus = sorted((REPO / "corpus").glob("*.txt"))
    words = " ".join(p.read_text() for p in corpus).replace("#", "").split()
    return " ".join(w for w in words if "http" not in w and "[" not in w)


def pages(count: int) -> list[tuple[str, str, Image.Image, str]]:
    """(language, variant, image, true text) for `count` pages per language."""
    english = english_text()
    out = []
    for n in range(count):
        en_page, en_text = render_page(
            english[n * 3000 :], ["DejaVuSerif.ttf", "DejaVuSans.ttf"][n % 2]
        )
        ko_page, ko_text = render_page(KOREAN, ["NanumMyeongjo.ttf", "NanumGothic.ttf"][n % 2])
        variant = "clean" if n % 2 == 0 else "scanned"
        if variant == "scanned":
            en_page, ko_page = scanned(en_page, n), scanned(ko_page, n)
        out += [("English", variant, en_page, en_text), ("Korean", variant, ko_page, ko_text)]
    return out


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def accuracy(found: str, truth: str) -> float:
    found, truth = " ".join(found.split()), " ".join(truth.split())
    return max(0.0, 1 - edit_distance(found, truth) / max(len(truth), 1))


def make_pytesseract(threads: int | None = None) -> Callable[[Image.Image], str]:
    import pytesseract

    if threads:
        os.environ["OMP_THREAD_LIMIT"] = str(threads)  # inherited by each tesseract process
    config = "-c preserve_interword_spaces=1"
    return lambda image: str(pytesseract.image_to_string(image, lang="eng+kor", config=config))


def make_tesserocr() -> Callable[[Image.Image], str]:
    """What Sourcebook runs: ingest.formats.ocr (tesserocr, with its layout retry)."""
    sys.path.insert(0, str(REPO))
    from ingest.formats.ocr import recognise

    return recognise


def make_rapidocr() -> Callable[[Image.Image], str]:
    import numpy as np
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR()

    def read(image: Image.Image) -> str:
        result, _ = engine(np.asarray(image.convert("RGB")))
        return "\n".join(text for _, text, _ in result or [])

    return read


ENGINES: dict[str, Callable[[], Callable[[Image.Image], str]]] = {
    "tesseract 5.5 (tesserocr, in-process; Sourcebook's)": make_tesserocr,
    "tesseract 5.3 (pytesseract, Debian's binary)": make_pytesseract,
    "tesseract 5.3 (pytesseract, OMP_THREAD_LIMIT=1)": lambda: make_pytesseract(threads=1),
    "rapidocr-onnxruntime 1.4.4": make_rapidocr,
}


def cpu() -> str:
    text = Path("/proc/cpuinfo").read_text()
    model = next(
        (ln.split(":", 1)[1].strip() for ln in text.splitlines() if "model name" in ln), ""
    )
    flags = set(next((ln for ln in text.splitlines() if ln.startswith("flags")), "").split())
    marks = [f for f in ("avx2", "avx512f", "avx512_vnni") if f in flags]
    return (
        f"{model or platform.processor()} ({', '.join(marks) or 'no avx2'}), {os.cpu_count()} cores"
    )


def measure(name: str, read: Callable[[Image.Image], str], test: list[Any]) -> dict[str, Any]:
    read(test[0][2])  # warm-up: models load on the first call
    rows: dict[str, list[tuple[float, float]]] = {"English": [], "Korean": []}
    for language, _, image, truth in test:
        started = time.perf_counter()
        found = read(image)
        rows[language].append((accuracy(found, truth), time.perf_counter() - started))
    return {
        "engine": name,
        **{f"{lang} accuracy": statistics.mean(a for a, _ in r) for lang, r in rows.items()},
        "s/page": statistics.median(s for r in rows.values() for _, s in r),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="1 page per language")
    args = parser.parse_args()
    test = pages(1 if args.small else 4)
    print(f"OCR on {len(test)} A4 pages at {DPI} dpi; CPU: {cpu()}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print("| engine | English accuracy | Korean accuracy | s/page (median) |\n|---|---|---|---|")
    for name, make in ENGINES.items():
        try:
            r = measure(name, make(), test)
        except (ImportError, OSError) as e:  # OSError: no tesseract binary for pytesseract
            print(f"| {name} | not installed ({getattr(e, 'name', None) or e}) | | |")
            continue
        print(
            f"| {name} | {r['English accuracy']:.3f} | {r['Korean accuracy']:.3f} | {r['s/page']:.2f} |"
        )


if __name__ == "__main__":
    main()
