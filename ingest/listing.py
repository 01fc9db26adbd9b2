"""Which files of a folder are its documents: the rules of an ingest's listing, which the watcher
applies to each changed path too."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from ingest.formats import SUPPORTED


def passed_over(name: str) -> bool:
    """A file or folder name never read nor counted, nor anything under it: hidden (".git",
    ".DS_Store") or an Office owner file ("~$report.docx")."""
    return name.startswith((".", "~$"))


def readable(path: Path) -> bool:
    """A file of a type Sourcebook reads."""
    return path.suffix.lower() in SUPPORTED


class Listing(NamedTuple):
    """What a folder holds for an ingest."""

    files: list[Path]  # supported files, sorted
    ignored: int  # files of a type Sourcebook does not read
    links_out: list[Path]  # links (to files or folders) that lead out of the folder: not read


def list_files(folder: Path) -> Listing:
    """Supported files under `folder`, those passed over, and the links out of it."""
    found, ignored, links_out = [], 0, []
    inside = folder.resolve()
    for root, dirs, names in os.walk(folder, followlinks=False):
        for d in sorted(dirs):  # os.walk does not enter a linked folder; one out is said
            linked = Path(root) / d
            if linked.is_symlink() and not linked.resolve().is_relative_to(inside):
                links_out.append(linked)
        dirs[:] = sorted(d for d in dirs if not passed_over(d))
        for name in sorted(names):
            if passed_over(name):
                continue
            path = Path(root) / name
            if path.is_symlink() and not path.resolve().is_relative_to(inside):
                links_out.append(path)  # a link out of the folder is not the folder's document
            elif readable(path):
                found.append(path)
            else:
                ignored += 1
    return Listing(found, ignored, sorted(links_out))
