"""The facility ports over other parts: MQTT out as the printers' command channel."""

from __future__ import annotations

from gateway.publish.client import OutClient


class PublisherCommands:
    """:class:`~gateway.facility.ports.Commands` on the MQTT-out client: not retained."""

    def __init__(self, client: OutClient) -> None:
        self._client = client

    def send(self, topic: str, payload: bytes) -> None:
        self._client.publish(topic, payload, retain=False)
