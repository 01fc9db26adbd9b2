"""Reading documents: loaders, chunking, and the pipeline that keeps an index in step with a folder."""

from ingest.loaders import SUPPORTED, Extracted, LoadError, load
from ingest.pipeline import IngestError, IngestReport, Skipped, ingest_folder, list_files

__all__ = [
    "SUPPORTED",
    "Extracted",
    "IngestError",
    "IngestReport",
    "LoadError",
    "Skipped",
    "ingest_folder",
    "list_files",
    "load",
]
