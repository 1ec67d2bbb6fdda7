"""Grants: issued when the plan covers it or a booking holds it, else 403 with the reason;
the window holds to the second; revocation is immediate; everything is audited."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.access.conftest import T0, Site


def at(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def grant(site: Site, token: str, **body: object) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = site.client.post("/api/v1/access/grants", json=body, headers=site.as_(token))
    return r.status_code, r.json()


def test_plan_covered_grants_and_refusals(site: Site) -> None:
    app = site.token("app")
    code, g = grant(
        site, app, member="m-1", space="office-101", valid_from=at(T0), valid_until=at(T0 + 3600)
    )
    assert code == 201, g
    assert g["basis"] == "plan team-101 covers space office-101" and g["created_by"] == "app-token"
    code, g = grant(
        site, app, member="m-1", door="door-office-101", valid_from=at(T0), valid_until=at(T0 + 60)
    )
    assert code == 201 and g["door"] == "door-office-101"
    code, body = grant(
        site, app, member="m-1", space="orion", valid_from=at(T0), valid_until=at(T0 + 60)
    )
    assert code == 403
    assert body["detail"] == (
        "plan team-101 does not cover space orion, "
        "and member m-1 holds no booking of it for that time"
    )
    code, body = grant(
        site, app, member="m-3", door="door-main", valid_from=at(T0), valid_until=at(T0 + 60)
    )
    assert code == 403 and "no plan" in body["detail"]
    code, g = grant(
        site, app, member="m-2", door="door-main", valid_from=at(T0), valid_until=at(T0 + 60)
    )
    assert code == 201 and "entrance" in g["basis"]
    # bad requests say which field and why
    assert (
        grant(
            site, app, member="nobody", space="orion", valid_from=at(T0), valid_until=at(T0 + 60)
        )[0]
        == 404
    )
    assert (
        grant(site, app, member="m-1", space="nowhere", valid_from=at(T0), valid_until=at(T0 + 60))[
            0
        ]
        == 404
    )
    code, body = grant(
        site, app, member="m-1", space="office-101", valid_from=at(T0), valid_until=at(T0)
    )
    assert code == 422 and "valid_until" in body["detail"]
    assert (
        grant(
            site,
            app,
            member="m-1",
            space="office-101",
            door="door-main",
            valid_from=at(T0),
            valid_until=at(T0 + 9),
        )[0]
        == 422
    )
    code, body = grant(
        site,
        app,
        member="m-1",
        space="office-101",
        valid_from="2026-11-28T10:00:00",
        valid_until=at(T0 + 9),
    )
    assert code == 422 and "valid_from" in str(body["detail"])  # no UTC offset
    audit = site.client.get("/api/v1/access/audit?action=grant_refused").json()
    assert audit["total"] == 2
    assert {a["subject"] for a in audit["data"]} == {"space:orion", "door-main"}
    assert site.client.get("/api/v1/access/audit?action=grant_issued").json()["total"] == 3


def test_a_booking_lets_a_member_without_plan_in(site: Site) -> None:
    staff = site.token("staff")
    r = site.client.post(
        "/api/v1/bookings",
        json={"space": "orion", "member": "m-3", "start": at(T0 + 600), "end": at(T0 + 4200)},
        headers=site.as_(staff),
    )
    assert r.status_code == 201, r.text
    # staff book rooms and read grants, but grants are the app's (and admins') to issue
    code, body = grant(
        site,
        staff,
        member="m-3",
        door="door-orion",
        valid_from=at(T0 + 600),
        valid_until=at(T0 + 4200),
    )
    assert code == 403
    app = site.token("app")
    code, g = grant(
        site,
        app,
        member="m-3",
        door="door-orion",
        valid_from=at(T0 + 600),
        valid_until=at(T0 + 4200),
    )
    assert code == 201 and g["basis"] == f"booking {r.json()['id']} of space orion"
    listed = site.client.get("/api/v1/access/grants", headers=site.as_(staff))
    assert listed.status_code == 200 and listed.json()["total"] == 1
    gone = site.client.delete(f"/api/v1/access/grants/{g['id']}", headers=site.as_(staff))
    assert gone.status_code == 403
    # not for a window the booking does not cover
    code, body = grant(
        site,
        app,
        member="m-3",
        door="door-orion",
        valid_from=at(T0 + 600),
        valid_until=at(T0 + 4201),
    )
    assert code == 403 and "no booking" in body["detail"]


def test_window_holds_to_the_second_and_revocation_is_immediate(site: Site) -> None:
    book = site.gw.access.grants
    g = book.issue("m-1", None, "office-101", T0 + 100, T0 + 200, "test")
    assert book.allows("m-1", "door-office-101", T0 + 150) is not None  # a door of the space
    assert book.allows("m-1", "door-main", T0 + 150) is None
    assert book.allows("m-1", "door-office-101", T0 + 99.999) is None
    assert book.allows("m-1", "door-office-101", T0 + 100) is not None
    assert book.allows("m-1", "door-office-101", T0 + 199.999) is not None
    assert book.allows("m-1", "door-office-101", T0 + 200) is None
    # the list endpoint sees it live only inside the window (the gateway's clock)
    site.clock.t = T0 + 100
    live = site.client.get("/api/v1/access/grants?live=true&member=m-1").json()
    assert [x["id"] for x in live["data"]] == [g.id]
    site.clock.t = T0 + 200
    assert site.client.get("/api/v1/access/grants?live=true&member=m-1").json()["total"] == 0
    site.clock.t = T0 + 150
    r = site.client.delete(f"/api/v1/access/grants/{g.id}", headers=site.as_(site.token("app")))
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    assert book.allows("m-1", "door-office-101", T0 + 150) is None
    assert site.client.delete("/api/v1/access/grants/g-nope").status_code == 404
    # a fresh process (reload from the store) agrees
    book.load()
    assert book.allows("m-1", "door-office-101", T0 + 150) is None
    assert book.revoked_live(T0 + 150) == [g.id]
    assert book.revoked_live(T0 + 200) == []
    listed = site.client.get("/api/v1/access/grants?member=m-1&limit=1").json()
    assert listed["total"] == 1 and listed["data"][0]["revoked_at"] is not None
