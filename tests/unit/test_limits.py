"""Bodies bounded before they are read: the BodyLimit middleware in front of a real ASGI app,
spoken to in process by Starlette's test client."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from app.interfaces.limits import BodyLimit, make_limits


def echo_app() -> TestClient:
    app = FastAPI()

    @app.post("/{path:path}")
    async def echo(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    app.add_middleware(BodyLimit, limit_of=make_limits(max_request_mb=0.01, max_upload_mb=0.001))
    return TestClient(app)


def chunks(count: int) -> Iterator[bytes]:
    for _ in range(count):
        yield b"x" * 1000


def test_bodies_over_the_limit_get_413_declared_or_not() -> None:
    client = echo_app()
    assert client.post("/v1/x", content=b"x" * 10_000).json() == {"read": 10_000}
    for body in (b"x" * 10_001, chunks(11)):  # with a Content-Length, then chunked
        r = client.post("/v1/x", content=body)
        assert r.status_code == 413, r.text
        assert r.json()["error"] == {
            "message": "the request body is over 10 kB",
            "type": "invalid_request_error",
            "param": None,
            "code": "request_too_large",
        }
    login = client.post("/login", content=b"x" * 8193)
    assert login.status_code == 413 and "over 8 kB" in login.text
    assert client.post("/gradio_api/upload", content=b"x" * 60_000).status_code == 200
    assert client.post("/gradio_api/upload", content=chunks(71)).status_code == 413
