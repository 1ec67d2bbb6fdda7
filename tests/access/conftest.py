"""A real Gateway around the access test building, with a fake clock and its own store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.runtime import Gateway
from gateway.settings import load_settings

BUILDING = Path(__file__).resolve().parent / "building.yaml"
T0 = 1_795_852_800.0  # 2026-11-28 05:20:00 UTC, a whole second
ADMIN = "access-admin-token-0123456789"  # `gateway run` refuses fewer than 24 characters


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@dataclass
class Site:
    gw: Gateway
    clock: Clock
    client: TestClient

    def token(self, role: str, name: str | None = None) -> str:
        r = self.client.post(
            "/api/v1/admin/tokens", json={"role": role, "name": name or f"{role}-token"}
        )
        assert r.status_code == 201, r.text
        token: str = r.json()["token"]
        return token

    def as_(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def make_gateway(tmp: Path, clock: Clock, **overrides: object) -> Gateway:
    settings = load_settings(
        database_url=f"sqlite:///{tmp}/g.db",
        building=BUILDING,
        admin_token=ADMIN,
        access={"key_dir": str(tmp / "keys"), **dict(overrides.pop("access", {}))},  # type: ignore[call-overload]
        **overrides,
    )
    return Gateway(settings, clock=clock)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    clock = Clock(T0)
    gw = make_gateway(tmp_path, clock)
    client = TestClient(create_app(gw, manage=False))
    client.headers["Authorization"] = f"Bearer {ADMIN}"
    yield Site(gw, clock, client)
    gw.db.dispose()
