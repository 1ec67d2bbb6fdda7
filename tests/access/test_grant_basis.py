"""Grants do not outlive their basis: a cancelled booking, a deleted member, a changed plan."""

from __future__ import annotations

from gateway.access.grants import Grant
from tests.access.conftest import T0, Site


def revoked(site: Site, g: Grant) -> bool:
    got = site.gw.access.grants.get(g.id)
    return got is not None and got.revoked_at is not None


def test_cancelling_the_booking_revokes_its_grants(site: Site) -> None:
    gw = site.gw
    b = gw.services.bookings.create("orion", "m-3", T0 + 600, T0 + 4200, False, "test")
    other = gw.services.bookings.create("focus", "m-3", T0 + 600, T0 + 4200, False, "test")
    g = gw.access.grants.issue("m-3", "door-orion", None, T0 + 600, T0 + 4200, "test")
    kept = gw.access.grants.issue("m-3", None, "focus", T0 + 600, T0 + 4200, "test")
    assert g.booking == b["id"] and kept.booking == other["id"]
    assert gw.access.grants.allows("m-3", "door-orion", T0 + 700) is not None
    r = site.client.delete(f"/api/v1/bookings/{b['id']}")
    assert r.status_code == 200, r.text
    assert revoked(site, g) and not revoked(site, kept)
    assert gw.access.grants.allows("m-3", "door-orion", T0 + 700) is None
    assert gw.access.grants.revoked_live(T0 + 700) == [g.id]  # offline verifiers refuse it


def test_a_plan_change_or_delete_revokes_what_the_plan_gave(site: Site) -> None:
    c = site.client
    r = c.post("/api/v1/members", json={"id": "m-9", "name": "Dee", "plan": "flex"})
    assert r.status_code == 201, r.text
    grants = site.gw.access.grants
    desk = grants.issue("m-9", None, "desk-area", T0, T0 + 3600, "test")  # flex: hot desks
    lounge = grants.issue("m-9", None, "lounge", T0, T0 + 3600, "test")  # flex and floor 2
    # a renamed member keeps everything; a new plan that does not cover the desks drops them
    assert c.put("/api/v1/members/m-9", json={"name": "Dee D.", "plan": "flex"}).is_success
    assert not revoked(site, desk) and not revoked(site, lounge)
    assert c.put("/api/v1/members/m-9", json={"name": "Dee D.", "plan": "upstairs"}).is_success
    assert revoked(site, desk) and not revoked(site, lounge)
    assert c.delete("/api/v1/members/m-9").status_code == 204
    assert revoked(site, lounge)
    assert sorted(grants.revoked_live(T0 + 1)) == sorted([desk.id, lounge.id])
