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
  grants a member again after a quiet lockout period.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update

from gateway.access.door_limits import Trip
from gateway.events import Event
from gateway.facility.work_orders import WorkOrders
from gateway.settings import EnvLimits
from gateway.store.member_tables import ALERTS

if TYPE_CHECKING:
    from gateway.runtime import Gateway

log = logging.getLogger(__name__)

A = ALERTS.c
WATCHED = frozenset(
    {
        "jam",
        "paper_pct",
        "toner_pct",
        "printer_state",
        "online",
        "co2_ppm",
        "temperature_c",
        "humidity_pct",
    }
)
TITLES = {
    "printer_jam": "paper jam",
    "out_of_paper": "out of paper",
    "toner_low": "toner low",
    "printer_offline": "printer offline",
    "device_offline": "device offline",
    "bridge_offline": "bridge offline",
    "co2_high": "CO2 above limit",
    "temperature_out_of_range": "temperature outside comfort",
    "humidity_out_of_range": "humidity outside comfort",
    "door_rate_limited": "door requests rate-limited (card guessing?)",
}


class Alerts:
    """Evaluates events and device availability into alerts and work orders."""

    def __init__(self, gw: Gateway, orders: WorkOrders) -> None:
        self.gw = gw
        self.orders = orders
        self.site = gw.building.site.id
        self.settings = gw.settings.alerts
        with gw.db.connect() as conn:
            rows = conn.execute(
                select(A.id, A.subject, A.kind).where(A.site == self.site, A.cleared_at.is_(None))
            ).all()
        self.active: dict[tuple[str, str], int] = {(r.subject, r.kind): r.id for r in rows}

    # -- evaluation ---------------------------------------------------------------------------
    def on_events(self, events: Iterable[Event], now: float) -> None:
        active = self.active
        for ev in events:
            q = ev.quantity
            bridge = ev.attrs.get("bridge") if q == "online" else None
            if isinstance(bridge, str) and self._bridge_event(ev, bridge, now):
                continue  # the bridge's alert speaks for the device
            if q != "online" and (ev.device, "device_offline") in active:
                self.clear(ev.device, "device_offline", now)  # it speaks again
            if q not in WATCHED:
                continue
            found = self._condition(ev)
            if found is None:
                continue
            kind, on, value = found
            subject = ev.space if kind in ENV_KINDS and ev.space else ev.device
            if on:
                if (subject, kind) not in active:  # the message only for a new alert
                    msg = self._message(kind, ev, value)
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
        if self.gw.bridges.own.get(ev.device) is False:
            return False
        self._raise_bridge(bridge, now)
        return True

    def _raise_bridge(self, bridge: str, now: float) -> None:
        if (bridge, "bridge_offline") in self.active:
            return
        n = len(self.gw.building.bridged.get(bridge, ()))
        msg = f"bridge {bridge} offline: its {n} device{'' if n == 1 else 's'} with it"
        self.raise_("bridge_offline", bridge, None, None, msg, float(n), now)

    def on_door_trips(self, trips: Iterable[Trip], now: float) -> None:
        """Raise ``door_rate_limited`` when a door trips its limit, clear it at its release."""
        for t in trips:
            if t.tripped:
                b = self.gw.building.devices.get(t.door)
                space = None if b is None else b.space
                msg = f"{t.door}: requests refused as rate_limited ({t.reason})"
                self.raise_("door_rate_limited", t.door, t.door, space, msg, None, t.ts)
            else:
                self.clear(t.door, "door_rate_limited", now)

    def check_devices(self, now: float) -> None:
        """Raise or clear ``device_offline`` from each bound device's availability, and
        ``bridge_offline`` from each bridge's state. A device its bridge holds offline is
        judged by its own availability only when that says offline (else left as it was)."""
        with self.gw.pipeline.lock:
            lives = [
                (d.id, d.space, d.online, d.last_seen, _held(d.readings))
                for d in self.gw.devices.values()
                if d.bound
            ]
        for bid, view in self.gw.bridges.view(self.gw.building).items():
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
            silence = self.gw.device_silence_s(dev)
            if online is not None:
                up = online
            else:
                up = last_seen is not None and now - last_seen <= silence
            if not up:
                why = "reports offline" if online is False else f"silent for over {silence:g} s"
                self.raise_("device_offline", dev, dev, space, f"{dev} {why}", None, now)
            elif (dev, "device_offline") in self.active:
                self.clear(dev, "device_offline", now)

    def _condition(self, ev: Event) -> tuple[str, bool | None, float | None] | None:
        """(kind, raised / cleared / None: inside the clearing margin, value), or None when
        the event bears on no alert. Runs for every watched event of every batch: it only
        compares, :meth:`_message` words the alert once it is raised."""
        q, v = ev.quantity, ev.value
        if q == "jam":
            return "printer_jam", bool(v), None
        if q == "printer_state":
            return "printer_offline", v == "offline", None
        if q == "online":
            return "device_offline", not v, None
        if isinstance(v, bool) or not isinstance(v, int | float):
            return None
        x = float(v)
        s = self.settings
        if q == "paper_pct":
            return "out_of_paper", x <= s.paper_low_pct, x
        if q == "toner_pct":
            return "toner_low", x <= s.toner_low_pct, x
        lim = self._limits(ev.space)
        if q == "co2_ppm":
            return "co2_high", _band(x, -math.inf, lim.co2_max_ppm, 50.0), x
        if q == "temperature_c":
            return (
                "temperature_out_of_range",
                _band(x, lim.temperature_min_c, lim.temperature_max_c, 0.5),
                x,
            )
        if q == "humidity_pct":
            return (
                "humidity_out_of_range",
                _band(x, lim.humidity_min_pct, lim.humidity_max_pct, 2.0),
                x,
            )
        return None

    def _message(self, kind: str, ev: Event, x: float | None) -> str:
        """What a raised alert says."""
        dev = ev.device
        if kind == "printer_jam":
            return f"{dev}: paper jam"
        if kind == "printer_offline":
            return f"{dev} is offline"
        if kind == "device_offline":
            return f"{dev} reports offline"
        if kind == "out_of_paper":
            return f"{dev}: paper at {x:g} %"
        if kind == "toner_low":
            return f"{dev}: toner at {x:g} %"
        lim = self._limits(ev.space)
        where = ev.space or dev
        if kind == "co2_high":
            return f"{where}: CO2 {x:g} ppm above {lim.co2_max_ppm:g}"
        if kind == "temperature_out_of_range":
            lo, hi = lim.temperature_min_c, lim.temperature_max_c
            return f"{where}: {x:g} °C outside {lo:g}-{hi:g}"
        lo, hi = lim.humidity_min_pct, lim.humidity_max_pct
        return f"{where}: humidity {x:g} % outside {lo:g}-{hi:g}"

    def _limits(self, space_id: str | None) -> EnvLimits:
        sp = self.gw.building.spaces.get(space_id) if space_id else None
        if sp is not None and sp.type in self.settings.env_by_type:
            return self.settings.env_by_type[sp.type]
        return self.settings.env

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
        with self.gw.db.begin() as conn:
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
            "ts": now,
        }
        self.gw.hub.publish("notices", notice, now)
        return aid

    def clear(self, subject: str, kind: str, now: float) -> bool:
        aid = self.active.pop((subject, kind), None)
        if aid is None:
            return False
        with self.gw.db.begin() as conn:
            conn.execute(update(ALERTS).where(A.id == aid).values(cleared_at=now))
        log.info("alert cleared: %s %s", kind, subject)
        notice = {"type": "alert_cleared", "id": aid, "kind": kind, "subject": subject, "ts": now}
        self.gw.hub.publish("notices", notice, now)
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
        conds = [A.site == self.site]
        if active is True:
            conds.append(A.cleared_at.is_(None))
        elif active is False:
            conds.append(A.cleared_at.is_not(None))
        if kind is not None:
            conds.append(A.kind == kind)
        if subject is not None:
            conds.append(A.subject == subject)
        with self.gw.db.connect() as conn:
            total = conn.execute(select(func.count()).where(*conds)).scalar_one()
            rows = conn.execute(
                select(ALERTS).where(*conds).order_by(A.id.desc()).limit(limit).offset(offset)
            ).all()
        return [dict(r._mapping) for r in rows], int(total)


def _held(readings: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The stored ``online`` reading of a device its bridge holds offline, else None
    (``gateway.ingest.bridges.forced_reading``; a release to silence keeps ``unknown``)."""
    kept = readings.get("online")
    if kept and "bridge" in kept and not kept.get("unknown"):
        return kept
    return None


def _band(x: float, lo: float, hi: float, margin: float) -> bool | None:
    """Outside [lo, hi]: True; back inside by ``margin``: False; in between: None (no change),
    so a reading hovering at a limit does not raise and clear an alert every minute."""
    if x < lo or x > hi:
        return True
    if lo + margin <= x <= hi - margin:
        return False
    return None


ENV_KINDS = frozenset({"co2_high", "temperature_out_of_range", "humidity_out_of_range"})
