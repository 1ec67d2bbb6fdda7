"""The shipped deployment files: compose services and healthchecks, systemd unit, Dockerfile, env.

No images can be pulled here, so these check what can be checked without running them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from gateway.settings import Settings
from tests.support import ROOT

DEPLOY = ROOT / "deploy"


def test_compose_has_gateway_broker_and_database_with_healthchecks() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"gateway", "mosquitto", "postgres"} <= set(services)
    for name in ("gateway", "mosquitto", "postgres"):
        assert services[name]["healthcheck"]["test"], name
    gw = services["gateway"]
    assert gw["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (DEPLOY / gw["build"]["context"] / gw["build"]["dockerfile"]).resolve().exists()
    assert gw["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert gw["depends_on"]["mosquitto"]["condition"] == "service_healthy"
    assert gw["environment"]["GATEWAY_DATABASE_URL"].startswith("postgresql://")
    mounts = services["mosquitto"]["volumes"]
    assert any(m.startswith("./mosquitto-production.conf:") for m in mounts)
    for mount in [*mounts, *gw["volumes"]]:  # every bind-mounted shipped file exists
        src = mount.split(":")[0]
        if src.startswith(".") and not src.endswith("mqtt"):  # ./mqtt is generated
            assert (DEPLOY / src).exists(), src


def test_dockerfile_builds_a_non_root_image_running_the_gateway() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    assert re.search(r"^USER gateway$", text, re.M)
    assert re.search(r"^RUN pip install -c constraints\.txt '\.\[postgres\]'", text, re.M)
    assert 'ENTRYPOINT ["gateway"]' in text and 'CMD ["run"]' in text
    for src in re.findall(r"^COPY (\S+)", text, re.M):  # what it copies is in the repository
        assert (ROOT / src).exists(), src


def test_env_example_names_only_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    pairs = [
        line.split("=", 1)
        for line in (DEPLOY / "gateway.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert pairs
    for key, value in pairs:
        monkeypatch.setenv(key, value)
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    fields = set(Settings.model_fields)
    for key, _ in pairs:
        assert key.startswith("GATEWAY_")
        assert key.removeprefix("GATEWAY_").split("__")[0].lower() in fields, key
    assert s.mqtt.username == "gateway" and s.uplink.prefix == "gw"


def test_systemd_unit_is_hardened_and_verifies(tmp_path: Path) -> None:
    text = (DEPLOY / "gateway.service").read_text()
    for line in (
        "Restart=on-failure",
        "User=gateway",
        "NoNewPrivileges=true",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/gateway",
        "PrivateTmp=true",
    ):
        assert re.search(rf"^{re.escape(line)}$", text, re.M), line
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed")
    unit = tmp_path / "gateway.service"
    exe = shutil.which("gateway") or str(ROOT / ".venv" / "bin" / "gateway")
    unit.write_text(
        text.replace("/opt/gateway/.venv/bin/gateway", exe).replace(
            "EnvironmentFile=/etc/gateway/gateway.env", "EnvironmentFile=-/etc/gateway/gateway.env"
        )
    )
    r = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "Unknown" not in r.stderr and "Failed" not in r.stderr, r.stderr


def test_production_broker_carries_the_throughput_settings_of_the_plain_one() -> None:
    def settings(name: str) -> dict[str, str]:
        pairs = (
            line.split(None, 1)
            for line in (DEPLOY / name).read_text().splitlines()
            if line.strip() and not line.startswith("#")
        )
        return {k: v.strip() for k, v in pairs}

    plain, production = settings("mosquitto.conf"), settings("mosquitto-production.conf")
    for key in (
        "persistence",
        "autosave_interval",
        "max_inflight_messages",
        "max_inflight_bytes",
        "max_queued_messages",
        "max_queued_bytes",
        "persistent_client_expiration",
        "max_packet_size",
        "set_tcp_nodelay",
    ):
        assert production.get(key) == plain[key], key
