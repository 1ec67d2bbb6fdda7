"""Simulator core: the simulated clock, the outbox and the live head count of each space."""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.building import Building, Space

Action = Callable[[float], None]
CountListener = Callable[[float, int, int], None]  # (sim time, old count, new count)


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How the simulated occupancy sensors behave (what real devices do; docs in ``sensors``).

    ``still_share`` of a PIR's re-report gaps are people sitting still for up to
    ``still_max_s`` with no motion; 0 turns that off."""

    pir_repeat_s: tuple[float, float] = (30.0, 60.0)
    pir_clear_s: float = 90.0  # zigbee2mqtt occupancy_timeout: "false" this long after motion
    still_share: float = 0.0
    still_max_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT message to publish; ``ts`` is the simulated time it belongs to (not sent)."""

    ts: float
    topic: str
    payload: str
    retain: bool = False


class Scheduler:
    """A discrete-event clock: actions run in simulated-time order, ties in scheduling order."""

    def __init__(self, now: float) -> None:
        self.now = now
        self._heap: list[tuple[float, int, Action]] = []
        self._seq = 0

    def at(self, ts: float, action: Action) -> None:
        """Run ``action(ts)`` at simulated time ``ts`` (now, if ``ts`` is in the past)."""
        self._seq += 1
        heapq.heappush(self._heap, (max(ts, self.now), self._seq, action))

    def after(self, delay: float, action: Action) -> None:
        """Run ``action`` ``delay`` simulated seconds from now."""
        self.at(self.now + delay, action)

    def run_until(self, until: float) -> None:
        """Run every action due at or before ``until``; the clock ends at ``until``."""
        heap = self._heap
        while heap and heap[0][0] <= until:
            ts, _, action = heapq.heappop(heap)
            self.now = ts
            action(ts)
        self.now = max(self.now, until)


@dataclass(slots=True)
class LiveSpace:
    """A space during the run: how many people are in it now, and who wants to know."""

    space: Space
    count: int = 0
    listeners: list[CountListener] = field(default_factory=list)

    def set(self, ts: float, count: int) -> None:
        """Change the head count and tell the listeners."""
        if count == self.count:
            return
        old, self.count = self.count, count
        for listener in self.listeners:
            listener(ts, old, count)


class World:
    """What every simulated device shares: building, clock, outbox, spaces, seeded randomness."""

    def __init__(
        self,
        building: Building,
        *,
        seed: int,
        start: float,
        min_gap: float,
        behaviour: Behaviour | None = None,
    ) -> None:
        self.building = building
        self.behaviour = behaviour or Behaviour()
        self.muted: set[str] = set()  # topics of devices that are dead: what they say is lost
        self.seed = seed
        self.min_gap = min_gap
        self.report_min_s = 0.0  # a backfill thins periodic reports (not motion) to this
        self.clock = Scheduler(start)
        self.outbox: list[Message] = []
        self.bookings: list[Any] = []  # ``bookings.BookingRequest``s for the gateway's API
        self.spaces = {sid: LiveSpace(space) for sid, space in building.spaces.items()}

    def rng(self, *names: str) -> random.Random:
        """A random stream that depends only on the seed and the names (stable across runs)."""
        return random.Random(":".join((str(self.seed), *names)))

    def gap(self, seconds: float) -> float:
        """A periodic report interval, never shorter than a real device's wall-clock minimum."""
        return max(seconds, self.min_gap)

    def report_gap(self, seconds: float) -> float:
        """The interval of a periodic status or reading (climate, heartbeat), which a
        backfill thins further than motion (``report_min_s``)."""
        return max(seconds, self.min_gap, self.report_min_s)

    def emit(self, topic: str, payload: dict[str, Any] | str, *, retain: bool = False) -> None:
        """Queue a message at the current simulated time."""
        if topic in self.muted:
            return
        text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
        self.outbox.append(Message(self.clock.now, topic, text, retain))

    def drain(self) -> list[Message]:
        """Take the queued messages."""
        out, self.outbox = self.outbox, []
        return out

    def take_bookings(self) -> list[Any]:
        """Take the queued booking requests."""
        out, self.bookings = self.bookings, []
        return out

    def count(self, space_id: str | None) -> int:
        """People in a space now (0 for no space)."""
        return self.spaces[space_id].count if space_id is not None else 0

    def listen(self, space_id: str | None, listener: CountListener) -> None:
        """Call ``listener`` whenever the head count of ``space_id`` changes."""
        if space_id is not None:
            self.spaces[space_id].listeners.append(listener)


class SimDevice:
    """Base of a simulated device: started once, stopped once, acts through the world."""

    def __init__(self, world: World, device_id: str, space: str | None) -> None:
        self.world = world
        self.id = device_id
        self.space = space
        self.rng = world.rng("device", device_id)

    def start(self, ts: float) -> None:
        """Publish the initial state and schedule the first reports."""

    def stop(self, ts: float) -> None:
        """Publish what a device says when it goes away (offline), if anything."""

    def resume(self, ts: float) -> None:
        """Report the current state again after an outage (nothing by default)."""
