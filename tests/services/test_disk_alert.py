"""Free space under ``alerts.disk_free_min_bytes`` raises ``disk_low`` and opens a work order;
back above the line (by 5 %) the alert clears."""

from __future__ import annotations

from typing import Any

from tests.services.conftest import Site

MIN = 1_000_000_000  # the default threshold


class FakeDisk:
    def __init__(self, free: int | None) -> None:
        self.free = free

    def free_bytes(self) -> int | None:
        return self.free


def of_kind(site: Site, path: str, kind: str, **params: Any) -> list[dict[str, Any]]:
    r = site.client.get(path, params={"kind": kind, **params})
    assert r.status_code == 200, r.text
    return [a for a in r.json()["data"] if a["kind"] == kind]


def check(site: Site, disk: FakeDisk, free: int | None) -> None:
    disk.free = free
    site.advance(site.clock.t + site.gw.settings.alerts.check_s)


def test_low_disk_raises_an_alert_and_a_work_order_then_clears(site: Site) -> None:
    disk = FakeDisk(50 * MIN)
    site.gw.services.alerts.disk = disk
    check(site, disk, 50 * MIN)
    assert of_kind(site, "/api/v1/alerts", "disk_low") == []
    check(site, disk, MIN - 1)
    [alert] = of_kind(site, "/api/v1/alerts", "disk_low", state="active")
    assert alert["subject"] == "store" and "MB free" in alert["message"]
    [order] = of_kind(site, "/api/v1/work-orders", "disk_low")
    assert order["status"] != "done"
    check(site, disk, MIN // 2)  # still low: the same alert, no second order
    assert len(of_kind(site, "/api/v1/work-orders", "disk_low")) == 1
    check(site, disk, MIN + 1)  # just over the line: not yet cleared (no flapping)
    assert len(of_kind(site, "/api/v1/alerts", "disk_low", state="active")) == 1
    check(site, disk, None)  # unknown: changes nothing
    assert len(of_kind(site, "/api/v1/alerts", "disk_low", state="active")) == 1
    check(site, disk, 2 * MIN)
    assert of_kind(site, "/api/v1/alerts", "disk_low", state="active") == []
    assert len(of_kind(site, "/api/v1/alerts", "disk_low", state="cleared")) == 1


def test_a_threshold_of_zero_turns_the_alert_off(tmp_path: Any) -> None:
    from tests.services.conftest import make_site

    for site in make_site(tmp_path, alerts={"disk_free_min_bytes": 0}):
        disk = FakeDisk(0)
        site.gw.services.alerts.disk = disk
        check(site, disk, 0)
        assert of_kind(site, "/api/v1/alerts", "disk_low") == []
