"""Reading documents: loaders, chunking, and the pipeline that keeps an index in step with a folder."""

from ingest.bounded import page_image_bounded
from ingest.errors import IngestError, LoadError
from ingest.extracted import Extracted
from ingest.formats import SUPPORTED, load
from ingest.listing import Listing, list_files, passed_over, readable
from ingest.names import safe_name, shown_name
from ingest.pipeline import (
    LINK_OUT,
    Changed,
    IngestReport,
    Progress,
    Skipped,
    ingest_folder,
    other_folder,
)
from ingest.stream import content_hash

__all__ = [
    "LINK_OUT",
    "SUPPORTED",
    "Changed",
    "Extracted",
    "IngestError",
    "IngestReport",
    "Listing",
    "LoadError",
    "Progress",
    "Skipped",
    "content_hash",
    "ingest_folder",
    "list_files",
    "other_folder",
    "load",
    "page_image_bounded",
    "passed_over",
    "readable",
    "safe_name",
    "shown_name",
]
