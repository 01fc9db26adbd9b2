"""What the watcher is doing and has done, as data: the CLI prints it, the UI shows it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from ingest import Changed, IngestReport

KINDS = ("added", "updated", "renamed", "removed")


@dataclass(frozen=True)
class Applied:
    """One ingest run of the watcher that changed the index."""

    at: datetime
    summary: str
    report: IngestReport
    whole_folder: bool


@dataclass(frozen=True)
class WatchStatus:
    """A snapshot of a watcher. `state` is one of: starting, watching (idle), settling (changes
    waiting to settle), ingesting, waiting for another ingest, folder missing, stopped."""

    folder: str
    state: str
    since: datetime
    pending: int  # changed paths not ingested yet
    ingests: int  # ingest runs so far, including those that found nothing to change
    applied: list[Applied]  # the latest runs that changed something, oldest first
    problem: str | None  # the last thing that went wrong, until an ingest succeeds

    @property
    def idle(self) -> bool:
        return self.state == "watching"

    @property
    def last(self) -> Applied | None:
        return self.applied[-1] if self.applied else None


def applied(report: IngestReport, whole_folder: bool) -> bool:
    """Whether a run changed anything worth telling: documents, or files that failed to load
    (a whole-folder run lists every unreadable file again, so only a scoped run's count)."""
    return bool(report.changed) or (bool(report.skipped) and not whole_folder)


def summarize(report: IngestReport) -> str:
    """ "notes.md updated"; "3 added, 1 removed: a.txt, b.txt, c.txt, …"; then skipped files."""
    changes, parts = report.changed, []
    if len(changes) == 1:
        parts.append(_one(changes[0]))
    elif changes:
        counts = Counter(c.what for c in changes)
        names = ", ".join(c.source for c in changes[:3]) + (", …" if len(changes) > 3 else "")
        parts.append(", ".join(f"{counts[k]} {k}" for k in KINDS if counts[k]) + f": {names}")
    if report.skipped:
        names = ", ".join(s.source for s in report.skipped[:3])
        parts.append(f"skipped {names}" + (", …" if len(report.skipped) > 3 else ""))
    return "; ".join(parts) or "nothing changed"


def _one(change: Changed) -> str:
    if change.what == "renamed":
        return f"{change.previous} renamed to {change.source}"
    return f"{change.source} {change.what}"


def state_of(flags: dict[str, bool], stopped: bool, pending: bool) -> str:
    """The one word(s) a status shows, from the watcher's flags: the first that holds."""
    for state, on in (
        ("stopped", stopped),
        ("folder missing", flags["missing"]),
        ("waiting for another ingest", flags["busy"]),
        ("ingesting", flags["ingesting"]),
        ("starting", not flags["started"]),
        ("settling", pending),
    ):
        if on:
            return state
    return "watching"
