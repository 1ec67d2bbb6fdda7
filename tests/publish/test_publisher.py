"""SpacePublisher in-process against a real broker: resync after a broker restart, retraction."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.building import Building, load_building
from gateway.occupancy import SpaceView, Transition
from gateway.publish import SpacePublisher
from gateway.settings import MqttSettings, PublishSettings
from tests.publish.test_mqtt_out import Listener
from tests.support import FIXTURES, Broker, wait_for

PREFIX = "inproc/site"


@pytest.fixture
def building() -> Building:
    return load_building(FIXTURES / "building-small.yaml")


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path).start()  # no persistence: a restart loses every retained message
    yield b
    b.stop()


def make(broker: Broker, building: Building, views: dict[str, SpaceView]) -> SpacePublisher:
    return SpacePublisher(
        PublishSettings(topic_prefix=PREFIX, discovery_prefix="ha-inproc", client_id="inproc"),
        MqttSettings(url=broker.url),
        building,
        lambda sid, now: views[sid],
    )


def ticked(p: SpacePublisher, pred: object) -> object:
    """Drive ``tick`` as the gateway's ticker would, until ``pred`` holds."""

    def step() -> object:
        p.tick(time.time())
        return pred() if callable(pred) else pred

    return wait_for(step, timeout=15)


def test_broker_restart_republishes_state_and_discovery(
    own_broker: Broker, building: Building
) -> None:
    now = time.time()
    views = {sid: SpaceView(sid, "vacant", None, now, False) for sid in building.spaces}
    p = make(own_broker, building, views)
    p.start()
    try:
        listen = Listener(own_broker.port, f"{PREFIX}/#", "ha-inproc/#")
        ticked(p, lambda: len(listen.on(f"{PREFIX}/space/orion/state")) == 1)
        listen.close()
        own_broker.stop()
        views["orion"] = dataclasses.replace(views["orion"], state="occupied", occupancy=2)
        p.publish_spaces(["orion"], time.time())  # broker away: nothing queued, no error
        own_broker.start()  # same port, empty: every retained message is gone
        fresh = Listener(own_broker.port, f"{PREFIX}/#", "ha-inproc/#")
        ticked(p, lambda: len(fresh.messages) >= 1 + 3 * len(building.spaces))
        body = fresh.json_on(f"{PREFIX}/space/orion/state")[-1]
        assert (body["state"], body["occupancy"]) == ("occupied", 2)
        assert fresh.on(f"{PREFIX}/status")[-1][0] == b"online"
        assert len({t for t, _, _ in fresh.messages if t.startswith("ha-inproc/")}) == 2 * len(
            building.spaces
        )
        fresh.close()
    finally:
        p.stop()


def test_new_building_retracts_removed_spaces(own_broker: Broker, building: Building) -> None:
    now = time.time()
    views = {sid: SpaceView(sid, "unknown", None, now, False) for sid in building.spaces}
    p = make(own_broker, building, views)
    p.start()
    try:
        listen = Listener(own_broker.port, "ha-inproc/#", f"{PREFIX}/space/+/state")
        ticked(p, lambda: len(listen.messages) >= 3 * len(building.spaces))
        smaller = dataclasses.replace(
            building, spaces={k: v for k, v in building.spaces.items() if k != "lounge"}
        )
        p.set_building(smaller, time.time())
        wait_for(lambda: any(pl == b"" for pl, _ in listen.on(f"{PREFIX}/space/lounge/state")))

        def retracted() -> list[str]:
            return [t for t, pl, _ in listen.messages if pl == b"" and t.startswith("ha-inproc/")]

        # the state and the two discovery retractions travel separately: wait for all of them
        gone = wait_for(lambda: len(retracted()) >= 2 and retracted())
        time.sleep(0.2)
        assert len(retracted()) == 2 and all("lounge" in t for t in gone)
        listen.close()
        fresh = Listener(own_broker.port, "ha-inproc/#", f"{PREFIX}/space/+/state")
        wait_for(lambda: len(fresh.messages) >= 3 * len(smaller.spaces))
        time.sleep(0.3)
        assert not [t for t, _, _ in fresh.messages if "lounge" in t]
        assert all(json.loads(pl) for _, pl, _ in fresh.messages)
        fresh.close()
    finally:
        p.stop()


def test_publishes_what_the_engine_decided(own_broker: Broker, building: Building) -> None:
    """No timers of its own: an idle transition publishes the view the engine now gives."""
    now = time.time()
    views = {sid: SpaceView(sid, "vacant", None, now - 3600, False) for sid in building.spaces}
    p = make(own_broker, building, views)
    p.start()
    try:
        topic = f"{PREFIX}/space/orion/state"
        listen = Listener(own_broker.port, topic)
        ticked(p, lambda: len(listen.on(topic)) == 1)
        p.tick(time.time())  # nothing decided: nothing published, however long vacant
        views["orion"] = dataclasses.replace(views["orion"], idle=True, idle_since=now)
        p.transitions([Transition("orion", "idle", now), Transition("orion", "idle", now)], now)
        wait_for(lambda: len(listen.on(topic)) == 2)
        time.sleep(0.2)
        assert [m["idle"] for m in listen.json_on(topic)] == [False, True]  # once each
        listen.close()
    finally:
        p.stop()
