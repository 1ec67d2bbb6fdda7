"""Door decisions over MQTT: a controller asks, the gateway answers at once from memory.

A controller publishes ``{"request": "r-123", "credential": "04A1B2C3", "ts": ...}`` on its
request topic (``ref/door/<door>/request`` by default); the gateway answers with the door
profile's ``access_decision`` command. Requests do not go through the batched ingest pipeline:
they arrive on the access service's own connection and are decided on its network thread
from in-memory state (members by credential hash, plans, live grants), so the answer never
waits for a store commit. Each decision is then audited in a small batch written within
``audit_flush_ms``; a crash can lose the audit rows of the last few milliseconds (never a
decision's effect, which is only the door's). A granted decision is also handed to the
occupancy engine as badge evidence for the door's space.

Only doors are answered: a device whose profile has no ``access_decision`` command (a sensor
publishing on a request topic) gets no answer, no audit row and no badge, only a count. Each
door's decisions are limited (``gateway.access.door_limits``): past its limit a request is
answered ``denied`` with reason ``rate_limited``, audited, and the trip raises one alert and
one work order. The answer tells the door what it needs -- the request id, granted or denied,
and how many seconds to open (0 when denied) -- and never who the member is; the audit row
keeps the member.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from gateway.access.door_limits import RATE_LIMITED, DoorLimiter, Trip
from gateway.access.door_requests import Decision, door_of, parse_request, rarely
from gateway.access.grants import GrantBook
from gateway.access.members import MemberDirectory, mask
from gateway.building import Building, DeviceBinding
from gateway.events import Event, kind_of
from gateway.profiles import ProfileRegistry
from gateway.profiles.commands import CommandError
from gateway.store.audit import Audit, record
from gateway.supervisor import Loop

log = logging.getLogger(__name__)

MAX_PENDING = 50_000  # audit rows waiting for the store; beyond it the oldest are dropped, counted
COMMAND = "access_decision"
PRUNE_S = 60.0  # how often grants past their window are dropped from memory

Evidence = Callable[[list[Event], float], None]
Trips = Callable[[list[Trip], float], None]


class DoorDecider:
    """Decides requests and keeps their audit rows until the writer takes them."""

    def __init__(
        self,
        db: Engine,
        building: Building,
        registry: ProfileRegistry,
        directory: MemberDirectory,
        grants: GrantBook,
        request_topic: str,
        open_s: int = 5,
        clock: Callable[[], float] = time.time,
        evidence: Evidence | None = None,
        limiter: DoorLimiter | None = None,
    ) -> None:
        self.db, self.building, self.registry = db, building, registry
        self.directory, self.grants, self.clock = directory, grants, clock
        self.site = building.site.id
        self.request_topic, self.open_s, self.evidence = request_topic, open_s, evidence
        self._pending: list[Audit] = []
        self._badges: list[Event] = []
        self._trips: list[Trip] = []
        self._lock = threading.Lock()
        self.decided = self.granted = self.malformed = self.audit_dropped = 0
        self.not_door = 0  # requests from devices that are no door: unanswered, unaudited
        self.limiter = limiter or DoorLimiter()
        self.on_trip: Trips | None = None  # the alerts' hand-off (the gateway sets it)

    def decide(self, door: str, credential_hash: str, now: float) -> Decision:
        """The decision for a credential (by its hash) at ``door`` now, from memory only."""
        member = self.directory.by_hash(credential_hash)
        if member is None:
            return Decision(False, "unknown credential", None)
        g = self.grants.allows(member.id, door, now)
        if g is not None:
            return Decision(True, f"grant {g.id}", member.id, g.id)
        space = self.grants.space_of(door, None)
        if space is None:
            if member.plan is not None and self.directory.plan(member.plan) is not None:
                return Decision(True, f"plan {member.plan} opens the site's entrances", member.id)
            return Decision(False, "no plan and no live grant for this door", member.id)
        ok, why = self.directory.covers(member.id, space)
        if ok:
            return Decision(True, why, member.id)
        return Decision(False, f"{why}, and no live grant for this door", member.id)

    def handle(self, topic: str, payload: bytes) -> tuple[str, bytes] | None:
        """One request message: the (topic, payload) to answer with, or None when unanswerable.

        Called on the network thread: everything here is memory and a hash."""
        now = self.clock()
        door = door_of(self.request_topic, topic)
        binding = self.building.devices.get(door or "")
        if binding is not None and not self._is_door(binding.profile):
            self.not_door += 1
            if rarely(self.not_door):
                what = "request on %s ignored: %s is no door (%d so far)"
                log.warning(what, topic, binding.id, self.not_door)
            return None
        try:
            request, credential = parse_request(payload)
        except Exception as err:  # any undecodable body is malformed, even a RecursionError
            self.malformed += 1
            if rarely(self.malformed):
                what = "door request on %s refused (%d so far): %s"
                log.warning(what, topic, self.malformed, type(err).__name__)
            return None
        cred_hash = self.directory.hasher.hash(credential)
        if binding is None:
            self._audit(
                Audit(
                    self.site,
                    now,
                    "gateway",
                    "door_decision",
                    (door or topic)[:128],  # the column's width: a bad topic cannot jam the batch
                    "denied",
                    "unknown door",
                    None,
                    mask(cred_hash),
                    {"request": request},
                )
            )
            return None
        limit, trip = self.limiter.admit(binding.id, now)
        if limit is None:
            d = self.decide(binding.id, cred_hash, now)
            trip = self.limiter.settle(binding.id, d.granted, now)
        else:  # the credential decides nothing; the audit still says whose it was
            known = self.directory.by_hash(cred_hash)
            d = Decision(False, RATE_LIMITED, None if known is None else known.id)
        out = self._answer(binding, request, d)
        self.decided += 1
        self._record(binding, now, request, cred_hash, d, limit, trip)
        return out

    def _answer(
        self, binding: DeviceBinding, request: str, d: Decision
    ) -> tuple[str, bytes] | None:
        """The door profile's answer command; None (logged) when it cannot be rendered."""
        try:
            return self.registry.render_command(
                binding.profile,
                binding.id,
                COMMAND,
                {
                    "request": request,
                    "decision": "granted" if d.granted else "denied",
                    "open_s": self.open_s if d.granted else 0,
                },
            )
        except CommandError as err:
            log.error("door %s cannot be answered: %s", binding.id, err)
            return None

    def _record(
        self,
        binding: DeviceBinding,
        now: float,
        request: str,
        cred_hash: str,
        d: Decision,
        limit: str | None,
        trip: Trip | None,
    ) -> None:
        """Queue the decision's audit row, and its badge for the engine when granted."""
        detail: dict[str, object] = {"request": request}
        if d.grant is not None:
            detail["grant"] = d.grant
        if limit is not None:
            detail["limit"] = limit
        entry = Audit(
            self.site,
            now,
            d.member or "unknown",
            "door_decision",
            binding.id,
            "granted" if d.granted else "denied",
            d.reason,
            d.member,
            mask(cred_hash),
            detail,
        )
        badge = None
        if d.granted:
            self.granted += 1
            attrs = {"member": d.member, "credential": mask(cred_hash)}
            badge = Event(
                self.site,
                binding.id,
                binding.space,
                now,
                kind_of("door"),
                "door",
                "granted",
                None,
                attrs,
            )
        self._audit(entry, badge, trip)

    def _is_door(self, profile: str) -> bool:
        found = self.registry.profiles.get(profile)
        return found is not None and COMMAND in found.commands

    def _audit(self, entry: Audit, badge: Event | None = None, trip: Trip | None = None) -> None:
        with self._lock:
            if trip is not None:
                self._trips.append(trip)
            if len(self._pending) >= MAX_PENDING:
                self._pending.pop(0)
                self.audit_dropped += 1
            self._pending.append(entry)
            if badge is not None and badge.space is not None:
                self._badges.append(badge)

    def flush(self) -> int:
        """Write the waiting audit rows in one transaction, then feed the badges to the engine.

        The audit goes first: the evidence call runs engine code that must not be able to
        cost the audit trail its rows."""
        with self._lock:
            rows, self._pending = self._pending, []
            badges, self._badges = self._badges, []
            trips, self._trips = self._trips, []
        written = 0
        if rows:
            try:
                with self.db.begin() as conn:
                    record(conn, rows)
                written = len(rows)
            except SQLAlchemyError as err:
                log.warning("door audit not written yet (%d rows), will retry: %s", len(rows), err)
                self._requeue(rows)
            except Exception:  # rows the store will never take: retrying would jam the rest
                log.exception("door audit rows dropped (%d)", len(rows))
                with self._lock:
                    self.audit_dropped += len(rows)
        if badges and self.evidence is not None:
            try:
                self.evidence(badges, self.clock())
            except Exception:  # the engine's trouble must not end the audit writer
                log.exception("door badges not handed to the engine (%d)", len(badges))
        if trips and self.on_trip is not None:
            try:
                self.on_trip(trips, self.clock())
            except Exception:  # nor the alerts' trouble
                log.exception("door limit trips not handed to the alerts (%d)", len(trips))
        return written

    def _requeue(self, rows: list[Audit]) -> None:
        with self._lock:
            self._pending = rows + self._pending
            over = len(self._pending) - MAX_PENDING
            if over > 0:  # the oldest go first, counted, as in _audit
                del self._pending[:over]
                self.audit_dropped += over


class AuditFlusher(threading.Thread):
    """Writes the decider's audit rows every ``period_s`` until stopped (then once more)."""

    def __init__(self, decider: DoorDecider, period_s: float) -> None:
        super().__init__(name="access-audit", daemon=True)
        self.decider, self.period_s = decider, period_s
        self.stopping = threading.Event()
        self.loop = Loop("access-audit", time.time)  # the gateway hands its supervisor's

    def run(self) -> None:
        next_prune = time.monotonic() + PRUNE_S
        while not self.stopping.wait(self.period_s):
            try:
                self.loop.beat()
                self.decider.flush()
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + PRUNE_S
                    self.decider.grants.prune(self.decider.clock())
            except Exception as err:  # the writer must outlive one bad round
                self.loop.failed(err, "a door audit round")
            else:
                self.loop.passed()
        self.decider.flush()
