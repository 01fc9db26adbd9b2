"""Following the documents folder as it changes: `Watcher`, and the status it reports."""

from app.watch.status import Applied, WatchStatus
from app.watch.watcher import Watcher, WatchStopped

__all__ = ["Applied", "WatchStatus", "WatchStopped", "Watcher"]
