"""Erasure: a member's personal data gone from every table, the counts utilization reads kept."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from gateway.access.erasure import (
    ErasureError,
    FileMemberError,
    erase_member,
    pseudonym,
)
from gateway.access.members import Member, MemberDirectory
from gateway.building import load_building
from gateway.cli import main
from gateway.credential import CredentialHasher
from gateway.events import Event
from gateway.store import create_db_engine, init_db
from gateway.store.access_tables import GrantRow
from gateway.store.audit import AUDIT, Audit, record
from gateway.store.member_tables import BOOKINGS, PRINT_JOBS
from gateway.store.writer import store_events
from tests.access.conftest import BUILDING, T0, Site

GRANTS = GrantRow.__table__  # type: ignore[attr-defined]
SECRETS = ("m-9", "Zed Secret", "ZedCo", "card-9999")
TABLES = ("access_member", "access_credential", "access_grant", "booking", "print_job",
          "event_data")  # fmt: skip


@pytest.fixture
def db(db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(db_url)
    init_db(engine)
    yield engine
    engine.dispose()


def _booking(i: int, space: str, status: str) -> dict[str, object]:
    return {
        "site": "test-site",
        "id": f"b-{i}",
        "space": space,
        "member": "m-9",
        "start": T0 + i * 3600,
        "end": T0 + i * 3600 + 1800,
        "status": status,
        "created_by": "app-token/member:m-9",
        "created_at": T0,
    }


def _history(db: Engine, hasher: CredentialHasher) -> MemberDirectory:
    """Member m-9 with a credential, bookings, a print job, a grant and door decisions."""
    d = MemberDirectory(db, load_building(BUILDING), hasher)
    d.load()
    d.put(Member("m-9", "Zed Secret", "ZedCo", "flex"), ["card-9999"])
    cred = hasher.hash("card-9999")
    # the raw door events of the same badge-ins, as ingest stores them (until they age out)
    store_events(db, [
        (Event("test-site", "door-main", "lobby", T0 + i, "door", "door", "granted", None,
               {"member": m, "credential": cred if m == "m-9" else "x"}), T0 + i)
        for i, m in enumerate(["m-9", "m-9", "m-2"])
    ])  # fmt: skip
    with db.begin() as conn:
        conn.execute(
            insert(BOOKINGS),
            [
                _booking(1, "orion", "completed"),
                _booking(2, "orion", "cancelled"),
                _booking(3, "focus", "booked"),
            ],
        )
        conn.execute(
            insert(PRINT_JOBS),
            [
                {
                    "site": "test-site",
                    "id": "job-1",
                    "printer": "printer-1",
                    "owner": "m-9",
                    "status": "completed",
                    "released_by": "m-9",
                    "updated_at": T0,
                    "history": [{"status": "released", "by": "m-9"}],
                }
            ],
        )
        conn.execute(
            insert(GRANTS),
            [
                {
                    "site": "test-site",
                    "id": "g-1",
                    "member": "m-9",
                    "space": "lounge",
                    "valid_from": T0,
                    "valid_until": T0 + 86400,
                    "basis": "plan flex for m-9",
                    "created_at": T0,
                    "created_by": "app-token/member:m-9",
                }
            ],
        )
        doors = [
            Audit(
                "test-site",
                T0 + i,
                "gateway",
                "door_decision",
                "door-main",
                "granted",
                member="m-9",
                credential=cred,
            )
            for i in range(4)
        ]
        other = Audit(
            "test-site",
            T0,
            "gateway",
            "door_decision",
            "door-main",
            "denied",
            member="m-2",
            reason="no grant",
        )
        record(conn, [*doors, other])
    return d


def _dump(db: Engine) -> str:
    with db.connect() as conn:
        rows = [conn.execute(select(AUDIT)).all()]
        for name in TABLES:
            t = AUDIT.metadata.tables[name]
            rows.append(conn.execute(select(t)).all())
    return repr(rows)


def _counts(db: Engine) -> tuple[Counter[tuple[str, str]], int]:
    with db.connect() as conn:
        per = Counter((r.space, r.status) for r in conn.execute(select(BOOKINGS)).all())
        audit = conn.execute(select(func.count()).select_from(AUDIT)).scalar_one()
    return per, audit


def test_erasure_leaves_no_identity_and_keeps_counts(db: Engine) -> None:
    hasher = CredentialHasher.ephemeral("test-site")
    _history(db, hasher)
    cred = hasher.hash("card-9999")
    before = _dump(db)
    assert all(s in before for s in ("m-9", "Zed Secret", "ZedCo", cred[:16]))
    bookings, audit = _counts(db)
    done = erase_member(db, hasher, "m-9", actor="admin-token", now=T0 + 60)
    after = _dump(db)
    for secret in (*SECRETS, cred[:16]):
        assert secret not in after
    assert done.pseudonym == pseudonym(hasher, "m-9") and done.pseudonym in after
    assert done.changed["bookings"] == 3 and done.changed["credentials"] == 1
    assert done.changed["events"] == 2  # m-2's badge-in is not m-9's
    assert _counts(db) == (bookings, audit + 1)  # one more: the erasure itself
    with db.connect() as conn:
        last = conn.execute(select(AUDIT).order_by(AUDIT.c.id.desc())).first()
        grant = conn.execute(select(GRANTS)).one()
    assert last is not None and last.action == "member_erased" and last.subject == done.pseudonym
    assert grant.revoked_at == T0 + 60 and grant.member == done.pseudonym
    assert "m-2" in after  # other members untouched


def test_erasing_twice_or_an_unknown_id(db: Engine) -> None:
    hasher = CredentialHasher.ephemeral("test-site")
    _history(db, hasher)
    first = erase_member(db, hasher, "m-9", actor="a", now=T0)
    again = erase_member(db, hasher, "m-9", actor="a", now=T0)
    assert again.already and again.pseudonym == first.pseudonym and not again.changed
    with pytest.raises(ErasureError, match="no member 'nobody'"):
        erase_member(db, hasher, "nobody", actor="a", now=T0)


def test_a_building_file_member_is_refused_until_removed_from_the_file(db: Engine) -> None:
    hasher = CredentialHasher.ephemeral("test-site")
    d = _history(db, hasher)
    with pytest.raises(FileMemberError, match="remove it there"):
        erase_member(
            db, hasher, "m-1", actor="a", now=T0, file_members=frozenset(d.building.members)
        )
    assert d.get("m-1") is not None


def test_the_admin_api_erases_and_forgets_at_once(site: Site) -> None:
    c = site.client
    r = c.post(
        "/api/v1/members", json={"id": "m-9", "name": "Zed Secret", "credentials": ["card-9999"]}
    )
    assert r.status_code == 201, r.text
    app = site.token("app")
    r = c.post("/api/v1/member-tokens", json={"member": "m-9"}, headers=site.as_(app))
    mine = site.as_(r.json()["token"])
    assert c.get("/api/v1/access/grants", headers=mine).status_code == 200
    staff = site.as_(site.token("staff"))
    assert c.post("/api/v1/members/m-9/erase", headers=staff).status_code == 403
    r = c.post("/api/v1/members/m-9/erase")
    assert r.status_code == 200, r.text
    p = r.json()["pseudonym"]
    assert c.get("/api/v1/members/m-9").status_code == 404
    assert c.get(f"/api/v1/members/{p}").json()["name"] == "erased member"
    assert site.gw.access.directory.by_credential("card-9999") is None
    assert c.get("/api/v1/access/grants", headers=mine).status_code == 401  # its token ended
    assert c.post("/api/v1/members/m-9/erase").json()["already"] is True
    assert c.post("/api/v1/members/nobody/erase").status_code == 404
    assert c.post("/api/v1/members/m-1/erase").status_code == 409


def test_the_console_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/g.db"
    monkeypatch.setenv("GATEWAY_DATABASE_URL", url)
    monkeypatch.setenv("GATEWAY_BUILDING", str(BUILDING))
    monkeypatch.setenv("GATEWAY_ACCESS__KEY_DIR", str(tmp_path / "keys"))
    db = create_db_engine(url)
    init_db(db)
    _history(db, CredentialHasher.from_key_dir("test-site", tmp_path / "keys"))
    db.dispose()
    assert main(["members", "erase", "m-9"]) == 0
    assert "erased member m-9: now erased-" in capsys.readouterr().out
    assert main(["members", "erase", "m-9"]) == 0
    assert "erased before" in capsys.readouterr().out
    assert main(["members", "erase", "m-1"]) == 2
    assert "building file" in capsys.readouterr().err


def test_a_watch_applies_an_erasure_made_elsewhere_once(site: Site) -> None:
    """An erasure written to the store by another process: the watch forgets the member
    (credential, grants, member token); a second check finds nothing new."""
    c, gw = site.client, site.gw
    r = c.post(
        "/api/v1/members",
        json={"id": "m-9", "name": "Zed Secret", "plan": "team-101", "credentials": ["card-9999"]},
    )
    assert r.status_code == 201, r.text
    r = c.post("/api/v1/member-tokens", json={"member": "m-9"}, headers=site.as_(site.token("app")))
    mine = site.as_(r.json()["token"])
    assert gw.access.apply_erasures() == 0
    erase_member(gw.db, gw.access.hasher, "m-9", actor="console", now=site.clock.t)
    assert gw.access.directory.by_credential("card-9999") is not None  # not yet told
    assert c.get("/api/v1/access/grants", headers=mine).status_code == 200
    assert gw.access.apply_erasures() == 1
    assert gw.access.directory.by_credential("card-9999") is None
    assert c.get("/api/v1/access/grants", headers=mine).status_code == 401
    assert gw.access.apply_erasures() == 0 and gw.access.erasures.applied == 1
