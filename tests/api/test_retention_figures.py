"""/api/v1/stats and /metrics count what the retention pass pruned."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.store.retention import DAY_S
from tests.services.conftest import Site, make_site

PRINTER = "ref/printer/printer-1/status"


@pytest.fixture
def any_site(tmp_path: Path, db_url: str) -> Iterator[Site]:
    yield from make_site(tmp_path, database_url=db_url)


def counters(text: str) -> dict[str, float]:
    return {
        name: float(value)
        for name, value in (line.rsplit(" ", 1) for line in text.splitlines()
                            if line.startswith("gateway_retention_"))
    }  # fmt: skip


def test_pruned_events_are_counted_in_stats_and_metrics(any_site: Site) -> None:
    site = any_site
    for pct in (80, 79, 78):
        site.send(PRINTER, {"state": "idle", "jam": False, "paper_pct": pct})
    stored = site.client.get("/api/v1/stats").json()["events_stored"]
    assert stored > 0
    site.clock.t += 31 * DAY_S  # a month on: every one of them is past the 30-day window
    pruned = site.gw.retention.run_pass()
    stats = site.client.get("/api/v1/stats").json()
    assert pruned.events == stored == stats["events_pruned"]
    assert stats["events_stored"] == 0 and stats["retention_last_pass_at"] is not None
    m = counters(site.client.get("/metrics").text)
    assert m["gateway_retention_events_pruned_total"] == stored
    assert "gateway_retention_pages_freed_total" in m
