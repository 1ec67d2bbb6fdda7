"""``gateway run`` refuses an admin token short enough to guess, or the example's placeholder,
before it opens the store or the broker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.admin_token import ADMIN_TOKEN_PLACEHOLDER, check_admin_token
from gateway.errors import ConfigError
from gateway.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "gateway.env.example"
FIXTURES = ROOT / "tests" / "fixtures"


def _example_token() -> str:
    lines = EXAMPLE.read_text().splitlines()
    (value,) = [ln.split("=", 1)[1] for ln in lines if ln.startswith("GATEWAY_ADMIN_TOKEN=")]
    return value


def _run(tmp_path: Path, token: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GATEWAY_ADMIN_TOKEN": token,
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path}/gateway.db",
        "GATEWAY_BUILDING": str(FIXTURES / "building-small.yaml"),
        "GATEWAY_MQTT__URL": "mqtt://127.0.0.1:9",  # never reached: the start stops first
        "GATEWAY_MQTT__EMBEDDED": "false",
    }
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_refused_placeholder_is_the_one_the_example_ships() -> None:
    assert _example_token() == ADMIN_TOKEN_PLACEHOLDER


@pytest.mark.parametrize(
    ("token", "said"),
    [
        ("0123456789", "has 10 characters, fewer than the 24 required"),
        (_example_token(), "is the placeholder of gateway.env.example"),
    ],
)
def test_gateway_run_refuses_a_weak_admin_token(tmp_path: Path, token: str, said: str) -> None:
    done = _run(tmp_path, token)
    assert done.returncode == 2, done.stderr
    assert said in done.stderr
    assert "GATEWAY_ADMIN_TOKEN" in done.stderr
    assert token not in done.stderr  # the refusal does not echo the secret
    assert not (tmp_path / "gateway.db").exists()  # refused before the store was opened


def test_a_short_token_in_the_admin_token_file_is_refused_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GATEWAY_ADMIN_TOKEN", raising=False)
    (tmp_path / ".gateway").mkdir(mode=0o700)
    (tmp_path / ".gateway" / "admin-token").write_text("short\n")
    with pytest.raises(ConfigError, match="has 5 characters"):
        check_admin_token(load_settings(admin_token=None))


def test_24_characters_are_enough_and_no_token_means_one_is_generated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GATEWAY_ADMIN_TOKEN", raising=False)
    check_admin_token(load_settings(admin_token="x" * 24))
    check_admin_token(load_settings(admin_token=None))
    with pytest.raises(ConfigError, match="has 23 characters"):
        check_admin_token(load_settings(admin_token="x" * 23))
