"""Reading documents: loaders, chunking, and the pipeline that keeps an index in step with a folder."""

from ingest.bounded import page_image_bounded
from ingest.errors import IngestError, LoadError
from ingest.extracted import Extracted
from ingest.formats import SUPPORTED, load
from ingest.pipeline import Changed, IngestReport, Progress, Skipped, ingest_folder, list_files
from ingest.stream import content_hash

__all__ = [
    "SUPPORTED",
    "Changed",
    "Extracted",
    "IngestError",
    "IngestReport",
    "LoadError",
    "Progress",
    "Skipped",
    "content_hash",
    "ingest_folder",
    "list_files",
    "load",
    "page_image_bounded",
]
