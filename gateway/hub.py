"""In-process fan-out of what the gateway learns, for the parts that react to it.

The service publishes on a few named channels; consumers (the live stream, the uplink,
alerts, bookings) subscribe with a callback. Callbacks run on the publisher's thread, often
under the engine's state lock, so they must only hand off (append to a queue) and never block.

Channels and their payloads:

- ``events``: ``(list[Event], now)`` — normalized events just committed to the store;
- ``spaces``: ``(list[str], now)`` — ids of spaces whose state changed;
- ``findings``: ``(list[Finding], now)`` — engine findings such as ghost bookings;
- ``notices``: ``(dict, now)`` — anything else worth telling (alerts, work orders, releases),
  a JSON-ready mapping with at least ``"type"``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from gateway.supervisor import Supervisor

log = logging.getLogger(__name__)

CHANNELS = ("events", "spaces", "findings", "notices")

Callback = Callable[[Any, float], None]


class Hub:
    """Named channels with subscriber callbacks; a failing subscriber is logged, not fatal."""

    def __init__(self, supervisor: Supervisor | None = None) -> None:
        self._subs: dict[str, list[Callback]] = {c: [] for c in CHANNELS}
        self._lock = threading.Lock()
        # failures are counted per channel as loop ``hub-<channel>`` (health names it when a
        # subscriber keeps failing); without a supervisor they are only logged
        self._supervisor = supervisor

    def subscribe(self, channel: str, callback: Callback) -> Callable[[], None]:
        """Register ``callback`` on ``channel``; returns a function that unsubscribes it."""
        if channel not in self._subs:
            raise ValueError(f"unknown hub channel {channel!r}; known: {', '.join(CHANNELS)}")
        with self._lock:
            self._subs[channel] = [*self._subs[channel], callback]

        def unsubscribe() -> None:
            with self._lock:
                self._subs[channel] = [c for c in self._subs[channel] if c is not callback]

        return unsubscribe

    def publish(self, channel: str, payload: Any, now: float) -> None:
        """Call every subscriber of ``channel``; exceptions are logged and swallowed."""
        failed = False
        for cb in self._subs[channel]:  # copy-on-write list: no lock needed to read
            try:
                cb(payload, now)
            except Exception as err:
                failed = True
                if self._supervisor is None:
                    log.exception("hub subscriber on %r failed", channel)
                else:
                    who = getattr(cb, "__qualname__", repr(cb))
                    self._supervisor.loop(f"hub-{channel}").failed(err, f"subscriber {who}")
        if not failed and self._supervisor is not None:
            lp = self._supervisor.loops.get(f"hub-{channel}")
            if lp is not None and lp.in_a_row:
                lp.passed()
