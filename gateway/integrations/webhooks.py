"""Outbound webhooks: the one place where the gateway's findings become outbox deliveries.

It subscribes to the hub's ``notices`` channel, where every finding worth telling is already
announced right after it is recorded: a ghost booking released (``booking_feed``), an idle
episode opened and ended (the engine keeper), an alert raised or cleared and the work order it
opened (``alerts``), a work order moved (``work_orders``); and, every
``webhooks.recommend_every_s``, it compares the read model's recommendations with the last
ones. Each finding becomes one outbox row per active subscription that wants its kind
(``gateway.integrations.outbox``).

**When the row is written.** In its own small transaction on the thread that recorded the
finding, right after that commit, not inside it: the notices are published by the member
services' worker, the engine saver and the API -- never under the engine's lock nor on the
ingest path -- so one insert there costs ingest nothing; and writing in the recording
transaction would reach into every service's transaction for a concern none of them has. The
price is a window of one insert: a gateway killed between the finding's commit and the
outbox's loses that one notification (the finding itself stays in the store).

**Release write-back.** A booking whose ``source`` is ``platform:<integration>`` that the
gateway releases goes to the subscriptions bound to that integration (and only its own
platform's releases go to a bound subscription), with the platform's ``external_id``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine

from gateway.facility.ports import ConfigSource
from gateway.integrations import webhooks_format as fmt
from gateway.integrations.outbox import Outbox, new_id
from gateway.integrations.outbox_sender import Sender
from gateway.integrations.webhooks_subscriptions import Subscriptions
from gateway.store.member_tables import BOOKINGS
from gateway.supervisor import Supervisor
from gateway.webhook_settings import WebhookSettings

log = logging.getLogger(__name__)

B = BOOKINGS.c
OFFLINE_KINDS = ("device_offline", "bridge_offline")
PAUSED_ALERT = "webhook_paused"

RaiseAlert = Callable[[str, str, str | None, str | None, str, float | None, float], object]
ClearAlert = Callable[[str, str, float], object]


def translate(notice: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The finding kinds and payloads of one hub notice (none for one nobody subscribes to)."""
    t = notice.get("type")
    p = {k: v for k, v in notice.items() if k != "type"}
    if t == "booking_released":
        return [("booking_released", p)]
    if t == "idle_episode":
        return [("space_idle" if p.get("end") is None else "space_idle_ended", p)]
    if t == "alert_raised":
        out = [("alert_raised", p)]
        if p.get("kind") in OFFLINE_KINDS:
            out.append(("device_offline", p))
        if p.get("work_order_created"):
            out.append(("work_order_opened", {"id": p.get("work_order"), **_order_of(p)}))
        return out
    if t == "alert_cleared":
        out = [("alert_cleared", p)]
        if p.get("kind") in OFFLINE_KINDS:
            out.append(("device_online", p))
        return out
    if t == "work_order_opened":
        return [("work_order_opened", p)]
    if t == "work_order":
        return [("work_order_changed", p)]
    return []


def _order_of(alert: dict[str, Any]) -> dict[str, Any]:
    return {"kind": alert.get("kind"), "subject": alert.get("subject"), "alert": alert.get("id")}


def _wants(sub: dict[str, Any], kind: str, payload: dict[str, Any]) -> bool:
    if "*" not in sub["kinds"] and kind not in sub["kinds"]:
        return False
    if kind == "booking_released" and sub["integration"]:
        return payload.get("source") == f"platform:{sub['integration']}"
    return True


