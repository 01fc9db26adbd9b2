"""Running a transformer model, one way for every model Sourcebook runs (the embedder in
store/, the reader in app/answering/): its tokenizer (`Tokens`), the session that runs its
export (`open_session`), where exports are cached and what was chosen there (`export_folder`,
`exclusive`, `read_record`, `write_record`), and the exports themselves in `store.models.export`
(the one module here that imports torch, only when exporting). Each model is described by data
where it lives: the files its export is keyed by, the outputs its export gives (the inputs are
always INPUTS), the files of its exports; and how it measures whether int8 agrees (vectors
against torch fp32 for the encoder, sentence scores against fp32 ONNX for the reader)."""

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
