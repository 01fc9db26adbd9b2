"""The keyword half of an index: BM25 over the chunk texts in a tantivy index in the home, searched
with top-k pruning (block-max WAND), and kept in step with the chunk table (SQLite beside it, or
PostgreSQL shared by several servers), which stays the source of truth, through the log of
changed chunk ids that the table's own triggers write in the same transaction as each change.
A shared log is followed from this index's own position (kept in its folder) and never
forgotten by it: other servers follow the same log."""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tantivy

from store.analysis import TOKENIZER, make_analyzer, make_schema
from store.errors import StoreError
from store.follow import follow, read_position, write_position
from store.textstore import TextStore
from store.words import FUNCTION_WORDS, INDEX_WORD

__all__ = ["FOLDER", "KeywordIndex"]

log = logging.getLogger(__name__)

# The folder's name carries the format: a new schema or analyzer gets a new folder, built from
# the chunk table on first open, and the old one is removed.
FOLDER = "keyword-v1"
WRITER_HEAP = 50_000_000  # bytes buffered before the writer flushes a segment
BATCH = 20_000  # logged changes applied per tantivy commit


class KeywordIndex:
    """The tantivy index of one home. Writes go through `catch_up()`, which applies what the
    chunk table's log says changed; opening it converges it to the chunk table."""

    def __init__(self, home: Path, textdb: TextStore) -> None:
        self.folder = home / FOLDER
        self._textdb = textdb
        self._stopped = threading.Event()
        self._lock_path = home / "keyword.lock"
        self._analyzer = make_analyzer()
        self._schema = make_schema()
        self._thread_lock = threading.Lock()
        self._watch: Path | None = None if textdb.read_only else self.folder / "meta.json"
        self._seen: tuple[int, int] | None = None
        with self._errors():
            if textdb.read_only:
                self._index = self._open_copy()
                return
            try:
                home.mkdir(parents=True, exist_ok=True)  # a database's servers: the home holds
            except OSError as e:  # only this index
                raise StoreError(f"cannot make the index folder {home}: {e.strerror or e}") from e
            with self._locked():
                self._index = self._open_writable()
        try:
            with self._locked(), self._errors():
                self._converge()
        except StoreError as e:  # e.g. a full disk: answer from the index as it is meanwhile
            log.warning("%s; searching the keyword index as it stands", e)
        if textdb.shared:
            threading.Thread(target=self._follow, name="keyword-follower", daemon=True).start()

    # -- reading
    def terms(self, text: str) -> list[str]:
        """The index's terms for the words of `text` that carry meaning, without repeats."""
        words = [w for w in INDEX_WORD.findall(text.lower()) if w not in FUNCTION_WORDS]
        return list(dict.fromkeys(t for w in words for t in self._analyzer.analyze(w)))

    def search(
        self, query: str, k: int, sources: list[str] | None = None
    ) -> list[tuple[str, float]]:
        """(chunk_id, BM25 score) of the `k` best chunks holding any term of `query`."""
        terms = self.terms(query)
        if not terms or k <= 0:
            return []
        any_term = self._any_of(terms)
        if sources:
            within = tantivy.Query.term_set_query(self._schema, "source", sources)
            any_term = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, tantivy.Query.const_score_query(within, 0.0)),
                    (tantivy.Occur.Must, any_term),
                ]
            )
        searcher = self._searcher()
        # count=False: counting every match would turn off the top-k pruning.
        hits = searcher.search(any_term, k, count=False).hits
        return [(str(searcher.doc(addr).get_first("chunk_id")), score) for score, addr in hits]

    def document_frequencies(self, terms: list[str]) -> dict[str, int]:
        """How many chunks hold each term, after the index's own analysis (deleted chunks not
        counted, unlike tantivy's raw document frequency)."""
        searcher = self._searcher()
        out = {}
        for term in terms:
            analyzed = self._analyzer.analyze(term)
            if not analyzed:
                out[term] = 0
                continue
            query = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, self._term(t)) for t in analyzed]
            )
            found = searcher.search(query, 1, count=True)
            out[term] = int(found.count)  # type: ignore[attr-defined]  # missing from the stub
        return out

    def count(self) -> int:
        return int(self._searcher().num_docs)

    def ids(self) -> list[str]:
        """Every chunk id the index holds (to check it against the chunk table)."""
        searcher = self._searcher()
        if not searcher.num_docs:
            return []
        hits = searcher.search(tantivy.Query.all_query(), searcher.num_docs, count=False).hits
        return [str(searcher.doc(addr).get_first("chunk_id")) for _, addr in hits]

    # -- writing
    def catch_up(self) -> None:
        """Apply every logged change of the chunk table, then forget those changes."""
        if self._textdb.read_only:
            return
        with self._locked(), self._errors():
            self._catch_up()

    def rebuild(self) -> None:
        """Index the chunk table afresh (a lost, stale or foreign keyword index)."""
        with self._locked(), self._errors():
            self._rebuild()

    def close(self) -> None:
        self._stopped.set()
        self._watch = None
        self._index = tantivy.Index(self._schema)  # drop the files' maps; searches find nothing

    # -- inside
    def _searcher(self) -> tantivy.Searcher:
        """A searcher over the last commit, whoever made it: tantivy's own reload polls on a
        timer, so another process's (or another Index object's) commit could go unseen for a
        moment; a changed meta.json (replaced on every commit) is cheaper to notice."""
        if self._watch is not None:
            try:
                st = os.stat(self._watch)
                stamp: tuple[int, int] | None = (st.st_ino, st.st_mtime_ns)
            except OSError:
                stamp = None
            if stamp != self._seen:
                self._index.reload()
                self._seen = stamp
        return self._index.searcher()

    def _term(self, term: str) -> tantivy.Query:
        return tantivy.Query.term_query(self._schema, "text", term)

    def _any_of(self, terms: list[str]) -> tantivy.Query:
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, self._term(t)) for t in terms])

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """tantivy's failures (raised as ValueError) in our words; what was not applied stays
        in the log, so the next write or open applies it."""
        try:
            yield
        except ValueError as e:
            if "No space left" in str(e) or "os error 28" in str(e):
                raise StoreError(
                    f"the disk holding the index ({self.folder}) is full; free some space: "
                    "an interrupted ingest resumes where it stopped"
                ) from e
            raise StoreError(f"the keyword index in {self.folder}: {e}") from e

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time across threads and processes; a reader opening the index waits
        for a rebuild in progress rather than answer from a half-built index."""
        with self._thread_lock:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)

    def _register(self, index: tantivy.Index) -> tantivy.Index:
        index.register_tokenizer(TOKENIZER, self._analyzer)  # tokenizers are not persisted
        return index

    def _open_writable(self) -> tantivy.Index:
        for old in self.folder.parent.glob("keyword-v*"):
            if old != self.folder:
                shutil.rmtree(old, ignore_errors=True)
        if (self.folder / "meta.json").exists():
            try:
                return self._register(tantivy.Index.open(str(self.folder)))
            except ValueError as e:
                log.warning(
                    "the keyword index in %s cannot be read (%s); rebuilding", self.folder, e
                )
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self._index = self._register(tantivy.Index(self._schema, path=str(self.folder)))
        self._rebuild()
        return self._index

    def _open_copy(self) -> tantivy.Index:
        """On a read-only file system tantivy cannot take the lock it reads under: a private
        copy is read instead (or, for an index that predates the keyword folder, a build in
        memory)."""
        if not (self.folder / "meta.json").exists():
            self._index = self._register(tantivy.Index(self._schema))
            self._fill(self._writer(), until=None)
            return self._index
        copy = Path(tempfile.mkdtemp(prefix="sourcebook-keyword-"))
        weakref.finalize(self, shutil.rmtree, copy, True)
        shutil.copytree(self.folder, copy, dirs_exist_ok=True)
        return self._register(tantivy.Index.open(str(copy)))

    def _converge(self) -> None:
        """Apply what a killed process left in the log (or, following a shared log, what was
        logged since this index last looked); if the index still disagrees with the chunk table
        on how many chunks there are, rebuild it from the table."""
        if self._textdb.shared and not self._can_follow():
            log.warning("the keyword index in %s cannot follow the log: rebuilding it", self.folder)
            self._rebuild()
        self._catch_up()
        chunks, pending = self._textdb.keyword_state(self._position())
        if not pending and self.count() != chunks:
            log.warning(
                "the keyword index holds %d chunks, the chunk table %d: rebuilding it",
                self.count(),
                chunks,
            )
            self._rebuild()

    def _writer(self) -> Any:
        return self._index.writer(heap_size=WRITER_HEAP, num_threads=1)

    def _catch_up(self) -> None:
        writer = None
        while True:
            last, changed = self._textdb.keyword_changes(self._position(), BATCH)
            if not changed:
                break
            writer = writer or self._writer()
            for chunk_id in changed:
                writer.delete_documents_by_term("chunk_id", chunk_id)
            # Rows as they are now, maybe newer than the entries: replaying those is the same.
            for chunk_id, (source, text) in self._textdb.chunk_texts(changed).items():
                writer.add_document(tantivy.Document(chunk_id=chunk_id, source=source, text=text))
            writer.commit()  # atomic: a kill before it leaves the log to replay, which is safe
            self._applied(last)
        if writer is not None:
            writer.wait_merging_threads()  # merge now, so segments do not pile up; frees the lock
            self._index.reload()

    def _rebuild(self) -> None:
        last = self._textdb.last_keyword_change()
        writer = self._writer()
        writer.delete_all_documents()
        self._fill(writer, until=last)

    # -- following a log, by position
    def _position(self) -> int:
        """How far into the log this index has applied: 0 for a log that forgets (what is left
        in it is what is left to apply), else the position kept in the index's folder."""
        if not self._textdb.shared:
            return 0
        return read_position(self.folder, self._textdb.index_id())

    def _applied(self, upto: int) -> None:
        """Entries up to `upto` are in a commit of the index: forget them, or move past them
        (after the commit: a kill in between replays them, which is safe)."""
        if self._textdb.shared:
            write_position(self.folder, self._textdb.index_id(), upto)
        else:
            self._textdb.forget_keyword_changes(upto)

    def _can_follow(self) -> bool:
        """False for an index that was never given a position in this log, or whose position
        lies before entries that were pruned since."""
        at = self._position()
        if at == 0:
            return self._textdb.last_keyword_change() == 0
        return at >= self._textdb.forgotten_keyword_changes()

    def _follow(self) -> None:
        follow(
            self._stopped,
            lambda: self._textdb.last_keyword_change() > self._position(),
            self.catch_up,
        )

    def _fill(self, writer: Any, until: int | None) -> None:
        """Add every chunk of the table; then forget the log up to `until` (changes logged
        after it are replayed by whoever made them)."""
        after = 0
        while rows := self._textdb.chunk_rows(after, 5000):
            for rowid, chunk_id, source, text in rows:
                writer.add_document(tantivy.Document(chunk_id=chunk_id, source=source, text=text))
                after = rowid
        writer.commit()
        writer.wait_merging_threads()
        if until is not None:
            self._applied(until)
        self._index.reload()
