"""Helpers that several test modules share (no test module imports another): paths, loopback
ports, real servers, and folders of real documents."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
SOURCEBOOK = str(Path(sys.executable).parent / "sourcebook")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes] | None = None, seconds: float = 60) -> None:
    """Wait until `url` answers (a readiness poll, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def start_chroma(path: Path, port: int) -> subprocess.Popen[bytes]:
    chroma = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc)
    return proc


def many_files(folder: Path, count: int) -> None:
    """`count` documents of 40 corpus sentences each, in `folder`."""
    text = " ".join(p.read_text() for p in sorted(CORPUS.glob("*.txt")))
    sentences = text.split(". ")
    for i in range(count):
        body = ". ".join(sentences[(i * 7 + j) % len(sentences)] for j in range(40))
        (folder / f"doc-{i:03d}.txt").write_text(f"Document {i}.\n\n{body}.\n")


def chunk_ids(settings: Any) -> set[str]:
    """Chunk ids as Chroma holds them, checked against the SQLite chunk table and the keyword
    index (each exactly: same ids, no duplicates)."""
    from app.library import get_index

    index = get_index(settings)
    in_chroma = index.vector_ids()
    assert len(in_chroma) == len(set(in_chroma)), "duplicate chunk ids in Chroma"
    rows = index.chunks(list(in_chroma))
    assert set(rows) == set(in_chroma), "Chroma and the chunk table disagree"
    assert index.counts()[1] == len(in_chroma)
    assert index.term_statistics([])[0] == len(in_chroma), "the kept chunk total is off"
    in_keyword = index.keyword_ids()
    assert len(in_keyword) == len(set(in_keyword)), "duplicate chunk ids in the keyword index"
    assert set(in_keyword) == set(in_chroma), "the keyword index and the chunk table disagree"
    return set(in_chroma)


PIPED = b"A last document, written through a pipe.\n"


class Pipe:
    """A named pipe that looks like a document (see `blocking_file`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.released = False

    def release(self) -> None:
        """Let the reader blocked on the pipe go on: write it a short document (`PIPED`)."""
        fd = os.open(self.path, os.O_WRONLY)  # waits for the reader, which the ingest will be
        try:
            os.write(fd, PIPED)
        finally:
            os.close(fd)
        self.released = True


@contextmanager
def blocking_file(folder: Path, name: str) -> Iterator[Pipe]:
    """A named pipe in `folder` that looks like a document: an ingest that reaches it blocks on
    reading it until the test releases it, so a test can act on a running ingest without racing
    it. On exit the pipe becomes a plain file holding what it delivered (if released), so the
    folder reads the same afterwards; else it is removed."""
    path = folder / name
    os.mkfifo(path)
    pipe = Pipe(path)
    try:
        yield pipe
    finally:
        path.unlink(missing_ok=True)
        if pipe.released:
            path.write_bytes(PIPED)


def wait_listening(url: str, proc: subprocess.Popen[bytes], seconds: float = 120) -> None:
    """Wait until `url` answers with any HTTP status (a guarded server answers 401)."""
    import urllib.error

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


@contextmanager
def serving(
    env: dict[str, str], log: Path, *args: str, host: str = "127.0.0.1", cwd: Path | None = None
) -> Iterator[str]:
    """`sourcebook serve` on a free port with `env` (reached at 127.0.0.1, whatever `host` it
    binds); yields its base URL. On exit it is stopped, and its log must hold no traceback."""
    with serving_process(env, log, *args, host=host, cwd=cwd) as (url, _):
        yield url


@contextmanager
def serving_process(
    env: dict[str, str], log: Path, *args: str, host: str = "127.0.0.1", cwd: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """As `serving`, and the server's process too (to read its memory)."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [SOURCEBOOK, "-v", "serve", "--host", host, "--port", str(port), *args],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_listening(url + "/v1/models", proc)
            yield url, proc
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    assert "Traceback" not in log.read_text(), f"the server logged a traceback: {log}"


