"""A bridge's own state (its MQTT last will) as the availability of every device it carries.

What the bridges publish:

- zigbee2mqtt: ``<base_topic>/bridge/state``, retained, and the same topic is its MQTT last
  will (Koenkk/zigbee2mqtt ``lib/mqtt.ts``: ``will: {topic: <base>/bridge/state, payload:
  availabilityPayload('offline')}``): ``{"state": "online"}`` / ``{"state": "offline"}``, or
  the plain strings ``online`` / ``offline`` with ``advanced.legacy_availability_payload``
  (true in 1.x's default settings; a network made by a later 1.x turns it off)
  (zigbee2mqtt.io guide/usage/mqtt_topics_and_messages, "zigbee2mqtt/bridge/state").
- ChirpStack Gateway Bridge: ``gateway/<gateway_id>/state/conn``, retained, a ``gw.ConnState``
  (chirpstack/chirpstack ``api/proto/gw/gw.proto``: ``gateway_id`` = 3, ``state`` = 2 with
  ``OFFLINE = 0``, ``ONLINE = 1``) as JSON (``{"gatewayId": "...", "state": "ONLINE"}``) or
  protobuf. The ChirpStack v4 MQTT *integration* (``application/...``) publishes no state of
  its own. A LoRaWAN device is heard by every gateway in range, so a gateway's state says
  nothing of a device unless the site has one gateway: the building file ties them only when
  it gives the chirpstack bridge a ``state_topic`` (``gateway.building.bridges``).

Policy:

- A bridge's offline *holds* each of its devices offline at once (an ``online`` false event
  with ``attrs.bridge``). Its online releases them, each back to its own last known
  availability: a device that was itself offline stays offline; one that never said is
  judged by its silence again, as before (the event carries ``attrs.own: null``). A bridge
  heard online without having been offline (the retained state at start) changes nothing.
- While a device is held, its own availability is remembered, not applied; any reading it
  sends (a retained one replayed after a reconnect) is stored but leaves it offline. The
  hold and the remembered availability are kept in the stored ``online`` reading
  (``bridge``, ``own``), so a restart while a bridge is down loses neither.
- A repeated state (a retained replay) changes nothing; an empty payload (the retained
  message cleared) is ignored; an unreadable one is dead-lettered and counted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from gateway.building import Building
from gateway.building.bridges import Z2M_BASE, Bridge
from gateway.state.devices import DeviceLive

BridgeState = Literal["online", "offline", "unknown"]
_WORDS = {"online": True, "offline": False}


def read_state(payload: bytes) -> bool | None:
    """True (online), False (offline), or None when the payload says neither."""
    text = payload.strip()
    if not text:
        return None
    if text[:1] in (b"{", b'"'):
        try:
            doc = json.loads(text)
        except ValueError:
            return None
        if isinstance(doc, str):
            return _WORDS.get(doc.strip().lower())
        if not isinstance(doc, dict):
            return None
        state = doc.get("state")
        if state is None and ("gatewayId" in doc or "gatewayIdLegacy" in doc):
            return False  # proto3 JSON leaves the default (OFFLINE = 0) out
        if isinstance(state, str):
            return _WORDS.get(state.strip().lower())
        if isinstance(state, int) and not isinstance(state, bool) and state in (0, 1):
            return bool(state)  # a ConnState marshalled with enums as numbers
        return None
    word = _WORDS.get(text.decode("utf-8", "replace").lower())
    return word if word is not None else _conn_state(payload)


def _conn_state(data: bytes) -> bool | None:
    """A protobuf ``gw.ConnState``: a gateway id (field 1 or 3) and a state (field 2)."""
    i, state, has_id = 0, 0, False
    while i < len(data):
        key, i = _varint(data, i)
        if key is None:
            return None
        field, wire = key >> 3, key & 7
        if field == 2 and wire == 0:
            state, i = _varint(data, i)
            if state is None or state not in (0, 1):
                return None
        elif field in (1, 3) and wire == 2:
            size, i = _varint(data, i)
            if size is None or i + size > len(data):
                return None
            i, has_id = i + size, True
        else:
            return None
    return bool(state) if has_id else None


def _varint(data: bytes, i: int) -> tuple[Any, int]:
    value = shift = 0
    while i < len(data) and shift < 64:
        b = data[i]
        value |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            return value, i
        shift += 7
    return None, i


def state_topics(building: Building, z2m_base: str | None = None) -> dict[str, Bridge]:
    """State topic -> bridge. ``z2m_base`` (the site's ``profile_variables`` base topic)
    moves a zigbee2mqtt bridge that keeps the default base topic, as the profile moves."""
    out: dict[str, Bridge] = {}
    for topic, bridge in building.bridge_states.items():
        if z2m_base and bridge.base_topic == Z2M_BASE and topic == f"{Z2M_BASE}/bridge/state":
            topic = f"{z2m_base}/bridge/state"
        out[topic] = bridge
    return out


@dataclass(frozen=True, slots=True)
class Change:
    """What a bridge's state means for one of its devices."""

    device: str
    space: str | None
    profile: str
    online: bool
    own: bool | None  # the device's own availability, kept while its bridge is offline
    unknown: bool = False  # released to "never said": judged by its silence again


class BridgeWatch:
    """Each bridge's last state and each bridged device's own availability.

    The ingest worker updates it while it decodes (one thread); the API reads ``view``."""

    def __init__(self, building: Building, z2m_base: str | None = None) -> None:
        self.z2m_base = z2m_base
        self.state: dict[str, bool] = {}  # bridge id -> online; absent: not heard yet
        self.since: dict[str, float] = {}
        self.own: dict[str, bool | None] = {}  # bridged device -> its own availability
        self.held: set[str] = set()  # devices their bridge's offline holds offline
        self.refused = 0  # unreadable state payloads
        self.lock = threading.Lock()
        self._building: Building | None = None
        self._topics: dict[str, Bridge] = {}
        self._for(building)

    def _for(self, building: Building) -> dict[str, Bridge]:
        if building is not self._building:  # a reload swapped it
            self._topics = state_topics(building, self.z2m_base)
            self._building = building
        return self._topics

    def topics(self, building: Building) -> list[str]:
        """The state topics to subscribe to."""
        return sorted(self._for(building))

    def seed(self, devices: Iterable[DeviceLive]) -> list[str]:
        """Own availabilities from the stored devices (the ``own`` kept while a bridge was
        offline, else the stored availability); the devices still held offline by it."""
        offline: list[str] = []
        for d in devices:
            kept = d.readings.get("online")
            if kept and "bridge" in kept:  # held when the gateway stopped: until its bridge says
                self.own[d.id] = kept.get("own")
                self.held.add(d.id)
                if not kept.get("unknown"):
                    offline.append(d.id)
            else:
                self.own[d.id] = d.online
        return offline

    def bridge_at(self, topic: str, building: Building) -> Bridge | None:
        """The bridge whose state topic this is, if any."""
        return self._for(building).get(topic)

    def down(self, device: str, building: Building) -> str | None:
        """The id of the device's bridge when that bridge is known to be offline (the device
        is held from then on)."""
        binding = building.devices.get(device)
        if binding is None or binding.bridge is None:
            return None
        if self.state.get(binding.bridge) is not False:
            return None
        self.held.add(device)
        return binding.bridge

    def heard(self, device: str, online: bool) -> None:
        """The device's own availability, as it said it."""
        self.own[device] = online

    def apply(
        self, bridge: Bridge, online: bool, now: float, building: Building
    ) -> list[Change] | None:
        """The bridge says ``online``: what each of its devices becomes; None if unchanged."""
        with self.lock:
            if self.state.get(bridge.id) is online:
                return None
            self.state[bridge.id], self.since[bridge.id] = online, now
        out = []
        for dev in building.bridged.get(bridge.id, ()):
            own = self.own.get(dev.id)
            if not online:
                self.held.add(dev.id)
                out.append(Change(dev.id, dev.space, dev.profile, False, own))
            elif dev.id in self.held:
                self.held.discard(dev.id)
                back = own is not False
                out.append(Change(dev.id, dev.space, dev.profile, back, own, own is None))
        return out

    def view(self, building: Building) -> dict[str, dict[str, Any]]:
        """Per bridge: its state, since when, its state topic and how many devices."""
        topics = {b.id: t for t, b in self._for(building).items()}
        with self.lock:
            state, since = dict(self.state), dict(self.since)
        out: dict[str, dict[str, Any]] = {}
        for bid in sorted(building.bridges):
            s = state.get(bid)
            word: BridgeState = "unknown" if s is None else ("online" if s else "offline")
            out[bid] = {
                "state": word,
                "since": since.get(bid),
                "state_topic": topics.get(bid),
                "devices": len(building.bridged.get(bid, ())),
            }
        return out


def forced_reading(bridge: str, own: bool | None, ts: float) -> dict[str, Any]:
    """The stored ``online`` reading of a device its bridge holds offline."""
    return {"value": False, "unit": None, "ts": ts, "bridge": bridge, "own": own}


def released_reading(bridge: str, change: Change, ts: float) -> dict[str, Any]:
    """The stored ``online`` reading of a device its bridge released. One that never said
    keeps the bridge's mark (``unknown``): at a restart it is held until its bridge says
    online again, as the availability column cannot say "never said"."""
    if change.unknown:
        return {"value": True, "unit": None, "ts": ts, "bridge": bridge, "own": None,
                "unknown": True}  # fmt: skip
    return {"value": change.online, "unit": None, "ts": ts}


def subscriptions(filters: Iterable[str], topics: Iterable[str]) -> list[str]:
    """``filters`` and the state topics none of them covers (a topic matched by two filters
    may be delivered twice)."""
    from paho.mqtt.client import topic_matches_sub

    have = list(filters)
    extra = [t for t in topics if not any(topic_matches_sub(f, t) for f in have)]
    return have + extra
