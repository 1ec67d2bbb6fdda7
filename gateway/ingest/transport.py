"""MQTT transport (paho-mqtt 2.x): QoS 1, persistent session, manual acknowledgement, reconnect."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gateway.fastdata import positional_builder
from gateway.ingest.client import BufferedClient, Publish
from gateway.ingest.handoff import Handoff
from gateway.ingest.messages import RawMessage
from gateway.mqtt_link import PahoLink
from gateway.settings import MqttSettings

log = logging.getLogger(__name__)

FLUSH_AT = 500  # messages of one socket read offered to the worker before the read ends
_raw = positional_builder(RawMessage)


class MqttTransport(PahoLink):
    """Subscribes to the profile topics and hands every message to a bounded queue; the
    acknowledgement port of ingest (``gateway.ingest.ports.AckPort``).

    The network callback does nothing but stamp the time and collect; what one socket read
    brought is handed on in one ``put_many``. When the queue is full that waits, which stops
    reading from the socket and so slows the broker instead of growing memory; while it
    waits, the network thread keeps sending the PUBACKs of batches that commit meanwhile.
    Messages are acknowledged by ``ack_messages`` only after their results commit.

    Every message carries the connection generation it arrived on. A PUBACK is only ever
    sent on that same connection: after a reconnect the broker resends what it has not seen
    acknowledged (DUP=1, same packet id), and after a broker restart a packet id may name a
    different message, so acknowledging an old id on a new connection could lose one.
    """

    client: BufferedClient

    def __init__(
        self,
        settings: MqttSettings,
        topics: Iterable[str],
        handoff: Handoff,
        *,
        client_id: str | None = None,
        on_connected: Callable[[], None] | None = None,
        on_backlog: Callable[[float, str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.clock = clock  # the gateway's: receive times are on the engine's clock
        self.topics = sorted(set(topics))
        self.handoff = handoff
        self.connected = threading.Event()
        self.received = 0
        self.generation = 0  # bumped on every connect and disconnect
        self.stale_acks = 0  # acks not sent because the connection they belonged to is gone
        self._gen_lock = threading.Lock()
        self._stopping = False
        self.accepting = True  # False while draining: new messages stay unacknowledged
        self._on_connected = on_connected
        # a kept session resumed: called with how long the broker held messages for the
        # gateway (since ``away_since``: the disconnect, or at start-up what the store last
        # heard) and why
        self._on_backlog = on_backlog
        self.away_since: float | None = None
        self._pending: list[RawMessage] = []  # this socket read's messages, network thread only
        self.client = BufferedClient(
            CallbackAPIVersion.VERSION2,
            after_read=self._flush,
            on_publishes=self._on_publishes,
            client_id=client_id or settings.client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        self._set_up(settings)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def stop(self) -> None:
        """Disconnect cleanly (the persistent session stays at the broker)."""
        self._stopping = True
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()

    def subscribe_more(self, topics: Iterable[str]) -> list[str]:
        """Also subscribe to ``topics`` (a reload's new profiles or bridges); the new ones."""
        added = sorted(set(topics) - set(self.topics))
        if added:
            self.topics = sorted({*self.topics, *added})
            if self.connected.is_set():
                self.client.subscribe([(t, 1) for t in added])
        return added

    def is_stale(self, msg: RawMessage) -> bool:
        """True when ``msg`` came on a connection that has since gone (the broker resends it)."""
        return msg.gen != self.generation

    def ack_messages(self, msgs: list[RawMessage]) -> None:
        """Acknowledge a committed batch in one write; only those of the current connection."""
        with self._gen_lock:
            gen = self.generation
            mids = [m.mid for m in msgs if m.qos == 1 and m.gen == gen]
            self.stale_acks += sum(1 for m in msgs if m.qos and m.gen != gen)
            self.client.ack_many(mids)

    def _bump(self) -> None:
        with self._gen_lock:
            self.generation += 1

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
        """Publish on the same connection (state, commands)."""
        self.client.publish(topic, payload, qos=qos, retain=retain)

    # -- paho callbacks (network thread) -----------------------------------------------------
    def _on_connect(
        self, client: mqtt.Client, _ud: Any, flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker %s:%s refused the connection: %s", self.host, self.port, reason)
            return
        self._bump()
        log.info(
            "connected to %s:%s (session present: %s)", self.host, self.port, flags.session_present
        )
        since, self.away_since = self.away_since, None
        if flags.session_present and since is not None and self._on_backlog is not None:
            # before any of the queued messages is read: they are screened knowing it
            self._on_backlog(self.clock() - since, "session resumed")
        if self.topics:
            client.subscribe([(t, 1) for t in self.topics])
        self._connected_now()

    def _on_disconnect(
        self, _client: mqtt.Client, _ud: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if self.connected.is_set():  # away from now (a failed reconnect keeps the first time)
            self.away_since = self.clock()
        self.connected.clear()
        self._bump()
        if not self._stopping:
            log.warning("disconnected from %s:%s (%s); reconnecting", self.host, self.port, reason)

    def _on_message(self, _client: mqtt.Client, _ud: Any, msg: mqtt.MQTTMessage) -> None:
        """A message paho's own reader parsed (one the fast parser left to it)."""
        self._on_publishes(
            [(msg.topic, bytes(msg.payload), msg.qos, msg.mid, bool(msg.retain), bool(msg.dup))]
        )

    def _on_publishes(self, found: list[Publish]) -> None:
        """The PUBLISH packets of one pass over the read buffer, stamped with one receive
        time and collected for ``_flush``."""
        if not self.accepting:
            return  # not acknowledged: the broker redelivers them to the next session
        now, gen = self.clock(), self.generation
        self.received += len(found)
        pending = self._pending
        pending += [_raw(t, p, now, q, mid, r, d, gen) for t, p, q, mid, r, d in found]
        if len(pending) >= FLUSH_AT and self.handoff.put_many(pending, timeout=0):
            self._pending = []  # handed on early; never waits inside the read or a callback

    def _flush(self) -> None:
        """Hand on what the last socket read brought (network thread, after each read).

        Waiting for room here, outside paho's callbacks, the PUBACKs queued by commits are
        written meanwhile: otherwise a full queue would hold them back from the broker."""
        if not self._pending:
            return
        msgs, self._pending = self._pending, []
        while not self.handoff.put_many(msgs, timeout=0.05):
            if self.client.want_write():
                self.client.loop_write()
            if self._stopping:
                return  # not acknowledged: the broker redelivers them to the next session
