"""What CPU this is: its model name and the instruction sets that decide which encoder is fast."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

FEATURES = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8")


@cache
def cpu_info() -> tuple[str, tuple[str, ...]]:
    """(model name, the FEATURES it has), from /proc/cpuinfo; ("unknown", ()) elsewhere."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown", ()
    name, flags = "unknown", set[str]()
    for line in text.splitlines():
        if line.startswith("model name") and name == "unknown":
            name = line.split(":", 1)[1].strip()
        elif line.startswith("flags") and not flags:
            flags = set(line.split(":", 1)[1].split())
    return name, tuple(f for f in FEATURES if f in flags)


def cpu_id() -> str:
    """A short, stable name for this kind of CPU (model name and features)."""
    name, features = cpu_info()
    digest = hashlib.sha256(f"{name}|{','.join(features)}".encode()).hexdigest()[:8]
    return f"{digest} {name} [{' '.join(features)}]"


def describe() -> str:
    """One line for benchmarks: the CPU and its features."""
    name, features = cpu_info()
    return f"{name} ({', '.join(features) or 'no AVX2'})"
