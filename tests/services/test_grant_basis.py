"""A grant resting on a booking is revoked when the booking is released as a ghost."""

from __future__ import annotations

from tests.services.conftest import T0, Site, iso


def test_a_released_ghost_booking_revokes_its_grant(site: Site) -> None:
    site.send("ref/occupancy/pres-focus", {"presence": False})  # a working sensor: vacant
    start = T0 + 120
    body = {"space": "focus", "member": "m-7", "start": iso(start), "end": iso(start + 3600)}
    bid = site.client.post("/api/v1/bookings", json=body).json()["id"]
    g = site.gw.access.grants.issue("m-7", "door-focus", None, start, start + 3600, "test")
    assert g.booking == bid
    site.advance(start + 60)
    assert site.gw.access.grants.allows("m-7", "door-focus", site.clock.t) is not None
    site.advance(start + 660)
    assert site.client.get(f"/api/v1/bookings/{bid}").json()["status"] == "released"
    got = site.gw.access.grants.get(g.id)
    assert got is not None and got.revoked_at is not None
    assert site.gw.access.grants.allows("m-7", "door-focus", site.clock.t) is None
    audit = site.client.get("/api/v1/access/audit", params={"action": "grant_revoked"}).json()
    assert audit["data"][0]["reason"] == "booking released as a ghost"
