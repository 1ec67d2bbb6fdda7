"""Keeping the live state across restarts: restore and warm it at start, save it as it runs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import Engine

from gateway.errors import StoreError
from gateway.events import Event, kind_of
from gateway.occupancy.accumulate import EngineOutput
from gateway.publish.uplink_wiring import episode_notice
from gateway.state.devices import DeviceLive
from gateway.state.live import LiveState
from gateway.store import rollups

log = logging.getLogger(__name__)


class EngineKeeper:
    """Saves what the engine produced (bins, day totals, idle episodes, findings, snapshot)."""

    def __init__(self, live: LiveState, db: Engine, site: str, clock: Callable[[], float]) -> None:
        self.live, self.db, self.site, self.clock = live, db, site, clock
        self.last_error: str | None = None
        self._unsaved = EngineOutput()  # refused by the store: kept for the next save
        self._lock = threading.Lock()

    def restore(self) -> None:
        """Resume the engine from its last snapshot (before the devices' readings warm it)."""
        raw = rollups.load_snapshot(self.db, self.site)
        if raw is not None:
            n = self.live.restore(raw, self.clock())
            log.info("engine state restored for %d spaces", n)

    def warm(self, devices: list[DeviceLive]) -> None:
        """Restore the live evidence from each device's last stored readings."""
        site = self.site
        self.live.warm(
            (
                Event(site, d.id, d.space, float(r["ts"]), kind_of(q), q, r["value"], r.get("unit"))
                for d in devices
                if d.bound and d.space is not None
                for q, r in d.readings.items()
            ),
            self.clock(),
        )

    def save(self) -> bool:
        """Write closed bins, day totals, idle episodes, findings and the snapshot together;
        False when the store refused them (they are kept for the next save)."""
        with self._lock:
            now = self.clock()
            drained, snap = self.live.drain(now)
            self._unsaved.merge(drained)
            out, self._unsaved = self._unsaved, EngineOutput()
            try:
                live = self.live
                rollups.save(
                    self.db, self.site, out, snap, now, live.bin_s, live.calendar.day_of_bin
                )
            except StoreError as err:
                log.error("engine output not saved, will retry: %s", err)
                self.last_error = str(err)
                out.merge(self._unsaved)
                self._unsaved = out
                return False
        # told once saved, so a retried save is not told twice
        hub = self.live.hub
        if out.findings:
            hub.publish("findings", out.findings, now)
        for ep in out.episodes.values():
            hub.publish("notices", episode_notice(ep), now)
        return True
