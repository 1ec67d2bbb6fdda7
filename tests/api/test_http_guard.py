"""The HTTP guard: no body is read before the caller is known, bodies are bounded, validation
errors stay 422, and every answer carries the browser-hardening headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.runtime import Gateway
from gateway.settings import load_settings
from tests.services.conftest import BUILDING

TOKEN = "guard-test-admin-token-0123"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path}/g.db",
        building=BUILDING,
        admin_token=TOKEN,
        publish={"enabled": False},
        api={"max_body_bytes": 4096},
        access={"key_dir": str(tmp_path / "keys")},
    )
    gw = Gateway(settings)
    with TestClient(create_app(gw, manage=False)) as c:
        yield c
    gw.db.dispose()


def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def test_a_body_without_a_token_is_refused_unread(client: TestClient) -> None:
    read = 0

    def body() -> Iterator[bytes]:  # a streamed body: no Content-Length
        nonlocal read
        for _ in range(64):
            read += 1
            yield b"x" * 1024

    r = client.post("/api/v1/bookings", content=body())
    assert r.status_code == 401, r.text
    assert r.json() == {"detail": "missing bearer token"}
    assert read <= 1  # answered before the body was consumed (the client may send one chunk)
    r = client.post("/api/v1/bookings", content=b"{not json", headers={"Authorization": "Bearer x"})
    assert r.status_code == 401
    assert r.json() == {"detail": "invalid token"}


def test_bodies_over_the_limit_are_413_by_length_and_by_count(client: TestClient) -> None:
    big = b'{"space": "' + b"a" * 5000 + b'"}'
    r = client.post("/api/v1/bookings", content=big, headers=admin())
    assert r.status_code == 413
    assert "api.max_body_bytes" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:
        yield big[:3000]
        yield big[3000:]

    r = client.post("/api/v1/bookings", content=chunks(), headers=admin())
    assert r.status_code == 413, r.text
    r = client.post("/api/v1/bookings", json={"space": "orion"}, headers=admin())
    assert r.status_code == 422  # a body within the limit is read and validated as before


@pytest.mark.parametrize(
    "body",
    [
        b'{"space": "orion", "member": "m-1", "start": 1e308, "end": 1e309}',
        b'{"space": "\\ud800", "member": "m-1", "start": 1e308, "end": 2e308}',
        b'{"space": "orion", "member": "m-1", "start": "\\ud800x", "end": "-Infinity"}',
        b'{"space": "orion", "member": "m-1", "start": NaN, "end": 1}',
        b'{"\\udfff": 1}',
    ],
)
def test_validation_errors_are_422_without_echoing_the_input(
    client: TestClient, body: bytes
) -> None:
    r = client.post(
        "/api/v1/bookings",
        content=body,
        headers={**admin(), "Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, list) and detail
    for e in detail:
        assert set(e) == {"loc", "msg", "type"}


def test_security_headers_on_dashboard_api_and_errors(client: TestClient) -> None:
    for path, headers in (
        ("/", {}),
        ("/static/app.js", {}),
        ("/api/v1/health", {}),
        ("/api/v1/spaces", admin()),
        ("/api/v1/spaces", {}),  # a 401 too
        ("/nowhere", {}),
    ):
        r = client.get(path, headers=headers)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["referrer-policy"] == "no-referrer", path
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp, path
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]
