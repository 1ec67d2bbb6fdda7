"""deploy/mosquitto-production.conf with a generated password file and ACL, on a real Mosquitto.

The ACL comes from `gateway deploy acl` for a small building with two doors and a counter; the
shipped config is started with only its port and file paths pointed at a temporary folder.
Negative checks never wait for a timeout: each forbidden message is followed by an allowed
one from the same client, and the broker keeps one client's messages in order, so once the
allowed one arrives the forbidden one would have arrived before it.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.cli import main
from tests.support import MOSQUITTO, ROOT, free_port, port_open, wait_for

pytestmark = pytest.mark.skipif(MOSQUITTO is None, reason="needs the mosquitto binary")

BUILDING = """
site: {id: acl-site, name: ACL site, timezone: UTC, business_hours: {mon-sun: "00:00-24:00"}}
floors:
  - id: "1"
    name: Ground
    spaces:
      - {id: a, name: A, type: private_office, capacity: 2}
      - {id: b, name: B, type: private_office, capacity: 2}
devices:
  - {id: door-a, profile: ref-door, space: a}
  - {id: door-b, profile: ref-door, space: b}
  - {id: cnt-a, profile: ref-counter, space: a}
  - {id: env-b, profile: ref-environment, space: b}
"""


def production_conf(tmp: Path, port: int) -> Path:
    """The shipped config, with its port and file paths moved into ``tmp``."""
    text = (ROOT / "deploy" / "mosquitto-production.conf").read_text()
    text = text.replace("listener 1883 127.0.0.1", f"listener {port} 127.0.0.1")
    text = re.sub(r"^password_file .*$", f"password_file {tmp}/mqtt/passwd", text, flags=re.M)
    text = re.sub(r"^acl_file .*$", f"acl_file {tmp}/mqtt/acl", text, flags=re.M)
    text = re.sub(r"^persistence_location .*$", f"persistence_location {tmp}/", text, flags=re.M)
    assert "allow_anonymous false" in text
    if os.geteuid() == 0:
        text += "user root\n"  # the files sit in a private temporary folder
    conf = tmp / "mosquitto.conf"
    conf.write_text(text)
    return conf


class Client:
    """A paho client that records its CONNACK and what it receives."""

    def __init__(self, port: int, user: str | None, password: str | None) -> None:
        self.got: list[tuple[str, bytes]] = []
        self.reason: Any = None
        self.connacked = threading.Event()
        self.subscribed = threading.Event()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"acl-{user}-{free_port()}")
        if user is not None:
            self.c.username_pw_set(user, password)
        self.c.on_connect = self._on_connect
        self.c.on_message = lambda _c, _u, m: self.got.append((m.topic, bytes(m.payload)))
        self.c.on_subscribe = lambda *_: self.subscribed.set()
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        assert self.connacked.wait(5)

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.reason = reason
        self.connacked.set()

    def subscribe(self, topic: str) -> None:
        self.subscribed.clear()
        self.c.subscribe(topic, qos=1)
        assert self.subscribed.wait(5)

    def publish(self, topic: str, payload: str) -> None:
        self.c.publish(topic, payload, qos=1).wait_for_publish(5)

    def topics(self) -> list[str]:
        return [t for t, _ in self.got]

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("acl")
    (tmp / "building.yaml").write_text(BUILDING)
    assert main(["deploy", "acl", "--building", str(tmp / "building.yaml"), "--out-dir",
                 str(tmp / "mqtt")]) == 0  # fmt: skip
    creds = dict(
        line.split(":", 1) for line in (tmp / "mqtt" / "credentials").read_text().splitlines()
    )
    assert set(creds) == {"gateway", "homeassistant", "door-a", "door-b", "cnt-a", "env-b"}
    port = free_port()
    proc = subprocess.Popen(
        [str(MOSQUITTO), "-c", str(production_conf(tmp, port))],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "mosquitto.log", "ab"),  # noqa: SIM115
    )
    try:
        wait_for(lambda: port_open(port) or proc.poll() is not None, timeout=10)
        assert proc.poll() is None, (tmp / "mosquitto.log").read_text()
        yield port, creds
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_anonymous_and_wrong_password_are_refused(broker: tuple[int, dict[str, str]]) -> None:
    port, creds = broker
    anon = Client(port, None, None)
    wrong = Client(port, "door-a", creds["door-b"])
    ok = Client(port, "door-a", creds["door-a"])
    try:
        assert anon.reason.is_failure and wrong.reason.is_failure
        assert not ok.reason.is_failure
    finally:
        for c in (anon, wrong, ok):
            c.close()


def test_device_publishes_only_on_its_own_topics(broker: tuple[int, dict[str, str]]) -> None:
    port, creds = broker
    gw = Client(port, "gateway", creds["gateway"])
    door_a = Client(port, "door-a", creds["door-a"])
    try:
        gw.subscribe("ref/#")
        door_a.publish("ref/door/door-b/event", '{"event": "opened"}')  # someone else's
        door_a.publish("ref/counter/cnt-a", '{"count": 9}')  # someone else's
        door_a.publish("ref/door/door-a/event", '{"event": "opened"}')  # its own
        wait_for(lambda: "ref/door/door-a/event" in gw.topics())
        assert gw.topics() == ["ref/door/door-a/event"]
    finally:
        gw.close()
        door_a.close()


def test_device_reads_only_its_own_decisions(broker: tuple[int, dict[str, str]]) -> None:
    port, creds = broker
    gw = Client(port, "gateway", creds["gateway"])
    door_a = Client(port, "door-a", creds["door-a"])
    door_b = Client(port, "door-b", creds["door-b"])
    try:
        door_a.subscribe("ref/door/+/decision")  # tries to read every door's decisions
        door_b.subscribe("ref/door/door-b/decision")
        gw.publish("ref/door/door-b/decision", '{"request": "r1", "decision": "granted"}')
        gw.publish("ref/door/door-a/decision", '{"request": "r2", "decision": "denied"}')
        wait_for(lambda: door_a.got and door_b.got)
        assert door_b.topics() == ["ref/door/door-b/decision"]
        assert door_a.topics() == ["ref/door/door-a/decision"]
        assert b"r2" in door_a.got[0][1]
    finally:
        for c in (gw, door_a, door_b):
            c.close()


def test_door_requests_reach_the_gateway_only_from_their_own_door(
    broker: tuple[int, dict[str, str]],
) -> None:
    port, creds = broker
    gw = Client(port, "gateway", creds["gateway"])
    door_a = Client(port, "door-a", creds["door-a"])
    try:
        gw.subscribe("ref/door/+/request")  # access.request_topic's default
        door_a.publish("ref/door/door-b/request", '{"request": "forged", "credential": "x"}')
        door_a.publish("ref/door/door-a/request", '{"request": "own", "credential": "x"}')
        wait_for(lambda: gw.got)
        assert gw.topics() == ["ref/door/door-a/request"]
        assert b"own" in gw.got[0][1]
    finally:
        gw.close()
        door_a.close()


def test_devices_that_are_no_door_cannot_ask_for_decisions(
    broker: tuple[int, dict[str, str]],
) -> None:
    """Request topics are granted per door: a counter or an environment sensor publishing a
    card on a request topic (its own id's or a door's) never reaches the gateway."""
    port, creds = broker
    gw = Client(port, "gateway", creds["gateway"])
    env = Client(port, "env-b", creds["env-b"])
    counter = Client(port, "cnt-a", creds["cnt-a"])
    door_b = Client(port, "door-b", creds["door-b"])
    try:
        gw.subscribe("ref/#")
        card = '{"request": "sensor", "credential": "04A1B2C3"}'
        env.publish("ref/door/env-b/request", card)
        env.publish("ref/door/door-b/request", card)
        counter.publish("ref/door/cnt-a/request", card)
        env.publish("ref/env/env-b", '{"co2": 500}')  # its own topic: the markers
        counter.publish("ref/counter/cnt-a", '{"count": 1}')
        door_b.publish("ref/door/door-b/request", '{"request": "door", "credential": "x"}')
        allowed = {"ref/counter/cnt-a", "ref/door/door-b/request", "ref/env/env-b"}
        wait_for(lambda: allowed <= set(gw.topics()))
        assert sorted(gw.topics()) == [
            "ref/counter/cnt-a",
            "ref/door/door-b/request",
            "ref/env/env-b",
        ]
        assert [p for t, p in gw.got if t.endswith("/request")] == [
            b'{"request": "door", "credential": "x"}'
        ]
    finally:
        for c in (gw, env, counter, door_b):
            c.close()


def test_doors_read_the_revocation_list_and_counters_do_not(
    broker: tuple[int, dict[str, str]],
) -> None:
    port, creds = broker
    topic = "gateway/acl-site/access/revocations"  # publish.topic_prefix unset: gateway/<site>
    gw = Client(port, "gateway", creds["gateway"])
    door_b = Client(port, "door-b", creds["door-b"])
    counter = Client(port, "cnt-a", creds["cnt-a"])
    try:
        gw.c.publish(topic, '{"revoked": ["g1"]}', qos=1, retain=True).wait_for_publish(5)
        door_b.subscribe(topic)
        counter.subscribe(topic)  # Mosquitto accepts it and withholds what the ACL forbids
        # a topic the counter may read (patterns apply to every user): the marker arrives
        # after the retained list would have
        counter.subscribe("ref/door/cnt-a/cmd")
        gw.publish("ref/door/cnt-a/cmd", "marker")
        wait_for(lambda: door_b.got and counter.got)
        assert door_b.got == [(topic, b'{"revoked": ["g1"]}')]
        assert counter.got == [("ref/door/cnt-a/cmd", b"marker")]
    finally:
        for c in (gw, door_b, counter):
            c.close()
