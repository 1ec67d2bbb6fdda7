"""Bookings: overlaps, validation, cancel; check-in by presence and badge; ghosts released."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from gateway.facility.bookings import has_booking
from gateway.store.audit import AUDIT
from tests.services.conftest import T0, Site, iso, make_site


def book(site: Site, space: str, start: float, end: float, member: str = "m-1", **kw: Any) -> Any:
    body = {"space": space, "member": member, "start": iso(start), "end": iso(end), **kw}
    return site.client.post("/api/v1/bookings", json=body)


def audits(site: Site, action: str) -> list[Any]:
    with site.gw.db.connect() as conn:
        return conn.execute(select(AUDIT).where(AUDIT.c.action == action)).all()


def test_overlaps_validation_and_cancel(any_site: Site) -> None:
    site = any_site
    h = T0 + 3600
    r = book(site, "orion", h, h + 3600)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["status"] == "booked" and first["created_by"] == "bootstrap-admin"

    clash = book(site, "orion", h + 1800, h + 5400, member="m-2")
    assert clash.status_code == 409 and first["id"] in clash.json()["detail"]
    assert book(site, "orion", h + 3600, h + 7200).status_code == 201  # adjacent is fine
    assert book(site, "focus", h + 1800, h + 5400).status_code == 201  # another room

    assert book(site, "nowhere", h, h + 60).status_code == 404
    not_bookable = book(site, "booth", h, h + 60)
    assert not_bookable.status_code == 422
    assert not_bookable.json()["detail"][0]["loc"] == ["body", "space"]
    assert "not bookable" in not_bookable.json()["detail"][0]["msg"]
    backwards = book(site, "orion", h + 60, h)
    assert backwards.status_code == 422
    err = backwards.json()["detail"][0]
    assert err["loc"] == ["body", "end"] and "after start" in err["msg"]
    assert book(site, "orion", T0 - 7200, T0 - 3600).status_code == 422  # in the past

    listed = site.client.get("/api/v1/bookings", params={"space": "orion"}).json()
    assert [b["space"] for b in listed["data"]] == ["orion", "orion"] and listed["total"] == 2
    window = {"from": iso(h + 4000), "to": iso(h + 5000)}
    overlapping = site.client.get("/api/v1/bookings", params=window).json()["data"]
    assert sorted(b["space"] for b in overlapping) == ["focus", "orion"]

    with site.gw.db.connect() as conn:
        assert has_booking(conn, "svc-site", "m-1", "orion", h + 60, h + 600)
        assert not has_booking(conn, "svc-site", "m-2", "orion", h + 60, h + 600)
        assert not has_booking(conn, "svc-site", "m-1", "orion", h - 60, h + 600)

    gone = site.client.delete(f"/api/v1/bookings/{first['id']}")
    assert gone.status_code == 200 and gone.json()["status"] == "cancelled"
    assert site.client.delete(f"/api/v1/bookings/{first['id']}").status_code == 409
    assert site.client.get("/api/v1/bookings/nope").status_code == 404
    assert book(site, "orion", h + 1800, h + 3000, member="m-2").status_code == 201
    assert len(audits(site, "booking_cancelled")) == 1


def test_ghost_booking_is_released_and_the_room_bookable_again(any_site: Site) -> None:
    site = any_site
    site.send("ref/occupancy/pres-focus", {"presence": False})  # a working sensor: vacant
    start = T0 + 120
    bid = book(site, "focus", start, start + 3600, member="m-7").json()["id"]
    site.advance(start + 590)
    assert site.client.get(f"/api/v1/bookings/{bid}").json()["status"] == "booked"
    site.advance(start + 660)
    b = site.client.get(f"/api/v1/bookings/{bid}").json()
    assert b["status"] == "released" and b["outcome"] == "ghost"
    rows = audits(site, "booking_released")
    assert [(r.actor, r.subject, r.member) for r in rows] == [("gateway", bid, "m-7")]
    assert [n["booking"] for n in site.notices if n["type"] == "booking_released"] == [bid]
    space = site.client.get("/api/v1/spaces/focus").json()
    assert space["state"] == "vacant"
    again = book(site, "focus", start + 900, start + 2700, member="m-8")
    assert again.status_code == 201, again.text

    rate = site.client.get(
        "/api/v1/bookings/no-show-rate", params={"from": iso(T0), "to": iso(T0 + 7200)}
    ).json()
    assert (rate["required"], rate["released"], rate["rate"]) == (1, 1, 1.0)
    assert rate["by_space"][0]["space"] == "focus"


def test_presence_checks_in_and_counts_against_no_shows(site: Site) -> None:
    site.send("ref/occupancy/pres-orion", {"presence": False})
    site.send("ref/occupancy/pres-focus", {"presence": False})
    start = T0 + 120
    came = book(site, "orion", start, start + 3600).json()["id"]
    ghost = book(site, "focus", start, start + 3600).json()["id"]
    site.advance(start + 200)
    site.send("ref/occupancy/pres-orion", {"presence": True})
    b = site.client.get(f"/api/v1/bookings/{came}").json()
    assert b["status"] == "checked_in" and b["checkin_via"] == "presence"
    site.advance(start + 700)
    assert site.client.get(f"/api/v1/bookings/{came}").json()["status"] == "checked_in"
    assert site.client.get(f"/api/v1/bookings/{ghost}").json()["status"] == "released"
    rate = site.client.get(
        "/api/v1/bookings/no-show-rate", params={"from": iso(T0), "to": iso(T0 + 7200)}
    ).json()
    assert (rate["required"], rate["released"], rate["rate"]) == (2, 1, 0.5)
    assert len(audits(site, "booking_checked_in")) == 1
    site.advance(start + 3700, step=600)
    assert site.client.get(f"/api/v1/bookings/{came}").json()["status"] == "completed"


def test_badge_into_the_room_checks_in(site: Site) -> None:
    site.send("ref/occupancy/pres-focus", {"presence": False})
    start = T0 + 300
    bid = book(site, "focus", start, start + 3600, member="m-42").json()["id"]
    site.advance(start - 60)
    site.send("ref/door/door-focus/event", {"event": "granted", "member": "m-99"})
    assert site.client.get(f"/api/v1/bookings/{bid}").json()["status"] == "booked"
    site.send("ref/door/door-focus/event", {"event": "granted", "member": "m-42"})
    b = site.client.get(f"/api/v1/bookings/{bid}").json()
    assert b["status"] == "checked_in" and b["checkin_via"] == "badge"
    site.advance(start + 1200)
    assert site.client.get(f"/api/v1/bookings/{bid}").json()["status"] == "checked_in"


def test_unknown_sensors_do_not_release(site: Site) -> None:
    start = T0 + 120  # the dark room's sensor never reported: its state is unknown
    bid = book(site, "dark", start, start + 3600).json()["id"]
    site.advance(start + 700)
    b = site.client.get(f"/api/v1/bookings/{bid}").json()
    assert b["status"] == "booked" and b["outcome"] == "unverified"


def test_policy_off_keeps_the_ghost_booked(tmp_path: Path) -> None:
    for site in make_site(tmp_path, bookings={"auto_release": False}):
        site.send("ref/occupancy/pres-focus", {"presence": False})
        bid = book(site, "focus", T0 + 60, T0 + 3600).json()["id"]
        site.advance(T0 + 700)
        b = site.client.get(f"/api/v1/bookings/{bid}").json()
        assert b["status"] == "booked" and b["outcome"] == "ghost"
        assert not [n for n in site.notices if n["type"] == "booking_released"]
        assert book(site, "focus", T0 + 900, T0 + 1200).status_code == 409


def test_bookings_survive_a_restart(tmp_path: Path) -> None:
    for site in make_site(tmp_path):
        bid = book(site, "focus", T0 + 600, T0 + 3600).json()["id"]
    for site in make_site(tmp_path):
        watched = site.gw.engine.spaces["focus"].bookings or []
        assert [b.id for b in watched] == [bid]
        assert book(site, "focus", T0 + 900, T0 + 1200).status_code == 409
