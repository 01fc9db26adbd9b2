"""What CPU this is: store/machine.py beside py-cpuinfo, on what the encoder's choice needs (the
model name and the features that decide which backend is fast) and the time a new process takes
to know it (`sourcebook ingest` and `ask` ask once per process).

    .venv/bin/python bench/machine.py      # needs `pip install -e .[bench]`
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from store.machine import FEATURES, describe  # noqa: E402

# store/machine.py loaded alone: `import store` would also load the index's libraries.
OURS = """import importlib.util, json, time; started = time.perf_counter()
spec = importlib.util.spec_from_file_location("machine", {path!r})
machine = importlib.util.module_from_spec(spec); spec.loader.exec_module(machine)
name, features = machine.cpu_info()
print(json.dumps([name, list(features), time.perf_counter() - started]))"""
CPUINFO = """import json, time; started = time.perf_counter()
import cpuinfo
info = cpuinfo.get_cpu_info()
features = [f for f in {features!r} if f in info.get("flags", [])]
print(json.dumps([info.get("brand_raw", "unknown"), features, time.perf_counter() - started]))"""


def in_new_process(code: str) -> tuple[str, list[str], float]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    name, features, seconds = json.loads(out.stdout)
    return name, features, seconds


def main() -> None:
    print(f"CPU: {describe()}")
    candidates = {
        "ours (store/machine.py)": OURS.format(path=str(REPO / "store" / "machine.py")),
        "py-cpuinfo 9.0.0": CPUINFO.format(features=list(FEATURES)),
    }
    print(f"{'':26}{'ms to know (import + call), median of 5':>42}  name / features")
    for label, code in candidates.items():
        runs = sorted((in_new_process(code) for _ in range(5)), key=lambda r: r[2])
        name, features, seconds = runs[2]
        print(f"{label:26}{seconds * 1000:>42.1f}  {name} / {' '.join(features)}")


if __name__ == "__main__":
    main()
