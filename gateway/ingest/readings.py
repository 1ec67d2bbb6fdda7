"""A bound device's readings as events: its clock checked, credentials hashed, its bridge heard."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from gateway.credential import CredentialHasher
from gateway.events import KIND_OF, Event, Reading
from gateway.fastdata import positional_builder
from gateway.ingest.bridges import BridgeWatch, forced_reading
from gateway.ingest.live import IngestStats

log = logging.getLogger(__name__)

MAX_FUTURE_SKEW_S = 60.0  # a device clock ahead of ours by more than this is not believed
MAX_PAST_SKEW_S = 86_400.0  # nor one a day behind: bridges batch, but not for days
_event = positional_builder(Event)  # every field positionally: the hot path builds ~4 a message


def bound_readings(
    events: list[tuple[Event, float]],
    where: tuple[str, str, str | None, float],
    found: Iterable[Reading],
    held: str | None,
    bridges: BridgeWatch,
    hasher: CredentialHasher,
    stats: IngestStats,
) -> tuple[dict[str, dict[str, Any]], bool | None]:
    """Append the events of one message of a bound device (``where``: site, device, space,
    received at) to ``events``; (its latest readings, its availability if it said).

    ``held`` names the bridge holding the device offline, if one does: whatever it says, it
    stays offline meanwhile, its own availability kept for when the bridge is back."""
    site, device, space, received = where
    readings: dict[str, dict[str, Any]] = {}
    online: bool | None = None
    for r in found:
        ts = received
        if r.ts is not None:
            if r.ts - received > MAX_FUTURE_SKEW_S or received - r.ts > MAX_PAST_SKEW_S:
                stats.clock_corrected += 1
                log.warning("device %s clock is off by %.0f s; using receive time", device,
                            r.ts - received)  # fmt: skip
            else:
                ts = r.ts
        q, value, attrs = r.quantity, r.value, r.attrs
        if q == "online":
            bridges.heard(device, bool(value))
            if held is not None:  # remembered for when the bridge is back, not applied
                continue
        if q == "badge" or (attrs and "credential" in attrs):
            value, attrs = hasher.protect(q, value, attrs)  # never store a card number
        ev = _event(site, device, space, ts, KIND_OF.get(q, "measurement"), q, value, r.unit,
                    attrs)  # fmt: skip
        events.append((ev, received))
        if q == "online":
            online = bool(value)
        # several sensors of one quantity (Tasmota DS18B20-1, -2): the first is the live one
        readings.setdefault(q, {"value": value, "unit": r.unit, "ts": ts})
    if held is not None:  # whatever it said, it stays offline while its bridge is
        own = bridges.own.get(device)
        if readings:
            ev = _event(site, device, space, received, "availability", "online", False, None,
                        {"bridge": held})  # fmt: skip
            events.append((ev, received))
        readings["online"] = forced_reading(held, own, received)
        online = False
    return readings, online
