"""`pip install .` (not editable) works (issue 19: corpus/ was no package data, and the first
question failed). The working tree is built into a wheel, installed into a fresh virtual
environment that reads this one's packages (so nothing is downloaded), and the installed
`sourcebook`, run from a folder outside the repository, ingests the sample documents it ships,
answers, and grades its sample questions; the reader is prepared afresh, as on a new machine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.helpers import REPO, quiet_env

pytestmark = pytest.mark.integration

QUESTION = "Which prime minister visited Tajikistan and Kyrgyzstan?"


def source_tree(into: Path) -> Path:
    """The files a fresh clone of the working tree holds: tracked, and new ones not ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source, target = REPO / name, into / name
        if source.is_symlink() or source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
    return into


def fresh_venv(at: Path) -> Path:
    """A virtual environment with none of ours installed, reading this one's site-packages
    (a path line in a .pth file: their own .pth files, such as an editable install's finder,
    are not run)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(at)], check=True)
    (site,) = (at / "lib").glob("python3*/site-packages")
    (site / "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return at / "bin"


def test_the_installed_wheel_answers_from_outside_the_repository(tmp_path: Path) -> None:
    src = source_tree(tmp_path / "src")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
             "--no-index", "-q", "-w", str(tmp_path / "dist"), str(src)]  # fmt: skip
    subprocess.run(build, check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("sourcebook-*.whl")
    bin_ = fresh_venv(tmp_path / "venv")
    install = [str(bin_ / "python"), "-m", "pip", "install", "--no-deps", "--no-index",
               "--ignore-installed", "-q", str(wheel)]  # fmt: skip
    subprocess.run(install, check=True, capture_output=True)

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    cache = tmp_path / "cache"  # the reader is exported and checked afresh; the encoder's
    encoders = Path("~/.cache/sourcebook/encoders").expanduser()  # choice (a minute) is kept
    if encoders.is_dir():
        shutil.copytree(encoders, cache / "encoders")
    env = {k: v for k, v in quiet_env().items() if k != "PYTHONPATH"}
    env |= {"PATH": f"{bin_}{os.pathsep}{env['PATH']}", "SOURCEBOOK_CACHE_DIR": str(cache),
            "SOURCEBOOK_HOME": str(outside / "index")}  # fmt: skip

    def run(*args: str) -> str:
        out = subprocess.run(
            [str(bin_ / "sourcebook"), *args], cwd=outside, env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, (args, out.stderr[-3000:])
        return out.stdout

    where = subprocess.run(
        [str(bin_ / "python"), "-c", "import app; print(app.__file__)"],
        cwd=outside, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert where.startswith(str(tmp_path / "venv")), where  # the wheel's code, not the tree's
    run("ingest")  # a new index follows the sample documents the wheel carries
    status = json.loads(run("status"))
    assert str(status["folder"]).startswith(str(tmp_path / "venv")) and status["documents"] == 5
    answer = json.loads(run("ask", "--json", QUESTION))
    assert answer["citations"] or answer["closest"]
    assert (cache / "reader").is_dir()  # prepared on the first question, from the wheel's files
    graded = json.loads(run("eval", "--json"))
    assert graded["questions"] == 14 and graded["retrieval_hit_at_5"] > 0
