"""The index and the app on different hosts: two network namespaces made by the test, joined by
a veth pair, stand in for two machines. Chroma runs in one; `sourcebook` in the other reaches it
only at the first one's address (needs root, as CI is; the namespaces are removed afterwards)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import CORPUS

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
FORUM = "In which city did the 14th forum take place?"
# Addresses of our own two test hosts; they exist only on the veth pair between the namespaces.
DB_ADDR, APP_ADDR, PORT = "10.231.7.1", "10.231.7.2", 8000


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Namespaces `db` and `app`, linked by a veth pair, each with its loopback up."""
    if os.geteuid() != 0 and not os.environ.get("CI"):
        pytest.skip("network namespaces need root")
    if shutil.which("ip") is None:
        pytest.fail("`ip` is missing: apt-get install iproute2")
    tag = uuid.uuid4().hex[:6]
    db, app = f"sb-db-{tag}", f"sb-app-{tag}"
    ip("netns", "add", db)
    ip("netns", "add", app)
    try:
        ip("link", "add", f"vdb{tag}", "type", "veth", "peer", "name", f"vapp{tag}")
        ip("link", "set", f"vdb{tag}", "netns", db)
        ip("link", "set", f"vapp{tag}", "netns", app)
        for ns, dev, addr in ((db, f"vdb{tag}", DB_ADDR), (app, f"vapp{tag}", APP_ADDR)):
            ip("-n", ns, "addr", "add", f"{addr}/30", "dev", dev)
            ip("-n", ns, "link", "set", dev, "up")
            ip("-n", ns, "link", "set", "lo", "up")
        yield {"db": db, "app": app, "app_link": f"vapp{tag}"}
    finally:
        ip("netns", "del", db)  # deleting a namespace ends its veth end, and so the pair
        ip("netns", "del", app)


def in_ns(
    ns: str, *cmd: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", ns, *cmd], env=env, capture_output=True, text=True, timeout=300
    )


def test_app_host_uses_the_index_host_over_the_network(
    hosts: dict[str, str], tmp_path: Path
) -> None:
    chroma = subprocess.Popen(
        ["ip", "netns", "exec", hosts["db"], str(BIN / "chroma"), "run", "--path",
         str(tmp_path / "chroma"), "--host", DB_ADDR, "--port", str(PORT)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://{DB_ADDR}:{PORT}"
        ready = "import sys, time, urllib.request as u\nfor _ in range(150):\n    try:\n"
        ready += f"        u.urlopen('{url}/api/v2/heartbeat', timeout=1); sys.exit(0)\n"
        ready += "    except OSError:\n        time.sleep(0.2)\nsys.exit(1)\n"
        assert in_ns(hosts["app"], sys.executable, "-c", ready).returncode == 0, "no route to db"
        # The app host cannot reach Chroma at its own loopback: the traffic goes over the link.
        local = in_ns(hosts["app"], sys.executable, "-c", ready.replace(DB_ADDR, "127.0.0.1"))
        assert local.returncode == 1

        env = {
            **os.environ,
            "SOURCEBOOK_HOME": str(tmp_path / "home"),
            "SOURCEBOOK_FOLDER": str(CORPUS),
            "SOURCEBOOK_CHROMA_URL": url,
        }
        ingested = in_ns(hosts["app"], str(BIN / "sourcebook"), "ingest", env=env)
        assert ingested.returncode == 0, ingested.stderr
        asked = in_ns(hosts["app"], str(BIN / "sourcebook"), "ask", FORUM, env=env)
        assert asked.returncode == 0 and "Sources:" in asked.stdout, asked.stderr

        ip("-n", hosts["app"], "link", "set", hosts["app_link"], "down")  # the network fails
        lost = in_ns(hosts["app"], str(BIN / "sourcebook"), "ask", FORUM, env=env)
        assert lost.returncode == 1 and "Traceback" not in lost.stderr
        assert "Chroma server is unreachable" in lost.stderr
        ip("-n", hosts["app"], "link", "set", hosts["app_link"], "up")
        again = in_ns(hosts["app"], str(BIN / "sourcebook"), "ask", FORUM, env=env)
        assert again.returncode == 0 and again.stdout == asked.stdout
    finally:
        chroma.terminate()
        chroma.wait(timeout=10)
