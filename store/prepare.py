"""Preparing the encoder once per machine: exports of the packaged weights into the cache, and
the choice of backend for this CPU, made by measurement.

Exports (torch is needed here, never at run time): `model.onnx` (torch.onnx), `model-int8.onnx`
(ONNX Runtime's dynamic int8: weights per channel, only the matrix products with constant
weights, which its kernels run with VNNI or AVX2), `openvino/` (OpenVINO's conversion of the
ONNX file) and `openvino-int8/` (static int8 by NNCF, calibrated on local text, never a data set
from a hub). A folder is written under a temporary name and renamed when complete.

`auto` measures every backend that can run here on local text and keeps the fastest whose
vectors agree with torch fp32 (see `agrees`); the choice is cached beside the exports, per CPU.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

import store.models as models
from store.encoders import BACKENDS, EXPORTED, MAX_TOKENS, Encoder, load_encoder
from store.errors import BackendUnavailable
from store.machine import cpu_id
from store.models import Tokens

log = logging.getLogger(__name__)

CALIBRATION_SAMPLES = 300
CALIBRATION_CHARS = 1000  # about one chunk of 200 word pieces
# Agreement with torch fp32 on local text, required of a backend `auto` may choose: mean cosine
# of the vectors, the worst one, and how often its nearest passage for a query is among torch's
# five nearest.
MIN_MEAN_COSINE, MIN_COSINE, MIN_TOP5 = 0.99, 0.95, 0.95


def export_folder(model_path: Path, cache_dir: Path) -> Path:
    """Where this model's exports live: named by its weights and the exporting libraries."""
    weights = sorted(model_path.glob("*.safetensors")) + sorted(model_path.glob("*.bin"))
    return models.export_folder(cache_dir, "encoders", model_path.name, tuple(weights))


def variant_of(backend: str, export: Path | None) -> str:
    """The exact weights a backend runs, for vector cache keys."""
    return "torch" if backend == "torch" or export is None else f"{backend}-{export.name}"


def runtime_installed(backend: str) -> bool:
    name = {"onnx": "onnxruntime", "openvino": "openvino", "torch": "torch"}[backend.split("-")[0]]
    return models.version(name) != "-"


def prepare(
    model_path: Path,
    backend: str,
    cache_dir: Path,
    calibration: Callable[[], list[str]],
    *,
    announce: bool = True,
) -> Path:
    """The export folder, with `backend`'s files in it (exported now if missing, saying so in
    one line when `announce`)."""
    folder = export_folder(model_path, cache_dir)
    if backend == "torch" or (folder / EXPORTED[backend]).exists():
        return folder
    if not runtime_installed(backend):
        raise BackendUnavailable(f"the {backend} runtime is not installed")
    with models.exclusive(folder):
        if not (folder / EXPORTED[backend]).exists():
            (log.warning if announce else log.info)("preparing the %s encoder (once)", backend)
            _export(model_path, folder, backend, calibration)
    return folder


def _export(
    model_path: Path, folder: Path, backend: str, calibration: Callable[[], list[str]]
) -> None:
    """Write `backend`'s files into `folder` (and the fp32 ONNX file it starts from)."""
    from store.models.export import (
        StatesOnly,
        convert_openvino,
        export_onnx,
        quantize_onnx,
        quantize_openvino,
    )

    folder.mkdir(parents=True, exist_ok=True)
    onnx = folder / EXPORTED["onnx"]
    target = folder / EXPORTED[backend]
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=folder))
    try:
        if not onnx.exists():
            tokens = Tokens(model_path, MAX_TOKENS)
            example = tokens.batch(["An example sentence.", "Another, longer example."])
            states = {"last_hidden_state": ("batch", "tokens")}
            export_onnx(StatesOnly.of(model_path), example, states, work / "model.onnx")
            (work / "model.onnx").rename(onnx)
        if backend == "onnx-int8":
            quantize_onnx(onnx, work / target.name)
        elif backend == "openvino":
            convert_openvino(onnx, work / target.name)
        elif backend == "openvino-int8":
            texts = calibration()
            if not texts:
                raise BackendUnavailable("static int8 quantization needs local calibration text")
            quantize_openvino(onnx, work / target.name, Tokens(model_path, MAX_TOKENS), texts)
        if backend != "onnx":
            target.parent.mkdir(parents=True, exist_ok=True)
            for part in work.glob(f"{Path(target.name).stem}.*"):
                part.rename(target.parent / part.name)
    except BackendUnavailable:
        raise
    except Exception as e:  # third-party export failures are many and undocumented
        raise BackendUnavailable(f"exporting the {backend} encoder failed: {e}") from e
    finally:
        shutil.rmtree(work, ignore_errors=True)


