"""Home Assistant on the production broker: over the shipped TLS listener, as its own user.

deploy/mosquitto-production.conf with its TLS listener block uncommented (certificates made
here with openssl), the password file and ACL from `gateway deploy acl` for a discovery
prefix that is not the default, a real SpacePublisher as the gateway, and a paho client
logging in as Home Assistant's MQTT integration does (TLS checked against the CA, username
and password). Negative checks never wait for a timeout: a forbidden publish is followed by
an allowed one from the same client, and the broker keeps one client's messages in order.
"""

from __future__ import annotations

import json
import re
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.building import load_building
from gateway.cli import main
from gateway.occupancy import SpaceView
from gateway.publish import SpacePublisher
from gateway.publish.topics import Topics
from gateway.settings import MqttSettings, PublishSettings
from tests.deploy.test_broker_acl import production_conf
from tests.support import MOSQUITTO, free_port, port_open, wait_for

pytestmark = pytest.mark.skipif(
    MOSQUITTO is None or shutil.which("openssl") is None, reason="needs mosquitto and openssl"
)

DISCOVERY = "ha-site"  # not the default "homeassistant"
BUILDING = """
site: {id: ha-tls, name: HA TLS, timezone: UTC}
floors:
  - id: f1
    name: Ground floor
    spaces:
      - {id: orion, name: Orion, type: meeting_room, capacity: 8}
devices:
  - {id: cnt-orion, profile: ref-counter, space: orion}
"""
TOPICS = Topics.for_site("ha-tls", None, DISCOVERY)


