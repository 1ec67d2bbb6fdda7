"""The two seams of ingest: where committed messages are acknowledged, where events go.

:class:`AckPort` is implemented by the MQTT transport (``MqttTransport``); :class:`EventSink`
by the live state (``gateway.state.live.LiveState``). With the in-memory ones below, the
whole pipeline runs from a list of recorded messages (the tests, the benchmarks).
"""

from __future__ import annotations

from typing import Protocol

from gateway.events import Event
from gateway.ingest.messages import RawMessage


class AckPort(Protocol):
    """Acknowledges committed messages to whoever sent them."""

    def ack_messages(self, msgs: list[RawMessage]) -> None:
        """Acknowledge a committed batch (those of a connection that has gone are not)."""

    def is_stale(self, msg: RawMessage) -> bool:
        """True when ``msg`` came on a connection that has since gone (it is resent)."""


class EventSink(Protocol):
    """Takes the events of each committed batch, in commit order."""

    def apply_events(self, events: list[Event], now: float) -> None: ...


class MemoryAcks:
    """An acknowledgement port in memory: keeps the packet id of every message it was given to
    acknowledge, in order; never stale."""

    def __init__(self, acked: list[int] | None = None) -> None:
        self.acked = acked if acked is not None else []

    def ack_messages(self, msgs: list[RawMessage]) -> None:
        self.acked += [m.mid for m in msgs]

    def is_stale(self, msg: RawMessage) -> bool:
        return False


class MemorySink:
    """An event sink in memory: keeps every event it was given, in order."""

    def __init__(self, events: list[Event] | None = None) -> None:
        self.events = events if events is not None else []

    def apply_events(self, events: list[Event], now: float) -> None:
        self.events += events
