"""A real Gateway on a fake clock with the member services pumped by hand, and its API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.ingest import RawMessage
from gateway.runtime import Gateway
from gateway.settings import load_settings

HERE = Path(__file__).resolve().parent
BUILDING = HERE / "building.yaml"
T0 = 1_764_320_400.0  # 2025-11-28 09:00:00 UTC
TOKEN = "services-test-token"


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Site:
    """The gateway, its clock and API client, and helpers to drive them."""

    def __init__(self, gw: Gateway, clock: Clock, client: TestClient) -> None:
        self.gw, self.clock, self.client = gw, clock, client
        self.mid = 0
        self.notices: list[dict[str, Any]] = []
        gw.hub.subscribe("notices", lambda n, _now: self.notices.append(n))

    def send(self, topic: str, payload: dict[str, Any]) -> None:
        """One device message through the real decode-commit-apply path, received now."""
        self.mid += 1
        raw = RawMessage(topic, json.dumps(payload).encode(), self.clock.t, qos=1, mid=self.mid)
        self.gw.pipeline.process([raw])
        self.gw.services.pump()

    def advance(self, to: float, step: float = 30.0) -> None:
        """Move the clock, ticking the engine and pumping the services as time passes."""
        while self.clock.t < to:
            self.clock.t = min(to, self.clock.t + step)
            self.gw.live.tick(self.clock.t)
            self.gw.services.pump()


def make_site(tmp_path: Path, **settings: Any) -> Iterator[Site]:
    clock = Clock(T0)
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path}/g.db",
        "building": BUILDING,
        "admin_token": TOKEN,
        "publish": {"enabled": False},
        "occupancy": {"sensor_stale_s": 86_400},
        **settings,
    }
    s = load_settings(**values)
    g = Gateway(s, clock=clock)
    g.services.attach()  # the worker is not started: the tests pump it on the fake clock
    g.services.bookings.restore(clock.t)
    client = TestClient(create_app(g, manage=False))
    client.headers["Authorization"] = f"Bearer {TOKEN}"
    yield Site(g, clock, client)
    g.db.dispose()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    yield from make_site(tmp_path)


@pytest.fixture
def any_site(tmp_path: Path, db_url: str) -> Iterator[Site]:
    """On each store backend (PostgreSQL when GATEWAY_TEST_POSTGRES_URL is set)."""
    yield from make_site(tmp_path, database_url=db_url)


def iso(t: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC).isoformat()
