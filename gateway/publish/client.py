"""The MQTT-out connection: its own paho client, with the gateway status as its last will.

MQTT out publishes on a second, clean-session connection rather than the ingest client:
the ingest connection is a persistent session with manual acknowledgement whose in-flight
window belongs to the acknowledgement flow, and a burst of discovery configs at connect must
not compete with it. Its own connection also lets the broker publish the will
(``<prefix>/status`` = ``offline``, retained) the moment the gateway process dies.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gateway.mqtt_link import PahoLink
from gateway.settings import MqttSettings
from gateway.supervisor import Loop

log = logging.getLogger(__name__)

MAX_QUEUED = 100_000  # hard bound on messages waiting in paho while the broker is away


class OutClient(PahoLink):
    """A clean-session paho client with a retained last will; publishing never blocks."""

    def __init__(
        self,
        settings: MqttSettings,
        client_id: str,
        will: tuple[str, str],
        *,
        online: str = "online",
        subscriptions: tuple[str, ...] = (),
        on_connected: Callable[[], None] | None = None,
        on_message: Callable[[str, bytes], None] | None = None,
        qos: int = 1,
    ) -> None:
        self.qos = qos
        self.will_topic, self.offline = will
        self.online = online
        self.subscriptions = subscriptions
        self.connected = threading.Event()
        self.published = 0
        self._on_connected = on_connected
        self._on_message_cb = on_message
        # its handler's passes; the gateway hands its supervisor's record and watches the
        # network thread with it
        self.loop = Loop(client_id, time.time)
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        self._set_up(settings)
        self.client.will_set(self.will_topic, self.offline, qos=qos, retain=True)
        self.client.max_queued_messages_set(MAX_QUEUED)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def stop(self, timeout: float = 2.0) -> None:
        """Say ``offline`` (a clean disconnect does not fire the will), then disconnect."""
        try:
            if self.connected.is_set():
                info = self.client.publish(self.will_topic, self.offline, self.qos, retain=True)
                info.wait_for_publish(timeout)
            self.connected.clear()  # a disconnect asked for is not worth a warning
            self.client.disconnect()
        except (RuntimeError, ValueError) as err:
            log.warning("MQTT out did not say offline cleanly: %s", err)
        finally:
            self.client.loop_stop()

    def publish(self, topic: str, payload: str | bytes, retain: bool) -> bool:
        """Queue one message (paho sends it from its own thread); False when it was refused."""
        info = self.client.publish(topic, payload, qos=self.qos, retain=retain)
        if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
            log.warning("MQTT out queue full; dropped %s", topic)
            return False
        self.published += 1
        return True

    def unsubscribe(self, topics: tuple[str, ...]) -> None:
        """Drop subscriptions until the next connection (which subscribes to all again)."""
        if topics:
            self.client.unsubscribe(list(topics))

    # -- paho callbacks (network thread) -----------------------------------------------------
    def _on_connect(
        self, client: mqtt.Client, _ud: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("MQTT out: %s:%s refused the connection: %s", self.host, self.port, reason)
            return
        log.info("MQTT out connected to %s:%s", self.host, self.port)
        client.publish(self.will_topic, self.online, qos=self.qos, retain=True)
        if self.subscriptions:
            client.subscribe([(t, self.qos) for t in self.subscriptions])
        self._connected_now()

    def _on_disconnect(
        self, _client: mqtt.Client, _ud: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if self.connected.is_set():
            log.warning("MQTT out disconnected from %s:%s (%s)", self.host, self.port, reason)
        self.connected.clear()

    def _on_message(self, _client: mqtt.Client, _ud: Any, msg: mqtt.MQTTMessage) -> None:
        if self._on_message_cb is None:
            return
        try:
            self.loop.beat()
            self._on_message_cb(msg.topic, bytes(msg.payload))
        except Exception as err:  # an escaping error would end paho's network thread
            self.loop.failed(err, f"the handler for {msg.topic}")
        else:
            self.loop.passed()
