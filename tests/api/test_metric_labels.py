"""/metrics stays the same size under a flood of random methods and paths from anyone."""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.runtime import Gateway
from gateway.settings import load_settings
from tests.services.conftest import BUILDING

TOKEN = "metrics-test-admin-token-01"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path}/g.db",
        building=BUILDING,
        admin_token=TOKEN,
        publish={"enabled": False},
        access={"key_dir": str(tmp_path / "keys")},
    )
    gw = Gateway(settings)
    with TestClient(create_app(gw, manage=False)) as c:
        yield c
    gw.db.dispose()


def series(text: str) -> int:
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


PREFIXES = ("/", "/api/v1/", "/api/v1/bookings/", "/api/v1/spaces/", "/static/", "/x/")
KNOWN = ("GET", "POST", "DELETE")


def every_kind(client: TestClient) -> None:
    """One request of each kind the flood sends: each label set it can reach exists."""
    for prefix in PREFIXES:
        for method in (*KNOWN, "BREW"):
            for headers in (AUTH, {}):
                client.request(method, prefix + "seen", headers=headers)
    client.get("/metrics", headers=AUTH)  # a scrape is timed too


def flood(client: TestClient, rng: random.Random, n: int) -> None:
    prefixes = PREFIXES
    for _ in range(n):
        method = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(3, 12)))
        if rng.random() < 0.2:
            method = rng.choice(KNOWN)
        path = rng.choice(prefixes) + "".join(rng.choices(string.ascii_lowercase, k=10))
        client.request(method, path, headers=AUTH if rng.random() < 0.5 else {})


def test_random_methods_and_paths_do_not_grow_the_metrics(client: TestClient) -> None:
    rng = random.Random(16)
    every_kind(client)
    before = client.get("/metrics", headers=AUTH).text
    flood(client, rng, 3000)
    after = client.get("/metrics", headers=AUTH).text
    assert series(after) == series(before), (len(before), len(after))
    assert "other" in after  # the unknown methods were counted, under one label
    assert len(after) < len(before) * 1.1  # and the exposition did not grow
    routes = {
        line.split('route="', 1)[1].split('"', 1)[0]
        for line in after.splitlines()
        if line.startswith("gateway_api_request_seconds_count")
    }
    assert routes <= {
        "unmatched",
        "/static/{path}",
        "/api/v1/bookings/{booking_id}",
        "/api/v1/spaces/{space_id}",
        "/metrics",
    }, routes
