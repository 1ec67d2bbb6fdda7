"""The ingest counters (each device's live view is ``gateway.state.devices``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class IngestStats:
    """Counters since start."""

    received: int = 0
    committed: int = 0
    handed_on: int = 0  # events of committed batches queued for the live state
    applied: int = 0  # of those, applied (equal to ``handed_on``: the live state caught up)
    ignored: int = 0
    dead_lettered: int = 0
    clock_corrected: int = 0
    store_errors: int = 0
    last_store_error: str | None = None
    redelivered: int = 0  # DUPs of committed messages: acknowledged again, not stored again
    stale_dropped: int = 0  # from a lost connection, left for the broker to resend
    oversized: int = 0  # dead-lettered unparsed
    rate_limited: int = 0  # over a topic's rate: first of a flood dead-lettered, rest counted
    store_refused: int = 0  # messages whose rows the store refused: dead-lettered instead
    dead_letters_dropped: int = 0  # over the global dead-letter rate: counted, not stored
    unknown_evicted: int = 0  # discovered devices evicted, the oldest seen, over the cap
    bridge_states_refused: int = 0  # bridge state payloads that say neither online nor offline
