"""Sourcebook's exceptions: one tree under `SourcebookError`, drawn here in full.

Every error a user can fix derives from `SourcebookError`, and its message is the one line the
user reads (the CLI prints it after "sourcebook: error:", the UI shows it, the HTTP API returns
it). The base lives here, in the bottom layer, so that every package can derive from it while
imports still run one way (app -> ingest -> store); each subclass lives with the code that
raises it.

SourcebookError                     store/errors.py    a failure the user can act on
├── StoreError                      store/errors.py    the index cannot do what was asked
│   ├── IndexMismatchError          store/errors.py    built with other model or chunk settings
│   ├── StoreUnavailableError       store/errors.py    the Chroma server or PostgreSQL cannot be
│   │                                                  reached
│   ├── IndexBusyError              store/errors.py    another process is ingesting
│   ├── BackendUnavailable          store/errors.py    an encoder backend cannot run here
│   └── NoIndexError                app/library/handles.py  nothing was ingested into this home yet
├── IngestError                     ingest/errors.py   the ingest as a whole cannot run
├── LoadError                       ingest/errors.py   one file cannot be read (it is skipped)
├── AnswerError                     app/answering/types.py  a question that cannot be asked
├── ReaderError                     app/answering/reader.py the reader cannot be prepared (cache not writable)
├── UploadError                     app/uploads.py     an uploaded file that cannot be stored
├── WatchStopped                    app/watch/watcher.py  a watcher stopped during its ingest
├── ServeError                      app/interfaces/access.py  `sourcebook serve` cannot start
│   └── AccessError                 app/interfaces/access.py  it would let in anyone, or the
│                                                              credentials cannot be read
├── ApiError                        app/interfaces/openai_api.py  a request the OpenAI-compatible
│                                                              API refuses (an HTTP status)
├── BodyTooLarge                    app/interfaces/limits.py  a request body over its route's limit
│                                                              (the client gets 413)
├── LinkError                       app/interfaces/viewer.py  a viewer link that does not say
│                                                              where in a document
└── LLMError                        app/answering/llm.py    the language model failed
    └── LLMSetupError               app/answering/llm.py    it cannot be set up as configured

Outside the tree, on purpose: `prompts.PromptError` (a broken template shipped with the code is
a bug of ours, not the user's) and third-party exceptions, which are wrapped (`raise ... from`)
where a user could meet them.
"""

from __future__ import annotations


class SourcebookError(Exception):
    """A failure a user can act on; `str()` is the one line that tells them how."""


class StoreError(SourcebookError):
    """A failure of the index, worded for the person who will read it."""


class IndexMismatchError(StoreError):
    """The index on disk was built with other settings than the ones asked for."""


class StoreUnavailableError(StoreError):
    """The Chroma server or the PostgreSQL database is down or unreachable."""


class IndexBusyError(StoreError):
    """Another ingest holds the index's lock."""


class BackendUnavailable(StoreError):
    """This machine or this install cannot run the requested encoder backend."""
