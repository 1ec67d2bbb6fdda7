"""Webhook subscriptions: made through the admin API or kept in the config file.

A subscription names a receiver URL, the finding kinds it wants (``*`` for all), the body
format (``json``, ``slack``, ``teams``) and optionally the booking platform (``integration``)
whose released bookings go back through it. Its secret signs every delivery and is shown
once, when the API makes it. Subscriptions of the config file (``webhooks.subscriptions``)
are written into the store at start (origin ``config``): the API may pause or resume them but
not delete or edit them, since the file would bring them back.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from gateway.facility.service_errors import Conflict, Invalid, NotFound
from gateway.store.outbox_tables import SUBSCRIPTIONS
from gateway.webhook_settings import WebhookSubscriptionConfig

S = SUBSCRIPTIONS.c

KINDS = (
    "booking_released",  # a ghost booking was auto-released: the room is free again
    "space_idle",  # an idle episode opened (vacant past idle_after in business hours)
    "space_idle_ended",  # ... and ended: someone is using it again
    "recommendation_changed",  # the underuse / right-sizing recommendations changed
    "alert_raised",
    "alert_cleared",
    "work_order_opened",
    "work_order_changed",
    "device_offline",  # a device_offline or bridge_offline alert raised
    "device_online",  # ... cleared
    "test",  # POST /api/v1/webhooks/{id}/test
)
PUBLIC = ("id", "url", "kinds", "format", "integration", "origin", "state", "paused_reason")
COUNTERS = ("failures_in_row", "delivered", "failures", "dropped", "created_at")


def check_kinds(kinds: list[str]) -> list[str]:
    bad = [k for k in kinds if k != "*" and k not in KINDS]
    if bad or not kinds:
        raise Invalid(
            f"unknown finding kind(s) {bad}; known: *, {', '.join(KINDS)}", ("body", "kinds")
        )
    return list(dict.fromkeys(kinds))


def public(row: dict[str, Any]) -> dict[str, Any]:
    """A subscription as the API shows it: everything but the secret."""
    return {k: row[k] for k in (*PUBLIC, *COUNTERS)}


class Subscriptions:
    """The site's subscriptions in the store, with the active ones cached for matching."""

    def __init__(self, db: Engine, site: str, clock: Callable[[], float]) -> None:
        self.db, self.site, self.clock = db, site, clock
        self._lock = threading.Lock()
        self.active: list[dict[str, Any]] = []
        self.refresh()

    def refresh(self) -> None:
        with self.db.connect() as conn:
            rows = conn.execute(select(SUBSCRIPTIONS).where(S.site == self.site)).all()
        self.active = [dict(r._mapping) for r in rows if r.state == "active"]

    def all(self) -> list[dict[str, Any]]:
        with self.db.connect() as conn:
            rows = conn.execute(
                select(SUBSCRIPTIONS).where(S.site == self.site).order_by(S.created_at, S.id)
            ).all()
        return [dict(r._mapping) for r in rows]

    def get(self, sid: str) -> dict[str, Any]:
        with self.db.connect() as conn:
            r = conn.execute(select(SUBSCRIPTIONS).where(S.site == self.site, S.id == sid)).first()
        if r is None:
            raise NotFound(f"no webhook subscription {sid!r}")
        return dict(r._mapping)

    def create(self, values: dict[str, Any], origin: str = "api") -> dict[str, Any]:
        """A new subscription; its secret is generated unless given (returned in the row)."""
        sid = values.get("id") or f"wh-{secrets.token_hex(4)}"
        row = {
            "site": self.site,
            "id": sid,
            "url": values["url"],
            "secret": values.get("secret") or secrets.token_urlsafe(32),
            "kinds": check_kinds(values.get("kinds") or ["*"]),
            "format": values.get("format") or "json",
            "integration": values.get("integration"),
            "origin": origin,
            "state": "active",
            "paused_reason": None,
            "failures_in_row": 0,
            "delivered": 0,
            "failures": 0,
            "dropped": 0,
            "created_at": self.clock(),
        }
        with self._lock, self.db.begin() as conn:
            taken = conn.execute(select(S.id).where(S.site == self.site, S.id == sid)).first()
            if taken is not None:
                raise Conflict(f"a webhook subscription {sid!r} exists already")
            conn.execute(insert(SUBSCRIPTIONS), [row])
        self.refresh()
        return row

    def update(self, sid: str, values: dict[str, Any]) -> dict[str, Any]:
        """Change a subscription (its state; for an API one its url, kinds, format too)."""
        row = self.get(sid)
        editable = {"state"} if row["origin"] == "config" else {"state", "url", "kinds", "format"}
        extra = set(values) - editable
        if extra:
            raise Conflict(f"{sorted(extra)} of a subscription from the config file: edit the file")
        if "kinds" in values:
            values["kinds"] = check_kinds(values["kinds"])
        if values.get("state") == "active":
            values.update(failures_in_row=0, paused_reason=None)
        self._set(sid, values)
        return self.get(sid)

    def pause(self, sid: str, reason: str) -> None:
        self._set(sid, {"state": "paused", "paused_reason": reason[:500]})

    def _set(self, sid: str, values: dict[str, Any]) -> None:
        with self._lock, self.db.begin() as conn:
            conn.execute(
                update(SUBSCRIPTIONS).where(S.site == self.site, S.id == sid).values(**values)
            )
        self.refresh()

    def delete(self, sid: str) -> None:
        row = self.get(sid)
        if row["origin"] == "config":
            raise Conflict(f"{sid!r} comes from the config file: remove it there")
        with self._lock, self.db.begin() as conn:
            conn.execute(delete(SUBSCRIPTIONS).where(S.site == self.site, S.id == sid))
        self.refresh()

    def sync_config(self, configured: list[WebhookSubscriptionConfig]) -> list[str]:
        """Write the config file's subscriptions into the store (url, secret, kinds, format
        and integration from the file; state and counters kept); drop the ones it no longer
        names. The ids of those dropped, whose deliveries go with them."""
        have = {r["id"]: r for r in self.all() if r["origin"] == "config"}
        for c in configured:
            values = {
                "url": c.url,
                "secret": c.secret.get_secret_value(),
                "kinds": check_kinds(c.kinds),
                "format": c.format,
                "integration": c.integration,
            }
            if c.id in have:
                self._set(c.id, values)
            else:
                self.create({"id": c.id, **values}, origin="config")
        gone = [sid for sid in have if sid not in {c.id for c in configured}]
        for sid in gone:
            with self._lock, self.db.begin() as conn:
                conn.execute(delete(SUBSCRIPTIONS).where(S.site == self.site, S.id == sid))
        self.refresh()
        return gone
