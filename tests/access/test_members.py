"""Members and plans from the building file and the API; credentials hashed, never returned."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.building import load_building
from gateway.errors import BuildingError
from tests.access.conftest import BUILDING, Site


def test_file_members_and_plans_are_loaded(site: Site) -> None:
    d = site.gw.access.directory
    assert d.get("m-1") is not None and d.get("m-1").plan == "team-101"  # type: ignore[union-attr]
    assert d.covers("m-1", "office-101") == (True, "plan team-101 covers space office-101")
    ok, why = d.covers("m-1", "orion")
    assert not ok and "does not cover" in why
    assert d.covers("m-2", "desk-area")[0] and "hot_desk" in d.covers("m-2", "desk-area")[1]
    assert not d.covers("m-3", "lounge")[0] and "no plan" in d.covers("m-3", "lounge")[1]
    assert not d.covers("nobody", "lounge")[0]
    # credentials match however the reader spells them, and only their owner
    assert d.by_credential("card:04A1B2C3").id == "m-1"  # type: ignore[union-attr]
    assert d.by_credential(" 04a1b2c3 ").id == "m-1"  # type: ignore[union-attr]
    assert d.by_credential("qr:7f3a").id == "m-2"  # type: ignore[union-attr]
    assert d.by_credential("qr:7F3A") is None  # QR codes are case-sensitive
    assert d.by_credential("04A1B2C4") is None


def test_members_api_crud_and_credentials_never_returned(site: Site, tmp_path: Path) -> None:
    c = site.client
    staff = site.token("staff")
    listed = c.get("/api/v1/members", headers=site.as_(staff)).json()
    assert [m["id"] for m in listed["data"]] == ["m-1", "m-2", "m-3"]
    assert listed["data"][1]["credentials"] == 2
    body = {
        "id": "m-9",
        "name": "Dee",
        "company": "Delta",
        "plan": "flex",
        "credentials": ["CAFE0001"],
    }
    assert c.post("/api/v1/members", json=body, headers=site.as_(staff)).status_code == 403
    r = c.post("/api/v1/members", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["credentials"] == 1 and "CAFE0001" not in r.text
    assert site.gw.access.directory.by_credential("cafe0001").id == "m-9"  # type: ignore[union-attr]
    assert c.post("/api/v1/members", json=body).status_code == 409
    # someone else's card is refused
    taken = c.put("/api/v1/members/m-10", json={"name": "Eve", "credentials": ["04A1B2C3"]})
    assert taken.status_code == 409 and "m-1" in taken.json()["detail"]
    assert c.put("/api/v1/members/m-10", json={"name": "Eve", "plan": "gold"}).status_code == 409
    # replace without credentials keeps them; with a list replaces them
    r = c.put("/api/v1/members/m-9", json={"name": "Dee D.", "plan": "upstairs"})
    assert r.status_code == 200 and r.json()["credentials"] == 1
    assert site.gw.access.directory.covers("m-9", "lounge")[0]  # floor 2
    c.put("/api/v1/members/m-9", json={"name": "Dee D.", "credentials": ["CAFE0002"]})
    assert site.gw.access.directory.by_credential("CAFE0001") is None
    assert c.get("/api/v1/members/m-9", headers=site.as_(staff)).json()["name"] == "Dee D."
    # file members are edited in the file
    assert c.put("/api/v1/members/m-1", json={"name": "X"}).status_code == 409
    assert c.delete("/api/v1/members/m-1").status_code == 409
    assert c.delete("/api/v1/members/m-9").status_code == 204
    assert c.get("/api/v1/members/m-9").status_code == 404
    assert site.gw.access.directory.by_credential("CAFE0002") is None
    plans = c.get("/api/v1/plans", headers=site.as_(staff)).json()["data"]
    assert {p["id"] for p in plans} == {"team-101", "flex", "upstairs"}
    # the store holds hashes only
    site.gw.db.dispose()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("g.db*"))
    assert b"04A1B2C3" not in stored.upper() and b"CAFE000" not in stored
    assert site.gw.hasher.hash("04A1B2C3").encode() in stored


def test_building_file_errors_name_the_field(tmp_path: Path) -> None:
    text = BUILDING.read_text()
    bad = tmp_path / "b.yaml"
    bad.write_text(text.replace("plan: flex,", "plan: gold,"))
    with pytest.raises(BuildingError, match=r"members\[1\]\.plan: expected the id of a plan"):
        load_building(bad)
    bad.write_text(text.replace("spaces: [office-101]", "spaces: [office-999]"))
    with pytest.raises(BuildingError, match=r"plans\[0\]\.spaces\[0\]: unknown space"):
        load_building(bad)
    bad.write_text(
        text.replace('credentials: ["qr:7f3a", "pin:1234"]', 'credentials: ["04a1b2c3"]')
    )
    with pytest.raises(BuildingError, match="already given to member 'm-1'") as err:
        load_building(bad)
    assert "04a1b2c3" not in str(err.value)