def peak_memory_kb(pid: int) -> int:
    """The most resident memory process `pid` has held so far (VmHWM), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for process {pid}")


def run_event(client: Any, name: str, data: list[Any]) -> list[Any]:
    """Run one of the chat window's events the way its page does (queue/join, then the SSE
    stream) with an httpx client, and return its outputs."""
    import json

    config = client.get("/config").json()
    dep = next(d for d in config["dependencies"] if d.get("api_name") == name)
    join = {"data": data, "fn_index": dep["id"], "trigger_id": dep["targets"][0][0],
            "session_hash": f"test-{name}", "event_data": None}  # fmt: skip
    assert client.post("/gradio_api/queue/join", json=join).status_code == 200
    with client.stream("GET", f"/gradio_api/queue/data?session_hash=test-{name}") as events:
        for line in events.iter_lines():
            message = json.loads(line[len("data: ") :]) if line.startswith("data: ") else {}
            if message.get("msg") == "process_completed":
                assert message["success"], message
                return list(message["output"]["data"])
    raise AssertionError(f"{name} did not complete")


def upload(client: Any, name: str, data: bytes) -> list[Any]:
    """Add a file through the chat window (Gradio's upload route, then its upload event); the
    event's outputs (the index panel first)."""
    stored = client.post("/gradio_api/upload", files={"files": (name, data)})
    assert stored.status_code == 200, (stored.status_code, stored.text[:200])
    path = stored.json()[0]
    files = [{"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}]
    return run_event(client, "upload", [files])


def quiet_env(**extra: str) -> dict[str, str]:
    """The environment for a `sourcebook` subprocess: offline, no analytics, this Python's
    scripts first on PATH, and no SOURCEBOOK_ setting (credentials, home...) but those given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCEBOOK_")}
    env |= {
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PATH": f"{Path(SOURCEBOOK).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return env | extra


def with_session(settings: Any, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Start `sourcebook mcp` over the index of `settings` with the MCP SDK's own stdio client,
    run `work` in an initialised session, and stop it."""
    import anyio
    from mcp import ClientSession, StdioServerParameters, stdio_client

    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCEBOOK_")}
    env |= {"SOURCEBOOK_HOME": str(settings.home), "HF_HUB_OFFLINE": "1"}
    params = StdioServerParameters(command=SOURCEBOOK, args=["mcp"], env=env)

    async def run() -> Any:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await work(session)

    return anyio.run(run)


class Postgres:
    """Debian's PostgreSQL in a temporary data folder on a loopback port, run by an unprivileged
    user (it refuses root): `postgres` when this process is root, else this user. Stopped and
    started again on the same folder and port, its data stays."""

    def __init__(self, port: int | None = None) -> None:
        import glob
        import tempfile

        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise RuntimeError("no PostgreSQL server: apt-get install -y postgresql")
        self.bin = Path(bins[-1]).parent
        self.user = "postgres" if os.geteuid() == 0 else None
        self.folder = Path(tempfile.mkdtemp(prefix="sourcebook-pg-"))
        if self.user:
            import shutil

            shutil.chown(self.folder, self.user)
        self.port = port or free_port()
        self._run("initdb", "-D", str(self.folder / "data"), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")  # fmt: skip
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [str(self.bin / tool), *args], user=self.user, check=True, capture_output=True
        )

    def start(self) -> Postgres:
        options = (
            f"-p {self.port} -k {self.folder} -h 127.0.0.1 -c fsync=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-o", options,
                  "-l", str(self.folder / "log"), "-w", "start")  # fmt: skip
        return self

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        import contextlib
        import shutil

        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def new_database(admin_url: str) -> str:
    """A new, empty database on the server `admin_url` names; its URL."""
    import uuid

    import psycopg

    name = f"sb_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(admin_url: str, url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def written_before(upto: list[int], after: int, batch: int) -> int:
    """Chunks in the chunk table once an ingest has passed document `after` (of documents whose
    chunks add up to `upto`) and blocks: whole batches of `batch` only, less the document the
    last batch ends in (held back until the next batch: a document reaches the table whole)."""
    flushed = upto[after] // batch * batch
    return max((u for u in upto[: after + 1] if u < flushed), default=0)
