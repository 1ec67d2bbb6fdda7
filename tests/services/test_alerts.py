"""Alerts from printer faults, environment and device availability; work orders and moves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.services.conftest import T0, Site, make_site


def alerts(site: Site, state: str = "active") -> list[dict[str, Any]]:
    r = site.client.get("/api/v1/alerts", params={"state": state})
    assert r.status_code == 200, r.text
    data: list[dict[str, Any]] = r.json()["data"]
    return data


def orders(site: Site, **params: Any) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = site.client.get("/api/v1/work-orders", params=params).json()[
        "data"
    ]
    return data


def test_printer_faults_raise_clear_and_open_one_order_per_fault(any_site: Site) -> None:
    site = any_site
    site.send("ref/printer/printer-1/status", {"state": "idle", "jam": False, "paper_pct": 80})
    assert alerts(site) == []
    site.send("ref/printer/printer-1/status", {"state": "error", "jam": True, "toner_pct": 4})
    kinds = sorted(a["kind"] for a in alerts(site))
    assert kinds == ["printer_jam", "toner_low"]
    jam = next(a for a in alerts(site) if a["kind"] == "printer_jam")
    assert jam["subject"] == "printer-1" and jam["work_order"] is not None
    site.send("ref/printer/printer-1/status", {"state": "error", "jam": True})  # still jammed
    assert len(orders(site, kind="printer_jam")) == 1

    site.clock.t += 60
    site.send("ref/printer/printer-1/status", {"state": "idle", "jam": False})
    assert [a["kind"] for a in alerts(site)] == ["toner_low"]
    cleared = alerts(site, "cleared")
    assert [a["kind"] for a in cleared] == ["printer_jam"] and cleared[0]["active"] is False
    # the jam comes back while its order is still open: a new alert, the same order
    site.send("ref/printer/printer-1/status", {"state": "error", "jam": True})
    again = next(a for a in alerts(site) if a["kind"] == "printer_jam")
    assert again["id"] != jam["id"] and again["work_order"] == jam["work_order"]
    assert len(orders(site, kind="printer_jam")) == 1

    site.send("ref/printer/printer-1/status", {"state": "offline", "paper_pct": 0})
    assert {"printer_offline", "out_of_paper"} <= {a["kind"] for a in alerts(site)}


def test_environment_limits_per_space_type(tmp_path: Path) -> None:
    limits = {"env_by_type": {"open_area": {"co2_max_ppm": 1400, "temperature_max_c": 27}}}
    for site in make_site(tmp_path, alerts=limits):
        site.send("ref/env/env-orion", {"co2": 1200, "temperature": 26, "humidity": 40})
        site.send("ref/env/env-open", {"co2": 1200, "temperature": 26, "humidity": 80})
        got = sorted((a["subject"], a["kind"]) for a in alerts(site))
        assert got == [
            ("open", "humidity_out_of_range"),
            ("orion", "co2_high"),
            ("orion", "temperature_out_of_range"),
        ]
        assert "1200" in next(a["message"] for a in alerts(site) if a["kind"] == "co2_high")
        site.send("ref/env/env-orion", {"co2": 980, "temperature": 24.8})  # at the limits
        assert len(alerts(site)) == 3
        site.send("ref/env/env-orion", {"co2": 700, "temperature": 22})
        assert [a["subject"] for a in alerts(site)] == ["open"]
        assert len(orders(site)) == 3


def test_silent_device_goes_offline_and_back(site: Site) -> None:
    site.send("ref/env/env-open", {"co2": 500})
    silence = site.gw.device_silence_s("env-open")
    site.advance(T0 + silence + 60, step=3600)
    off = [a for a in alerts(site) if a["kind"] == "device_offline"]
    assert [a["subject"] for a in off] == ["env-open"]
    site.send("ref/env/env-open", {"co2": 510})
    assert not [a for a in alerts(site) if a["kind"] == "device_offline"]


def test_work_order_moves_with_who_and_when(site: Site) -> None:
    c = site.client
    r = c.post("/api/v1/work-orders", json={"title": "Broken chair", "subject": "orion"})
    assert r.status_code == 201, r.text
    wo = r.json()
    assert wo["status"] == "open" and wo["source"] == "staff"
    url = f"/api/v1/work-orders/{wo['id']}"

    assert c.patch(url, json={"status": "in_progress"}).status_code == 409
    missing = c.patch(url, json={"status": "assigned"})
    assert missing.status_code == 422 and "assignee" in missing.text
    assert c.patch(url, json={"status": "sideways"}).status_code == 422
    site.clock.t += 10
    assert c.patch(url, json={"status": "assigned", "assignee": "kim"}).status_code == 200
    site.clock.t += 10
    assert c.patch(url, json={"status": "in_progress"}).status_code == 200
    site.clock.t += 10
    done = c.patch(url, json={"status": "done", "note": "new chair"})
    assert done.status_code == 200
    body = done.json()
    assert [h["status"] for h in body["history"]] == ["open", "assigned", "in_progress", "done"]
    assert {h["by"] for h in body["history"]} == {"bootstrap-admin"}
    assert body["history"][1]["assignee"] == "kim" and body["assignee"] == "kim"
    stamps = [h["at"] for h in body["history"]]
    assert stamps == sorted(stamps) and len(set(stamps)) == 4
    assert c.patch(url, json={"status": "assigned", "assignee": "x"}).status_code == 409
    assert c.patch("/api/v1/work-orders/9999", json={"status": "done"}).status_code == 404

    # a fault whose earlier order is done opens a new one
    site.send("ref/printer/printer-1/status", {"jam": True})
    first = orders(site, kind="printer_jam")[0]
    for step in (
        {"status": "assigned", "assignee": "kim"},
        {"status": "in_progress"},
        {"status": "done"},
    ):
        assert c.patch(f"/api/v1/work-orders/{first['id']}", json=step).status_code == 200
    site.send("ref/printer/printer-1/status", {"jam": False})
    site.send("ref/printer/printer-1/status", {"jam": True})
    assert len(orders(site, kind="printer_jam")) == 2
