"""Retained space state on change, Home Assistant discovery, and setback commands.

Called by the live state under its lock: ``transitions`` with what the engine decided (a
space's state changed, it became idle, it stopped being idle), ``tick`` once per engine tick
for a (re)connection. The publisher keeps no timers of the engine's policy: it publishes
what the engine decided, when it decided it. Publishing only queues in paho (its own thread
does the network), so no caller waits on the broker.
A payload equal to the last one published for a space is not sent again. While the broker is
away nothing is queued: on (re)connect every space's state is published again, which also
restores retained messages a broker without persistence lost, and the retained discovery
configs and states of spaces the building no longer has are cleared (``sweep``).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from gateway.building import Building, Space
from gateway.occupancy.live import Transition
from gateway.publish.client import OutClient
from gateway.publish.commands import CommandSink, MqttCommandSink, SetbackPolicy
from gateway.publish.discovery import discovery_configs
from gateway.publish.sweep import RetainedSweep, stale_topics
from gateway.publish.topics import Topics
from gateway.settings import MqttSettings, PublishSettings
from gateway.timefmt import iso_z

log = logging.getLogger(__name__)


class StateView(Protocol):
    """What the publisher reads of a space's live state (the engine's ``SpaceView``)."""

    @property
    def state(self) -> str: ...
    @property
    def occupancy(self) -> int | None: ...
    @property
    def since(self) -> float: ...
    @property
    def idle(self) -> bool: ...


def state_payload(space: Space, view: StateView) -> dict[str, Any]:
    """The JSON state of one space, as published on its retained state topic."""
    return {
        "id": space.id,
        "name": space.name,
        "type": space.type,
        "floor": space.floor,
        "capacity": space.capacity,
        "state": view.state,
        "occupancy": view.occupancy,
        "since": iso_z(view.since),
        "idle": view.idle,
    }


class SpacePublisher:
    """MQTT out for one building: state, status, discovery and (optionally) setback."""

    def __init__(
        self,
        settings: PublishSettings,
        mqtt: MqttSettings,
        building: Building,
        view: Callable[[str, float], StateView],
        *,
        sink: CommandSink | None = None,
    ) -> None:
        self.settings = settings
        self.building = building
        self._view = view
        self.topics = Topics.for_site(
            building.site.id, settings.topic_prefix, settings.discovery_prefix
        )
        self.sweep = RetainedSweep(self.topics, discovery=settings.discovery)
        self._sweep_topics = (*self.sweep.filters, self.sweep.marker)
        self.swept: list[str] | None = None  # what the last sweep cleared
        self.client = OutClient(
            mqtt,
            settings.client_id or f"{mqtt.client_id}-out",
            (self.topics.status, "offline"),
            subscriptions=(
                *((self.topics.ha_status,) if settings.discovery else ()),
                *self._sweep_topics,
            ),
            on_connected=self._connected,
            on_message=self._message,
        )
        self.setback: SetbackPolicy | None = None
        if settings.setback:
            self.setback = SetbackPolicy(sink or MqttCommandSink(self.topics, self._send))
        self._last: dict[str, dict[str, Any]] = {}
        self._discovered: set[str] = set()
        self._resync = threading.Event()  # set by the network thread, served by ``tick``
        self._rediscover = threading.Event()

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Connect; the first ``tick`` after the connection publishes everything."""
        self.client.start()

    def stop(self) -> None:
        """Publish ``offline`` and disconnect."""
        self.client.stop()

    # -- called by the live state under its lock ----------------------------------------------
    def transitions(self, changes: Iterable[Transition], now: float) -> None:
        """Publish the spaces the engine's transitions name, once each, as they are now."""
        self.publish_spaces(dict.fromkeys(t.space for t in changes), now)

    def publish_spaces(self, space_ids: Iterable[str], now: float) -> None:
        """Publish these spaces' state where it changed (a no-op while the broker is away)."""
        if not self.client.connected.is_set():
            return
        for sid in space_ids:
            self._publish_space(sid, now, force=False)

    def tick(self, now: float) -> None:
        """Serve a (re)connection: discovery, every space's state, the retained sweep."""
        if not self.client.connected.is_set():
            return
        if self._rediscover.is_set():
            self._rediscover.clear()
            self.publish_discovery()
        if self._resync.is_set():
            self._resync.clear()
            for sid in self.building.spaces:
                self._publish_space(sid, now, force=True)
        found = self.sweep.take()
        if found is not None:
            self._clear_stale(found)

    def set_building(self, building: Building, now: float) -> None:
        """A new building file: retract what is gone, publish discovery and state again."""
        gone = set(self.building.spaces) - set(building.spaces)
        self.building = building
        for sid in gone:
            self._last.pop(sid, None)
            if self.client.connected.is_set():
                self.client.publish(self.topics.state(sid), b"", retain=True)
        if self.client.connected.is_set():
            self.publish_discovery()
            for sid in building.spaces:
                self._publish_space(sid, now, force=True)
        else:
            self._rediscover.set()
            self._resync.set()

    def publish_discovery(self) -> int:
        """Publish every space's discovery configs (retained); retract ones no longer wanted."""
        if not self.settings.discovery:
            return 0
        configs = discovery_configs(self.building, self.topics)
        for topic in self._discovered - set(configs):
            self.client.publish(topic, b"", retain=True)  # empty retained: HA removes it
        for topic, config in configs.items():
            self.client.publish(topic, json.dumps(config, separators=(",", ":")), retain=True)
        self._discovered = set(configs)
        log.info("published Home Assistant discovery for %d spaces", len(self.building.spaces))
        return len(configs)

    # -- internals ------------------------------------------------------------------------------
    def _clear_stale(self, found: dict[str, bytes]) -> None:
        """Clear the retained configs and states (found at connect) of spaces now gone."""
        self.client.unsubscribe(self._sweep_topics)  # our own publishes need not come back
        wanted: set[str] = set()
        if self.settings.discovery:
            wanted.update(discovery_configs(self.building, self.topics))
        stale = stale_topics(found, wanted, self.topics, set(self.building.spaces))
        for topic in stale:
            self.client.publish(topic, b"", retain=True)  # empty retained: HA removes it
        self.swept = stale
        if stale:
            log.info("cleared %d retained topics of spaces no longer in the building", len(stale))

    def _publish_space(self, sid: str, now: float, *, force: bool) -> None:
        space = self.building.spaces.get(sid)
        if space is None:
            return
        view = self._view(sid, now)
        payload = state_payload(space, view)
        prev = self._last.get(sid)
        if prev == payload and not force:
            return
        if not self.client.publish(
            self.topics.state(sid), json.dumps(payload, separators=(",", ":")), retain=True
        ):
            return  # refused (queue full): leave _last alone so the next change retries
        self._last[sid] = payload
        if self.setback is not None:
            self.setback.observe(sid, prev, payload, iso_z(now))

    def _send(self, topic: str, payload: str, retain: bool) -> None:
        self.client.publish(topic, payload, retain=retain)

    def _connected(self) -> None:
        # the subscriptions are sent; the marker after them ends the retained messages
        self.client.publish(self.sweep.marker, self.sweep.begin(), retain=False)
        self._rediscover.set()
        self._resync.set()

    def _message(self, topic: str, payload: bytes) -> None:
        if self.sweep.offer(topic, payload):
            return
        if topic == self.topics.ha_status and payload.strip() == b"online":
            self._rediscover.set()  # Home Assistant (re)started: it wants discovery again
