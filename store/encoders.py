"""Encoder runtimes for sentence-transformers: torch fp32, and OpenVINO (fp32/bf16 or static int8).

The OpenVINO models are exported from the packaged weights into a writable cache folder, once,
offline; the int8 one is calibrated on local text (never a hub data set). A backend that cannot
run here (extra not installed, CPU without int8 support, export failure) falls back to torch
with a warning, and the caller learns which backend it really got.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import json
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store.errors import BackendUnavailable, StoreError

log = logging.getLogger(__name__)

BACKENDS = ("torch", "openvino", "openvino-int8")
OPENVINO_FILE = "openvino/openvino_model.xml"
INT8_FILE = "openvino/openvino_model_qint8_quantized.xml"
CALIBRATION_SAMPLES = 300
CALIBRATION_CHARS = 1000  # about one chunk of 200 word pieces

# The packages the `openvino` extra installs (optimum-intel separately, with --no-deps).
OPENVINO_PACKAGES = ("openvino", "optimum-intel", "optimum", "nncf", "datasets")


@dataclass(frozen=True)
class Encoder:
    """How to load a model: the folder, `SentenceTransformer` keyword arguments, and the backend
    actually chosen (after any fallback) with an id of the exact weights for cache keys."""

    path: Path
    kwargs: dict[str, Any]
    backend: str
    variant: str


def resolve_encoder(
    path: Path,
    backend: str,
    *,
    cache_dir: Path | None = None,
    calibration: Callable[[], list[str]] | None = None,
) -> Encoder:
    """The model folder and loading arguments for `backend`, exporting it first if need be."""
    if backend not in BACKENDS:
        raise StoreError(f"embedding backend {backend!r} is unknown; use one of {BACKENDS}")
    if backend == "torch":
        return Encoder(path, {}, "torch", "torch")
    check_openvino(int8=backend == "openvino-int8")
    texts = calibration() if backend == "openvino-int8" and calibration else []
    if backend == "openvino-int8" and not texts:
        raise BackendUnavailable("static int8 quantization needs local calibration text")
    digest = _export_digest(path, backend, texts)
    folder = (cache_dir or Path.home() / ".cache" / "sourcebook") / "encoders"
    target = folder / f"{path.name[:40]}-{backend}-{digest}"
    file_name = INT8_FILE if backend == "openvino-int8" else OPENVINO_FILE
    if not (target / file_name).exists():
        _export(path, target, backend, texts)
    kwargs = {"backend": "openvino", "model_kwargs": {"file_name": file_name}}
    return Encoder(target, kwargs, backend, f"{backend}-{digest}")


def check_openvino(*, int8: bool) -> None:
    """Raise `BackendUnavailable` unless OpenVINO and its CPU plugin (with int8) are usable."""
    try:
        for name in OPENVINO_PACKAGES:
            importlib.metadata.version(name)
        import openvino
    except (ImportError, importlib.metadata.PackageNotFoundError) as e:
        raise BackendUnavailable(
            f"OpenVINO is not installed ({e}); install the extra: "
            "`pip install -e '.[openvino]' && pip install --no-deps optimum-intel==2.2.0`"
        ) from e
    core = openvino.Core()
    if "CPU" not in core.available_devices:
        raise BackendUnavailable("OpenVINO finds no CPU device it can run on")
    caps = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    if int8 and "INT8" not in caps:
        raise BackendUnavailable(f"this CPU has no int8 support in OpenVINO ({caps})")
    flags = _cpu_flags()
    if int8 and not flags & {"avx512_vnni", "avx_vnni", "amx_int8"}:
        # Nothing the user can act on, so not a warning: int8 still runs, only gains less.
        log.info("this CPU has no VNNI instructions: int8 inference will gain little")


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def _export_digest(path: Path, backend: str, texts: list[str]) -> str:
    """Changes whenever the exported weights would: source weights, versions, calibration."""
    h = hashlib.sha256(backend.encode())
    for file in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        h.update(f"{file.name}:{file.stat().st_size}".encode())
    for name in OPENVINO_PACKAGES:
        h.update(f"{name}={importlib.metadata.version(name)}".encode())
    h.update(json.dumps(texts[:CALIBRATION_SAMPLES]).encode())
    return h.hexdigest()[:12]


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One export at a time per cache folder, across processes."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".export.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _export(source: Path, target: Path, backend: str, texts: list[str]) -> None:
    """Export (and quantize) into `target`, atomically: a half-written folder is never used."""
    with _locked(target.parent):
        if target.exists():
            return  # another process finished it while we waited
        log.warning(
            "exporting %s for %s into %s (once; int8 takes about a minute)",
            source.name,
            backend,
            target,
        )
        work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
        try:
            _export_into(source, work, backend, texts)
            work.rename(target)
        except Exception as e:  # third-party export failures are many and undocumented
            raise BackendUnavailable(f"exporting the {backend} model failed: {e}") from e
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _export_into(source: Path, work: Path, backend: str, texts: list[str]) -> None:
    from sentence_transformers import SentenceTransformer

    shutil.copytree(source, work, dirs_exist_ok=True)  # save_pretrained rewrites configs
    for stale in work.glob("openvino*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    model = SentenceTransformer(str(work), device="cpu", backend="openvino")
    model.save_pretrained(str(work))
    if backend != "openvino-int8":
        return
    _quantize(model, work, texts)


def _quantize(model: Any, work: Path, texts: list[str]) -> None:
    """Static int8 quantization, calibrated on `texts` through a local `datasets` folder."""
    from optimum.intel import OVQuantizationConfig
    from sentence_transformers.backend import export_static_quantized_openvino_model

    data = work / "calibration"
    data.mkdir()
    with open(data / "train.jsonl", "w", encoding="utf-8") as f:
        for text in texts:
            f.write(json.dumps({"text": text}) + "\n")
    samples = min(CALIBRATION_SAMPLES, len(texts))
    export_static_quantized_openvino_model(
        model,
        OVQuantizationConfig(num_samples=samples),
        str(work),
        dataset_name=str(data),
        dataset_config_name="default",
        dataset_split="train",
        column_name="text",
    )
    shutil.rmtree(data)


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
