"""/metrics and /api/v1/stats show the store's size, free space, daily rate and days left."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services.conftest import Site, make_site

PRINTER = "ref/printer/printer-1/status"


@pytest.fixture
def any_site(tmp_path: Path, db_url: str) -> Iterator[Site]:
    # raw events kept for ages: the store grows for good, so its disk fills some day
    yield from make_site(tmp_path, database_url=db_url, retention={"events_days": 1e9})


def gauges(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line.startswith("gateway_store_") and " " in line:
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_disk_figures_in_stats_and_metrics(any_site: Site) -> None:
    site = any_site
    for pct in (80, 79, 78):
        site.send(PRINTER, {"state": "idle", "jam": False, "paper_pct": pct})
    stats = site.client.get("/api/v1/stats").json()
    m = gauges(site.client.get("/metrics").text)
    assert stats["store_bytes"] > 0 and m["gateway_store_bytes"] == stats["store_bytes"]
    assert stats["store_events_per_day"] == stats["events_stored"] > 0
    assert m["gateway_store_events_per_day"] == stats["store_events_per_day"]
    if site.gw.db.url.get_backend_name() == "sqlite":
        assert stats["store_free_bytes"] > 0 and stats["store_days_until_full"] > 0
        assert m["gateway_store_free_bytes"] == stats["store_free_bytes"]
        assert m["gateway_store_days_until_full"] == pytest.approx(stats["store_days_until_full"])
    else:  # the server's disk is not ours to measure: shown as unknown, left out of /metrics
        assert stats["store_free_bytes"] is None and stats["store_days_until_full"] is None
        assert "gateway_store_free_bytes" not in m and "gateway_store_days_until_full" not in m


def test_a_store_that_levels_off_never_fills(tmp_path: Path) -> None:
    """With the default 30 days of raw events, three events a day fit the disk for good: the
    days until full are unknown in the stats and left out of /metrics."""
    for site in make_site(tmp_path):
        for pct in (80, 79, 78):
            site.send(PRINTER, {"state": "idle", "jam": False, "paper_pct": pct})
        stats = site.client.get("/api/v1/stats").json()
        m = gauges(site.client.get("/metrics").text)
        assert stats["store_events_per_day"] > 0 and stats["store_free_bytes"] > 0
        assert stats["store_days_until_full"] is None
        assert "gateway_store_days_until_full" not in m and "gateway_store_free_bytes" in m
