"""Credential hashes are keyed per site: not brute-forceable from the store without the key."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

from gateway.credential import KEY_FILE, CredentialHasher, normalize_credential
from tests.access.conftest import T0, Clock, make_gateway


def test_the_hash_needs_the_key_and_the_key_is_kept(tmp_path: Path) -> None:
    a = CredentialHasher.from_key_dir("s", tmp_path / "keys")
    path = tmp_path / "keys" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # the unkeyed hash an attacker could enumerate 2^32 card numbers against is not it
    plain = hashlib.sha256(f"s\x00{normalize_credential('04A1B2C3')}".encode()).hexdigest()
    assert a.hash("04A1B2C3") != plain
    assert a.hash("04a1b2c3") == a.hash("card:04A1B2C3")  # one spelling still
    # the same key after a restart; another key (or site) gives other hashes
    again = CredentialHasher.from_key_dir("s", tmp_path / "keys")
    assert again.hash("04A1B2C3") == a.hash("04A1B2C3")
    assert CredentialHasher.ephemeral("s").hash("04A1B2C3") != a.hash("04A1B2C3")
    assert CredentialHasher.from_key_dir("t", tmp_path / "keys").hash("04A1B2C3") != a.hash(
        "04A1B2C3"
    )


def test_ingest_members_and_doors_share_one_keyed_hasher(tmp_path: Path) -> None:
    gw = make_gateway(tmp_path, Clock(T0))
    try:
        assert gw.pipeline.hasher is gw.hasher is gw.access.directory.hasher is gw.access.hasher
        value, attrs = gw.pipeline.hasher.protect("badge", "04A1B2C3", {"credential": "qr:7f3a"})
        assert gw.access.directory.by_hash(value).id == "m-1"  # type: ignore[union-attr]
        assert gw.access.directory.by_hash(attrs["credential"]).id == "m-2"  # type: ignore[union-attr]
    finally:
        gw.db.dispose()
    # a restart with the same key dir still matches the stored member credentials
    gw2 = make_gateway(tmp_path, Clock(T0))
    try:
        assert gw2.access.directory.by_credential("04A1B2C3").id == "m-1"  # type: ignore[union-attr]
        assert gw2.hasher.hash("04A1B2C3") == value
    finally:
        gw2.db.dispose()