@dataclass(frozen=True)
class Measured:
    """One backend on this CPU: texts per second, and its agreement with torch fp32."""

    backend: str
    per_second: float
    mean_cosine: float
    min_cosine: float
    top5: float

    @property
    def agrees(self) -> bool:
        return (
            self.mean_cosine >= MIN_MEAN_COSINE
            and self.min_cosine >= MIN_COSINE
            and self.top5 >= MIN_TOP5
        )


@dataclass(frozen=True)
class Reference:
    """Local text and torch fp32's vectors of it: what another backend must agree with. Each
    text's opening words serve as a query whose nearest passages are compared."""

    texts: list[str]
    queries: list[str]
    vectors: np.ndarray
    query_vectors: np.ndarray

    @classmethod
    def of(cls, torch: Encoder, texts: list[str]) -> Reference:
        queries = [" ".join(t.split()[:12]) for t in texts]
        return cls(texts, queries, torch.encode(texts), torch.encode(queries))


def measure(encoder: Encoder, ref: Reference) -> Measured:
    """Time `encoder` on the reference texts (after a warm-up batch) and compare its vectors."""
    encoder.encode(ref.texts[:8])
    started = time.perf_counter()
    vectors = encoder.encode(ref.texts)
    rate = len(ref.texts) / (time.perf_counter() - started)
    cosines = np.sum(vectors * ref.vectors, axis=1)
    ours = np.argmax(encoder.encode(ref.queries) @ vectors.T, axis=1)
    theirs = np.argsort(-(ref.query_vectors @ ref.vectors.T), axis=1)[:, :5]
    top5 = float(np.mean([o in row for o, row in zip(ours, theirs, strict=True)]))
    return Measured(encoder.backend, rate, float(cosines.mean()), float(cosines.min()), top5)


@dataclass(frozen=True)
class Choice:
    """What `auto` chose on one CPU, and why."""

    backend: str
    cpu: str
    measured: list[Measured]


def choose(
    model_path: Path,
    cache_dir: Path,
    calibration: Callable[[], list[str]],
    *,
    remeasure: bool = False,
) -> Choice:
    """The backend `auto` runs on this CPU: cached, or measured now (about a minute)."""
    folder = export_folder(model_path, cache_dir)
    cached = _read_choices(folder).get(cpu_id())
    if cached and not remeasure:
        return cached
    texts = calibration()[:128] or ["Sourcebook measures its encoders on local text."] * 32
    log.warning("choosing the encoder for this CPU by measurement (once, about a minute)")
    torch = load_encoder(model_path, "torch", None, "torch")
    reference = Reference.of(torch, texts)
    results = [measure(torch, reference)]
    for backend in BACKENDS[1:]:
        try:
            export = prepare(model_path, backend, cache_dir, calibration, announce=False)
            encoder = load_encoder(model_path, backend, export, variant_of(backend, export))
            results.append(measure(encoder, reference))
        except BackendUnavailable as e:
            log.info("encoder backend %s cannot run here: %s", backend, e)
    best = max((m for m in results if m.agrees), key=lambda m: m.per_second)
    choice = Choice(best.backend, cpu_id(), results)
    _write_choice(folder, choice)
    return choice


def _read_choices(folder: Path) -> dict[str, Choice]:
    raw = models.read_record(folder / "choice.json")
    try:
        return {
            cpu: Choice(c["backend"], cpu, [Measured(**m) for m in c["measured"]])
            for cpu, c in raw.items()
        }
    except (KeyError, TypeError):
        return {}


def _write_choice(folder: Path, choice: Choice) -> None:
    choices = {cpu: asdict(c) for cpu, c in _read_choices(folder).items()}
    choices[choice.cpu] = asdict(choice)
    models.write_record(folder / "choice.json", choices)


def calibration_texts(folder: Path, samples: int = CALIBRATION_SAMPLES) -> list[str]:
    """Chunk-sized windows of the text files in `folder`, evenly spread, for int8 calibration."""
    text = "\n\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.glob("*.txt"))
    )
    if not text.strip():
        return []
    stride = max(1, (len(text) - CALIBRATION_CHARS) // samples)
    starts = range(0, max(1, len(text) - CALIBRATION_CHARS + 1), stride)
    windows = [text[s : s + CALIBRATION_CHARS].strip() for s in starts]
    return [w for w in windows if w][:samples]
