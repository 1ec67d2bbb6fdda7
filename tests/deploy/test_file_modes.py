"""What a fresh gateway start creates is owner-only from the moment it exists, under umask 022.

Every ``os.mkdir`` and ``os.open`` the start makes is watched: the new path is stat'ed as the
call returns, before anything is written into it, and every ``chmod`` is made to fail, so a
mode set after writing cannot pass. SQLite's own ``-wal`` and ``-shm`` files are opened by its
C code with the database file's mode (``findCreateFileMode`` in sqlite's src/os_unix.c), so
their mode is read once they exist.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.publish.spool import Spool
from gateway.runtime import Gateway
from gateway.settings import load_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _mode(path: str | Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def created(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Absolute path -> its mode at the instant ``os.mkdir`` / ``os.open`` created it."""
    seen: dict[str, int] = {}
    real_mkdir, real_open = os.mkdir, os.open

    def mkdir(path: Any, mode: int = 0o777, *a: Any, **kw: Any) -> None:
        real_mkdir(path, mode, *a, **kw)
        seen.setdefault(os.path.abspath(path), _mode(path))

    def open_(path: Any, flags: int, mode: int = 0o777, *a: Any, **kw: Any) -> int:
        existed = os.path.lexists(path)
        fd = real_open(path, flags, mode, *a, **kw)
        if not existed:
            seen.setdefault(os.path.abspath(path), stat.S_IMODE(os.fstat(fd).st_mode))
        return fd

    def no_chmod(*_a: Any, **_kw: Any) -> None:
        raise AssertionError("a mode set after creation leaves a moment it is readable")

    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "chmod", no_chmod)
    monkeypatch.setattr(os, "fchmod", no_chmod)
    monkeypatch.setattr(Path, "chmod", no_chmod)
    old = os.umask(0o022)
    try:
        yield seen
    finally:
        os.umask(old)


def test_a_fresh_start_creates_store_keys_and_token_owner_only(
    created: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # .gateway/ and its admin-token are made in the working folder
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path}/state/db/gateway.db",
        building=FIXTURES / "building-small.yaml",
        admin_token=None,
        access={"key_dir": str(tmp_path / "state" / "keys")},
        publish={"enabled": False},
    )
    gw = Gateway(settings)
    try:
        gw.access.public_key()  # the signing key is made at its first use
        wanted = {
            tmp_path / "state": 0o700,
            tmp_path / "state" / "db": 0o700,
            tmp_path / "state" / "db" / "gateway.db": 0o600,
            tmp_path / ".gateway": 0o700,
            tmp_path / ".gateway" / "admin-token": 0o600,
            tmp_path / "state" / "keys": 0o700,
        }
        at_creation = {p: created.get(str(p)) for p in wanted}
        assert at_creation == wanted
        keys = sorted((tmp_path / "state" / "keys").iterdir())
        assert keys, "no key was written"
        assert {k.name: created.get(str(k)) for k in keys} == {k.name: 0o600 for k in keys}
        sidecars = [tmp_path / "state" / "db" / f"gateway.db{s}" for s in ("-wal", "-shm")]
        assert {p.name: _mode(p) for p in sidecars} == {p.name: 0o600 for p in sidecars}
        assert (tmp_path / ".gateway" / "admin-token").read_text().strip() == gw.admin_token
    finally:
        gw.db.dispose()


def test_the_uplink_buffer_is_owner_only(created: dict[str, int], tmp_path: Path) -> None:
    spool = Spool(tmp_path / "uplink" / "site.sqlite", 1 << 20)
    spool.close()
    assert created.get(str(tmp_path / "uplink")) == 0o700
    assert created.get(str(tmp_path / "uplink" / "site.sqlite")) == 0o600
