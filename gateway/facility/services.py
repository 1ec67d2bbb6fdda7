"""The member services' worker: hub items in, bookings, print jobs, alerts and orders out.

Hub callbacks run on the ingest worker or the ticker, often under the engine's state lock, so
they only put the item on a bounded queue; one thread here does the store work. A full queue
drops the item with a warning rather than stall ingest (the periodic checks catch up on
check-ins and device availability; a dropped printer or environment reading is superseded
by the next one).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from gateway.errors import GatewayError
from gateway.facility.alerts import Alerts
from gateway.facility.bookings import Bookings
from gateway.facility.ports import FacilityPorts
from gateway.facility.print_jobs import PrintJobs
from gateway.facility.work_orders import WorkOrders

log = logging.getLogger(__name__)

QUEUE_SIZE = 10_000
POLL_S = 1.0


class MemberServices:
    """Bookings, print jobs, alerts and work orders of one gateway, and their worker."""

    def __init__(self, ports: FacilityPorts) -> None:
        p = self.ports = ports
        config, live, members, grants = p.config, p.live, p.members, p.grants
        self.bookings = Bookings(
            p.store, p.bookings, config=config, live=live, bus=p.bus, members=members, grants=grants
        )
        self.orders = WorkOrders(p.store, p.bus)
        self.alerts = Alerts(p.store, p.alerts, self.orders, config=config, live=live, disk=p.disk)
        self.print_jobs = PrintJobs(p.store, live, config, commands=p.commands, members=members)
        self.dropped = 0
        self._q: queue.Queue[tuple[str, Any, float]] = queue.Queue(maxsize=QUEUE_SIZE)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._next_devices = 0.0
        self._handled: set[str] = set()  # booking ids whose findings were handled
        self.door_trips = self._handoff("door_trips")  # the door decider's limit trips

    def _handoff(self, channel: str) -> Any:
        def put(payload: Any, now: float) -> None:
            try:
                self._q.put_nowait((channel, payload, now))
            except queue.Full:
                self.dropped += 1
                if self.dropped % 1000 == 1:
                    log.warning("member services queue full: %d items dropped", self.dropped)

        return put

    def attach(self) -> None:
        """Subscribe to the hub (``start`` does it; a gateway that is never started -- a
        bench, a test driving ``pump`` -- holds no queue of events nobody will read)."""
        if not self._unsubscribe:
            self._unsubscribe = [
                self.ports.bus.subscribe(ch, self._handoff(ch)) for ch in ("events", "findings")
            ]

    def start(self) -> None:
        """Subscribe, feed the engine the live bookings, then start the worker."""
        self.attach()
        n = self.bookings.restore(self.ports.store.clock())
        if n:
            log.info("bookings restored for %d spaces", n)
        self._thread = self.ports.supervisor.thread("member-services", self._run)

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            # items handed off before the unsubscribe are still handled, not dropped
            self.pump_queue()

    def pump_queue(self) -> None:
        """Handle what is queued, on the caller's thread."""
        while True:
            try:
                channel, payload, now = self._q.get_nowait()
            except queue.Empty:
                return
            try:
                self._safely(self._handle, channel, payload, now)
            finally:
                self._q.task_done()

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every queued item is handled (for tests); False on timeout."""
        deadline = time.monotonic() + timeout
        while self._q.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def periodic_soon(self) -> None:
        """Have the worker run the periodic checks (check-ins by presence, completions,
        device checks) after what is queued: for a clock that runs ahead of POLL_S, as the
        demo's backfill does, to run them once per step it takes."""
        self._q.put(("periodic", None, self.ports.store.clock()))

    def pump(self) -> None:
        """Handle what is queued, then the periodic checks, on the caller's thread.

        For a gateway whose worker is not started (tests driving a fake clock)."""
        self.pump_queue()
        self._periodic()

    # -- the worker -------------------------------------------------------------------------------
    def _run(self) -> None:
        next_poll = 0.0
        loop = self.ports.supervisor.loop("member-services")
        while not self._stop.is_set():
            loop.beat()  # outside the queue's get: an injected fault holds no item
            try:
                channel, payload, now = self._q.get(timeout=POLL_S)
            except queue.Empty:
                pass
            else:
                try:
                    self._safely(self._handle, channel, payload, now)
                finally:
                    self._q.task_done()
            # on a steady stream as well as when idle, at most once per POLL_S
            if time.monotonic() >= next_poll:
                next_poll = time.monotonic() + POLL_S
                self._safely(self._periodic)

    def _handle(self, channel: str, payload: Any, now: float) -> None:
        if channel == "findings":
            fresh = [f for f in payload if getattr(f, "ref", None) not in self._handled]
            self._safely(self.bookings.on_findings, fresh, now)
            self._handled.difference_update(getattr(f, "ref", None) for f in payload)
        elif channel == "events":
            # each guarded on its own: one failing must not cost the others this batch
            self._safely(self.bookings.on_events, payload, now)
            self._safely(self.alerts.on_events, payload, now)
            self._safely(self.print_jobs.on_events, payload, now)
        elif channel == "door_trips":
            self._safely(self.alerts.on_door_trips, payload, now)
        elif channel == "periodic":
            self._periodic()

    def _periodic(self) -> None:
        now = self.ports.store.clock()
        # The engine's findings reach the hub only when a snapshot saves them; reading the
        # unsaved ones here lets a ghost booking be released within a second. Handling a
        # finding twice (here, then from the hub) does nothing the second time.
        found = [f for f in self.ports.live.pending_findings() if f.ref not in self._handled]
        if found:
            self.bookings.on_findings(found, now)
            self._handled.update(f.ref for f in found)
        self.bookings.poll(now)
        if now >= self._next_devices:
            self._next_devices = now + self.ports.alerts.check_s
            self.alerts.check_devices(now)
            self.alerts.check_disk(now)

    def _safely(self, fn: Any, *args: Any) -> None:
        loop = self.ports.supervisor.loop("member-services")
        try:
            fn(*args)
        except (GatewayError, SQLAlchemyError) as err:
            # the store is away or locked: the periodic checks try again
            loop.failed(err, "a member services step")
        except Exception as err:  # the worker must outlive one bad item
            loop.failed(err, "a member services step (unexpected)")
        else:
            loop.passed()
