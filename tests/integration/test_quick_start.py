"""The README's quick start, run as written in a fresh clone with a fresh index: the index ends up
following the folder the user named (issue 19: `sourcebook watch` and `serve --watch` without a
path went back to the bundled corpus/ and reconciled the index to it). And the folder model
itself: an index follows one folder; another is refused, with the way to switch."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import CORPUS, REPO, SOURCEBOOK, free_port, quiet_env, wait_listening

pytestmark = pytest.mark.integration

DEADLINE = 240.0  # readiness waits only; nothing asserts how long anything took
NEW_FILE = "Khujand hosted the Aral Flamingo Society in 2031.\n"
SET_UP = ("bash .ci/setup", ". .venv/bin/activate")  # what the test's environment already is


def quick_start() -> list[str]:
    """The command lines of the quick start's second block, comments dropped."""
    section = (REPO / "README.md").read_text().split("\n## Quick start\n", 1)[1].split("\n## ")[0]
    block = re.findall(r"^```bash\n(.*?)^```", section, re.M | re.S)[1]
    lines = [re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines()]
    return [line for line in lines if line]


class Running:
    """A long-running command of the sequence (watch, serve --watch); its output, as it comes."""

    started: list[subprocess.Popen[str]] = []  # each is killed at the end, even on a failure

    def __init__(self, line: str, env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            ["bash", "-c", f"exec {line}"],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        Running.started.append(self.proc)
        self.lines: list[str] = []
        assert self.proc.stdout is not None
        threading.Thread(target=self.lines.extend, args=(self.proc.stdout,), daemon=True).start()

    def wait_line(self, words: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while not any(words in line for line in self.lines):
            assert self.proc.poll() is None, f"exited {self.proc.returncode}: {self.lines}"
            assert time.monotonic() < deadline, f"no line with {words!r}: {self.lines}"
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)  # Ctrl-C, as the README says
        # uvicorn hands a Ctrl-C on once it has shut down: serve ends as interrupted (130).
        assert self.proc.wait(timeout=60) in (0, 130), self.lines
        assert not any("Traceback" in line for line in self.lines), self.lines


def sources_for(url: str, question: str) -> set[str]:
    """The documents an answer through /v1 cites or offers as closest passages."""
    body = {"model": "sourcebook", "messages": [{"role": "user", "content": question}]}
    request = urllib.request.Request(
        url + "/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        r = json.load(response)
    passages = r["citations"] + (r["sourcebook"].get("closest") or [])
    return {p["source"] for p in passages}


def status(env: dict[str, str], cwd: Path) -> dict[str, object]:
    out = subprocess.run([SOURCEBOOK, "status"], env=env, cwd=cwd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout))


@pytest.fixture
def nothing_left_running() -> Iterator[None]:
    yield
    for proc in Running.started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    Running.started.clear()


@pytest.mark.usefixtures("nothing_left_running")
def test_the_quick_start_leaves_the_index_following_the_named_folder(tmp_path: Path) -> None:
    home, clone = tmp_path / "user", tmp_path / "clone"  # `~`, and a fresh clone to run in
    papers = home / "papers"
    shutil.copytree(CORPUS, papers)
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    env = quiet_env(HOME=str(home), SOURCEBOOK_WATCH_SETTLE_SECONDS="0.5")
    env["SOURCEBOOK_CACHE_DIR"] = str(Path("~/.cache/sourcebook").expanduser())  # prepared once
    lines = quick_start()
    assert [line for line in lines if not line.startswith("sourcebook ")] == list(SET_UP)
    for line in lines[len(SET_UP) :]:
        if line.startswith("sourcebook watch"):
            watch = Running(line, env, clone)
            watch.wait_line("watching")
            (papers / "watched.txt").write_text(NEW_FILE)
            watch.wait_line("watched.txt added")
            watch.stop()
        elif line.startswith("sourcebook serve"):
            port = free_port()
            serve = Running(line.replace("7860", str(port)), env, clone)
            url = f"http://127.0.0.1:{port}"
            wait_listening(url + "/v1/models", serve.proc)  # type: ignore[arg-type]
            (papers / "served.txt").write_text(NEW_FILE.replace("Society", "Club"))
            deadline = time.monotonic() + DEADLINE
            while "served.txt" not in sources_for(url, "Which club met in Khujand in 2031?"):
                assert time.monotonic() < deadline, "serve --watch never ingested served.txt"
                time.sleep(1)
            serve.stop()
        else:
            out = subprocess.run(["bash", "-c", line], env=env, cwd=clone, capture_output=True)
            assert out.returncode == 0, (line, out.stderr.decode()[-2000:])
    after = status(env, clone)
    assert after["folder"] == str(papers.resolve())
    assert after["documents"] == len(list(CORPUS.glob("*.txt"))) + 2
    assert (clone / ".sourcebook").is_dir()


def test_an_index_follows_one_folder_until_rebuilt_from_another(tmp_path: Path) -> None:
    first, other = tmp_path / "first", tmp_path / "other"
    for folder, name in ((first, "a.txt"), (other, "b.txt")):
        folder.mkdir()
        shutil.copy(next(CORPUS.glob("*.txt")), folder / name)
    env = quiet_env(SOURCEBOOK_HOME=str(tmp_path / "home"))

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SOURCEBOOK, *args], env=env | extra, cwd=tmp_path, capture_output=True, text=True
        )

    assert run("ingest", str(first)).returncode == 0
    # Without a path, every command works on that folder, whatever SOURCEBOOK_FOLDER says.
    again = run("ingest", SOURCEBOOK_FOLDER=str(other))
    assert again.returncode == 0 and "0 added" in again.stdout, again.stderr
    assert f"follows {first}" in again.stderr  # and says so
    # Another folder is refused, with the way to switch; the index is left as it was.
    for command in (["ingest", str(other)], ["watch", str(other)]):
        refused = run(*command)
        assert refused.returncode == 1, refused.stderr
        assert f"run `sourcebook ingest --rebuild {other}`" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    assert run("status").stdout.count(str(first)) == 1
    switched = run("ingest", "--rebuild", str(other))
    assert switched.returncode == 0, switched.stderr
    shown = json.loads(run("status").stdout)
    assert (shown["folder"], shown["documents"]) == (str(other), 1)
    other.rename(tmp_path / "moved")  # the folder it follows is gone: say how to follow it
    gone = run("ingest")
    assert gone.returncode == 1 and "if it moved, run `sourcebook ingest --rebuild" in gone.stderr
