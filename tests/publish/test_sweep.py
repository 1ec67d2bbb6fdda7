"""A space removed from the building leaves nothing retained: discovery and state are cleared.

Real Mosquitto without persistence: retained messages live in the broker's memory across the
gateway's restart, as they do on any broker that outlives the gateway.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.building import Building, load_building
from gateway.occupancy import SpaceView
from gateway.publish import SpacePublisher
from gateway.publish.sweep import RetainedSweep
from gateway.publish.topics import Topics
from gateway.settings import MqttSettings, PublishSettings
from tests.support import Broker, wait_for

PREFIX = "sweep/site"
DISCOVERY = "ha-sweep"
SITE = """
site: {{id: sweep-site, name: Sweep, timezone: Europe/Amsterdam}}
floors:
  - id: f1
    name: Ground floor
    spaces:
{spaces}
"""
ORION = "      - {id: orion, name: Orion, type: meeting_room, capacity: 8}"
VEGA = "      - {id: vega, name: Vega, type: phone_booth, capacity: 1}"
NODE = Topics.for_site("sweep-site", PREFIX, DISCOVERY).node_id


def building(tmp_path: Path, name: str, *spaces: str) -> Building:
    path = tmp_path / f"{name}.yaml"
    path.write_text(SITE.format(spaces="\n".join(spaces)))
    return load_building(path)


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path).start()
    yield b
    b.stop()


def retained(port: int, *filters: str) -> dict[str, bytes]:
    """Every retained message a brand-new subscriber gets on ``filters``: it subscribes, then
    publishes a marker to itself; Mosquitto sends a connection's retained messages before
    the marker it published after subscribing, so the marker ends the list."""
    got: dict[str, bytes] = {}
    marker = f"sweep-test/marker/{secrets.token_hex(4)}"
    done = threading.Event()

    def on_message(_c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic == marker:
            done.set()
        elif msg.retain:
            got[msg.topic] = bytes(msg.payload)

    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"fresh-{marker}")
    c.on_message = on_message
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        c.subscribe([(f, 1) for f in (*filters, marker)])
        c.publish(marker, b"end", qos=1)
        assert done.wait(10), "the marker came back"
        return got
    finally:
        c.disconnect()
        c.loop_stop()


def run(broker: Broker, b: Building, until: Any) -> SpacePublisher:
    """A publisher for ``b`` (its own client id), ticked as the gateway would until ``until``."""
    now = time.time()
    views = {sid: SpaceView(sid, "vacant", 0, now, False) for sid in b.spaces}
    p = SpacePublisher(
        PublishSettings(topic_prefix=PREFIX, discovery_prefix=DISCOVERY),
        MqttSettings(url=broker.url, client_id=f"sweep-{len(b.spaces)}"),
        b,
        lambda sid, _now: views[sid],
    )
    p.start()

    def step() -> Any:
        p.tick(time.time())
        return until(p)

    try:
        wait_for(step, timeout=15)
    except BaseException:
        p.stop()
        raise
    return p


def test_a_space_removed_while_stopped_leaves_no_retained_config_or_state(
    own_broker: Broker, tmp_path: Path
) -> None:
    port = own_broker.port
    everything = (f"{DISCOVERY}/#", f"{PREFIX}/#")
    # another gateway's entity and a stranger's state topic share the broker: never touched
    other = {
        f"{DISCOVERY}/binary_sensor/gateway_other/orion_occupancy/config": b'{"name":"x"}',
        "other/site/space/vega/state": b'{"state":"vacant"}',
    }
    with_both = building(tmp_path, "a", ORION, VEGA)
    orion_only = building(tmp_path, "b", ORION)
    for topic, payload in other.items():
        out = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="other-gateway")
        out.connect("127.0.0.1", port)
        out.loop_start()
        out.publish(topic, payload, qos=1, retain=True).wait_for_publish(5)
        out.disconnect()
        out.loop_stop()

    def configs_of(space: str) -> set[str]:
        return {
            f"{DISCOVERY}/binary_sensor/{NODE}/{space}_occupancy/config",
            f"{DISCOVERY}/sensor/{NODE}/{space}_people/config",
        }

    def state_of(space: str) -> str:
        return f"{PREFIX}/space/{space}/state"

    wanted_a = configs_of("orion") | configs_of("vega") | {state_of("orion"), state_of("vega")}
    # the sweep runs once the broker has handed back what it retained: wait for both
    first = run(
        own_broker,
        with_both,
        lambda p: p.swept is not None and wanted_a <= set(retained(port, *everything)),
    )
    assert first.swept == []  # nothing stale the first time
    first.stop()

    second = run(own_broker, orion_only, lambda p: p.swept is not None)
    try:
        assert sorted(second.swept or []) == sorted(configs_of("vega") | {state_of("vega")})
        gone = configs_of("vega") | {state_of("vega")}

        def cleared() -> dict[str, bytes] | None:
            now = retained(port, *everything, "other/#")
            return None if gone & set(now) else now

        after = wait_for(cleared, timeout=10)
        kept = configs_of("orion") | {state_of("orion"), f"{PREFIX}/status"}
        assert set(after) == kept | set(other)
        assert all(after[t] for t in kept)  # the kept space's configs and state are intact
        assert {t: after[t] for t in other} == other
    finally:
        second.stop()


def test_without_the_marker_the_collection_ends_after_its_window() -> None:
    clock = [100.0]
    sweep = RetainedSweep(
        Topics.for_site("s", "p", "ha"), discovery=True, window_s=5, clock=lambda: clock[0]
    )
    assert sweep.take() is None  # nothing under way before a connection
    token = sweep.begin()
    config = f"ha/sensor/{Topics.for_site('s', 'p', 'ha').node_id}/gone_people/config"
    assert sweep.offer(config, b"{}") and sweep.offer("p/space/gone/state", b"{}")
    assert not sweep.offer("p/status", b"online")  # not the sweep's
    assert sweep.offer("p/space/x/state", b"") and sweep.offer(sweep.marker, b"stale-token")
    clock[0] = 104.9
    assert sweep.take() is None  # window open, the marker (its own token) not back
    clock[0] = 105.0
    assert sweep.take() == {config: b"{}", "p/space/gone/state": b"{}"}
    assert sweep.take() is None  # once
    sweep.begin()
    sweep.offer(sweep.marker, token)  # a previous connection's marker ends nothing
    assert sweep.take() is None
