"""Booking-platform webhooks against a real gateway on a fake clock: signed with the Python
snippet of docs/integrations/booking-webhooks.md, replayed, stale, forged, too large."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.services.conftest import T0, Site, make_site
from tests.support import ROOT

SECRET = "3f5c0e3a6c1f4b7e9d2a8b6c4e1f0a9d7b5c3e1f2a4b6c8d0e2f4a6b8c0d2e4f"
URL = "/api/v1/integrations/bookings"
DOC = ROOT / "docs" / "integrations" / "booking-webhooks.md"


def doc_snippet() -> Any:
    """The ``signed`` function of the docs page, as a user would copy it."""
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert code is not None
    space: dict[str, Any] = {}
    exec(compile(code.group(1), str(DOC), "exec"), space)  # noqa: S102 (our own docs)
    return space["signed"]


SIGNED = doc_snippet()


def hook_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> Iterator[Site]:
    hooks = {"integrations": {"nexudus": {"secret": SECRET}}}
    for s in make_site(tmp_path, booking_hooks=hooks, **kw):
        monkeypatch.setattr("time.time", s.clock)  # the snippet signs "now"
        yield s


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    yield from hook_site(tmp_path, monkeypatch)


@pytest.fixture
def any_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Iterator[Site]:
    """On each store backend (PostgreSQL when GATEWAY_TEST_POSTGRES_URL is set)."""
    yield from hook_site(tmp_path, monkeypatch, database_url=db_url)


def change(event: str = "created", **kw: Any) -> dict[str, Any]:
    return {"event": event, "id": "NX-88121", "space": "orion", "member": "m-1",
            "start": "2025-11-28T11:00:00+01:00", "end": "2025-11-28T12:00:00+01:00",
            "updated_at": "2025-11-28T08:58:02Z", **kw}  # fmt: skip


def post(site: Site, body: dict[str, Any], integration: str = "nexudus") -> Any:
    data, headers = SIGNED(SECRET, body, integration)
    return site.client.post(URL, content=data, headers={**headers, "Authorization": ""})


def platform_bookings(site: Site) -> list[dict[str, Any]]:
    rows = site.client.get("/api/v1/bookings", params={"limit": 100}).json()["data"]
    return [r for r in rows if r["source"] == "platform:nexudus"]


def refused(site: Site) -> dict[str, float]:
    text = site.client.get("/metrics").text
    found = re.findall(r'gateway_booking_hook_refused_total\{reason="(\w+)"\} ([0-9.]+)', text)
    return {k: float(v) for k, v in found if float(v)}


def test_created_then_the_same_change_again_is_one_booking(site: Site) -> None:
    first = post(site, change())
    assert first.status_code == 201, first.text
    bid = first.json()["booking"]
    b = site.client.get(f"/api/v1/bookings/{bid}").json()
    assert (b["source"], b["external_id"], b["member"], b["start"][:19]) == (
        "platform:nexudus", "NX-88121", "m-1", "2025-11-28T10:00:00",
    )  # fmt: skip
    site.clock.t += 5  # the platform retries: signed anew, same booking
    again = post(site, change())
    assert (again.status_code, again.json()["result"], again.json()["booking"]) == (
        200, "unchanged", bid,
    )  # fmt: skip
    assert [r["id"] for r in platform_bookings(site)] == [bid]


def test_a_replayed_request_is_refused(site: Site) -> None:
    data, headers = SIGNED(SECRET, change(), "nexudus")
    ok = site.client.post(URL, content=data, headers=headers)
    assert ok.status_code == 201
    replay = site.client.post(URL, content=data, headers=headers)
    assert replay.status_code == 409 and "received before" in replay.json()["detail"]
    assert refused(site) == {"replay": 1.0}


def test_update_moves_it_stale_is_ignored_cancel_frees_the_room(any_site: Site) -> None:
    site = any_site
    bid = post(site, change()).json()["booking"]
    later = {"start": "2025-11-28T13:00:00+01:00", "end": "2025-11-28T14:00:00+01:00"}
    moved = post(site, change("updated", **later, updated_at="2025-11-28T09:01:00Z"))
    assert (moved.json()["result"], moved.json()["booking"]) == ("updated", bid)
    site.clock.t += 1
    late = post(site, change("updated", updated_at="2025-11-28T09:00:00Z"))  # older than 09:01
    assert late.json()["result"] == "stale"
    assert site.client.get(f"/api/v1/bookings/{bid}").json()["start"][:16] == "2025-11-28T12:00"
    site.clock.t += 1
    gone = post(site, change("cancelled", updated_at="2025-11-28T09:05:00Z"))
    assert (gone.status_code, gone.json()["result"]) == (200, "cancelled")
    assert site.client.get(f"/api/v1/bookings/{bid}").json()["status"] == "cancelled"
    local = site.client.post("/api/v1/bookings", json={
        "space": "orion", "member": "m-2", "start": "2025-11-28T12:00:00Z",
        "end": "2025-11-28T13:00:00Z"})  # fmt: skip
    assert local.status_code == 201, local.text


def test_a_platform_booking_over_a_local_one_is_a_conflict(site: Site) -> None:
    local = site.client.post("/api/v1/bookings", json={
        "space": "orion", "member": "m-2", "start": "2025-11-28T10:30:00Z",
        "end": "2025-11-28T11:30:00Z"})  # fmt: skip
    assert local.status_code == 201
    clash = post(site, change())
    assert clash.status_code == 409 and clash.json()["result"] == "conflict"
    assert local.json()["id"] in clash.json()["reason"]
    assert platform_bookings(site) == []


def test_forged_old_and_unknown_requests_are_401_and_counted(site: Site) -> None:
    data, headers = SIGNED(SECRET, change(), "nexudus")
    forged = site.client.post(URL, content=data.replace(b"m-1", b"m-2"), headers=headers)
    assert forged.status_code == 401 and forged.json()["detail"] == "signature does not match"
    wrong_key = SIGNED("not-the-secret", change(), "nexudus")
    assert site.client.post(URL, content=wrong_key[0], headers=wrong_key[1]).status_code == 401
    site.clock.t -= 301  # signed 301 s before the gateway's now
    old = SIGNED(SECRET, change(), "nexudus")
    site.clock.t += 301
    late = site.client.post(URL, content=old[0], headers=old[1])
    assert late.status_code == 401 and "tolerance" in late.json()["detail"]
    assert post(site, change(), integration="other").status_code == 401
    bare = site.client.post(URL, content=data, headers={"Content-Type": "application/json"})
    assert bare.status_code == 401
    assert refused(site) == {"signature": 2.0, "timestamp": 1.0, "unknown_integration": 2.0}
    assert platform_bookings(site) == []


def test_a_body_over_the_limit_is_413_and_garbage_is_422(site: Site) -> None:
    big = post(site, change(note="x" * 70_000))
    assert big.status_code == 413
    data, headers = SIGNED(SECRET, change(), "nexudus")
    not_json = site.client.post(URL, content=b"{not json", headers=headers)
    assert not_json.status_code == 401  # signed over another body
    body = b"{not json"
    t = int(site.clock.t)
    v1 = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    sig = {"X-Gateway-Integration": "nexudus", "X-Gateway-Signature": f"t={t},v1={v1}"}
    assert site.client.post(URL, content=body, headers=sig).status_code == 422
    backwards = post(site, change(end="2025-11-28T10:00:00+01:00"))
    assert backwards.status_code == 422
    unknown = post(site, change(space="atlantis"))
    assert unknown.status_code == 404
    assert refused(site) == {"too_large": 1.0, "signature": 1.0, "invalid": 3.0}


def test_without_an_integration_the_endpoint_is_absent(tmp_path: Path) -> None:
    for site in make_site(tmp_path):
        body = json.dumps(change()).encode()
        assert site.client.post(URL, content=body).status_code == 404
        assert site.clock.t == T0
