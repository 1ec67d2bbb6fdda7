"""The raw message as the network thread hands it on: nothing parsed yet."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One MQTT message and what the broker said about it."""

    topic: str
    payload: bytes
    received_at: float
    qos: int = 0
    mid: int = 0
    retain: bool = False
    dup: bool = False
    gen: int = 0  # the transport's connection generation it arrived on; acks go only there
