"""`gateway deploy acl` writes secrets 0600 by rename, never through a symlink, and refuses a
device id that is also the gateway's MQTT user."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gateway.cli import main
from tests.deploy.test_broker_acl import BUILDING


def run(tmp: Path, building: str = BUILDING) -> int:
    (tmp / "b.yaml").write_text(building)
    return main(["deploy", "acl", "--building", str(tmp / "b.yaml"), "--out-dir", str(tmp / "o")])


def test_a_world_readable_credentials_file_is_made_private_again(tmp_path: Path) -> None:
    assert run(tmp_path) == 0
    creds = tmp_path / "o" / "credentials"
    os.chmod(creds, 0o644)
    assert run(tmp_path) == 0
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600


def test_a_symlinked_credentials_file_is_refused_and_its_target_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "o").mkdir()
    target = tmp_path / "elsewhere"
    target.write_text("keep me\n")
    (tmp_path / "o" / "credentials").symlink_to(target)
    assert run(tmp_path) != 0
    assert "symbolic link" in capsys.readouterr().err
    assert target.read_text() == "keep me\n"
    assert [p.name for p in (tmp_path / "o").iterdir() if p.name.startswith(".")] == []


def test_a_device_named_like_the_gateway_user_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    building = BUILDING.replace("{id: cnt-a,", "{id: gateway,")
    assert run(tmp_path, building) != 0
    assert "also the MQTT user of the gateway" in capsys.readouterr().err
    assert not (tmp_path / "o" / "credentials").exists()
