"""Uploads into the documents folder: stored under a free name, never through a link, names
made safe; and taken out again when the ingest refuses them."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
from pathlib import Path

from app.settings import Settings, get_settings
from ingest import SUPPORTED, IngestReport, safe_name, shown_name
from store import SourcebookError


class UploadError(SourcebookError):
    """An uploaded file that cannot be stored; the message names it and says why."""


UPLOADS = "uploads"  # the folder, inside the documents folder, that uploads are stored in
MAX_NAME_BYTES = 200  # an upload's name; room is left for " (2)" within the file system's 255


def save_upload(
    filename: str, data: bytes, settings: Settings | None = None, *, folder: Path | None = None
) -> Path:
    """Store an uploaded file in the documents folder's uploads/ (not ingested yet); return
    where. It never replaces a file: a name already taken gets a number, `report (2).pdf`. It
    never writes through a link: the bytes go to a new file (O_EXCL, O_NOFOLLOW) that is then
    linked in under a free name. Control and direction characters in the name become "_".
    Refused, with a line that says why: names that would land outside the folder, unsupported
    types, files over the size limit."""
    settings = settings or get_settings()
    name = safe_name(Path(filename.replace("\\", "/")).name)
    if not name or name.startswith(".") or len(name.encode()) > MAX_NAME_BYTES:
        raise UploadError(f"'{shown_name(filename)}' is not a usable file name")
    if Path(name).suffix.lower() not in SUPPORTED:
        raise UploadError(f"{name}: unsupported type; Sourcebook reads {', '.join(SUPPORTED)}")
    limit = settings.max_upload_mb * 1e6
    if len(data) > limit:
        raise UploadError(
            f"{name} is {len(data) / 1e6:.1f} MB; the limit is {settings.max_upload_mb:g} MB "
            "(SOURCEBOOK_MAX_UPLOAD_MB)"
        )
    folder = (folder or settings.folder).resolve()  # the folder the index follows
    uploads = _open_uploads(folder)
    part = f".{secrets.token_hex(8)}.part"
    try:
        fd = os.open(
            part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=uploads
        )
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        return folder / UPLOADS / _link_free(part, name, uploads)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(part, dir_fd=uploads)
        os.close(uploads)


def _open_uploads(folder: Path) -> int:
    """A handle on the folder's uploads/ (made if missing), refusing one that is a link."""
    parent = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with contextlib.suppress(FileExistsError):
            os.mkdir(UPLOADS, dir_fd=parent)
        return os.open(UPLOADS, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
    except OSError as e:
        raise UploadError(
            f"{folder / UPLOADS} is a link or not a folder: uploads are never written through a "
            "link (it could lead outside the documents folder)"
        ) from e
    finally:
        os.close(parent)


def _link_free(part: str, name: str, uploads: int) -> str:
    """Link the written file `part` in as `name`, or `stem (2).ext`, ... if that is taken; a
    hard link never replaces what is there, a file or a link."""
    stem, suffix = Path(name).stem, Path(name).suffix
    for n in range(1, 1000):
        candidate = name if n == 1 else f"{stem} ({n}){suffix}"
        try:
            os.link(part, candidate, src_dir_fd=uploads, dst_dir_fd=uploads, follow_symlinks=False)
            return candidate
        except FileExistsError:
            continue
    raise UploadError(f"{name}: too many files of that name in {UPLOADS}/; rename it")


def upload_note(filename: str, stored: Path) -> str | None:
    """The line that tells an uploader their file is stored under another name, and why."""
    given = Path(filename.replace("\\", "/")).name
    if stored.name == given:
        return None
    why = []
    if safe_name(given) != given:
        why.append("its name held control or direction characters")
    if stored.name != safe_name(given):
        why.append("a file of that name is already there (both are kept)")
    return f"{shown_name(given)} is stored as {stored.name}: {' and '.join(why)}"


def drop_refused(report: IngestReport, saved: list[Path]) -> tuple[IngestReport, list[str]]:
    """Remove the just-uploaded files that the ingest refused (a bomb, a broken PDF), so they
    do not linger in the folder; returns the report without them, and a line for each."""
    folder = Path(report.folder)
    uploaded = {p.relative_to(folder).as_posix(): p for p in saved if p.is_relative_to(folder)}
    lines, kept = [], []
    for skipped in report.skipped:
        path = uploaded.get(skipped.source)
        if path is None:
            kept.append(skipped)
            continue
        path.unlink(missing_ok=True)
        lines.append(f"{skipped.source}: {skipped.reason}; not kept (removed from the folder)")
    return dataclasses.replace(report, skipped=kept), lines
