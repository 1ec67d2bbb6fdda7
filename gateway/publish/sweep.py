"""On connect, find the gateway's retained discovery configs and states of spaces now gone.

A space removed from the building while the gateway was stopped leaves its retained discovery
configs (``<discovery prefix>/<component>/<node id>/<object id>/config``) and its retained
state on the broker, so Home Assistant would keep it forever. On every connection MQTT out
subscribes to its own configs and states, collects the retained messages the broker sends
for them, and hands them to the publisher, which clears (empty retained payload) those the
current building no longer has.

MQTT 3.1.1 says nothing when the retained messages of a subscription are all sent, so right
after subscribing the gateway publishes a marker (a fresh token) on a topic of its own that
it also subscribes to: the broker handles one connection's packets in order, so the retained
messages are queued to the gateway before the marker comes back. Should the marker never
come back (a broker or ACL that drops it), the collection ends after ``window_s`` anyway.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt

from gateway.publish.topics import Topics

WINDOW_S = 5.0  # at most this long after connect without the marker


class RetainedSweep:
    """The collection of one connection's retained configs and states (thread-safe)."""

    def __init__(
        self,
        topics: Topics,
        *,
        discovery: bool,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.marker = f"{topics.prefix}/sweep"
        config = f"{topics.discovery_prefix}/+/{topics.node_id}/+/config"
        state = f"{topics.prefix}/space/+/state"
        self.filters = (config, state) if discovery else (state,)
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._token: bytes | None = None  # the marker of the collection under way
        self._seen: dict[str, bytes] = {}
        self._deadline = 0.0
        self._ready = False

    def begin(self) -> bytes:
        """Start a collection (on connect, before subscribing); the marker payload to send."""
        token = secrets.token_hex(8).encode()
        with self._lock:
            self._token, self._seen, self._ready = token, {}, False
            self._deadline = self._clock() + self.window_s
        return token

    def offer(self, topic: str, payload: bytes) -> bool:
        """A message from the broker (network thread); True when it belongs to the sweep."""
        if topic == self.marker:
            with self._lock:
                if self._token is not None and payload == self._token:
                    self._ready = True
            return True
        if not any(mqtt.topic_matches_sub(f, topic) for f in self.filters):
            return False
        with self._lock:
            if self._token is not None and not self._ready:
                if payload:
                    self._seen[topic] = payload
                else:  # our own retraction, or the broker's record of one
                    self._seen.pop(topic, None)
        return True

    def take(self) -> dict[str, bytes] | None:
        """The collected messages once the marker is back (or the window is over), once."""
        with self._lock:
            if self._token is None or not (self._ready or self._clock() >= self._deadline):
                return None
            seen, self._token, self._seen = self._seen, None, {}
            return seen


def stale_topics(
    found: dict[str, bytes], wanted_configs: set[str], topics: Topics, space_ids: set[str]
) -> list[str]:
    """The retained topics to clear: configs not wanted now, and the states of spaces gone
    (the states a stale config names are cleared too, when they are the gateway's own)."""
    wanted_states = {topics.state(s) for s in space_ids}
    own_state = f"{topics.prefix}/space/"
    clear: set[str] = set()
    for topic, payload in found.items():
        if topic.endswith("/config"):
            if topic in wanted_configs:
                continue
            clear.add(topic)
            clear.update(
                t
                for t in _named_topics(payload)
                if t.startswith(own_state) and t.endswith("/state") and t not in wanted_states
            )
        elif topic not in wanted_states:
            clear.add(topic)
    return sorted(clear)


def _named_topics(payload: bytes) -> list[str]:
    try:
        config = json.loads(payload)
    except ValueError:
        return []
    if not isinstance(config, dict):
        return []
    names = (config.get("state_topic"), config.get("json_attributes_topic"))
    return [t for t in names if isinstance(t, str)]
