"""Offline credentials: Ed25519-signed grants a controller verifies with the site's public key."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.access.credentials import KEY_FILE, CredentialError, sign, verify
from tests.access.conftest import T0, Clock, Site, make_gateway
from tests.access.test_grants import at


def issue_signed(site: Site) -> tuple[dict, str]:  # type: ignore[type-arg]
    app = site.token("app")
    r = site.client.post(
        "/api/v1/access/grants",
        json={
            "member": "m-1",
            "door": "door-office-101",
            "valid_from": at(T0 + 10),
            "valid_until": at(T0 + 70),
            "signed": True,
        },
        headers=site.as_(app),
    )
    assert r.status_code == 201, r.text
    key = site.client.get("/api/v1/access/public-key", headers=site.as_(app)).json()
    return r.json(), key["key"]


DOOR = {"site": "test-site", "door": "door-office-101", "door_space": "office-101"}


def reason(token: str, key: object, revoked: list[str], now: float, **door: str | None) -> str:
    with pytest.raises(CredentialError) as err:
        verify(token, key, revoked, now, **{**DOOR, **door})  # type: ignore[arg-type]
    return err.value.reason


def test_valid_inside_its_window_to_the_second(site: Site) -> None:
    g, key = issue_signed(site)
    token = g["credential"]
    claims = verify(token, key, [], T0 + 10, **DOOR)
    assert claims == {
        "v": 1,
        "site": "test-site",
        "grant": g["id"],
        "member": "m-1",
        "door": "door-office-101",
        "nbf": int(T0 + 10),
        "exp": int(T0 + 70),
    }
    assert verify(token, key, [], T0 + 69.999, **DOOR)["grant"] == g["id"]
    assert reason(token, key, [], T0 + 9.999) == "not_yet_valid"
    assert reason(token, key, [], T0 + 70) == "expired"


def test_tampered_foreign_malformed_and_revoked_are_rejected(site: Site) -> None:
    g, key = issue_signed(site)
    token = g["credential"]
    body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["member"] = "m-2"  # someone else's name on m-1's credential
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert reason(f"{forged}.{sig}", key, [], T0 + 20) == "bad_signature"
    claims["member"], claims["exp"] = "m-1", int(T0 + 10_000)  # a longer window
    longer = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert reason(f"{longer}.{sig}", key, [], T0 + 20) == "bad_signature"
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    assert reason(f"{body}.{flipped}", key, [], T0 + 20) == "bad_signature"
    grant = site.gw.access.grants.get(g["id"])
    assert grant is not None
    other = sign(Ed25519PrivateKey.generate(), "test-site", grant)  # another site's key
    assert reason(other, key, [], T0 + 20) == "bad_signature"
    assert reason("not-a-credential", key, [], T0 + 20) == "malformed"
    assert reason(f"{body}.", key, [], T0 + 20) == "malformed"
    # revoked through the API: the revocation list the gateway retains now names it
    assert site.client.delete(f"/api/v1/access/grants/{g['id']}").status_code == 200
    revoked = site.gw.access.grants.revoked_live(T0 + 20)
    assert revoked == [g["id"]]
    assert reason(token, key, revoked, T0 + 20) == "revoked"


def test_site_key_is_private_and_kept(site: Site, tmp_path: Path) -> None:
    _, key = issue_signed(site)
    path = tmp_path / "keys" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = make_gateway(tmp_path, Clock(T0))  # a restart reads the same key
    try:
        assert again.access.public_key()[0] == key
    finally:
        again.db.dispose()


def test_a_credential_opens_only_its_door_or_its_space(site: Site) -> None:
    g, key = issue_signed(site)  # a grant for door-office-101
    token = g["credential"]
    now = T0 + 20
    assert reason(token, key, [], now, door="door-orion", door_space="orion") == "wrong_door"
    assert reason(token, key, [], now, door="door-main", door_space=None) == "wrong_door"
    # same space, another door: a door grant names its door only
    assert reason(token, key, [], now, door="door-office-101b", door_space="office-101") == (
        "wrong_door"
    )
    grant = site.gw.access.grants.issue("m-1", None, "office-101", T0, T0 + 60, "test")
    space_token = sign(site.gw.access.key, "test-site", grant)
    claims = verify(space_token, key, [], now, **{**DOOR, "door_space": "office-101"})
    assert claims["space"] == "office-101"
    assert reason(space_token, key, [], now, door="door-orion", door_space="orion") == (
        "wrong_door"
    )
    assert reason(space_token, key, [], now, door="door-x", door_space=None) == "wrong_door"


def test_an_unknown_claims_version_is_refused(site: Site) -> None:
    grant = site.gw.access.grants.issue("m-1", "door-office-101", None, T0, T0 + 60, "test")
    body, _ = sign(site.gw.access.key, "test-site", grant).split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["v"] = 2
    b2 = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    sig = base64.urlsafe_b64encode(site.gw.access.key.sign(b2.encode())).rstrip(b"=").decode()
    token = f"{b2}.{sig}"
    key = site.gw.access.public_key()[0]
    assert reason(token, key, [], T0 + 20) == "bad_version"