def make_certs(d: Path) -> None:
    """A CA and a site certificate for 127.0.0.1 signed by it (EC keys: fast to make)."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key")
    run("req", "-x509", "-new", "-key", "ca.key", "-days", "2", "-subj", "/CN=site CA",
        "-out", "ca.crt")  # fmt: skip
    run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "site.key")
    run("req", "-new", "-key", "site.key", "-subj", "/CN=127.0.0.1", "-out", "site.csr")
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "site.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "site.crt")  # fmt: skip


def tls_conf(tmp: Path, plain: int, tls: int) -> Path:
    """The shipped production config with its first TLS listener block uncommented."""
    conf = production_conf(tmp, plain)
    text = conf.read_text()
    block = re.search(r"^#listener 8883 .*?^#require_certificate false$", text, re.M | re.S)
    assert block, "the shipped config has a TLS listener for Home Assistant"
    enabled = "\n".join(line.removeprefix("#") for line in block.group(0).splitlines())
    assert "require_certificate false" in enabled and "cafile" in enabled
    enabled = enabled.replace("listener 8883 0.0.0.0", f"listener {tls} 127.0.0.1")
    enabled = enabled.replace("/etc/mosquitto/certs", str(tmp / "certs"))
    conf.write_text(text.replace(block.group(0), enabled))
    return conf


class Client:
    """A paho client (over TLS when given a CA) recording its CONNACK and messages."""

    def __init__(self, port: int, user: str, password: str | None, ca: Path | None = None) -> None:
        self.got: list[tuple[str, bytes]] = []
        self.live: list[str] = []  # topics of the messages that were not retained ones
        self.reason: Any = None
        self.connacked = threading.Event()
        self.subscribed = threading.Event()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{user}-{free_port()}")
        if password is not None:
            self.c.username_pw_set(user, password)
        if ca is not None:
            self.c.tls_set(ca_certs=str(ca), cert_reqs=ssl.CERT_REQUIRED)
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_subscribe = lambda *_: self.subscribed.set()
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        assert self.connacked.wait(5)

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.reason = reason
        self.connacked.set()

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self.got.append((msg.topic, bytes(msg.payload)))
        if not msg.retain:
            self.live.append(msg.topic)

    def subscribe(self, *topics: str) -> None:
        self.subscribed.clear()
        self.c.subscribe([(t, 1) for t in topics])
        assert self.subscribed.wait(5)

    def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        self.c.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def topics(self) -> list[str]:
        return [t for t, _ in self.got]

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("ha-tls")
    (tmp / "certs").mkdir()
    make_certs(tmp / "certs")
    (tmp / "building.yaml").write_text(BUILDING)
    (tmp / "settings.yaml").write_text(f"publish: {{discovery_prefix: {DISCOVERY}}}\n")
    assert main(["--config", str(tmp / "settings.yaml"), "deploy", "acl", "--building",
                 str(tmp / "building.yaml"), "--out-dir", str(tmp / "mqtt")]) == 0  # fmt: skip
    creds = dict(
        line.split(":", 1) for line in (tmp / "mqtt" / "credentials").read_text().splitlines()
    )
    acl = (tmp / "mqtt" / "acl").read_text()
    assert f"topic read {DISCOVERY}/#" in acl and "homeassistant/" not in acl
    plain, tls = free_port(), free_port()
    proc = subprocess.Popen(
        [str(MOSQUITTO), "-c", str(tls_conf(tmp, plain, tls))],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "mosquitto.log", "ab"),  # noqa: SIM115
    )
    try:
        wait_for(lambda: (port_open(plain) and port_open(tls)) or proc.poll() is not None)
        assert proc.poll() is None, (tmp / "mosquitto.log").read_text()
        creds["ca"] = str(tmp / "certs" / "ca.crt")
        yield plain, tls, creds
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_home_assistant_finds_the_spaces_over_tls_and_announces_itself(
    site: tuple[int, int, dict[str, str]], tmp_path: Path
) -> None:
    plain, tls, creds = site
    (tmp_path / "b.yaml").write_text(BUILDING)
    building = load_building(tmp_path / "b.yaml")
    now = time.time()
    gateway = SpacePublisher(
        PublishSettings(discovery_prefix=DISCOVERY),
        MqttSettings(url=f"mqtt://gateway:{creds['gateway']}@127.0.0.1:{plain}", client_id="gw"),
        building,
        lambda sid, _now: SpaceView(sid, "occupied", 3, now, False),
    )
    ha = Client(tls, "homeassistant", creds["homeassistant"], Path(creds["ca"]))
    gateway.start()
    try:
        assert not ha.reason.is_failure
        ha.subscribe(f"{DISCOVERY}/#", f"{TOPICS.prefix}/#")

        def step() -> bool:
            gateway.tick(time.time())
            return gateway.swept is not None and TOPICS.state("orion") in ha.topics()

        wait_for(step, timeout=15)
        configs = {t: json.loads(p) for t, p in ha.got if t.endswith("/config") and p}
        assert set(configs) == {
            TOPICS.discovery("binary_sensor", "orion_occupancy"),
            TOPICS.discovery("sensor", "orion_people"),
        }
        assert all(c["state_topic"] == TOPICS.state("orion") for c in configs.values())
        state = json.loads(dict(ha.got)[TOPICS.state("orion")])
        assert (state["state"], state["occupancy"]) == ("occupied", 3)
        # its birth message under the configured prefix reaches the gateway: discovery again
        sent = gateway.client.published
        ha.publish(TOPICS.ha_status, "online")
        wait_for(lambda: (gateway.tick(time.time()), gateway.client.published > sent + 1)[1])
    finally:
        gateway.stop()
        ha.close()


def test_home_assistant_cannot_forge_state_nor_write_outside_its_status(
    site: tuple[int, int, dict[str, str]],
) -> None:
    plain, tls, creds = site
    gw = Client(plain, "gateway", creds["gateway"])
    ha = Client(tls, "homeassistant", creds["homeassistant"], Path(creds["ca"]))
    try:
        gw.subscribe(f"{TOPICS.prefix}/#", f"{DISCOVERY}/#", "homeassistant/#")
        ha.publish(TOPICS.state("orion"), '{"state": "vacant"}')  # the gateway's state
        ha.publish(TOPICS.discovery("sensor", "fake"), "{}")  # the gateway's discovery
        ha.publish("homeassistant/status", "online")  # the default prefix: not this site's
        ha.publish(TOPICS.ha_status, "online")  # its own birth message
        wait_for(lambda: TOPICS.ha_status in gw.live)
        assert gw.live == [TOPICS.ha_status]
    finally:
        gw.close()
        ha.close()


def test_the_tls_listener_refuses_anonymous_and_checks_the_certificate(
    site: tuple[int, int, dict[str, str]], tmp_path: Path
) -> None:
    _plain, tls, creds = site
    anon = Client(tls, "anonymous", None, Path(creds["ca"]))
    try:
        assert anon.reason.is_failure  # allow_anonymous false holds on every listener
    finally:
        anon.close()
    (tmp_path / "other").mkdir()
    make_certs(tmp_path / "other")  # a CA that did not sign the broker's certificate
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="wrong-ca")
    c.tls_set(ca_certs=str(tmp_path / "other" / "ca.crt"), cert_reqs=ssl.CERT_REQUIRED)
    with pytest.raises(ssl.SSLCertVerificationError):
        c.connect("127.0.0.1", tls)
