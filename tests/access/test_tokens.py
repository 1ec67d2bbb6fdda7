"""API tokens: created once, stored hashed, honoured by role, revoked at once, never logged."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import main
from tests.access.conftest import BUILDING, Site
from tests.support import ROOT, wait_for


def test_token_roles_and_revocation_through_the_api(site: Site) -> None:
    staff = site.token("staff", "front-desk")
    c = site.client
    assert c.get("/api/v1/spaces", headers=site.as_(staff)).status_code == 200
    r = c.get("/api/v1/admin/tokens", headers=site.as_(staff))
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    listed = c.get("/api/v1/admin/tokens").json()["data"]
    assert [(t["name"], t["role"]) for t in listed] == [("front-desk", "staff")]
    assert "token" not in listed[0]
    # warm the cache, then revoke: the very next request fails
    assert c.get("/api/v1/spaces", headers=site.as_(staff)).status_code == 200
    assert c.delete("/api/v1/admin/tokens/front-desk").status_code == 200
    r = c.get("/api/v1/spaces", headers=site.as_(staff))
    assert r.status_code == 401
    assert c.delete("/api/v1/admin/tokens/front-desk").status_code == 404
    assert c.get("/api/v1/admin/tokens?include_revoked=true").json()["data"][0]["revoked_at"]


def test_admin_token_created_through_the_api_may_administer(site: Site) -> None:
    admin = site.token("admin", "ops")
    r = site.client.post(
        "/api/v1/admin/tokens", json={"role": "app", "name": "app"}, headers=site.as_(admin)
    )
    assert r.status_code == 201
    assert site.client.get("/api/v1/spaces", headers=site.as_("wrong")).status_code == 401
    dup = site.client.post("/api/v1/admin/tokens", json={"role": "app", "name": "app"})
    assert dup.status_code == 409


def test_tokens_are_stored_hashed_and_never_logged(
    site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = site.token("app", "member-app")
    assert site.client.get("/api/v1/idle", headers=site.as_(token)).status_code == 200
    site.client.delete("/api/v1/admin/tokens/member-app")
    site.gw.db.dispose()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("g.db*"))
    assert token.encode() not in stored
    import hashlib

    assert hashlib.sha256(token.encode()).hexdigest().encode() in stored
    assert all(token not in r.getMessage() for r in caplog.records)
    assert any("member-app" in r.getMessage() for r in caplog.records)  # the name is logged


def test_cli_create_list_revoke(
    tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The console commands, run as ``gateway tokens ...`` would (their own store connection
    and token cache, like another process) against the store of a running gateway."""
    monkeypatch.setenv("GATEWAY_DATABASE_URL", f"sqlite:///{tmp_path}/g.db")
    monkeypatch.setenv("GATEWAY_BUILDING", str(BUILDING))

    def cli(*args: str) -> tuple[int, str, str]:
        rc = main(["tokens", *args])
        out, err = capsys.readouterr()
        return rc, out, err

    rc, out, err = cli("create", "--role", "staff", "--name", "night-shift")
    assert rc == 0, err
    token = out.splitlines()[0]
    assert len(token) >= 40 and "night-shift" in out.splitlines()[1]
    # the running gateway (same store) honours it
    assert site.client.get("/api/v1/spaces", headers=site.as_(token)).status_code == 200
    rc, out, _ = cli("list")
    assert "night-shift" in out and token not in out
    rc, _, err = cli("revoke", "night-shift")
    assert rc == 0, err
    # revoked elsewhere: the gateway's cache lets it live at most its short lifetime
    wait_for(
        lambda: site.client.get("/api/v1/spaces", headers=site.as_(token)).status_code == 401,
        timeout=3,
    )
    rc, _, err = cli("revoke", "night-shift")
    assert rc == 2 and "no live token" in err
    with pytest.raises(SystemExit):
        cli("create", "--role", "boss", "--name", "x")


def test_console_script_runs_tokens(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path}/g.db",
        "GATEWAY_BUILDING": str(BUILDING),
    }
    made = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "tokens", "create", "--role", "app", "--name", "a"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.splitlines()[0]
    assert token not in made.stderr
    from gateway.access.tokens import digest

    assert digest(token).encode() in (tmp_path / "g.db").read_bytes()
