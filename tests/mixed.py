"""A real folder with one document of every format Sourcebook reads, each made here with the
libraries the formats come from (scans drawn with Pillow in Debian's fonts), and a question
whose answer sits in each."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class Fact:
    """`question` is answered from `source` with `answer` in the quote, cited at `place`."""

    source: str
    question: str
    answer: str
    place: dict[str, Any] = field(default_factory=dict)


FACTS = [
    Fact(
        "notes.txt",
        "When did the Orvalla observatory open its northern telescope?",
        "1912",
    ),
    Fact("guide.md", "What does the Hessing apiary feed its hives in winter?", "fondant"),
    Fact("page.html", "Where is the Rogun dam?", "Vakhsh", {"heading": "Water Policy > Dams"}),
    Fact(
        "report.pdf",
        "How far did the Quillon glacier retreat between 2001 and 2020?",
        "340 metres",
        {"page": 2},
    ),
    Fact("minutes.docx", "Who did the Tarrow rowing club elect as captain?", "Ines Varga"),
    Fact(
        "reservoirs.xlsx",
        "Who is the keeper of the Veshnor reservoir?",
        "Tomas Keel",
        {"sheet": "Reservoirs", "row": 4},
    ),
    Fact(
        "ferries.csv", "Which vessel sails the Pemba to Tanga ferry route?", "Sarafina", {"row": 3}
    ),
    Fact(
        "harbour.pptx",
        "Where is the dredger Orca Maru chartered from?",
        "Rotterdam",
        {"slide": 2},
    ),
    Fact(
        "salt-road.epub",
        "How often did caravans rest at the Dunmore well?",
        "every ninth day",
        {"heading": "The Salt Road"},
    ),
    Fact("orchard.odt", "How many varieties of quince does the Pellham orchard grow?", "forty"),
    Fact(
        "mill-scan.pdf", "When did the Brisk Hollow mill grind its last wheat?", "1958", {"page": 1}
    ),
    Fact("toll-sign.png", "What is the toll on the Castellan bridge?", "four silver crowns"),
    Fact("crossing.jpg", "Who rows the Saint Aubin crossing?", "Odile Marchetti"),
    Fact("lamp.tiff", "What oil does the Greywater lighthouse lamp burn?", "colza oil"),
]


def scan(*lines: str) -> Any:
    return render_text(list(lines))


def write_mixed_folder(folder: Path, only: set[str] | None = None) -> list[Fact]:
    """Write one document of each format into `folder` (or just those named in `only`); the
    facts they hold."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in mixed_files().items():
        if only is None or name in only:
            (folder / name).write_bytes(data)
    return [f for f in FACTS if only is None or f.source in only]


def mixed_files() -> dict[str, bytes]:
    """File name -> bytes, one document of each format."""
    files: dict[str, bytes] = {
        "notes.txt": b"Observatory notes.\n\nThe Orvalla observatory opened its northern "
        b"telescope in 1912, after nine years of building.\n",
        "guide.md": b"# Beekeeping guide\n\n## Winter\n\nIn winter the Hessing apiary feeds its "
        b"hives fondant made from beet sugar.\n",
        "page.html": HTML_PAGE.encode(),
        "report.pdf": make_pdf(
            ["Glacier survey, summary.", "The Quillon glacier retreated 340 metres in 2001-2020."]
        ),
        "reservoirs.xlsx": make_xlsx(
            {
                "Summary": [["Reservoirs of the Ardent basin, surveyed in 2023"]],
                "Reservoirs": [
                    ["Reservoir", "River", "Capacity (million m3)", "Keeper"],
                    ["Aldmere", "Ardent", 96, "Hana Ruud"],
                    ["Coldbrook", "Sable", 210, "Ivo Brandt"],
                    ["Veshnor", "Ardent", 412, "Tomas Keel"],
                    ["Wendle", "Mire", 58, "Lucia Pardo"],
                ],
            }
        ),
        "ferries.csv": b"Route,Departs,Vessel\nZanzibar to Pemba,06:00,MV Kilwa Star\n"
        b"Pemba to Tanga,07:30,MV Sarafina\nTanga to Mafia,12:15,MV Jahazi\n",
        "harbour.pptx": make_pptx(
            [
                ("Harbour works 2025", ["Quay walls", "Dredging", "Budget"], ""),
                (
                    "Dredging the Lindqvist channel",
                    ["Dredging of the Lindqvist channel starts in May."],
                    "The dredger Orca Maru is chartered from Rotterdam for six weeks.",
                ),
            ]
        ),
        "salt-road.epub": make_epub(
            "Caravans",
            [
                ("The Oasis", "The oasis of Tefer had palms and a market."),
                (
                    "The Salt Road",
                    "Caravans on the salt road rested at the Dunmore well every ninth day.",
                ),
            ],
        ),
        "orchard.odt": make_odt(
            [("h1", "Orchard"), ("p", "The Pellham orchard grows forty varieties of quince.")]
        ),
        "mill-scan.pdf": image_bytes(
            scan(
                "Brisk Hollow mill history", "The Brisk Hollow mill ground its last wheat in 1958."
            ),
            "PDF",
        ),
        "toll-sign.png": image_bytes(
            scan("The toll on the Castellan bridge is four silver crowns."), "PNG"
        ),
        "crossing.jpg": image_bytes(
            scan("Odile Marchetti rows the Saint Aubin crossing each day."), "JPEG"
        ),
        "lamp.tiff": image_bytes(scan("The Greywater lighthouse lamp burns colza oil."), "TIFF"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        files["minutes.docx"] = make_docx(
            Path(tmp) / "minutes.docx",
            [
                ("h1", "Club minutes"),
                ("p", "The Tarrow rowing club elected Ines Varga as captain."),
            ],
        ).read_bytes()
    return files
