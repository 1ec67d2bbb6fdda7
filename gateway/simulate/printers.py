"""Printers (``ref-printer``): held jobs released by their owner, paper and toner, a daily jam."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from gateway.simulate.core import SimDevice, World
from gateway.simulate.doors import MEMBERS, member_id

STATUS_EVERY_S = 300.0
SECONDS_PER_PAGE = 3.0


class Printer(SimDevice):
    """A follow-me printer: jobs are submitted, held, released by their owner, then printed."""

    def __init__(self, world: World, device_id: str, space: str | None, *, lead: bool) -> None:
        super().__init__(world, device_id, space)
        self.lead = lead  # the building's first printer jams every day, early on the first
        self.state = "idle"
        self.jam = False
        self.paper = self.rng.uniform(50, 100)
        self.toner = self.rng.uniform(25, 90)
        self.jobs = 0
        self.busy_until = 0.0
        self.tz = world.building.site.tz
        self.hours = world.building.site.business_hours

    def start(self, ts: float) -> None:
        self._status()
        self.world.clock.at(ts + self.world.report_gap(STATUS_EVERY_S), self._heartbeat)
        self.world.clock.at(ts + self.rng.uniform(30, 300), self._submit)
        self._plan_jam(datetime.fromtimestamp(ts, self.tz).date(), ts, first=True)

    def stop(self, ts: float) -> None:
        self.state = "offline"
        self._status()

    def _plan_jam(self, day: date, after: float, *, first: bool = False) -> None:
        local = datetime.combine(day, time(0), self.tz)
        if self.lead or self.rng.random() < 0.5:
            at = (local + timedelta(hours=self.rng.uniform(10.5, 15.5))).timestamp()
            if first and self.lead:  # show a jam soon after the simulation starts
                at = after + self.rng.uniform(1.0, 2.5) * 3600
            if at > after:
                self.world.clock.at(at, self._jam)
        tomorrow = (local + timedelta(days=1, hours=1)).timestamp()
        self.world.clock.at(tomorrow, lambda t: self._plan_jam(day + timedelta(days=1), t))

    def jam_soon(self, ts: float) -> float:
        """Jam a few simulated minutes from ``ts`` (the demo shows a fault early); when."""
        at = ts + self.rng.uniform(60.0, 240.0)
        self.world.clock.at(at, self._jam)
        return at

    def _status(self) -> None:
        payload = {
            "state": self.state,
            "paper_pct": round(self.paper),
            "toner_pct": round(self.toner),
            "jam": self.jam,
        }
        self.world.emit(f"ref/printer/{self.id}/status", payload)

    def _heartbeat(self, ts: float) -> None:
        self._status()
        self.world.clock.at(ts + self.world.report_gap(STATUS_EVERY_S), self._heartbeat)

    def _jam(self, ts: float) -> None:
        self.jam, self.state = True, "error"
        self._status()
        self.world.clock.at(ts + self.rng.uniform(600, 1500), self._clear)

    def _clear(self, ts: float) -> None:
        self.jam, self.state = False, "idle"
        if self.paper < 15:
            self.paper = 100.0  # whoever cleared the jam refilled the trays too
        self._status()

    def _submit(self, ts: float) -> None:
        open_now = self.hours.is_open(ts)
        if open_now:
            self.jobs += 1
            job = f"{self.id}-j{self.jobs:05d}"  # job ids are unique per printer, as real ones are
            owner = member_id(self.rng.randint(1, MEMBERS))
            pages = self.rng.choice((1, 1, 2, 3, 4, 6, 10, 24))
            self._job(job, "submitted", owner, pages)
            self.world.clock.at(ts + 1, lambda _t: self._job(job, "held", owner, pages))
            if self.rng.random() < 0.9:  # some jobs are never picked up
                release = ts + self.rng.uniform(45, 900)
                self.world.clock.at(release, lambda t: self._release(t, job, owner, pages))
        gap = self.world.report_gap(self.rng.uniform(120, 480)) if open_now else 1800.0
        self.world.clock.at(ts + gap, self._submit)

    def _release(self, ts: float, job: str, owner: str, pages: int) -> None:
        self._job(job, "released", owner, pages)
        if self.jam or self.paper < 2:
            self.world.clock.at(ts + 2, lambda _t: self._job(job, "failed", owner, pages))
            return
        start = max(ts + 2, self.busy_until)
        self.busy_until = start + pages * SECONDS_PER_PAGE
        self.world.clock.at(start, self._printing)
        self.world.clock.at(self.busy_until, lambda t: self._done(t, job, owner, pages))

    def _printing(self, ts: float) -> None:
        if self.state == "idle":
            self.state = "printing"
            self._status()

    def _done(self, ts: float, job: str, owner: str, pages: int) -> None:
        self.paper = max(0.0, self.paper - pages * 0.4)
        self.toner = max(0.0, self.toner - pages * 0.02)
        self._job(job, "completed", owner, pages)
        if ts >= self.busy_until and self.state == "printing":
            self.state = "idle"
            self._status()
        if self.paper < 10 and not self.jam:
            self.world.clock.at(ts + self.rng.uniform(600, 1800), self._refill)

    def _refill(self, ts: float) -> None:
        if self.paper < 10:
            self.paper = 100.0
            self._status()

    def _job(self, job: str, event: str, owner: str, pages: int) -> None:
        payload = {"job": job, "event": event, "owner": owner, "pages": pages}
        self.world.emit(f"ref/printer/{self.id}/job", payload)
