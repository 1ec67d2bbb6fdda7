"""Alerts: printer faults, devices offline, environment out of range; raised, then cleared.

Each alert is keyed by its subject (a device, or the space an environment monitor sits in)
and its kind. It is raised when its condition starts and cleared when it ends; a raised alert
opens a work order unless that fault already has one that is not done. Conditions:

- ``printer_jam`` (``jam`` true), ``out_of_paper`` / ``toner_low`` (at or below
  ``alerts.paper_low_pct`` / ``toner_low_pct``), ``printer_offline`` (``printer_state``);
- ``device_offline``: availability says offline, or silent past its silence timeout;
- ``bridge_offline``: a bridge (``gateway.ingest.bridges``) says offline, one alert (and one
  work order) for all the devices it takes with it, keyed by the bridge id; cleared when it is
  back. A device its bridge holds offline raises no ``device_offline`` of its own, while one
  that was itself offline (or silent) before keeps its own alert as it would without a bridge;
- ``co2_high``, ``temperature_out_of_range``, ``humidity_out_of_range``: outside the comfort
  limits of the space's type (``alerts.env_by_type``, else ``alerts.env``); cleared once back
  inside by a margin (50 ppm, 0.5 °C, 2 %) so a reading hovering at a limit does not flap;
- ``door_rate_limited``: a door's decisions tripped their limit (``gateway.access.door_limits``:
  denials in a row, or too many requests), as card guessing would; cleared when the door
  grants a member again after a quiet lockout period;
- ``disk_low``: the free space of the store's file system fell below
  ``alerts.disk_free_min_bytes`` (subject ``store``); cleared once 5 % above it again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select, update

from gateway.events import Event
from gateway.facility.alert_rules import (
    ENV_KINDS,
    TITLES,
    WATCHED,
    bridge_held,
    condition,
    message,
)
from gateway.facility.ports import ConfigSource, DiskView, DoorTrip, LiveView, SiteStore
from gateway.facility.rows import page, where
from gateway.facility.work_orders import WorkOrders
from gateway.settings import AlertSettings
from gateway.store.member_tables import ALERTS

log = logging.getLogger(__name__)

A = ALERTS.c


class Alerts:
    """Evaluates events and device availability into alerts and work orders."""

    def __init__(
        self,
        store: SiteStore,
        settings: AlertSettings,
        orders: WorkOrders,
        *,
        config: ConfigSource,
        live: LiveView,
        disk: DiskView | None = None,
    ) -> None:
        self.db, self.site, self.settings = store.db, store.site, settings
        self.disk = disk
        self.orders, self.bus = orders, orders.bus  # notices go where the orders' go
        self.config, self.live = config, live
        with self.db.connect() as conn:
            rows = conn.execute(
                select(A.id, A.subject, A.kind).where(A.site == self.site, A.cleared_at.is_(None))
            ).all()
        self.active: dict[tuple[str, str], int] = {(r.subject, r.kind): r.id for r in rows}

    # -- evaluation ---------------------------------------------------------------------------
    def on_events(self, events: Iterable[Event], now: float) -> None:
        active, settings = self.active, self.settings
        spaces = self.config.get().building.spaces
        for ev in events:
            q = ev.quantity
            bridge = ev.attrs.get("bridge") if q == "online" else None
            if isinstance(bridge, str) and self._bridge_event(ev, bridge, now):
                continue  # the bridge's alert speaks for the device
            if q != "online" and (ev.device, "device_offline") in active:
                self.clear(ev.device, "device_offline", now)  # it speaks again
            if q not in WATCHED:
                continue
            found = condition(ev, settings, spaces)
            if found is None:
                continue
            kind, on, value = found
            subject = ev.space if kind in ENV_KINDS and ev.space else ev.device
            if on:
                if (subject, kind) not in active:  # the message only for a new alert
                    msg = message(kind, ev, value, settings, spaces)
                    self.raise_(kind, subject, ev.device, ev.space, msg, value, now)
            elif on is False and (subject, kind) in active:
                self.clear(subject, kind, now)

    def _bridge_event(self, ev: Event, bridge: str, now: float) -> bool:
        """An availability its bridge gave the device (``attrs.bridge``): True when the
        bridge's alert stands for it. Offline and the device not offline of its own: the
        bridge is down (``bridge_offline`` raised once). Online: the bridge is back (its alert
        cleared), and the device's own alert is judged as usual: by ``check_devices`` for one
        released to "never said" (``attrs.own`` null), so a silent one keeps its alert.
        Offline of its own (a device the bridge released offline, or held while it had said
        offline): as usual too."""
        if ev.value:
            self.clear(bridge, "bridge_offline", now)
            return "own" in ev.attrs and ev.attrs["own"] is None
        if self.live.own_online(ev.device) is False:
            return False
        self._raise_bridge(bridge, now)
        return True

    def _raise_bridge(self, bridge: str, now: float) -> None:
        if (bridge, "bridge_offline") in self.active:
            return
        n = len(self.config.get().building.bridged.get(bridge, ()))
        msg = f"bridge {bridge} offline: its {n} device{'' if n == 1 else 's'} with it"
        self.raise_("bridge_offline", bridge, None, None, msg, float(n), now)

    def on_door_trips(self, trips: Iterable[DoorTrip], now: float) -> None:
        """Raise ``door_rate_limited`` when a door trips its limit, clear it at its release."""
        devices = self.config.get().building.devices
        for t in trips:
            if t.tripped:
                b = devices.get(t.door)
                space = None if b is None else b.space
                msg = f"{t.door}: requests refused as rate_limited ({t.reason})"
                self.raise_("door_rate_limited", t.door, t.door, space, msg, None, t.ts)
            else:
                self.clear(t.door, "door_rate_limited", now)

    def check_devices(self, now: float) -> None:
        """Raise or clear ``device_offline`` from each bound device's availability, and
        ``bridge_offline`` from each bridge's state. A device its bridge holds offline is
        judged by its own availability only when that says offline (else left as it was)."""
        lives = [
            (d.id, d.space, d.online, d.last_seen, bridge_held(d.readings))
            for d in self.live.devices()
            if d.bound
        ]
        silence_of = self.config.get().silence_of
        for bid, view in self.live.bridges().items():
            if view["state"] == "online":
                self.clear(bid, "bridge_offline", now)
            elif view["state"] == "offline" and view["devices"]:
                self._raise_bridge(bid, now)
        for dev, space, online, last_seen, held in lives:
            if held is not None:
                if held.get("own") is False:
                    self.raise_("device_offline", dev, dev, space, f"{dev} reports offline",
                                None, now)  # fmt: skip
                continue  # its bridge's alert speaks for it
            if online is None and last_seen is None:
                continue  # never heard from: nothing to say yet
            silence = silence_of(dev)
            if online is not None:
                up = online
            else:
                up = last_seen is not None and now - last_seen <= silence
            if not up:
                why = "reports offline" if online is False else f"silent for over {silence:g} s"
                self.raise_("device_offline", dev, dev, space, f"{dev} {why}", None, now)
            elif (dev, "device_offline") in self.active:
                self.clear(dev, "device_offline", now)

    def check_disk(self, now: float) -> None:
        """Raise ``disk_low`` when the store's free space is under the threshold, clear it
        once 5 % above (no flapping at the line); unknown free space changes nothing."""
        least = self.settings.disk_free_min_bytes
        free = None if self.disk is None or least <= 0 else self.disk.free_bytes()
        if free is None:
            return
        if free < least:
            msg = f"store disk: {free / 1e6:.0f} MB free, under {least / 1e6:.0f} MB"
            self.raise_("disk_low", "store", None, None, msg, float(free), now)
        elif free >= least * 1.05:
            self.clear("store", "disk_low", now)

    # -- raise and clear ----------------------------------------------------------------------
    def raise_(
        self,
        kind: str,
        subject: str,
        device: str | None,
        space: str | None,
        message: str,
        value: float | None,
        now: float,
    ) -> int | None:
        """Raise an alert unless it is active; the new alert's id."""
        if (subject, kind) in self.active:
            return None
        row = {
            "site": self.site,
            "kind": kind,
            "subject": subject,
            "device": device,
            "space": space,
            "message": message,
            "value": value,
            "raised_at": now,
        }
        title = f"{subject}: {TITLES.get(kind, kind)}"
        with self.db.begin() as conn:
            aid = int(conn.execute(insert(ALERTS).returning(A.id), [row]).scalar_one())
            order, created = self.orders.open_for_fault(conn, kind, subject, title, aid, message)
            conn.execute(update(ALERTS).where(A.id == aid).values(work_order=order))
        self.active[(subject, kind)] = aid
        log.info(
            "alert raised: %s (work order %d%s)",
            message,
            order,
            "" if created else ", already open",
        )
        notice = {
            "type": "alert_raised",
            "id": aid,
            "kind": kind,
            "subject": subject,
            "message": message,
            "work_order": order,
            "work_order_created": created,
            "ts": now,
        }
        self.bus.publish("notices", notice, now)
        return aid

    def clear(self, subject: str, kind: str, now: float) -> bool:
        aid = self.active.pop((subject, kind), None)
        if aid is None:
            return False
        with self.db.begin() as conn:
            conn.execute(update(ALERTS).where(A.id == aid).values(cleared_at=now))
        log.info("alert cleared: %s %s", kind, subject)
        notice = {"type": "alert_cleared", "id": aid, "kind": kind, "subject": subject, "ts": now}
        self.bus.publish("notices", notice, now)
        return True

    # -- reading --------------------------------------------------------------------------------
    def query(
        self,
        *,
        active: bool | None = None,
        kind: str | None = None,
        subject: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """Alerts, newest first; ``active`` True keeps those not cleared."""
        conds = where(ALERTS, self.site, kind=kind, subject=subject)
        if active is True:
            conds.append(A.cleared_at.is_(None))
        elif active is False:
            conds.append(A.cleared_at.is_not(None))
        return page(self.db, ALERTS, conds, (A.id.desc(),), limit, offset)
