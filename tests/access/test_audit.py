"""The access audit: filters by door, member, result, action and time, newest first, paged."""

from __future__ import annotations

from gateway.store.audit import Audit, record
from tests.access.conftest import T0, Site
from tests.access.test_grants import at


def test_audit_filters_and_paging(site: Site) -> None:
    rows = [
        Audit(
            "test-site",
            T0 + i,
            "m-1" if i % 2 else "m-2",
            "door_decision",
            "door-orion" if i % 3 else "door-main",
            "granted" if i % 4 else "denied",
            f"reason {i}",
            "m-1" if i % 2 else "m-2",
            "sha256:abc",
        )
        for i in range(24)
    ]
    rows.append(Audit("other-site", T0, "x", "door_decision", "door-orion", "granted"))
    with site.gw.db.begin() as conn:
        record(conn, rows)
    staff = site.token("staff")

    def q(**params: object) -> dict:  # type: ignore[type-arg]
        r = site.client.get("/api/v1/access/audit", params=params, headers=site.as_(staff))
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    every = q(limit=1000)
    assert every["total"] == 24  # the other site's row is not ours
    assert [a["reason"] for a in every["data"][:2]] == ["reason 23", "reason 22"]
    assert q(subject="door-main")["total"] == 8
    assert q(member="m-1")["total"] == 12
    assert q(result="denied")["total"] == 6
    assert q(result="denied", subject="door-main")["total"] == 2  # i = 0, 12
    assert q(action="grant_issued")["total"] == 0
    window = q(**{"from": at(T0 + 5), "to": at(T0 + 10)})
    assert [a["reason"] for a in window["data"]] == [f"reason {i}" for i in (9, 8, 7, 6, 5)]
    page = q(limit=5, offset=20)
    assert page["count"] == 4 and page["total"] == 24
    assert [a["reason"] for a in page["data"]] == [f"reason {i}" for i in (3, 2, 1, 0)]
    bad = site.client.get("/api/v1/access/audit?limit=0", headers=site.as_(staff))
    assert bad.status_code == 422 and "limit" in str(bad.json()["detail"])