class Webhooks:
    """Subscriptions, the outbox and its sender, for one site."""

    def __init__(
        self,
        db: Engine,
        site: str,
        settings: WebhookSettings,
        config: ConfigSource,
        clock: Callable[[], float],
        *,
        grace_s: float,
        link: str,
        recommendations: Callable[[float], list[dict[str, Any]]] | None = None,
    ) -> None:
        self.db, self.site, self.config, self.clock = db, site, config, clock
        self.settings = s = settings
        self.grace_s = grace_s  # the bookings' grace, for the release sentence
        self.link = s.dashboard_url or link
        self.subs = Subscriptions(db, site, clock)
        for gone in self.subs.sync_config(s.subscriptions):
            log.info("webhook subscription %s left the config file: removed", gone)
        self.outbox = Outbox(db, site, s, clock)
        for sid in set(self.outbox.pending) - {r["id"] for r in self.subs.all()}:
            self.outbox.forget(sid)
        self.recommendations = recommendations
        self._rec_keys: set[tuple[str, str]] | None = None  # the last seen; None until then
        self._next_rec = 0.0
        self.raise_alert: RaiseAlert | None = None  # the alerts service, once built
        self.clear_alert: ClearAlert | None = None
        self.sender = Sender(
            self.outbox, self.subs, s, on_pause=self._paused, clock=clock, periodic=self._periodic
        )
        self._unsubscribe: Callable[[], None] | None = None
        self._thread: threading.Thread | None = None

    # -- wiring ---------------------------------------------------------------------------------
    def attach(self, hub: Any) -> None:
        self._unsubscribe = hub.subscribe("notices", self.on_notice)

    def start(self, supervisor: Supervisor) -> None:
        self.sender.loop = supervisor.loop("webhooks")
        self.sender.stop_event.clear()
        self._thread = supervisor.thread("webhooks", self.sender.run)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.sender.stop_event.set()
        self.outbox.wake.set()
        if self._thread is not None:  # at most one attempt's timeout away
            self._thread.join(timeout=self.settings.timeout_s + 5)

    # -- findings in ----------------------------------------------------------------------------
    def on_notice(self, notice: dict[str, Any], now: float) -> None:
        """A hub notice: its findings into the outbox (on the publisher's thread)."""
        if not self.subs.active:
            return
        found = translate(notice)
        if found and found[0][0] == "booking_released":
            found = [(k, self._with_source(p)) for k, p in found]
        ts = float(notice.get("ts") or now)
        for kind, payload in found:
            self.emit(kind, payload, ts)

    def emit(self, kind: str, payload: dict[str, Any], ts: float) -> list[str]:
        """Queue one finding for every active subscription that wants it; the delivery ids."""
        return self._queue(
            [s for s in self.subs.active if _wants(s, kind, payload)], kind, payload, ts
        )

    def emit_to(self, sub: dict[str, Any], kind: str, payload: dict[str, Any], ts: float) -> str:
        """Queue one finding for ``sub`` alone (a test delivery); its delivery id."""
        return self._queue([sub], kind, payload, ts)[0]

    def _queue(
        self, subs: list[dict[str, Any]], kind: str, payload: dict[str, Any], ts: float
    ) -> list[str]:
        if not subs:
            return []
        ctx = self.context()
        rows = []
        for sub in subs:
            did = new_id()
            env = fmt.envelope(did, kind, ts, self.site, payload)
            rows.append((sub["id"], did, kind, fmt.body(sub["format"], env, ctx)))
        self.outbox.put(rows, self.clock())
        return [r[1] for r in rows]

    def _with_source(self, p: dict[str, Any]) -> dict[str, Any]:
        with self.db.connect() as conn:
            r = conn.execute(
                select(B.source, B.external_id).where(B.site == self.site, B.id == p["booking"])
            ).first()
        out = {k: v for k, v in p.items() if k != "member"}  # the receiver needs no person
        out["released_at"] = p.get("ts")
        out["reason"] = f"no presence within {self.grace_s:g} s of the start"
        if r is not None:
            out.update(source=r.source, external_id=r.external_id)
        return out

    def context(self) -> fmt.Context:
        b = self.config.get().building

        def space(sid: str) -> fmt.SpaceInfo | None:
            sp = b.spaces.get(sid)
            return None if sp is None else fmt.SpaceInfo(sp.name, sp.type, sp.capacity)

        return fmt.Context(self.site, ZoneInfo(b.site.timezone), self.grace_s, self.link, space)

    def _periodic(self, now: float) -> None:
        """The recommendation check, on the sender's thread."""
        every = self.settings.recommend_every_s
        if self.recommendations is None or every <= 0 or now < self._next_rec:
            return
        self._next_rec = now + every
        recs = self.recommendations(now)
        keys = {(str(r["space"]), str(r["kind"])) for r in recs}
        last, self._rec_keys = self._rec_keys, keys
        if last is None or keys == last:
            return  # the first look after start is the baseline
        added = [r for r in recs if (str(r["space"]), str(r["kind"])) not in last]
        removed = [{"space": s, "kind": k} for s, k in sorted(last - keys)]
        self.emit("recommendation_changed", {"added": added, "removed": removed}, now)

    # -- pausing --------------------------------------------------------------------------------
    def _paused(self, sub: dict[str, Any], reason: str) -> None:
        log.error("webhook subscription %s paused: %s", sub["id"], reason)
        if self.raise_alert is not None:
            msg = f"webhook {sub['id']} paused: {reason}"
            self.raise_alert(
                PAUSED_ALERT, f"webhook:{sub['id']}", None, None, msg, None, self.clock()
            )

    def resume(self, sid: str) -> dict[str, Any]:
        row = self.subs.update(sid, {"state": "active"})
        self.outbox.retry_now(sid)
        if self.clear_alert is not None:
            self.clear_alert(f"webhook:{sid}", PAUSED_ALERT, self.clock())
        return row
