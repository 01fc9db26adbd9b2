"""Running a transformer model, one way for every model Sourcebook runs (the embedder in
store/, the reader in app/answering/): its tokenizer (`Tokens`), the session that runs its
export (`open_session`), where exports are cached and what was chosen there (`export_folder`,
`exclusive`, `read_record`, `write_record`), and the exports themselves in `store.models.export`
(the one module here that imports torch, only when exporting). Each model is described by data:
its weights, the outputs its export gives, and the rule its int8 export must meet."""

from store.models.cache import exclusive, export_folder, read_record, version, write_record
from store.models.session import Run, open_session
from store.models.tokens import INPUTS, Tokens

__all__ = [
    "INPUTS",
    "Run",
    "Tokens",
    "exclusive",
    "export_folder",
    "open_session",
    "read_record",
    "version",
    "write_record",
]
