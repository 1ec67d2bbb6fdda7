"""Member-bound tokens act for their one member on every member-facing route, whatever the
body or query names; they end with the app token they were exchanged from."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services.conftest import T0, Site, iso, make_site
from tests.services.test_print_job_trust import send_job


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    yield from make_site(tmp_path, access={"key_dir": str(tmp_path / "keys")})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def app_token(site: Site) -> str:
    r = site.client.post("/api/v1/admin/tokens", json={"role": "app", "name": "member-app"})
    assert r.status_code == 201, r.text
    token: str = r.json()["token"]
    return token


def member_token(site: Site, app: str, member: str) -> str:
    r = site.client.post("/api/v1/member-tokens", json={"member": member}, headers=bearer(app))
    assert r.status_code == 201, r.text
    assert r.json()["member"] == member
    token: str = r.json()["token"]
    return token


def booking(space: str, member: str, hour: int) -> dict[str, str]:
    return {
        "space": space,
        "member": member,
        "start": iso(T0 + hour * 3600),
        "end": iso(T0 + hour * 3600 + 1800),
    }


def test_a_member_token_books_lists_and_cancels_only_its_own(site: Site) -> None:
    app = app_token(site)
    ann = bearer(member_token(site, app, "m-1"))
    bob = site.client.post("/api/v1/bookings", json=booking("focus", "m-2", 1), headers=bearer(app))
    assert bob.status_code == 201, bob.text
    bob_id = bob.json()["id"]
    # acting for another member is refused, not silently rewritten
    r = site.client.post("/api/v1/bookings", json=booking("orion", "m-2", 2), headers=ann)
    assert r.status_code == 403, r.text
    own = site.client.post("/api/v1/bookings", json=booking("orion", "m-1", 2), headers=ann)
    assert own.status_code == 201, own.text
    listed = site.client.get("/api/v1/bookings", headers=ann).json()
    assert [b["member"] for b in listed["data"]] == ["m-1"] and listed["total"] == 1
    assert site.client.get("/api/v1/bookings?member=m-2", headers=ann).status_code == 403
    assert site.client.get(f"/api/v1/bookings/{bob_id}", headers=ann).status_code == 404
    assert site.client.delete(f"/api/v1/bookings/{bob_id}", headers=ann).status_code == 404
    assert site.client.get(f"/api/v1/bookings/{bob_id}").json()["status"] == "booked"
    mine = own.json()["id"]
    assert site.client.delete(f"/api/v1/bookings/{mine}", headers=ann).status_code == 200
    # the app token, the trusted backend, still sees every member's
    assert site.client.get("/api/v1/bookings", headers=bearer(app)).json()["total"] == 2
    assert site.client.get("/api/v1/bookings/no-show-rate", headers=ann).status_code == 403


def test_a_member_token_gets_and_sees_only_its_own_grants(site: Site) -> None:
    app = app_token(site)
    ann = bearer(member_token(site, app, "m-1"))
    window = {"valid_from": iso(T0), "valid_until": iso(T0 + 3600), "space": "open"}
    bob = site.client.post(
        "/api/v1/access/grants", json={**window, "member": "m-2"}, headers=bearer(app)
    )
    assert bob.status_code == 201, bob.text
    r = site.client.post("/api/v1/access/grants", json={**window, "member": "m-2"}, headers=ann)
    assert r.status_code == 403
    r = site.client.post("/api/v1/access/grants", json={**window, "member": "m-1"}, headers=ann)
    assert r.status_code == 201, r.text
    listed = site.client.get("/api/v1/access/grants", headers=ann).json()
    assert [g["member"] for g in listed["data"]] == ["m-1"]
    bob_id = bob.json()["id"]
    assert site.client.get(f"/api/v1/access/grants/{bob_id}", headers=ann).status_code == 404
    assert site.client.delete(f"/api/v1/access/grants/{bob_id}", headers=ann).status_code == 404
    assert site.client.get(f"/api/v1/access/grants/{bob_id}").json()["revoked_at"] is None


def test_a_member_token_lists_and_releases_only_its_own_print_jobs(site: Site) -> None:
    send_job(site, "printer-1", "j-ann", "held", owner="m-1")
    send_job(site, "printer-1", "j-bob", "held", owner="m-2")
    app = app_token(site)
    ann = bearer(member_token(site, app, "m-1"))
    listed = site.client.get("/api/v1/print-jobs", headers=ann).json()
    assert [j["id"] for j in listed["data"]] == ["j-ann"]
    assert site.client.get("/api/v1/print-jobs/j-bob", headers=ann).status_code == 404
    r = site.client.post("/api/v1/print-jobs/j-bob/release", json={"member": "m-2"}, headers=ann)
    assert r.status_code == 403
    assert site.client.get("/api/v1/print-jobs/j-bob").json()["status"] == "held"
    r = site.client.post("/api/v1/print-jobs/j-ann/release", json={"member": "m-1"}, headers=ann)
    assert r.status_code not in (401, 403, 404), r.text  # released, or 503 without a printer


def test_member_tokens_end_with_their_app_token_and_cannot_be_made_by_admins_api(
    site: Site,
) -> None:
    app = app_token(site)
    ann = bearer(member_token(site, app, "m-1"))
    assert site.client.get("/api/v1/bookings", headers=ann).status_code == 200
    # a member token cannot exchange itself into another member, nor read staff routes
    r = site.client.post("/api/v1/member-tokens", json={"member": "m-2"}, headers=ann)
    assert r.status_code == 403
    assert site.client.get("/api/v1/spaces", headers=ann).status_code == 403
    assert site.client.post("/api/v1/member-tokens", json={"member": "nobody"}).status_code == 404
    r = site.client.post("/api/v1/admin/tokens", json={"role": "member", "name": "x"})
    assert r.status_code == 422
    assert site.client.delete("/api/v1/admin/tokens/member-app").status_code == 200
    assert site.client.get("/api/v1/bookings", headers=ann).status_code == 401


def test_member_tokens_expire(site: Site) -> None:
    ann = bearer(member_token(site, app_token(site), "m-1"))
    site.clock.t += site.gw.settings.api.member_token_ttl_s + 1
    assert site.client.get("/api/v1/bookings", headers=ann).status_code == 401
