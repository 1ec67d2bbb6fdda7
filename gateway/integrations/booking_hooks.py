"""Booking-platform webhooks: signed booking changes in, kept as bookings of their platform.

A platform posts one booking change as JSON to ``POST /api/v1/integrations/bookings`` with

- ``X-Gateway-Integration: <id>`` -- the integration (``booking_hooks.integrations``);
- ``X-Gateway-Signature: t=<unix seconds>,v1=<hex>`` -- HMAC-SHA256 with the integration's
  secret over ``<t>.<raw body>``.

The request is refused, and counted by reason, when the signature does not match (401), the
timestamp is more than ``tolerance_s`` away from now (401), the same signature came before
(409: a replay), or the body is larger than ``max_body_bytes`` (413). A good one is applied
through the bookings service as source ``platform:<id>``, by the platform's booking id: the
same change twice changes nothing, an older change after a newer one is ignored (``stale``).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, ValidationInfo, field_validator

from gateway.bookings_in_settings import BookingHookSettings
from gateway.facility.booking_sources import Applied, Incoming, SourcedBookings

REASONS = ("signature", "timestamp", "replay", "too_large", "unknown_integration", "invalid")
EARLIEST, LATEST = 946_684_800.0, 4_102_444_800.0  # 2000-01-01, 2100-01-01 UTC
RESULTS = ("created", "updated", "cancelled", "unchanged", "stale", "conflict", "past", "unknown")


class Refused(Exception):
    """A request refused before it is applied: its HTTP status, reason key and message."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail


class BookingChange(BaseModel):
    """One booking as the platform tells it."""

    event: Literal["created", "updated", "cancelled"]
    id: str = Field(min_length=1, max_length=200, description="the platform's booking id")
    space: str = Field(min_length=1, max_length=64)
    member: str = Field(default="platform", min_length=1, max_length=64)
    start: AwareDatetime = Field(description="ISO 8601 with an offset, or Unix seconds")
    end: AwareDatetime
    updated_at: AwareDatetime | None = Field(
        default=None, description="when the platform last changed it: older changes are ignored"
    )
    requires_checkin: bool = True

    @field_validator("start", "end", "updated_at")
    @classmethod
    def _in_range(cls, v: datetime | None) -> datetime | None:
        if v is not None and not EARLIEST <= v.timestamp() <= LATEST:
            raise ValueError("must lie between 2000 and 2100")
        return v

    @field_validator("end")
    @classmethod
    def _after_start(cls, v: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and v <= start:
            raise ValueError("must be after start")
        return v


def signature(secret: str, t: int | str, body: bytes) -> str:
    """The ``v1`` hex a sender puts in ``X-Gateway-Signature`` (see the docs' snippet)."""
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


class BookingHooks:
    """Checks signed requests, remembers signatures, applies changes, counts everything."""

    def __init__(
        self, bookings: SourcedBookings, settings: BookingHookSettings, clock: Callable[[], float]
    ) -> None:
        self.bookings, self.settings, self.clock = bookings, settings, clock
        self.refused = dict.fromkeys(REASONS, 0)
        self.applied = dict.fromkeys(RESULTS, 0)
        self._seen: OrderedDict[str, float] = OrderedDict()  # signature -> its timestamp
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.settings.integrations)

    def check(self, integration: str | None, header: str | None, body: bytes) -> str:
        """The integration id of a request whose signature holds; Refused otherwise."""
        if len(body) > self.settings.max_body_bytes:
            raise self._refuse(413, "too_large", f"body over {self.settings.max_body_bytes} bytes")
        spec = self.settings.integrations.get(integration or "")
        if spec is None:
            raise self._refuse(401, "unknown_integration", "unknown X-Gateway-Integration")
        t, sigs = _parse_header(header)
        if t is None or not sigs:
            raise self._refuse(401, "signature", "missing or malformed X-Gateway-Signature")
        want = signature(spec.secret.get_secret_value(), t, body)
        if not any(hmac.compare_digest(want, s) for s in sigs):
            raise self._refuse(401, "signature", "signature does not match")
        now = self.clock()
        if abs(now - t) > self.settings.tolerance_s:
            raise self._refuse(401, "timestamp", "timestamp outside the tolerance")
        with self._lock:
            while self._seen and (
                len(self._seen) >= self.settings.remember
                or next(iter(self._seen.values())) < now - self.settings.tolerance_s
            ):
                self._seen.popitem(last=False)  # older than the tolerance: refused by time
            if want in self._seen:
                self.refused["replay"] += 1
                raise Refused(409, "replay", "this signed request was received before")
            self._seen[want] = float(t)
        return str(integration)

    def apply(self, integration: str, change: BookingChange) -> Applied:
        """Apply one checked change as a booking of ``platform:<integration>``."""
        start, end = change.start.timestamp(), change.end.timestamp()
        modified = None if change.updated_at is None else change.updated_at.timestamp()
        item = Incoming(
            change.id, change.space, change.member, start, end, modified,
            cancelled=change.event == "cancelled", requires_checkin=change.requires_checkin,
        )  # fmt: skip
        (done,), _ = self.bookings.apply_source(f"platform:{integration}", [item])
        with self._lock:
            self.applied[done.result] = self.applied.get(done.result, 0) + 1
        return done

    def invalid(self) -> None:
        with self._lock:
            self.refused["invalid"] += 1

    def _refuse(self, status: int, reason: str, detail: str) -> Refused:
        with self._lock:
            self.refused[reason] += 1
        return Refused(status, reason, detail)


def _parse_header(header: str | None) -> tuple[int | None, list[str]]:
    """``t=<int>,v1=<hex>[,v1=<hex>]`` -> (t, the v1 values); (None, []) when malformed."""
    if not header or len(header) > 1024:
        return None, []
    t: int | None = None
    sigs: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) <= 12:
            t = int(value)
        elif key == "v1" and value:
            sigs.append(value.lower())
    return t, sigs
