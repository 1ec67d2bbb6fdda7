"""What both MQTT connections (ingest's transport and MQTT out) do alike with their paho client:
set it up for the broker, start it, and say when it is connected."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt

from gateway.settings import MqttSettings


class PahoLink:
    """Base of a connection that owns one paho client and reconnects on its own."""

    client: mqtt.Client
    host: str
    port: int
    keepalive: int
    connected: threading.Event
    _on_connected: Callable[[], None] | None

    def _set_up(self, settings: MqttSettings) -> None:
        """Point ``client`` at the broker of ``settings`` (credentials, TLS, reconnect
        backoff, in-flight window)."""
        host, port, tls, user, pwd = settings.endpoint()
        self.host, self.port, self.keepalive = host, port, settings.keepalive_s
        client = self.client
        if user:
            client.username_pw_set(user, pwd)
        if tls:
            client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        # paho backs off exponentially between reconnect attempts, from 1 s up to 30 s.
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_inflight_messages_set(1000)

    def start(self) -> None:
        """Connect in the background; paho's loop thread keeps reconnecting until ``stop``."""
        self.client.connect_async(self.host, self.port, keepalive=self.keepalive)
        self.client.loop_start()

    def _connected_now(self) -> None:
        """The connection is up and subscribed: say so, to waiters and the ``on_connected``."""
        self.connected.set()
        if self._on_connected is not None:
            self._on_connected()
