"""Checks before parsing: payload size and per-topic flood limits, decided in microseconds."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.ingest.messages import RawMessage

#: A flood's first rejected message is dead-lettered; then its topic stays quiet this long
#: before another one is (the rest of a flood is counted, not stored).
EPISODE_GAP_S = 60.0
MAX_TRACKED_TOPICS = 100_000  # bounds the limiter's memory against a flood of fresh topics
#: How long a backlog allowance may be taken and kept at most: the broker's queue (two million
#: messages in deploy/mosquitto.conf) drains in a fraction of it even at 3,000 messages/s.
BACKLOG_WINDOW_S = 3600.0
DEAD_LETTER_PREFIX = 1024  # bytes of an oversized payload kept in its dead letter
log = logging.getLogger(__name__)


def fingerprint(msg: RawMessage) -> int:
    """A 64-bit signed digest of topic and payload (what a redelivery repeats exactly)."""
    h = hashlib.blake2b(msg.topic.encode("utf-8", "surrogatepass"), digest_size=8)
    h.update(b"\0")
    h.update(msg.payload)
    return int.from_bytes(h.digest(), "big", signed=True)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    last: float
    last_rejected: float = -1e18
    granted: int = 0  # the newest backlog allowance it has taken (its number)
    # the allowances it has taken: [messages left, usable until], the soonest to lapse first
    extra: list[list[float]] | None = None


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
    broker, or a store that refused writes while the broker held the stream) arrives far
    faster than it was sent. ``allow_backlog`` says for how long the broker held messages:
    each topic may then pass, once and on top of its burst, what it could have sent at the
    allowed rate meanwhile, so readings sent at ordinary rates are stored while a device that
    flooded is still cut to its share. What is not used within the window (the backlog's
    time, at most ``BACKLOG_WINDOW_S``) is dropped.
    """

    def __init__(
        self,
        max_payload_bytes: int,
        rate_per_s: float,
        burst: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock  # the gateway's: an allowance runs on the clock receive times are on
        self.max_payload_bytes = max_payload_bytes
        self.rate = rate_per_s
        self.burst = float(burst)
        self._buckets: dict[str, _Bucket] = {}
        # backlog allowances not yet expired, oldest first: (number, per topic, usable until);
        # replaced whole (by the network thread), read whole (by the worker)
        self._grants: tuple[tuple[int, float, float], ...] = ()
        self._numbered = 0  # allowances given so far (network thread)
        self._cleared_at = 0  # a bucket made after a forced clear takes no earlier allowance
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
            b = self._buckets[msg.topic] = _Bucket(self.burst, now, granted=self._cleared_at)
        else:
            b.tokens = min(self.burst, b.tokens + (now - b.last) * self.rate)
            b.last = now
        grants = self._grants
        if grants and grants[-1][0] > b.granted:
            _take(b, grants, now)
        if b.tokens >= 1.0:
            b.tokens -= 1.0
            return None
        if b.extra is not None and _spend(b, now):
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

    def backlog(self, held_s: float, why: str) -> None:
        """The broker held messages for the gateway ``held_s`` seconds: what it queued
        meanwhile is a backlog, not a flood, up to the rate the flood limit allows."""
        allowance = self.allow_backlog(held_s, self.clock())
        if allowance:
            log.info(
                "backlog (%s): the broker held messages for %.1f s; each topic may pass up "
                "to %.0f queued messages above its burst",
                why,
                held_s,
                allowance,
            )

    def allow_backlog(self, held_s: float, now: float) -> float:
        """The broker held messages for the gateway ``held_s`` seconds (away with its session
        kept, or while the store refused writes): from ``now``, for as long again (at most
        ``BACKLOG_WINDOW_S``), each topic may pass ``rate * held_s`` messages above its
        burst, once, the most it could have sent at the allowed rate meanwhile. Allowances
        add up, each lapsing at its own time. Returns the allowance (0 when none: no limit,
        or nothing held)."""
        if self.rate <= 0 or held_s <= 0:
            return 0.0
        self._numbered += 1
        grant = (self._numbered, self.rate * held_s, now + min(held_s, BACKLOG_WINDOW_S))
        self._grants = (*(g for g in self._grants if g[2] > now), grant)
        return grant[1]

    def _forget_idle(self, now: float) -> None:
        """Drop buckets that have refilled and hold no allowance still in use (they carry no
        state worth keeping). When that is not enough, drop all, and the buckets made after
        take none of the allowances given so far (else a flood of fresh topic names would
        have every topic take them again)."""
        full = [
            t
            for t, b in self._buckets.items()
            if b.tokens + (now - b.last) * self.rate >= self.burst
            and not (b.extra and any(until > now for _, until in b.extra))
        ]
        for t in full:
            del self._buckets[t]
        if len(self._buckets) >= MAX_TRACKED_TOPICS:
            self._buckets.clear()
            grants = self._grants  # those published: a newer one is still to be taken
            self._cleared_at = grants[-1][0] if grants else self._cleared_at


def _take(b: _Bucket, grants: tuple[tuple[int, float, float], ...], now: float) -> None:
    """Give bucket ``b`` the allowances it has not taken yet that are still usable."""
    extra = [e for e in b.extra or () if e[1] > now]
    extra += [[allowance, until] for n, allowance, until in grants if n > b.granted and now < until]
    extra.sort(key=lambda e: e[1])
    b.extra = extra or None
    b.granted = grants[-1][0]


def _spend(b: _Bucket, now: float) -> bool:
    """Spend one message of ``b``'s allowances, the soonest to lapse first; False when none
    is left (those lapsed are dropped)."""
    extra = b.extra
    assert extra is not None
    while extra and (extra[0][1] <= now or extra[0][0] < 1.0):
        extra.pop(0)
    if not extra:
        b.extra = None
        return False
    extra[0][0] -= 1.0
    return True
