"""The store's exceptions.

StoreError                  anything the store cannot do, with a message fit for a user
├── IndexMismatchError      the index was built with other embedding or chunk settings
├── StoreUnavailableError   the Chroma server cannot be reached
└── IndexBusyError          another process is ingesting into the same index
"""

from __future__ import annotations


class StoreError(Exception):
    """A failure of the index, worded for the person who will read it."""


class IndexMismatchError(StoreError):
    """The index on disk was built with other settings than the ones asked for."""


class StoreUnavailableError(StoreError):
    """The Chroma server is down or unreachable."""


class IndexBusyError(StoreError):
    """Another ingest holds the index's lock."""
