"""Checks before parsing: payload size and per-topic flood limits, decided in microseconds."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from gateway.ingest.messages import RawMessage

#: A flood's first rejected message is dead-lettered; then its topic stays quiet this long
#: before another one is (the rest of a flood is counted, not stored).
EPISODE_GAP_S = 60.0
MAX_TRACKED_TOPICS = 100_000  # bounds the limiter's memory against a flood of fresh topics
DEAD_LETTER_PREFIX = 1024  # bytes of an oversized payload kept in its dead letter


def fingerprint(msg: RawMessage) -> int:
    """A 64-bit signed digest of topic and payload (what a redelivery repeats exactly)."""
    h = hashlib.blake2b(msg.topic.encode(), digest_size=8)
    h.update(b"\0")
    h.update(msg.payload)
    return int.from_bytes(h.digest(), "big", signed=True)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    last: float
    last_rejected: float = -1e18
    backlog: int = 0  # the backlog allowance it has taken (``Screen._backlog``'s number)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why a message is refused; ``dead_letter`` False means counted only (rest of a flood)."""

    reason: str
    kind: str  # "oversized" or "rate_limited"
    dead_letter: bool


class Screen:
    """Refuses oversized payloads and floods from one topic before anything is parsed.

    A topic is the unit of flooding because it is known without parsing and every profile
    puts the device id in it. Each topic has a token bucket of ``burst`` messages refilled at
    ``rate_per_s``, driven by receive times, so a backlog drained after an outage (all
    devices at once, each at its own modest share) passes while one runaway device does not.

    A backlog longer than the burst (a gateway away for hours, its session kept at the
    broker) arrives far faster than it was sent. ``allow_backlog`` says how long the gateway
    was away: each topic may then pass, on top of its burst, what it could have sent at the
    allowed rate meanwhile, so a day of readings is stored while a device that flooded
    while the gateway was away is still limited to the rate.
    """

    def __init__(self, max_payload_bytes: int, rate_per_s: float, burst: int) -> None:
        self.max_payload_bytes = max_payload_bytes
        self.rate = rate_per_s
        self.burst = float(burst)
        self._buckets: dict[str, _Bucket] = {}
        # the latest backlog allowance: (its number, messages per topic, usable until)
        self._backlog: tuple[int, float, float] = (0, 0.0, -math.inf)
        self.oversized = 0
        self.rate_limited = 0
        self.last_flooding_topic: str | None = None

    def check(self, msg: RawMessage) -> Verdict | None:
        """None when ``msg`` may be parsed, else why not."""
        n = len(msg.payload)
        if n > self.max_payload_bytes:
            self.oversized += 1
            return Verdict(
                f"payload of {n} bytes is over the {self.max_payload_bytes}-byte limit; not parsed",
                "oversized",
                True,
            )
        if self.rate <= 0:
            return None
        now = msg.received_at
        b = self._buckets.get(msg.topic)
        if b is None:
            if len(self._buckets) >= MAX_TRACKED_TOPICS:
                self._forget_idle(now)
            b = self._buckets[msg.topic] = _Bucket(self.burst, now)
        else:
            if b.tokens < self.burst:  # refills up to the burst; a backlog allowance stays
                b.tokens = min(self.burst, b.tokens + (now - b.last) * self.rate)
            b.last = now
        number, allowance, until = self._backlog
        if b.backlog != number and now < until:
            b.backlog = number
            b.tokens += allowance
        if b.tokens >= 1.0:
            b.tokens -= 1.0
            return None
        self.rate_limited += 1
        self.last_flooding_topic = msg.topic
        first = now - b.last_rejected > EPISODE_GAP_S
        b.last_rejected = now
        return Verdict(
            f"rate limit: topic '{msg.topic}' is over {self.rate:g} messages/s "
            f"(burst {self.burst:g}); the rest of this flood is counted, not stored",
            "rate_limited",
            first,
        )

    def allow_backlog(self, away_s: float, now: float) -> None:
        """The gateway was away ``away_s`` seconds and its session kept: for as long again,
        each topic may pass ``rate * away_s`` messages above its burst (once), the most it
        could have sent at the allowed rate while the broker queued for the gateway."""
        if self.rate > 0 and away_s > 0:
            self._backlog = (self._backlog[0] + 1, self.rate * away_s, now + away_s)

    def _forget_idle(self, now: float) -> None:
        """Drop buckets that have refilled (they carry no state worth keeping), but not one
        that took the backlog allowance still in use (it would take it again)."""
        number, _, until = self._backlog
        full = [
            t
            for t, b in self._buckets.items()
            if b.tokens + (now - b.last) * self.rate >= self.burst
            and (b.backlog != number or now >= until)
        ]
        for t in full:
            del self._buckets[t]
        if len(self._buckets) >= MAX_TRACKED_TOPICS:
            self._buckets.clear()
